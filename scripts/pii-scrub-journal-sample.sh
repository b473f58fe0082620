#!/usr/bin/env bash
# Rebuilds pii-scrub's journalctl fixture (see testdata/pii-scrub/real/README.md):
# five entries in the journal export format are turned into a journal file by
# systemd-journal-remote, and journalctl itself writes them as JSON. Entries
# whose MESSAGE is not UTF-8 or holds control characters come out as byte
# arrays ([108,111,...]): that encoding is journalctl's, not ours.
#
# Usage: scripts/pii-scrub-journal-sample.sh OUT.jsonl
set -euo pipefail
OUT="${1:?usage: $0 OUT.jsonl}"
REMOTE=/usr/lib/systemd/systemd-journal-remote
if [[ ! -x "$REMOTE" ]]; then
    echo "$0: $REMOTE is missing: apt-get install systemd-journal-remote" >&2
    exit 2
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 - "$TMP/export" <<'PY'
import struct, sys
def field(k, v):
    if isinstance(v, str):
        v = v.encode()
    try:
        v.decode()
        text = b"\n" not in v and all(c >= 32 or c == 9 for c in v)
    except UnicodeDecodeError:
        text = False
    if text:
        return k.encode() + b"=" + v + b"\n"
    return k.encode() + b"\n" + struct.pack("<Q", len(v)) + v + b"\n"
messages = [
    "login ok for bob@acme.com from 10.1.2.3",
    b"login bob@acme.com \xff\xfe binary tail",
    b"password=hunter2hunter2\nsecond line card 4111 1111 1111 1111",
    "nothing personal here, version 1.2.3",
    b"\x1b[31mred\x1b[0m user " + "josé@correo.es".encode(),
]
out = b""
for i, m in enumerate(messages):
    out += field("__CURSOR", "s=0;i=%d" % i)
    out += field("__REALTIME_TIMESTAMP", str(1796546260428328 + i))
    out += field("__MONOTONIC_TIMESTAMP", str(1000 + i))
    out += field("_BOOT_ID", "0123456789abcdef0123456789abcdef")
    out += field("SYSLOG_IDENTIFIER", "piitest")
    out += field("MESSAGE", m)
    out += b"\n"
open(sys.argv[1], "wb").write(out)
PY
"$REMOTE" -o "$TMP/sample.journal" - < "$TMP/export" 2>/dev/null
journalctl --file "$TMP/sample.journal" -o json --no-pager > "$OUT"
