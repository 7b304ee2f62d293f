"""The torch.compile trial of `torchenv tune` over fresh processes (issue 19): `tune WORKLOAD --json` run N
times, each a fresh process (a shared inductor cache after the first, as a user's second run sees), and
per run the compile trial against the configuration it was added to (its parent: the same config
without compile), with tune's own decision.

    PYTHONPATH=src python benchmarks/tune_compile_runs.py resnet50|transformer [--processes 5]
        [--budget 90] [--skip max-autotune] [--out FILE.json]
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def one(workload: str, budget: float, skip: str) -> dict:
    argv = [sys.executable, "-m", "torchenv", "tune", workload, "--json", "--budget", str(budget)]
    if skip:
        argv += ["--skip", skip]
    start = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=budget + 120)
    wall = time.monotonic() - start
    try:
        report = json.loads(done.stdout)
    except ValueError:
        return {"error": (done.stderr or done.stdout or "no output")[-300:], "wall_s": wall}
    trials = report.get("trials") or []
    compiled = next((t for t in trials if (t.get("config") or {}).get("compile") == "default"), None)
    if compiled is None or compiled.get("status") != "ok":
        why = compiled.get("reason") if compiled else "no compile trial"
        return {"error": why, "wall_s": wall, "status": report.get("status")}
    eager = dict(compiled["config"], compile=None)
    parent = next(t for t in trials if t.get("config") == eager and t.get("status") == "ok")
    new, old = compiled["time"], parent["time"]
    return {
        "parent": parent["label"],
        "eager_ms": old["median"] * 1000,
        "eager_iqr_ms": [old["q1"] * 1000, old["q3"] * 1000],
        "compiled_ms": new["median"] * 1000,
        "compiled_iqr_ms": [new["q1"] * 1000, new["q3"] * 1000],
        "compiled_min_ms": new["minimum"] * 1000,
        "gain": old["median"] / new["median"],
        "decision": compiled.get("decision"),
        "reason": compiled.get("reason"),
        "one_time_s": compiled.get("one_time_s"),
        "recommended": report.get("recommended"),
        "trial_order": [t["label"] for t in trials if t.get("status") == "ok"],
        "wall_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workload", choices=("resnet50", "transformer"))
    parser.add_argument("--processes", type=int, default=5)
    parser.add_argument("--budget", type=float, default=90)
    parser.add_argument("--skip", default="max-autotune")
    parser.add_argument("--out")
    args = parser.parse_args()
    runs = []
    for i in range(1, args.processes + 1):
        r = one(args.workload, args.budget, args.skip)
        runs.append(r)
        if args.out:  # after each run: a cut-short study keeps what it measured
            Path(args.out).write_text(json.dumps(runs, indent=1))
        if "error" in r:
            print(f"{args.workload} tune {i}: {r['error']} ({r['wall_s']:.0f} s)", flush=True)
            continue
        print(
            f"{args.workload} tune {i}: {r['parent']} {r['eager_ms']:.2f} ms (IQR {r['eager_iqr_ms'][0]:.2f}–"
            f"{r['eager_iqr_ms'][1]:.2f}) → compiled {r['compiled_ms']:.2f} ms (IQR {r['compiled_iqr_ms'][0]:.2f}–"
            f"{r['compiled_iqr_ms'][1]:.2f}, min {r['compiled_min_ms']:.2f}): {r['gain']:.3f}×, {r['decision']}"
            f" ({r['reason'] or 'ok'}); compile {r['one_time_s'] or 0:.1f} s; {r['wall_s']:.0f} s",
            flush=True,
        )
    gains = [r["gain"] for r in runs if "gain" in r]
    if gains:
        print(f"{args.workload}: tune's compile gain over {len(gains)} processes {min(gains):.3f}–{max(gains):.3f}×")


if __name__ == "__main__":
    main()
