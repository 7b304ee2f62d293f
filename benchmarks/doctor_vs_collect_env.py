"""Times `torchenv doctor` against `python -m torch.utils.collect_env` on the same env, same run.

Targets (issue 2): the full doctor (torch probe + GPU smoke test) takes at most half the time of
collect_env; `torchenv doctor --no-torch` stays under 0.25 s.

    python benchmarks/doctor_vs_collect_env.py [--runs 5] [--python PATH] [--out FILE]

Each command runs as a whole process (cold start included), alternating A/B to share drift.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def time_command(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    began = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, timeout=300)
    return time.perf_counter() - began, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--python", default=sys.executable, help="the env whose torch both tools look at")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    doctor = [sys.executable, "-m", "torchenv", "doctor", "--json", "--python", args.python]
    commands = {
        "collect_env": [args.python, "-m", "torch.utils.collect_env"],
        "doctor_full": doctor,
        "doctor_no_torch": [*doctor, "--no-torch"],
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    codes: dict[str, set[int]] = {name: set() for name in commands}
    for argv in commands.values():  # one warm-up each: page cache, .pyc files
        time_command(argv, env)
    for _ in range(args.runs):
        for name, argv in commands.items():
            seconds, code = time_command(argv, env)
            samples[name].append(seconds)
            codes[name].add(code)

    figures = {
        name: {
            "median_s": round(statistics.median(values), 4),
            "min_s": round(min(values), 4),
            "max_s": round(max(values), 4),
            "exit_codes": sorted(codes[name]),
        }
        for name, values in samples.items()
    }
    ratio = figures["doctor_full"]["median_s"] / figures["collect_env"]["median_s"]
    result = {
        "host": platform.node(),
        "python": args.python,
        "runs": args.runs,
        "figures": figures,
        "ratio_doctor_full_to_collect_env": round(ratio, 3),
        "target_ratio_at_most": 0.5,
        "doctor_no_torch_target_s": 0.25,
        "meets_ratio": ratio <= 0.5,
        "meets_no_torch": figures["doctor_no_torch"]["median_s"] < 0.25,
    }
    for name, fig in figures.items():
        print(
            f"{name:16s} median {fig['median_s']:.3f} s  (min {fig['min_s']:.3f}, max {fig['max_s']:.3f})  exit {fig['exit_codes']}"
        )
    print(f"doctor_full / collect_env = {ratio:.2f} (target <= 0.5): {'OK' if result['meets_ratio'] else 'MISSED'}")
    print(
        f"doctor --no-torch median {figures['doctor_no_torch']['median_s']:.3f} s (target < 0.25): "
        f"{'OK' if result['meets_no_torch'] else 'MISSED'}"
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
