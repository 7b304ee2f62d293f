"""Frozen records returned by the knowledge queries."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class DriverFloor:
    cuda: str
    full_support: str | None
    minor_compat: str | None
    source: str
    os: str = "linux"
    label: str = ""
    ptx_needs_full_support: bool = True  # minor-version compatibility never covers PTX JIT
    confidence: str = "transcribed"


@dataclass(frozen=True, slots=True)
class TorchRelease:
    version: str
    released: str
    python: tuple[str, ...]
    variants: tuple[str, ...]
    pypi_default_variant: str | None
    cudnn: dict[str, str] = field(default_factory=dict, hash=False, compare=True)
    nccl: dict[str, str] = field(default_factory=dict, hash=False, compare=True)
    torchvision: str | None = None
    torchaudio: str | None = None
    source: str = ""
    confidence: str = "transcribed"
    note: str = ""
    python_freethreaded: tuple[str, ...] = ()  # CPython minors with a cpXYt (no-GIL) wheel on Linux x86_64


@dataclass(frozen=True, slots=True)
class GpuModel:
    name: str
    aliases: tuple[str, ...]
    cc: tuple[int, int]
    architecture: str
    memory_gb: float | None
    peak_tflops: dict[str, float] = field(default_factory=dict, hash=False, compare=True)
    memory_bandwidth_gbs: float | None = None
    source: str = ""
    confidence: str = "transcribed"


@dataclass(frozen=True, slots=True)
class GpuGeneration:
    """The driver branches that drive one GPU architecture (knowledge/data/gpu_generations.toml)."""

    architecture: str
    ccs: tuple[tuple[int, int], ...]
    min_branch: int | None
    min_driver: str | None
    max_branch: int | None  # the last branch that supports it; None while current drivers still do
    note: str
    source: str


@dataclass(frozen=True, slots=True)
class GpuResolution:
    """What a GPU name as a person typed it resolves to."""

    query: str
    models: tuple[GpuModel, ...]  # every model the name covers (one for an exact name)
    exact: bool

    @property
    def cc(self) -> tuple[int, int] | None:
        ccs = {m.cc for m in self.models}
        return next(iter(ccs)) if len(ccs) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len({m.cc for m in self.models}) > 1
