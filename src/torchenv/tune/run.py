"""Runs the perf worker runtime's tune plan inside the target interpreter through the injected Runner, with bench's
record protocol (torchenv.perf.run). A crash or a timeout comes back as data: the records that
arrived are kept and the report says where the worker stopped."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ..model.perf_records import Record
from ..perf.run import WORKER_SCRIPT, WorkerRun, run_worker, worker_environment

GRACE_S = 45.0  # beyond --budget: torch import, the last trial's overrun, freeing memory


def tune_argv(
    python: str,
    workload: str,
    *,
    device: str = "auto",
    budget_s: float = 300.0,
    batch: int | None = None,
    tolerance: float = 0.05,
    min_gain: float = 0.02,
    steps: int | None = None,
    skip: Sequence[str] = (),
    max_batch: bool = False,
    memory_margin: float = 0.1,
    loader: bool = False,
    loader_epoch_s: float = 3.0,
    compile: bool = True,
    script: Path = WORKER_SCRIPT,
) -> list[str]:
    argv = [python, str(script), "tune", workload, "--device", device, "--budget", f"{budget_s:g}"]
    argv += ["--tolerance", f"{tolerance:g}", "--min-gain", f"{min_gain:g}"]
    if batch:
        argv += ["--batch", str(batch)]
    if steps:
        argv += ["--steps", str(steps)]
    if skip:
        argv += ["--skip", ",".join(skip)]
    if max_batch:
        argv += ["--max-batch", "--memory-margin", f"{memory_margin:g}"]
    if loader:
        argv += ["--loader", "--loader-epoch-s", f"{loader_epoch_s:g}"]
    if not compile:
        argv.append("--no-compile")
    return argv


def run_tune_worker(
    runner, argv: Sequence[str], *, budget_s: float, on_record: Callable[[Record], None] | None = None
) -> WorkerRun:
    """`on_record` gets each typed record as it arrives; the run's `typed` are the same records."""
    env = worker_environment()
    return run_worker(runner, argv, timeout=budget_s + GRACE_S, on_typed=on_record, env=env)
