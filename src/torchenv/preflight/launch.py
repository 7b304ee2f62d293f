"""Starting the ranks for `torchenv preflight --gpus N`: `torchrun --standalone` (python -m
torch.distributed.run, in the target interpreter) through the one runner, which bounds it in time and
kills the whole group on Ctrl-C. Rank 0 writes its report to a file; when none comes (torchrun did not
start, a rank crashed before it could report, the run was killed at its bound), the failure becomes a
not-ready report of its own, naming the ranks torchrun says failed. No torch here."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ..model.codec import DecodeError
from ..model.preflight import PreflightReport
from ..perf.run import failure_line, worker_environment
from ..probes.runner import RunResult
from ..probes.target import OWN_IMPORT_ROOT

WORKER_MODULE = "torchenv.preflight"


def torchrun_argv(python: str, nproc: int, worker_args: Sequence[str]) -> list[str]:
    return [
        python,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nnodes",
        "1",
        "--nproc-per-node",
        str(nproc),
        "-m",
        WORKER_MODULE,
        *worker_args,
    ]


def rank_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ranks' environment: the user's, with torchenv itself importable in the target interpreter
    (its folder first on PYTHONPATH) and unbuffered output."""
    env = worker_environment(dict(os.environ if base is None else base))
    entries = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and os.path.realpath(p) != OWN_IMPORT_ROOT]
    env["PYTHONPATH"] = os.pathsep.join([OWN_IMPORT_ROOT, *entries])
    return env


def visible_gpus(nvml_count: int | None, cuda_visible_devices: str | None) -> int:
    """How many ranks `--gpus` defaults to: the GPUs NVML lists, or as many as CUDA_VISIBLE_DEVICES
    names (never more than NVML lists); one process when there is no GPU."""
    count = nvml_count or 0
    if cuda_visible_devices is not None:
        named = [d for d in cuda_visible_devices.split(",") if d.strip()]
        count = min(count, len(named)) if count else len(named)
    return max(count, 1)


FAILED_RANK = re.compile(
    r"^\s*host\s*:\s*(?P<host>\S+)\s*$\n^\s*rank\s*:\s*(?P<rank>\d+)\s*\(local_rank:\s*\d+\)\s*$\n^\s*exitcode\s*:\s*(?P<code>-?\d+)",
    re.M,
)


def parse_torchrun_failures(text: str) -> list[tuple[int, int, str]]:
    """(rank, exit code, host) of each failure in torchrun's ChildFailedError table."""
    return sorted({(int(m["rank"]), int(m["code"]), m["host"]) for m in FAILED_RANK.finditer(text or "")})


def read_report(path: Path) -> PreflightReport | None:
    """Rank 0's report, or None when it wrote none (or a partial, unreadable one)."""
    from ..render.json_preflight import preflight_from_dict

    try:
        return preflight_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, DecodeError):
        return None


def failed_report(result: RunResult, nproc: int, *, timeout: float, torchenv_version: str = "") -> PreflightReport:
    """A not-ready report for a run in which no rank reported."""
    from ..knowledge.fabrics import load_fabrics
    from .findings import failure_finding
    from .judge import build_report

    failed = parse_torchrun_failures(result.stderr + "\n" + result.stdout)
    evidence = [f"rank {rank} on {host} exited with {code}" for rank, code, host in failed]
    line = failure_line(result.stderr)
    if line:
        evidence.append(f"last line of the output: {line[:300]}")
    if result.timed_out:
        finding = failure_finding("timeout", f"torchrun did not finish within {timeout:g} s and was killed", evidence)
    elif result.error:
        finding = failure_finding("launch", f"{result.describe_failure()}", evidence)
    else:
        finding = failure_finding("launch", f"torchrun exited with {result.returncode} and no rank wrote a report", evidence)
    fabrics = load_fabrics()
    return build_report(
        [],
        world_size=nproc,
        backend="unknown",
        failures=[finding],
        fabrics=fabrics,
        failure=finding.title,
        torchenv_version=torchenv_version,
    )


def run_ranks(
    runner,
    python: str,
    nproc: int,
    worker_args: Sequence[str],
    *,
    folder: Path,
    timeout: float,
    on_line: Callable[[str], None] | None = None,
    environ: Mapping[str, str] | None = None,
    torchenv_version: str = "",
) -> tuple[PreflightReport, RunResult]:
    """Run the ranks, bounded by `timeout`; the report rank 0 wrote, or one made of the failure."""
    output = folder / "preflight.json"
    argv = torchrun_argv(python, nproc, [*worker_args, "--output", str(output), "--quiet"])
    result = runner.run(argv, timeout, env=rank_environment(environ), cwd=str(folder), on_line=on_line)
    report = read_report(output)
    if report is None:
        report = failed_report(result, nproc, timeout=timeout, torchenv_version=torchenv_version)
    return report, result


__all__ = ["parse_torchrun_failures", "rank_environment", "run_ranks", "torchrun_argv", "visible_gpus"]
