#!/usr/bin/env bash
# Rebuilds pii-scrub's sample of a real test-suite log (see
# testdata/pii-scrub/real/README.md): every 100th line of each DejaGnu log
# shipped in Debian's gcc-12-test-results package, gzipped reproducibly.
#
# Usage: scripts/pii-scrub-real-sample.sh OUT.log.gz
set -euo pipefail
OUT="${1:?usage: $0 OUT.log.gz}"
DIR=/usr/share/doc/gcc-12-base/test
if [[ ! -d "$DIR" ]]; then
    echo "$0: $DIR is missing: apt-get install gcc-12-test-results" >&2
    exit 2
fi
for f in gcc g++ gfortran gdc libgomp libstdc++ jit gnat libffi objc obj-c++ libphobos go libatomic libitm gm2; do
    xz -dc "$DIR/$f.log.xz" | awk 'NR % 100 == 1'
done | gzip -9n > "$OUT"
