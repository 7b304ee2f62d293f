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
