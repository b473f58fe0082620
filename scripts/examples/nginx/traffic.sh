#!/bin/sh
# 20 requests in a fixed order; one JSON line per response (status, size, body digest).
set -eu
for i in 1 2 3 4 5 1 2 3 4 5 missing health 1 2 3 4 5 1 2 3; do
  case $i in missing) p=/nope.html ;; health) p=/health ;; *) p=/page$i.html ;; esac
  body=$(curl -s -w '\n%{http_code}' "$HARDGATE_URL$p")
  code=$(printf '%s\n' "$body" | tail -n 1)
  sha=$(printf '%s\n' "$body" | sed '$d' | sha256sum | cut -d' ' -f1)
  printf '{"path":"%s","status":%s,"body_sha256":"%s"}\n' "$p" "$code" "$sha"
done
