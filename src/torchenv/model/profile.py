"""`torchenv profile` results: a Kineto trace's steps, their time breakdown, and the findings ranked
by milliseconds lost per step. Pure data: the JSON contract of `torchenv profile --json`, kind
"torchenv.profile". Built by torchenv.profile.analysis from a decoded trace."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .finding import Finding, Skipped

PROFILE_SCHEMA_VERSION = 1
PROFILE_KIND = "torchenv.profile"


@dataclass(frozen=True, slots=True)
class ProfileDevice:
    """The GPU the trace ran on, from its deviceProperties (or what the caller knew)."""

    index: int | None
    name: str | None
    cc: str | None  # "9.0"
    total_memory_bytes: int | None


@dataclass(frozen=True, slots=True)
class StepBreakdown:
    """One ProfilerStep#N of one rank. All times in milliseconds; None where the trace cannot say
    (no GPU activity recorded: a CPU trace)."""

    name: str  # "ProfilerStep#3"
    number: int
    rank: int | None
    start_ms: float  # from the first step's start (the HTML timeline's origin)
    wall_ms: float
    cpu_ops_ms: float  # host time inside top-level torch ops and annotations
    dataloader_ms: float
    host_stall_ms: float  # host time at the step's start before the first torch op
    gpu_busy_ms: float | None  # union of kernels, copies and memsets on every stream
    host_wait_ms: float | None  # GPU idle with no launch pending (HTA "host wait")
    kernel_wait_ms: float | None  # GPU idle between back-to-back kernels (HTA "kernel wait")
    other_idle_ms: float | None  # GPU idle with a launch pending (HTA "other")
    communication_ms: float | None  # NCCL kernel time (union)
    kernels: int = 0
    launches: int = 0


@dataclass(frozen=True, slots=True)
class Breakdown:
    """The mean over the analysed steps (the first step of a trace is kept: the schedule's warm-up
    already ran before it)."""

    steps: int
    wall_ms: float
    cpu_ops_ms: float
    dataloader_ms: float
    host_stall_ms: float
    gpu_busy_ms: float | None
    host_wait_ms: float | None
    kernel_wait_ms: float | None
    other_idle_ms: float | None
    communication_ms: float | None


@dataclass(frozen=True, slots=True)
class ProfileFinding:
    """A Finding with what it costs: the estimate ranks the report."""

    finding: Finding
    ms_per_step: float  # milliseconds lost per step (an estimate)
    estimate: str  # how ms_per_step was computed, in words and numbers
    source: str | None = None  # "train.py:42 in step()": the user's function that does it
    ranks: tuple[int, ...] = ()  # ranks it was seen on (empty: a single trace without a rank)


@dataclass(frozen=True, slots=True)
class TimelineSegment:
    """One merged interval on one lane of the HTML timeline (milliseconds from the first step)."""

    lane: str  # "step" | "cpu" | "dataloader" | "gpu" | "sync" | "memcpy" | "nccl" | "stall"
    start_ms: float
    dur_ms: float
    label: str = ""


@dataclass(frozen=True, slots=True)
class Remeasured:
    """A fix torchenv applied itself and measured: the same step with one setting changed."""

    fix: str  # the knob's label: "TF32", "AMP bf16", "fused optimizer"
    config: dict[str, Any]  # the knobs (see torchenv.perf._worker.knobs.BASE)
    for_findings: tuple[str, ...]  # the finding ids it answers
    status: str  # "ok" | "failed"
    step_ms: float | None = None  # median step time with the fix
    baseline_ms: float | None = None  # median step time of the same step, measured just before
    gain: float | None = None  # baseline_ms / step_ms: 1.25 is 25 % more steps per second
    verdict: str | None = None  # "faster" | "slower" | "unclear" (within both spreads)
    reason: str | None = None  # why it failed


@dataclass(frozen=True, slots=True)
class ProfileReport:
    status: str  # "ok" | "no-steps" (no ProfilerStep markers: the whole trace taken as one step)
    trace: str  # the path the user gave (file or folder)
    files: tuple[str, ...]  # the trace files read, one per rank
    ranks: tuple[int, ...]  # () for a single trace without a rank field
    has_gpu: bool  # kernels or copies were recorded
    device: ProfileDevice | None
    steps: tuple[StepBreakdown, ...]
    breakdown: Breakdown | None
    findings: tuple[ProfileFinding, ...]  # ranked by ms_per_step, largest first
    skipped: tuple[Skipped, ...]  # rules that could not judge this trace, with the reason
    timeline: tuple[TimelineSegment, ...] = ()
    notes: tuple[str, ...] = ()
    rules_version: str = ""  # profile_rules.toml's knowledge_version
    torchenv_version: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    remeasured: tuple[Remeasured, ...] = ()  # the fixes torchenv applied and measured (WORKLOAD or script)

    def total_ms_lost(self) -> float:
        return sum(f.ms_per_step for f in self.findings)
