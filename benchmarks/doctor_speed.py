"""How fast the doctor answers, against its floor and the other doctors, in one interleaved run.

    python benchmarks/doctor_speed.py [--runs 7] [--python PATH] [--baseline-src DIR] [--out FILE]

Times, as whole processes (cold start included), round-robin so that drift is shared:

- `floor`: the least any torch doctor must do, `python -c "import torch; torch.cuda.is_available()"`
  plus, where CUDA is usable, the doctor's own smoke-test kernels (loaded from its probe script, so
  the two run the same matmul and conv2d on every GPU); `floor_no_teardown`: the same ending in
  `os._exit(0)` as the doctor's probe does (the stricter floor: torch's teardown is skippable work);
- `doctor` (terminal report, stdout to a pipe) and `doctor_json` (`--json`); `doctor_no_torch`;
  `nobytecode_doctor_json`: `--json` with TORCHENV_PROBE_BYTECODE=0 (the probe compiles torch as the
  user's processes do where the interpreter keeps no bytecode); every command's warm-up run is kept
  apart (`warmup_s`): it is the doctor's first run, which fills torchenv's bytecode folder (a fresh
  XDG_CACHE_HOME per benchmark run);
- `collect_env` (`python -m torch.utils.collect_env`) and the peer doctors found on PATH;
- `first_verdict`: `torchenv doctor` with stderr on a pseudo-terminal (where the provisional verdict
  is shown), timed from the start to the first byte of `provisional`;
- with `--baseline-src DIR` (e.g. `git archive <commit> src | tar -x -C DIR`), `baseline_doctor` and
  `baseline_doctor_json`: the same commands from another source tree, for before/after in one run.

Goals (issue 14): first verdict <= 0.15 s; the full doctor <= 1.1 x the floor. This replaces
doctor_vs_collect_env.py (issue 2's doctor/collect_env ratio is still printed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pty
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE_SCRIPT = ROOT / "src/torchenv/probes/_scripts/target_probe.py"
PEERS = ("cuda-doctor", "ai-infradr")  # other doctors, timed when installed

FLOOR = """
import importlib.util, sys
import torch
if torch.cuda.is_available():
    spec = importlib.util.spec_from_file_location("probe", sys.argv[1])
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    torch.zeros(1, device="cuda")
    for index in range(torch.cuda.device_count()):
        probe.smoke(torch, index)
"""


# The same work, leaving without the interpreter's teardown as the doctor's probe does (os._exit):
# the stricter floor, since tearing torch down is work no doctor needs to wait for.
FLOOR_NO_TEARDOWN = FLOOR + "\nimport os, sys\nsys.stdout.flush()\nos._exit(0)\n"


def time_command(argv: list[str], env: dict[str, str], keep: list[bytes] | None = None) -> tuple[float, int]:
    """Seconds and exit code of one whole process; its stdout is appended to `keep` when given."""
    out = subprocess.PIPE if keep is not None else subprocess.DEVNULL
    began = time.perf_counter()
    done = subprocess.run(argv, stdout=out, stderr=subprocess.DEVNULL, env=env, timeout=300)
    seconds = time.perf_counter() - began
    if keep is not None:
        keep.append(done.stdout)
    return seconds, done.returncode


def split_of(seconds: float, stdout: bytes) -> dict[str, float]:
    """Where one `doctor --json` run went: the probe's wall time (spawn to exit, as the doctor measured
    it), the doctor's own time on the critical path (the rest) and the probe's stages."""
    try:
        torch = json.loads(stdout)["facts"]["torch"]
        probe = float(torch["wall_seconds"])
    except (ValueError, KeyError, TypeError):
        return {}
    split = {"probe": probe, "own": seconds - probe}
    for stage, value in (torch.get("stage_seconds") or {}).items():
        split[f"stage:{stage}"] = value
    return split


def time_first_verdict(argv: list[str], env: dict[str, str]) -> tuple[float, int, float | None]:
    """(total seconds, exit code, seconds to the first `provisional` byte on stderr, a terminal)."""
    master, slave = pty.openpty()
    began = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=slave, stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    seen, first = b"", None
    while True:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closed: the process is gone
                break
            if not chunk:
                break
            seen += chunk
            if first is None and b"provisional" in seen:
                first = time.perf_counter() - began
        elif proc.poll() is not None:
            break
    code = proc.wait()
    total = time.perf_counter() - began
    os.close(master)
    return total, code, first


def paired(ours: list[float], theirs: list[float]) -> dict:
    ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
    return {
        "median": round(statistics.median(ratios), 3),
        "rounds": len(ratios),
        "faster_rounds": sum(r < 1 for r in ratios),
        "ratios": [round(r, 3) for r in ratios],
    }


def summary(values: list[float]) -> dict:
    return {
        "median_s": round(statistics.median(values), 4),
        "min_s": round(min(values), 4),
        "max_s": round(max(values), 4),
        "samples_s": [round(v, 4) for v in values],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--python", default=sys.executable, help="the env whose torch every tool looks at")
    parser.add_argument("--baseline-src", type=Path, help="another torchenv source tree (its src/) to time beside")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    parser.add_argument("--only", help="comma-separated extra commands to time (e.g. ai-infradr,cuda-doctor)")
    args = parser.parse_args()

    def env_for(src: Path) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
        env["PYTHONWARNINGS"] = "ignore"  # the same for every command (torch warns without numpy)
        return env

    env = env_for(ROOT / "src")
    env["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="doctor-speed-cache-")  # the first doctor run fills it
    doctor = [sys.executable, "-m", "torchenv", "doctor", "--python", args.python]
    commands: dict[str, tuple[list[str], dict[str, str]]] = {
        "floor": ([args.python, "-c", FLOOR, str(PROBE_SCRIPT)], env),
        "floor_no_teardown": ([args.python, "-c", FLOOR_NO_TEARDOWN, str(PROBE_SCRIPT)], env),
        # The least a doctor without a smoke test does (what issue 14 first called the floor).
        "import_and_is_available": ([args.python, "-c", "import torch; torch.cuda.is_available()"], env),
        "doctor": (doctor, env),
        "doctor_json": ([*doctor, "--json"], env),
        "doctor_no_torch": ([*doctor, "--json", "--no-torch"], env),
        "nobytecode_doctor_json": ([*doctor, "--json"], {**env, "TORCHENV_PROBE_BYTECODE": "0"}),
        "collect_env": ([args.python, "-m", "torch.utils.collect_env"], env),
    }
    for peer in PEERS:
        if shutil.which(peer):
            commands[peer] = ([peer], env)
    if args.baseline_src:
        base_env = env_for(args.baseline_src.resolve())
        commands["baseline_doctor"] = (doctor, base_env)
        commands["baseline_doctor_json"] = ([*doctor, "--json"], base_env)

    if args.only:  # fewer commands, more rounds in the same time (floor, doctor and doctor_json always run)
        keep_names = {"floor", "floor_no_teardown", "doctor", "doctor_json", *args.only.split(",")}
        commands = {name: command for name, command in commands.items() if name in keep_names}
    terminal = not args.only or "first_verdict" in args.only.split(",")
    samples: dict[str, list[float]] = {name: [] for name in [*commands, "first_verdict", "doctor_tty"]}
    codes: dict[str, set[int]] = {name: set() for name in samples}
    warmups = {name: round(time_command(argv, cmd_env)[0], 4) for name, (argv, cmd_env) in commands.items()}
    if terminal:
        time_first_verdict(doctor, env)
    splits: dict[str, dict[str, list[float]]] = {}  # doctor --json runs: name -> part -> samples
    for _ in range(args.runs):
        for name, (argv, cmd_env) in commands.items():
            keep: list[bytes] | None = [] if name.endswith("doctor_json") else None
            seconds, code = time_command(argv, cmd_env, keep)
            samples[name].append(seconds)
            codes[name].add(code)
            for part, value in split_of(seconds, keep[0] if keep else b"").items():
                splits.setdefault(name, {}).setdefault(part, []).append(value)
        if not terminal:
            continue
        total, code, first = time_first_verdict(doctor, env)
        samples["doctor_tty"].append(total)
        codes["doctor_tty"].add(code)
        if first is not None:
            samples["first_verdict"].append(first)
            codes["first_verdict"].add(code)

    figures = {name: {**summary(v), "exit_codes": sorted(codes[name])} for name, v in samples.items() if v}
    med = {name: fig["median_s"] for name, fig in figures.items()}
    ratio_floor = med["doctor"] / med["floor"]
    ratio_floor_json = med["doctor_json"] / med["floor"]
    strict = med["floor_no_teardown"]
    result = {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": args.python,
        "runs": args.runs,
        "figures": figures,
        "warmup_s": warmups,  # each command's first run, before the rounds (the doctor's fills its folder)
        "ratio_doctor_to_floor": round(ratio_floor, 3),
        "ratio_doctor_json_to_floor": round(ratio_floor_json, 3),
        "ratio_doctor_to_floor_no_teardown": round(med["doctor"] / strict, 3),
        "ratio_doctor_json_to_floor_no_teardown": round(med["doctor_json"] / strict, 3),
        "goals": {"first_verdict_at_most_s": 0.15, "doctor_to_floor_at_most": 1.1},
        "meets_first_verdict": "first_verdict" in med and med["first_verdict"] <= 0.15,
        "meets_floor_ratio": max(ratio_floor, ratio_floor_json) <= 1.1,
    }
    if "collect_env" in med:
        result["ratio_doctor_json_to_collect_env"] = round(med["doctor_json"] / med["collect_env"], 3)
    peers = {peer: round(max(med["doctor"], med["doctor_json"]) / med[peer], 3) for peer in PEERS if peer in med}
    if peers:  # the slower of doctor / doctor --json against each peer: below 1 is faster
        result["ratio_doctor_to_peer"] = peers
        # Paired within each round (neighbours in time share the machine's drift): per-round ratios.
        result["paired_ratio_doctor_json_to_peer"] = {
            peer: paired(samples["doctor_json"], samples[peer]) for peer in PEERS if peer in med
        }
        result["faster_than_every_peer"] = all(ratio < 1 for ratio in peers.values())
        if "nobytecode_doctor_json" in med:  # the same doctor compiling torch as the user's processes do
            result["ratio_nobytecode_doctor_json_to_peer"] = {
                peer: round(med["nobytecode_doctor_json"] / med[peer], 3) for peer in peers
            }
    result["doctor_json_split_median_s"] = {
        name: {part: round(statistics.median(values), 4) for part, values in parts.items()}
        for name, parts in splits.items()
    }
    if "baseline_doctor" in med:
        result["ratio_baseline_doctor_to_floor"] = round(med["baseline_doctor"] / med["floor"], 3)
        result["ratio_baseline_doctor_json_to_floor"] = round(med["baseline_doctor_json"] / med["floor"], 3)
    for name, fig in figures.items():
        print(
            f"{name:22s} median {fig['median_s']:.3f} s  (min {fig['min_s']:.3f}, max {fig['max_s']:.3f})  "
            f"exit {fig['exit_codes']}"
        )
    print("first runs (warm-up): " + ", ".join(f"{name} {value:.3f}" for name, value in warmups.items()))
    print(
        f"doctor / floor = {ratio_floor:.2f}, doctor --json / floor = {ratio_floor_json:.2f} (goal <= 1.1): "
        f"{'OK' if result['meets_floor_ratio'] else 'MISSED'}"
    )
    print(
        f"against the floor without teardown: doctor {result['ratio_doctor_to_floor_no_teardown']:.2f}, "
        f"doctor --json {result['ratio_doctor_json_to_floor_no_teardown']:.2f}"
    )
    if "first_verdict" in med:
        print(
            f"first verdict median {med['first_verdict']:.3f} s (goal <= 0.15): "
            f"{'OK' if result['meets_first_verdict'] else 'MISSED'}"
        )
    for name, parts in result["doctor_json_split_median_s"].items():
        print(f"{name} medians: " + ", ".join(f"{part} {value:.3f}" for part, value in parts.items()))
    for peer, pair in result.get("paired_ratio_doctor_json_to_peer", {}).items():
        print(
            f"doctor --json / {peer}, paired per round: median {pair['median']:.2f}, "
            f"faster in {pair['faster_rounds']} of {pair['rounds']} rounds"
        )
    for peer, ratio in peers.items():
        print(f"slower of doctor / doctor --json vs {peer} = {ratio:.2f} (goal < 1): {'OK' if ratio < 1 else 'MISSED'}")
    for peer, ratio in result.get("ratio_nobytecode_doctor_json_to_peer", {}).items():
        print(f"doctor --json without its bytecode folder vs {peer} = {ratio:.2f}")
    if "baseline_doctor" in med:
        print(
            f"baseline: doctor / floor = {result['ratio_baseline_doctor_to_floor']:.2f}, "
            f"doctor --json / floor = {result['ratio_baseline_doctor_json_to_floor']:.2f}; without teardown "
            f"{med['baseline_doctor'] / strict:.2f}, {med['baseline_doctor_json'] / strict:.2f}"
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
