"""The seam between `torchenv profile WORKLOAD` / `profile -- COMMAND` and the worker runtime.

The CLI calls `capture_and_analyse`; the worker runtime (torchenv.perf._worker, built by the lead)
fills it in: run `torchenv/perf/_worker/profiling.py:capture` inside the target interpreter on the
workload's step, then hand the trace it wrote to `torchenv.profile.analysis.analyse` with the
device facts the capture returned (`device.total_memory_bytes`, `device.cc`, `precision`).
Until then it refuses with one line."""

from __future__ import annotations

from dataclasses import dataclass

from ..model.profile import ProfileReport


class NotWired(Exception):
    """`profile WORKLOAD` has no worker runtime yet: the CLI turns this into a UsageError."""


@dataclass(frozen=True, slots=True)
class CaptureSpec:
    """What to capture: a workload spec (as for `tune`) or a command, and the schedule."""

    workload: str | None  # "resnet50", "path/to/file.py:factory"
    command: tuple[str, ...] = ()  # `profile -- python train.py ...`
    python: str | None = None  # the target interpreter (None: this one)
    device: str = "auto"
    steps: int = 5
    warmup: int = 2
    trace_out: str | None = None  # where to keep the raw trace (for Perfetto)


def capture_and_analyse(spec: CaptureSpec, *, torchenv_version: str = "") -> ProfileReport:
    """Capture `spec` in a worker and analyse the trace. Not wired yet: raises NotWired."""
    what = spec.workload or " ".join(spec.command)
    raise NotWired(
        f"profile {what}: capturing a workload needs the perf worker runtime, which is not wired yet; "
        "capture a trace with torch.profiler (export_chrome_trace) and run `torchenv profile --trace FILE`"
    )
