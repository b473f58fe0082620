#!/usr/bin/env bash
# The main job: run every hardgate gate against the bundled demo service and seal the evidence
# into a signed bundle. Exit 0 only when every gate passed and the sealed bundle verifies.
#
#   scripts/release-gates.sh                     # all gates
#   scripts/release-gates.sh --only security     # pii-scrub and sbom-diff only
#   OUT=dir KEY=release.key PUB=release.pub scripts/release-gates.sh
#   CYCLES=10 HEALTH_DURATION=30m HEALTH_INTERVAL=5s scripts/release-gates.sh   # the full gate
#
# Without KEY/PUB a demo key pair is generated under the output directory (never use it to sign
# a real release). Each gate writes its JSON Lines into $OUT/evidence/<gate>.jsonl; bundle-seal
# gathers every summary in there into MANIFEST.json and signs it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

only=all
while [ $# -gt 0 ]; do
  case $1 in
    --only) only=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "release-gates: unknown argument $1" >&2; exit 2 ;;
  esac
done
case $only in all|security) ;; *) echo "release-gates: --only takes 'security'" >&2; exit 2 ;; esac

OUT=${OUT:-out/release-gates}
# Short by default so the main job takes about a minute; real gates use 10 cycles and 30m.
CYCLES=${CYCLES:-10}
HEALTH_DURATION=${HEALTH_DURATION:-10s}
HEALTH_INTERVAL=${HEALTH_INTERVAL:-1s}

say() { printf '\n== %s\n' "$*" >&2; }

# PROFILE=debug reuses the test build (CI's e2e); the default is an optimized build.
PROFILE=${PROFILE:-release}
say "building ($PROFILE)"
if [ "$PROFILE" = debug ]; then
  cargo build --locked -q --workspace
else
  cargo build --release --locked -q --workspace
fi
BIN=$root/target/$PROFILE
export BIN
# shellcheck source=scripts/lib/demo.sh
source scripts/lib/demo.sh

rm -rf "$OUT"
mkdir -p "$OUT/evidence" "$OUT/work"
evidence=$OUT/evidence
work=$OUT/work
trap 'stop_demo 2>/dev/null || true' EXIT

declare -A status=()
gate() { # gate NAME CMD...: runs a gate, keeps its exit status, never stops the pipeline
  local name=$1; shift
  say "$name"
  set +e
  "$@"
  status[$name]=$?
  set -e
  echo "$name: exit ${status[$name]}" >&2
}

if [ "$only" = all ]; then
  # A live service with real traffic: its access log (with fake PII) and its SQLite database
  # are what the privacy and durability gates judge.
  say "demo service with traffic"
  start_demo "$work/demo.out" --listen 127.0.0.1:0 --db "$work/demo.db" \
    --access-log "$work/access.jsonl" --fake-pii --seed 7
  scripted_traffic "$DEMO_PORT" > "$work/traffic.jsonl"
  echo "$(wc -l < "$work/traffic.jsonl") responses; access log $(wc -l < "$work/access.jsonl") lines" >&2

  gate backup-drill "$BIN/backup-drill" drill --source testdata/demo-service \
    --sqlite "$work/demo.db" --max-rto 8m --max-rpo 6h --self-test \
    > "$evidence/backup-drill.jsonl"
  stop_demo

  # Determinism: the same 50 scripted events against two fresh instances with the same seed.
  for run in golden replay; do
    start_demo "$work/demo-$run.out" --listen 127.0.0.1:0 --db "$work/$run.db" --seed 7
    scripted_traffic "$DEMO_PORT" > "$work/$run.jsonl"
    stop_demo
  done
  gate replay-diff "$BIN/replay-diff" "$work/golden.jsonl" "$work/replay.jsonl" \
    --ignore /started_at --ignore /stopped_at --max-divergences 0 --min-determinism 98% \
    > "$evidence/replay-diff.jsonl"

  port=$(free_port)
  gate cycle-check "$BIN/cycle-check" --cycles "$CYCLES" \
    --ready "http://127.0.0.1:$port/v1/health" \
    --health "http://127.0.0.1:$port/v1/health" --health-interval "$HEALTH_INTERVAL" \
    --health-duration "$HEALTH_DURATION" \
    --service-log "$work/cycle-service.log" \
    -- "$BIN/demo-service" --listen "127.0.0.1:$port" --db "$work/cycle.db" \
    > "$evidence/cycle-check.jsonl"
else
  # The security gates alone still judge a real log: a short traffic run.
  start_demo "$work/demo.out" --listen 127.0.0.1:0 --db "$work/demo.db" \
    --access-log "$work/access.jsonl" --fake-pii --seed 7
  scripted_traffic "$DEMO_PORT" > /dev/null
  stop_demo
fi

# Privacy: scrub the access log (the filter), then prove the scrubbed log is clean (the gate).
say "pii-scrub (scrubbing the access log)"
"$BIN/pii-scrub" --report "$work/pii-scrub-raw.jsonl" < "$work/access.jsonl" > "$evidence/access.scrubbed.log"
echo "findings scrubbed: $(grep -c '"kind":"finding"' "$work/pii-scrub-raw.jsonl" || true)" >&2
gate pii-scrub "$BIN/pii-scrub" --check "$evidence/access.scrubbed.log" \
  --report "$evidence/pii-scrub.jsonl"

# Dependencies: this build's Cargo.lock against the last release's.
gate sbom-diff "$BIN/sbom-diff" testdata/release-baseline/Cargo.lock Cargo.lock \
  --max-drift 0.5% > "$evidence/sbom-diff.jsonl"

say "bundle-seal"
KEY=${KEY:-}
PUB=${PUB:-}
if [ -z "$KEY" ]; then
  KEY=$OUT/demo-release.key
  PUB=$OUT/demo-release.pub
  "$BIN/bundle-seal" keygen --key "$KEY" --pub "$PUB" --unencrypted --force >&2
fi
"$BIN/bundle-seal" seal "$evidence" --key "$KEY" >&2
set +e
"$BIN/bundle-seal" verify "$evidence" --pub "$PUB" --require-pass > "$OUT/verify.jsonl"
verdict=$?
set -e

say "release gates"
for name in "${!status[@]}"; do printf '  %-14s exit %s\n' "$name" "${status[$name]}" >&2; done
tail -1 "$OUT/verify.jsonl" >&2
if [ "$verdict" -eq 0 ]; then
  echo "release verdict: PASS (sealed bundle: $evidence)" >&2
else
  echo "release verdict: FAIL (sealed bundle: $evidence)" >&2
fi
exit "$verdict"
