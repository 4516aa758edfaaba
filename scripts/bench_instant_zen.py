"""The peer of `shuju bench instant`: the same decision tables evaluated by GoRules' own Python
binding (zen-engine) over the same facts.

Usage: python bench_instant_zen.py input.json
input.json: {"decide": JDM, "facts": [...], "replay": JDM, "replay_facts": [...]}
Prints one JSON line: decisions per second and p99 (one evaluation after another, the decision
built once), and the seconds to evaluate the replay's draft over every past case's facts.
"""
import json
import sys
import time

import zen


def main(path):
    job = json.load(open(path, encoding="utf-8"))
    engine = zen.ZenEngine()
    decide = engine.create_decision(json.dumps(job["decide"], ensure_ascii=False))
    lat = []
    t0 = time.perf_counter()
    for f in job["facts"]:
        t = time.perf_counter()
        decide.evaluate(f)
        lat.append(time.perf_counter() - t)
    secs = time.perf_counter() - t0
    lat.sort()
    replay = engine.create_decision(json.dumps(job["replay"], ensure_ascii=False))
    t0 = time.perf_counter()
    for f in job["replay_facts"]:
        replay.evaluate(f)
    replay_secs = time.perf_counter() - t0
    print(json.dumps({
        "decisions_per_s": len(lat) / secs,
        "p99_ms": lat[int(len(lat) * 0.99) - 1] * 1000 if lat else 0,
        "replay_secs": replay_secs,
        "replay_cases": len(job["replay_facts"]),
    }))


if __name__ == "__main__":
    main(sys.argv[1])
