#!/usr/bin/env bash
# Benchmark pii-scrub against a ripgrep replacement pass (and scrubadub).
#
# Two corpora, because the ratio depends on how much personal data a log holds:
#   sparse: ~100 MB of mixed text and JSON lines; ~8% of lines carry one item,
#           the rest are look-alikes (timestamps, UUIDs, versions, order numbers)
#   dense:  25 MB of text lines and 25 MB of JSON Lines with about one planted
#           item per 300 bytes, all 18 types, plus look-alikes (issue 12)
# On each, the same input, single thread, N runs (median and min..max):
#   pii-scrub -j1 < FILE > out                (validates every candidate)
#   rg --no-unicode --passthru -j1 -r '[REDACTED]' -f PATTERNS FILE > out
# with wall time, CPU time (user+sys) and peak RSS of each run.
#
# What the ripgrep pass is: one careful regex per type (scripts/bench/
# pii-scrub-rg-patterns.txt), as a user who knows the formats would write them
# (IPv6 needs `::` or 8 groups, so `10:23:45` is not an address; IPv4 octets
# 0-255; card prefixes by brand). What it does not do, and pii-scrub does:
# checksums (Luhn, IBAN mod-97), SSN/phone ranges, version and JSON-key context,
# JSON-aware scrubbing (escapes decoded, layout kept), %XX decoding, PEM blocks,
# quarantine of lines it cannot judge. Step 5 shows what that costs it in
# precision on a labeled corpus.
#
# Also: scrubadub (Python) on a subset, extrapolated (and said so); many files
# with -j1 vs -jN.
#
# Usage: scripts/bench/pii-scrub.sh [SPARSE_MB] [DENSE_MB] [RUNS]  (100 25 5)
#        BASELINE_BIN=old/pii-scrub scripts/bench/pii-scrub.sh   (also times an older build)
set -euo pipefail

SPARSE_MB="${1:-100}"
DENSE_MB="${2:-25}"
RUNS="${3:-5}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="${BENCH_DIR:-$ROOT/target/bench/pii-scrub}"
RG_PATTERNS="$ROOT/scripts/bench/pii-scrub-rg-patterns.txt"
mkdir -p "$WORK"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need rg; then
    echo "installing ripgrep..." >&2
    if need apt-get; then (apt-get install -y ripgrep >/dev/null 2>&1 || sudo apt-get install -y ripgrep >/dev/null 2>&1) || true; fi
    need rg || cargo install ripgrep --locked >/dev/null
fi
if ! python3 -c 'import scrubadub' >/dev/null 2>&1; then
    echo "installing scrubadub..." >&2
    python3 -m pip install --quiet scrubadub >/dev/null 2>&1 || echo "warning: scrubadub could not be installed; skipping it" >&2
fi

echo "building pii-scrub (release)..." >&2
(cd "$ROOT" && cargo build --release -p pii-scrub --quiet)
BIN="$ROOT/target/release/pii-scrub"

SPARSE="$WORK/sparse.log"
if [[ ! -s "$SPARSE" || "$(stat -c %s "$SPARSE")" -lt $((SPARSE_MB * 1000000 * 9 / 10)) ]]; then
    echo "generating ${SPARSE_MB} MB of sparse logs..." >&2
    python3 - "$SPARSE" "$SPARSE_MB" <<'PY'
import json, random, sys, uuid
path, size_mb = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
def luhn_ok(d):
    s = 0
    for i, c in enumerate(reversed(d)):
        v = int(c)
        if i % 2 == 1:
            v *= 2
            if v > 9: v -= 9
        s += v
    return s % 10 == 0
def card():
    while True:
        d = "4" + "".join(rnd.choice("0123456789") for _ in range(15))
        if luhn_ok(d): return " ".join(d[i:i+4] for i in range(0, 16, 4))
def order():
    while True:
        d = "".join(rnd.choice("0123456789") for _ in range(16))
        if not luhn_ok(d): return d
names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
doms = ["acme.com", "mail.org", "corp.net", "shop.io"]
paths = ["/api/v1/orders", "/api/v1/users/me", "/health", "/static/app.js", "/login", "/api/v2/search"]
def ts():
    return "2024-%02d-%02dT%02d:%02d:%02d.%03dZ" % (rnd.randint(1,12), rnd.randint(1,28), rnd.randint(0,23), rnd.randint(0,59), rnd.randint(0,59), rnd.randint(0,999))
def pii():
    k = rnd.randrange(8)
    if k == 0: return "%s.%s@%s" % (rnd.choice(names), rnd.choice(names), rnd.choice(doms))
    if k == 1: return "+1 415-555-%04d" % rnd.randint(0, 9999)
    if k == 2: return "10.%d.%d.%d" % (rnd.randint(0,255), rnd.randint(0,255), rnd.randint(1,254))
    if k == 3: return card()
    if k == 4: return "password=%s" % "".join(rnd.choice("abcdefghijk0123456789") for _ in range(12))
    if k == 5: return "%03d-%02d-%04d" % (rnd.randint(100, 665), rnd.randint(1, 99), rnd.randint(1, 9999))
    if k == 6: return "AKIA" + "".join(rnd.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    return "2001:db8::%x" % rnd.randint(1, 65535)
out = open(path, "w")
written = 0
target = size_mb * 1000 * 1000
while written < target:
    r = rnd.random()
    extra = (" note=" + pii()) if rnd.random() < 0.08 else ""
    if r < 0.45:
        line = '%s INFO [worker-%d] %s %s status=%d bytes=%d dur=%dms req=%s version=%d.%d.%d.%d order=%s%s' % (
            ts(), rnd.randint(1, 32), rnd.choice(["GET", "POST", "PUT"]), rnd.choice(paths), rnd.choice([200, 201, 204, 400, 404, 500]),
            rnd.randint(100, 10**7), rnd.randint(1, 5000), uuid.UUID(int=rnd.getrandbits(128)), rnd.randint(1, 9), rnd.randint(0, 20),
            rnd.randint(0, 99), rnd.randint(0, 999), order(), extra)
    elif r < 0.85:
        rec = {"ts": ts(), "level": rnd.choice(["info", "warn", "debug"]), "svc": "checkout", "trace_id": "%032x" % rnd.getrandbits(128),
               "msg": "processed order %s in %d ms%s" % (order(), rnd.randint(1, 900), extra), "port": rnd.choice([8080, 443, 5432]),
               "commit": "%040x" % rnd.getrandbits(160), "bytes": rnd.randint(0, 10**9), "epoch_ms": 1700000000000 + rnd.randint(0, 10**10)}
        line = json.dumps(rec, separators=(",", ":"))
    else:
        line = '%s DEBUG cache hit ratio=%.3f keys=%d evicted=%d heap=%dMB gc_pause=%dms build=%d.%d.%d%s' % (
            ts(), rnd.random(), rnd.randint(0, 10**6), rnd.randint(0, 10**4), rnd.randint(10, 4096), rnd.randint(0, 300),
            rnd.randint(1, 5), rnd.randint(0, 30), rnd.randint(0, 200), extra)
    out.write(line + "\n")
    written += len(line) + 1
out.close()
PY
fi

# Dense: about one planted item per 300 bytes, every type, in application logs
# (text lines and JSON Lines), with look-alikes around them.
gen_dense() {
    python3 - "$1" "$DENSE_MB" "$2" "$3" <<'PY'
import base64, json, random, sys, uuid
out_path, size_mb, kind, seed = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4])
rnd = random.Random(seed)
AL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
def rs(n, a=AL): return "".join(rnd.choice(a) for _ in range(n))
def luhn_ok(d):
    s = 0
    for i, c in enumerate(reversed(d)):
        v = int(c)
        if i % 2:
            v = v * 2 - 9 if v * 2 > 9 else v * 2
        s += v
    return s % 10 == 0
def luhn(prefix, n):
    while True:
        d = prefix + "".join(rnd.choice("0123456789") for _ in range(n - len(prefix)))
        if luhn_ok(d): return d
def notluhn(n):
    while True:
        d = rnd.choice("123456") + "".join(rnd.choice("0123456789") for _ in range(n - 1))
        if not luhn_ok(d): return d
def mod97(s):
    r = 0
    for c in s:
        v = int(c) if c.isdigit() else ord(c) - 55
        r = (r * 100 + v) % 97 if v >= 10 else (r * 10 + v) % 97
    return r
def iban():
    bban = "".join(rnd.choice("0123456789") for _ in range(18))
    return "DE%02d%s" % (98 - mod97(bban + "DE00"), bban)
def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def card():
    d = luhn(rnd.choice(["4", "51", "55", "6011"]), 16)
    return " ".join(d[i:i+4] for i in range(0, 16, 4))
names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
doms = ["acme.com", "mail.org", "corp.net", "shop.io", "example.co.uk"]
PII = [
    lambda: "%s.%s@%s" % (rnd.choice(names), rnd.choice(names), rnd.choice(doms)),
    lambda: "+1 415-555-%04d" % rnd.randint(0, 9999),
    lambda: "%d.%d.%d.%d" % (rnd.randint(11, 223), rnd.randint(0, 255), rnd.randint(0, 255), rnd.randint(1, 254)),
    lambda: "2001:db8:%x::%x" % (rnd.randint(1, 65535), rnd.randint(1, 65535)),
    card,
    lambda: "%03d-%02d-%04d" % (rnd.randint(100, 665), rnd.randint(1, 99), rnd.randint(1, 9999)),
    iban,
    lambda: b64u(b'{"alg":"HS256","typ":"JWT"}') + "." + b64u(('{"sub":"%d"}' % rnd.randint(1, 10**6)).encode()) + "." + rs(43, AL + "-_"),
    lambda: "AKIA" + rs(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
    lambda: "aws_secret_access_key=" + rs(40, AL + "/+"),
    lambda: "ghp_" + rs(36),
    lambda: "glpat-" + rs(20),
    lambda: "xoxb-%s-%s-%s" % (rs(12, "0123456789"), rs(12, "0123456789"), rs(24)),
    lambda: "sk_live_" + rs(24),
    lambda: "Authorization: Bearer " + rs(32),
    lambda: "-----BEGIN RSA PRIVATE KEY-----\\n" + rs(64) + "\\n-----END RSA PRIVATE KEY-----",
    lambda: "postgres://%s:%s@db%d.internal:5432/app" % (rnd.choice(["admin", "svc"]), rs(12), rnd.randint(1, 9)),
    lambda: "%s=%s" % (rnd.choice(["password", "api_key", "client_secret", "db_password"]), rs(14)),
]
def ts(): return "2024-%02d-%02dT%02d:%02d:%02d.%03dZ" % (rnd.randint(1,12), rnd.randint(1,28), rnd.randint(0,23), rnd.randint(0,59), rnd.randint(0,59), rnd.randint(0,999))
LOOK = [
    lambda: "order=%s" % notluhn(16),
    lambda: "v%d.%d.%d.%d" % (rnd.randint(1, 9), rnd.randint(0, 20), rnd.randint(0, 99), rnd.randint(0, 999)),
    lambda: "req=%s" % uuid.UUID(int=rnd.getrandbits(128)),
    lambda: "epoch_ms=%d" % rnd.randint(1600000000000, 1799999999999),
    lambda: "commit=%040x" % rnd.getrandbits(160),
    lambda: "bytes=%d" % rnd.randint(0, 10**9),
    lambda: "at 10:%02d:%02d" % (rnd.randint(0, 59), rnd.randint(0, 59)),
    lambda: "port=%d" % rnd.choice([443, 8080, 5432]),
]
msgs = ["user login", "payment processed", "profile updated", "session started", "webhook sent", "retrying request", "cache miss", "job finished"]
target = int(size_mb * 1e6)
written = 0
with open(out_path, "w") as out:
    while written < target:
        items = [rnd.choice(PII)() for _ in range(rnd.randint(1, 2))]
        looks = [rnd.choice(LOOK)() for _ in range(rnd.randint(2, 4))]
        if kind == "text":
            parts = looks + ["detail: " + i for i in items]
            rnd.shuffle(parts)
            line = "%s %s [worker-%d] %s %s path=/api/v1/orders/%d ua=\"Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.%d.%d\" trace=%032x" % (
                ts(), rnd.choice(["INFO", "WARN", "DEBUG", "ERROR"]), rnd.randint(1, 32), rnd.choice(msgs), " ".join(parts),
                rnd.randint(1, 10**6), rnd.randint(1000, 6999), rnd.randint(10, 199), rnd.getrandbits(128))
            while len(line) < 290 * len(items):
                line += " " + rnd.choice(LOOK)()
        else:
            rec = {"ts": ts(), "level": rnd.choice(["info", "warn", "debug"]), "svc": "checkout",
                   "msg": rnd.choice(msgs) + ": " + " ".join(looks), "detail": items[0],
                   "http": {"path": "/api/v1/orders/%d" % rnd.randint(1, 10**6), "status": rnd.choice([200, 201, 404, 500]),
                            "ua": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.%d.%d" % (rnd.randint(1000, 6999), rnd.randint(10, 199))},
                   "trace_id": "%032x" % rnd.getrandbits(128), "bytes": rnd.randint(0, 10**9)}
            if len(items) > 1:
                rec["user"] = {"contact": items[1]}
            line = json.dumps(rec, separators=(",", ":"))
            while len(line) < 290 * len(items):
                rec.setdefault("extra", []).append(rnd.choice(LOOK)())
                line = json.dumps(rec, separators=(",", ":"))
        out.write(line + "\n")
        written += len(line) + 1
PY
}
DENSE_TXT="$WORK/dense.log"
DENSE_JSON="$WORK/dense.jsonl"
for f in "$DENSE_TXT:text:1" "$DENSE_JSON:json:2"; do
    IFS=: read -r path kind seed <<<"$f"
    if [[ ! -s "$path" || "$(stat -c %s "$path")" -lt $((DENSE_MB * 1000000 * 9 / 10)) ]]; then
        echo "generating ${DENSE_MB} MB of dense $kind logs..." >&2
        gen_dense "$path" "$kind" "$seed"
    fi
done
NPROC=$(nproc)

# N runs of a command: "WALL_MEDIAN WALL_MIN WALL_MAX CPU_MEDIAN CPU_MIN CPU_MAX RSS_MAX_KB".
# CPU = user + sys of the child, which other jobs on a shared machine disturb
# far less than wall time; peak RSS from wait4.
runs() {
    python3 - "$RUNS" "$1" <<'PY'
import os, statistics, subprocess, sys, time
n, cmd = int(sys.argv[1]), sys.argv[2]
walls, cpus, rss = [], [], []
for _ in range(n):
    t = time.perf_counter()
    p = subprocess.Popen(cmd, shell=True, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    walls.append(time.perf_counter() - t)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        sys.exit("failed: " + cmd)
    cpus.append(ru.ru_utime + ru.ru_stime)
    rss.append(ru.ru_maxrss)
med = statistics.median
print("%.3f %.3f %.3f %.3f %.3f %.3f %d" % (med(walls), min(walls), max(walls), med(cpus), min(cpus), max(cpus), max(rss)))
PY
}

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); $NPROC CPUs; $(uptime | sed 's/.*load/load/'); $RUNS runs each, median (min..max)"
rg --version > "$WORK/rg.version"
echo "ripgrep: $(head -1 "$WORK/rg.version"); patterns: $(grep -cv '^#' "$RG_PATTERNS") (one per type, $RG_PATTERNS)"
# exec so that the shell is not part of the measured process (its RSS).
RESULTS=()
for corpus in "sparse:$SPARSE" "dense-text:$DENSE_TXT" "dense-json:$DENSE_JSON"; do
    name="${corpus%%:*}"; file="${corpus#*:}"
    s=$(runs "exec '$BIN' -j1 < '$file' > '$WORK/out.scrub'")
    r=$(runs "exec rg --no-unicode --passthru -j1 -r '[REDACTED]' -f '$RG_PATTERNS' '$file' > '$WORK/out.rg'")
    RESULTS+=("$name $(stat -c %s "$file") $s $r")
done
python3 - "${RESULTS[@]}" <<'PY'
import sys
for row in sys.argv[1:]:
    f = row.split()
    name, size = f[0], int(f[1]) / 1e6
    s = list(map(float, f[2:9])); r = list(map(float, f[9:16]))
    print(f"{name:<11} {size:6.1f} MB  pii-scrub -j1: wall {s[0]:.3f} s ({s[1]:.3f}..{s[2]:.3f}), CPU {s[3]:.3f} s ({s[4]:.3f}..{s[5]:.3f}), {size/s[3]:.0f} MB/s CPU, peak RSS {s[6]/1024:.1f} MB")
    print(f"{'':<11} {'':>9}  rg pass:       wall {r[0]:.3f} s ({r[1]:.3f}..{r[2]:.3f}), CPU {r[3]:.3f} s ({r[4]:.3f}..{r[5]:.3f}), {size/r[3]:.0f} MB/s CPU, peak RSS {r[6]/1024:.1f} MB")
    print(f"{'':<11} {'':>9}  ratio pii-scrub / rg (throughput): {r[0]/s[0]:.2f}x wall, {r[3]/s[3]:.2f}x CPU")
PY

# BASELINE_BIN=path/to/an/older/pii-scrub: the same runs of that binary, to
# show what a change cost (build it from the older commit with
# `cargo build --release -p pii-scrub` in a worktree of that commit).
if [[ -n "${BASELINE_BIN:-}" ]]; then
    for corpus in "sparse:$SPARSE" "dense-text:$DENSE_TXT" "dense-json:$DENSE_JSON"; do
        name="${corpus%%:*}"; file="${corpus#*:}"
        b=$(runs "exec '$BASELINE_BIN' -j1 < '$file' > '$WORK/out.base'")
        s=$(runs "exec '$BIN' -j1 < '$file' > '$WORK/out.scrub'")
        python3 - "$name" "$b" "$s" <<'PY'
import sys
name = sys.argv[1]
b = list(map(float, sys.argv[2].split())); s = list(map(float, sys.argv[3].split()))
print(f"{name:<11} baseline CPU {b[3]:.3f} s ({b[4]:.3f}..{b[5]:.3f}), this build {s[3]:.3f} s ({s[4]:.3f}..{s[5]:.3f}): {s[3]/b[3]:.2f}x the baseline's CPU")
PY
    done
fi

# scrubadub on a subset (it is ~1000x slower); extrapolated by bytes.
SUB_LINES=2000
head -n "$SUB_LINES" "$SPARSE" > "$WORK/subset.log"
SUB_BYTES=$(stat -c %s "$WORK/subset.log")
if python3 -c 'import scrubadub' >/dev/null 2>&1; then
    T_SUB=$(python3 - "$WORK/subset.log" <<'PY'
import sys, time, scrubadub
text = open(sys.argv[1]).read().splitlines()
s = scrubadub.Scrubber()
t = time.process_time()
for line in text:
    s.clean(line)
print("%.3f" % (time.process_time() - t))
PY
)
    python3 - "$SUB_BYTES" "$T_SUB" <<'PY'
import sys
b, t = int(sys.argv[1]), float(sys.argv[2])
print(f"scrubadub: {t:.3f} s CPU on a {b/1e6:.2f} MB subset of the sparse corpus = {b/1e6/t:.3f} MB/s (extrapolated; pii-scrub's rate is above)")
PY
fi

# Many files: the sparse input in 16 parts, single thread vs all CPUs.
PARTS="$WORK/parts"
rm -rf "$PARTS" "$WORK/out1" "$WORK/outN"
mkdir -p "$PARTS"
split -n l/16 -d "$SPARSE" "$PARTS/part-"
T_J1=$(runs "rm -rf '$WORK/out1'; '$BIN' -j1 --out-dir '$WORK/out1' '$PARTS'")
T_JN=$(runs "rm -rf '$WORK/outN'; '$BIN' -j$NPROC --out-dir '$WORK/outN' '$PARTS'")
python3 - "$T_J1" "$T_JN" "$NPROC" <<'PY'
import sys
a, b, n = list(map(float, sys.argv[1].split())), list(map(float, sys.argv[2].split())), sys.argv[3]
print(f"16 files --out-dir: -j1 wall {a[0]:.3f} s, -j{n} wall {b[0]:.3f} s: speed-up {a[0]/b[0]:.2f}x on {n} CPUs")
PY

# Precision on a labeled corpus: planted items (one per line) must change and
# vanish; look-alikes (order numbers, epoch times, versions, byte counts,
# UUIDs, git hashes, ports, times) must come out byte for byte.
python3 - "$WORK/labeled" <<'PY'
import random, sys
rnd = random.Random(7)
def luhn_ok(d):
    s = 0
    for i, c in enumerate(reversed(d)):
        v = int(c)
        if i % 2:
            v = v * 2 - 9 if v * 2 > 9 else v * 2
        s += v
    return s % 10 == 0
def card():
    while True:
        p = rnd.choice(["4", "51", "52", "53", "54", "55", "6011"])
        d = p + "".join(rnd.choice("0123456789") for _ in range(16 - len(p)))
        if luhn_ok(d): return d
def order():
    while True:
        d = rnd.choice("123456") + "".join(rnd.choice("0123456789") for _ in range(15))
        if not luhn_ok(d): return d
al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
def rs(n, a=al): return "".join(rnd.choice(a) for _ in range(n))
planted = [
    lambda: "%s@%s.com" % (rs(6, "abcdefgh"), rs(5, "abcdefgh")),
    lambda: "+1 415-555-%04d" % rnd.randint(0, 9999),
    lambda: "10.%d.%d.%d" % (rnd.randint(0, 255), rnd.randint(0, 255), rnd.randint(1, 254)),
    lambda: "2001:db8::%x" % rnd.randint(1, 65535),
    card,
    lambda: "%03d-%02d-%04d" % (rnd.randint(100, 665), rnd.randint(1, 99), rnd.randint(1, 9999)),
    lambda: "AKIA" + rs(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
    lambda: "ghp_" + rs(36),
    lambda: "password=" + rs(12),
    lambda: "https://admin:%s@db.internal/x" % rs(10),
]
negatives = [
    lambda: "order %s shipped" % order(),
    lambda: "epoch_ms=%d" % rnd.randint(1600000000000, 1799999999999),
    lambda: "deployed version %d.%d.%d.%d" % (rnd.randint(1, 9), rnd.randint(0, 20), rnd.randint(0, 99), rnd.randint(0, 999)),
    lambda: "wrote %d bytes in %dms" % (rnd.randint(1000, 99999999), rnd.randint(1, 9999)),
    lambda: "request %s-%s-4%s-a%s-%s done" % (rs(8, "0123456789abcdef"), rs(4, "0123456789abcdef"), rs(3, "0123456789abcdef"), rs(3, "0123456789abcdef"), rs(12, "0123456789abcdef")),
    lambda: "commit %s" % rs(40, "0123456789abcdef"),
    lambda: "listening on port %d" % rnd.choice([443, 8080, 5432, 65535]),
    lambda: "2024-%02d-%02dT10:%02d:%02d.%03dZ tick" % (rnd.randint(1, 12), rnd.randint(1, 28), rnd.randint(0, 59), rnd.randint(0, 59), rnd.randint(0, 999)),
]
with open(sys.argv[1] + ".pos", "w") as p, open(sys.argv[1] + ".neg", "w") as n, open(sys.argv[1] + ".items", "w") as it:
    for _ in range(300):
        for g in planted:
            item = g()
            p.write("event: %s (ok)\n" % item)
            it.write(item.split("=", 1)[-1].split("//", 1)[-1].split("@")[0] if item.startswith(("password", "https")) else item)
            it.write("\n")
    for _ in range(400):
        for g in negatives:
            n.write(g() + "\n")
PY
for f in pos neg; do
    "$BIN" -j1 < "$WORK/labeled.$f" > "$WORK/labeled.$f.scrub"
    rg --no-unicode --passthru -j1 -r '[REDACTED]' -f "$RG_PATTERNS" "$WORK/labeled.$f" > "$WORK/labeled.$f.rg" || true
done
python3 - "$WORK/labeled" <<'PY'
import collections, sys
b = sys.argv[1]
pos = open(b + ".pos").read().splitlines()
items = open(b + ".items").read().splitlines()
neg = open(b + ".neg").read().splitlines()
for tool in ("scrub", "rg"):
    out_pos = open(b + ".pos." + tool).read().splitlines()
    out_neg = open(b + ".neg." + tool).read().splitlines()
    found = sum(1 for line, o, it in zip(pos, out_pos, items) if o != line and it not in o)
    altered = [line for line, o in zip(neg, out_neg) if o != line]
    kinds = collections.Counter(" ".join(w for w in l.split()[:2] if not any(c.isdigit() for c in w)) or l.split()[0][:4] for l in altered)
    name = "pii-scrub" if tool == "scrub" else "rg pass  "
    print(f"labeled corpus {name}: recall {found}/{len(pos)} = {100*found/len(pos):.1f}%, look-alikes altered {len(altered)}/{len(neg)} = {100*len(altered)/len(neg):.1f}%"
          + (f" ({', '.join(f'{k!r} {v}' for k, v in kinds.most_common())})" if altered else ""))
PY
echo "after: $(uptime | sed 's/.*load/load/')"
