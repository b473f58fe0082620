#!/usr/bin/env python3
"""Generate a golden/replay JSON Lines pair for replay-diff benchmarks and tests.

Each line is ~300 bytes with a volatile `ts` that differs on every line between
the two files; `--divergence-rate` of the lines get one real change in the
replay. Deterministic for a given --seed. Prints the number of planted
divergences on stdout so callers can check the tool found exactly those.
"""
import argparse
import json
import random


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--divergence-rate", type=float, default=0.001)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("golden")
    ap.add_argument("replay")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    planted = 0
    actions = ["tool.call", "chat.reply", "memory.write", "session.start", "session.stop"]
    with open(args.golden, "w") as g, open(args.replay, "w") as r:
        for i in range(args.lines):
            rec = {
                "event_id": f"evt-{i:08d}",
                "ts": f"2026-11-23T10:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z",
                "seq": i,
                "session": f"s-{i // 50:06d}",
                "action": actions[i % len(actions)],
                "input": {"text": f"question number {i} about the weather in city {i % 97}", "tokens": 12 + i % 40},
                "output": {"text": f"answer {i * 7 % 1000} with confidence", "score": round((i % 1000) / 1000, 3)},
                "tags": ["replay", "bench", actions[i % len(actions)].split(".")[0]],
            }
            g.write(json.dumps(rec, separators=(",", ":")) + "\n")
            rec["ts"] = f"2026-11-24T11:{(i // 60) % 60:02d}:{i % 60:02d}.{(i * 7) % 1000:03d}Z"
            if rng.random() < args.divergence_rate:
                rec["output"]["score"] = round(rec["output"]["score"] + 0.5, 3)
                planted += 1
            r.write(json.dumps(rec, separators=(",", ":")) + "\n")
    print(planted)


if __name__ == "__main__":
    main()
