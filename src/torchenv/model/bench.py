"""`torchenv bench` results: measured figures against the hardware's limits, and likely causes.

Pure data (the JSON contract of `torchenv bench --json`, kind "torchenv.bench"). The statistics
and the causes are computed in torchenv.perf; the worker that measures runs in the target env.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .finding import Finding

BENCH_SCHEMA_VERSION = 2  # 2: causes are findings (id, category, severity, layer, title, evidence, ...)


@dataclass(frozen=True, slots=True)
class Summary:
    """Statistics of per-call (or per-step) seconds."""

    n: int
    median: float
    mean: float
    minimum: float
    maximum: float
    q1: float
    q3: float

    @property
    def spread(self) -> float:
        """Relative spread: interquartile range over the median (0.02 = ±1 % around the median)."""
        return (self.q3 - self.q1) / self.median if self.median > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Measurement:
    id: str  # "matmul.bf16", "transfer.h2d.pinned", "ladder-resnet50.tf32"
    section: str  # "matmul", "memory", "transfer", "conv", "amp", "ladder-resnet50", "ladder-gpt"
    label: str
    status: str  # "ok" | "skipped" | "failed"
    value: float | None = None  # in `unit`
    unit: str = ""  # "TFLOP/s", "GB/s", "ms", "images/s", "tokens/s"
    higher_is_better: bool = True
    time: Summary | None = None  # seconds per call / per step
    peak: float | None = None  # what the hardware should give, in `unit` (datasheet or link rate)
    peak_source: str | None = None
    ratio: float | None = None  # value / peak
    speedup: float | None = None  # against `baseline` (ladder: the fp32 rung; amp: FP32)
    baseline: str | None = None
    step_gain: float | None = None  # ladder: against the previous measured rung
    one_time_s: float | None = None  # first call/step beyond the steady state (compile, autotune)
    one_time_kind: str | None = None  # "compile" | "autotune" | "warm-up"
    short: bool = False  # falls short of what the hardware should give
    causes: tuple[Finding, ...] = ()  # why a figure falls short (the one diagnostic type)
    reason: str | None = None  # why skipped or failed
    params: dict[str, Any] = field(default_factory=dict)
    observed: dict[str, Any] | None = None  # NVML readings under load (clocks, throttle reasons, PCIe)
    modes: tuple[float, ...] = ()  # seconds per call/step of each mode when the samples are bimodal
    verdict: str | None = None  # against the rung above (or the baseline): "faster" | "slower" | "unclear"


@dataclass(frozen=True, slots=True)
class BenchEnvironment:
    device: str  # "cuda" | "cpu"
    device_name: str
    torch_version: str | None
    cuda: str | None  # torch.version.cuda; None for a CPU-only build
    cudnn: int | None
    debug: bool | None
    cc: tuple[int, int] | None
    threads: int | None
    cpu_count: int | None
    gpu_model: str | None  # the knowledge base's name for this GPU, if it has one
    python: str | None = None
    cpu_bf16: bool | None = None


@dataclass(frozen=True, slots=True)
class BenchReport:
    mode: str  # "full" | "quick"
    status: str  # "ok" | "partial" (the worker died or timed out; what arrived is kept) | "failed"
    error: str | None
    environment: BenchEnvironment | None
    measurements: tuple[Measurement, ...]
    causes: tuple[Finding, ...]  # report-wide: CPU-only build on a GPU machine, debug build, ...
    wall_s: float  # the worker's whole run, torch import included
    compile_s: float  # torch.compile's first compilation(s), reported apart
    autotune_s: float  # cudnn.benchmark's first-step algorithm search
    section_s: dict[str, float]
    knowledge_version: str
    torchenv_version: str

    @property
    def suite_s(self) -> float:
        """The suite's time without torch.compile's first compile (the figure the 60 s target is about)."""
        return max(0.0, self.wall_s - self.compile_s)

    def by_id(self, id: str) -> Measurement | None:
        return next((m for m in self.measurements if m.id == id), None)
