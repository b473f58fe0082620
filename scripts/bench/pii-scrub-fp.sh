#!/usr/bin/env bash
# False positives of pii-scrub on real logs nobody here wrote: this machine's
# /var/log (dpkg, apt, alternatives, nginx access log, ...), its journal
# (`journalctl -o short` and `-o json`, when it has entries), the repo's real
# samples (testdata/pii-scrub/real) and GCC's own test-suite logs
# (Debian package gcc-12-test-results, when installed). These logs hold no
# personal data except what a test planted (nginx access.log may hold lines
# the nginx tests posted): every finding is printed by type, and the lines
# changed per source, so a person can judge them.
#
# Usage: scripts/bench/pii-scrub-fp.sh [BIN]   (default: target/release/pii-scrub, built)
# Prints one row per source: lines, lines changed, findings by type.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="${1:-}"
if [[ -z "$BIN" ]]; then
    (cd "$ROOT" && cargo build --release -p pii-scrub --quiet)
    BIN="$ROOT/target/release/pii-scrub"
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Each source as one text file in $WORK (decompressed; unreadable ones skipped, said so).
add() { # name, command...
    local name="$1"; shift
    if "$@" > "$WORK/$name" 2>/dev/null && [[ -s "$WORK/$name" ]] \
        && [[ "$(head -c 20 "$WORK/$name")" != "-- No entries --"* ]]; then :; else
        echo "skipped $name (empty or unreadable)" >&2; rm -f "$WORK/$name"; fi
}
for f in /var/log/*.log /var/log/apt/*.log /var/log/nginx/*.log /var/log/redis/*.log /var/log/postgresql/*.log; do
    [[ -f "$f" ]] && add "varlog_$(echo "${f#/var/log/}" | tr / _)" cat "$f"
done
for f in /var/log/*.xz /var/log/apt/*.xz; do [[ -f "$f" ]] && add "varlog_$(basename "$f" .xz)" xz -dc "$f"; done
add journal_short journalctl --no-pager -o short
add journal_json journalctl --no-pager -o json
for f in "$ROOT"/testdata/pii-scrub/real/*; do
    case "$f" in
        *.gz) add "real_$(basename "$f" .gz)" gzip -dc "$f" ;;
        *.md) ;;
        *) add "real_$(basename "$f")" cat "$f" ;;
    esac
done
for f in /usr/share/doc/gcc-12-base/test/*.log.xz; do
    [[ -f "$f" ]] && add "gcc12_$(basename "$f" .xz)" xz -dc "$f"
done

printf '%-32s %10s %9s %9s  %s\n' source lines changed findings by_type
tl=0; tc=0; tf=0
for f in "$WORK"/*; do
    name="$(basename "$f")"
    "$BIN" --check --max-quarantined 1000000000 "$f" > "$WORK.sum" 2>/dev/null || true
    read -r lines findings types < <(python3 - "$WORK.sum" <<'PY'
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
s = [r for r in s if r.get("kind") == "summary"][-1]["figures"]
t = ",".join(f"{k}:{v}" for k, v in sorted(s["findings_by_type"].items())) or "-"
print(s["lines"], s["findings"], t)
PY
)
    # Lines changed: lines that differ between input and filtered output.
    changed="$(diff <("$BIN" < "$f" 2>/dev/null) "$f" | grep -c '^>' || true)"
    printf '%-32s %10s %9s %9s  %s\n' "$name" "$lines" "$changed" "$findings" "$types"
    tl=$((tl + lines)); tc=$((tc + changed)); tf=$((tf + findings))
done
rm -f "$WORK.sum"
printf '%-32s %10s %9s %9s  (%s%% of lines changed)\n' TOTAL "$tl" "$tc" "$tf" "$(python3 -c "print(f'{100*$tc/max($tl,1):.4f}')")"
