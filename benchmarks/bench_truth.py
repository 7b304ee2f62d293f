"""bench against the bare script, side by side and interleaved in one run (issue 19): per round, the
bare script (benchmarks/bare_matmul.py), `torchenv bench --quick` and the full suite's matmul and copy
sections, each a fresh process. Prints each figure and bench's ratio to the bare figure of the same
round; writes the raw figures as JSON.

    PYTHONPATH=src python benchmarks/bench_truth.py [--rounds 3] [--out FILE.json]
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
DTYPES = ("fp32", "tf32", "bf16", "fp16")


def bench(quick: bool) -> dict:
    argv = [sys.executable, "-m", "torchenv", "bench", "--sections", "matmul,memory", "--json"]
    if quick:
        argv.append("--quick")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    report = json.loads(done.stdout)
    figures = {m["id"]: m.get("value") for m in report["measurements"]}
    out = {}
    for dtype in DTYPES:
        out[dtype] = {
            "burst_tflops": figures.get(f"matmul.{dtype}"),
            "sustained_tflops": figures.get(f"matmul.{dtype}.sustained"),
        }
    out["copy"] = {"gbs": figures.get("memory.copy")}
    return out


def bare() -> dict:
    done = subprocess.run([sys.executable, str(HERE / "bare_matmul.py")], capture_output=True, text=True, timeout=300)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out")
    args = parser.parse_args()
    rounds = []
    for _ in range(args.rounds):
        rounds.append({"bare": bare(), "quick": bench(True), "full": bench(False)})
    rows = [(d, k) for d in DTYPES for k in ("burst_tflops", "sustained_tflops")] + [("copy", "gbs")]
    print(
        f"{'figure':24} {'bare':>8} {'quick':>8} {'ratio':>6} {'full':>8} {'ratio':>6}   (median of {args.rounds} rounds; ratios per round)"
    )
    worst = 1.0
    for dtype, key in rows:
        cells = {w: [r[w][dtype][key] for r in rounds] for w in ("bare", "quick", "full")}
        ratios = {w: [q / b for q, b in zip(cells[w], cells["bare"], strict=True) if q and b] for w in ("quick", "full")}
        line = f"{dtype + ' ' + key:24} {statistics.median(cells['bare']):8.1f}"
        for w in ("quick", "full"):
            line += f" {statistics.median([c for c in cells[w] if c]):8.1f} {statistics.median(ratios[w]):6.3f}"
            worst = min([worst] + ratios[w])
        print(line + "   " + " ".join(f"{x:.3f}" for w in ("quick", "full") for x in ratios[w]))
    print(f"worst single-round ratio bench/bare: {worst:.3f} (target ≥ 0.95)")
    if args.out:
        Path(args.out).write_text(json.dumps(rounds, indent=1))


if __name__ == "__main__":
    main()
