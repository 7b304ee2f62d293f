"""`torchenv tune resnet50` against the hand-ordered ladder measured in the same run (issue 7).

Reads the tune report (--json) and the records of bench's ResNet-50 ladder (its worker's stdout,
`bench_worker.py --sections ladder-resnet50`), computes each rung's images/s with bench's own
statistics, and checks: the tuner's recommended configuration ≥ 95 % of the ladder's best rung,
and the whole `torchenv tune` command within its 300 s budget.

    python benchmarks/tune_h100_compare.py --tune tune.json --ladder ladder.jsonl --tune-wall SECONDS
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from torchenv.perf.run import records_of
from torchenv.perf.stats import summarize

CAPTURE = {"fp32": 833.8, "+TF32": 1800.7, "+AMP bf16": 2140.9, "+channels_last": 3706.1, "+torch.compile": 5146.6}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tune", required=True)
    parser.add_argument("--ladder", required=True)
    parser.add_argument("--tune-wall", type=float)
    parser.add_argument("--budget", type=float, default=300.0)
    parser.add_argument("--out")
    args = parser.parse_args()
    with open(args.tune) as handle:
        tune = json.load(handle)
    with open(args.ladder) as handle:
        records = records_of(handle.read())
    ladder = {}
    for r in records:
        if r.get("event") == "result" and r.get("status") == "ok":
            median = summarize(r["samples_s"]).median
            ladder[r.get("rung") or r.get("label")] = {
                "images_s": r["work"]["items"] / median,
                "first_step_s": r.get("first_s"),
            }
    best_rung = max(ladder, key=lambda k: ladder[k]["images_s"]) if ladder else None
    trials = {t["id"]: t for t in tune.get("trials", [])}
    chosen = trials.get(tune.get("recommended") or "")
    tuned = chosen.get("throughput") if chosen else None
    fastest = max((t.get("throughput") or 0.0 for t in trials.values() if t.get("status") == "ok"), default=0.0)
    ratio = tuned / ladder[best_rung]["images_s"] if tuned and best_rung else None
    wall = args.tune_wall if args.tune_wall is not None else tune.get("wall_s")
    summary = {
        "ladder": ladder,
        "ladder_best_rung": best_rung,
        "ladder_best_images_s": ladder[best_rung]["images_s"] if best_rung else None,
        "tune_recommended": chosen.get("label") if chosen else None,
        "tune_recommended_images_s": tuned,
        "tune_fastest_measured_images_s": fastest,
        "ratio_to_ladder_best": ratio,
        "tune_command_wall_s": wall,
        "tune_search_s": tune.get("search_s"),
        "budget_s": args.budget,
        "capture": CAPTURE,
    }
    ok_rate = ratio is not None and ratio >= 0.95
    ok_time = wall is not None and wall <= args.budget
    print("hand-ordered ladder (bench's worker, same run):")
    for rung, row in ladder.items():
        capture = CAPTURE.get(rung)
        print(f"  {rung:<18} {row['images_s']:8.0f} images/s" + (f"   (capture {capture:.0f})" if capture else ""))
    if tuned:
        print(
            f"tune recommends {chosen['label']}: {tuned:.0f} images/s = {ratio:.1%} of the ladder's best "
            f"({best_rung}, {ladder[best_rung]['images_s']:.0f})  [target ≥ 95 %: {'met' if ok_rate else 'MISSED'}]"
        )
    else:
        print(f"tune gave no recommendation: {tune.get('error')}")
    print(
        f"`torchenv tune resnet50` took {wall:.0f} s for a {args.budget:.0f} s budget, compiles included "
        f"[{'met' if ok_time else 'MISSED'}]"
    )
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(summary, handle, indent=1)
    return 0 if ok_rate and ok_time else 1


if __name__ == "__main__":
    sys.exit(main())
