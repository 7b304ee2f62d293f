"""The torch.compile rung over fresh processes (issue 19): bench's ladder for one workload run N times
in the worker runtime (`main.py bench --phase heuristics`), each process's compile rung and the rung
below it summarised with bench's own statistics: medians, modes (bimodal samples) and the verdict.

    PYTHONPATH=src python benchmarks/compile_rung.py resnet50|gpt [--processes 5] [--before conv] [--out FILE.json]

--before: sections the full suite measures first in the same process (the conv test runs with
deterministic algorithms on, then off), to see whether they change the compile rung.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from torchenv.perf.run import WORKER_SCRIPT, records_of
from torchenv.perf.stats import compare_times, modes, summarize


def one(workload: str, before: str = "") -> dict:
    sections = ",".join(filter(None, (before, f"ladder-{workload}")))
    argv = [sys.executable, str(WORKER_SCRIPT), "bench", "--phase", "heuristics", "--sections", sections]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=400)
    rungs = [r for r in records_of(done.stdout) if r.get("event") == "result" and r.get("status") == "ok"]
    compiled = next((r for r in rungs if r["id"].endswith("torch-compile")), None)
    if compiled is None:
        return {"error": (done.stderr or "no compile rung")[-300:]}
    below = next(r for r in rungs if r["id"] == compiled["previous"])
    new, old = summarize(compiled["samples_s"]), summarize(below["samples_s"])
    return {
        "eager_rung": below["label"],
        "eager_ms": old.median * 1000,
        "compiled_ms": new.median * 1000,
        "gain": old.median / new.median,
        "modes_ms": [m * 1000 for m in modes(compiled["samples_s"])],
        "eager_modes_ms": [m * 1000 for m in modes(below["samples_s"])],
        "verdict": compare_times(new, old),
        "first_step_s": compiled.get("first_s"),
        "samples_ms": [s * 1000 for s in compiled["samples_s"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workload", choices=("resnet50", "gpt"))
    parser.add_argument("--processes", type=int, default=5)
    parser.add_argument("--before", default="", help="sections measured first in the same process (e.g. conv)")
    parser.add_argument("--out")
    args = parser.parse_args()
    runs = [one(args.workload, args.before) for _ in range(args.processes)]
    for i, r in enumerate(runs, 1):
        if "error" in r:
            print(f"{args.workload} process {i}: {r['error']}")
            continue
        print(
            f"{args.workload} process {i}: {r['eager_rung']} {r['eager_ms']:.2f} ms → compiled {r['compiled_ms']:.2f} ms "
            f"({r['gain']:.3f}×, {r['verdict']}); compiled modes {r['modes_ms'] or 'none'}; "
            f"first step {r['first_step_s']:.1f} s"
        )
    gains = [r["gain"] for r in runs if "gain" in r]
    if gains:
        print(f"{args.workload}: compile gain over {len(gains)} processes {min(gains):.3f}–{max(gains):.3f}×")
    if args.out:
        Path(args.out).write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
