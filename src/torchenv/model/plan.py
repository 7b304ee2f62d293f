"""Plan: one decision about which torch build to install, and why (pure data, JSON via the codec).

A `Target` is what the plan is for (this machine's facts, or a described machine); a `PlanRequest`
holds the user's pins. `Plan.ok` is False when the request cannot be met: `unmet` says what, and
`nearest` holds complete plans that relax one constraint each.
"""

from __future__ import annotations

from dataclasses import dataclass

PYPI_INDEX = "https://pypi.org/simple"
PLAN_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class GpuTarget:
    name: str
    cc: tuple[int, int] | None  # None: the name is known but not its compute capability


@dataclass(frozen=True, slots=True)
class Target:
    os: str = "linux"  # "linux", "windows", "macos"
    arch: str = "x86_64"  # "x86_64", "aarch64", "arm64"
    python: str | None = None  # "3.12"; None: let the plan choose
    driver: str | None = None  # "580.159.04"; None: not known (the plan states the floor it needs)
    gpus: tuple[GpuTarget, ...] = ()
    origin: str = "described"  # "this machine" or "described"
    notes: tuple[str, ...] = ()  # what the target reading could not tell (driver not loaded, ...)
    wsl: bool = False  # Linux under WSL 2: the driver is the Windows one (its floors come from the Windows column)


@dataclass(frozen=True, slots=True)
class PlanRequest:
    torch: str | None = None  # "2.7", "2.7.1", ">=2.4,<2.6"
    variant: str | None = None  # "cu126", "cpu": force the build variant
    index_url: str | None = None  # override the index (a mirror)
    companions: tuple[str, ...] = ("torchvision", "torchaudio")


@dataclass(frozen=True, slots=True)
class Option:
    """A complete alternative (or nearest) install, with what it trades."""

    torch: str
    variant: str
    index_url: str
    python: str
    cuda: str | None
    min_driver: str | None
    trade_off: str


@dataclass(frozen=True, slots=True)
class DriverUpgrade:
    """What a newer driver would unlock compared with the chosen plan."""

    min_driver: str
    torch: str
    variant: str
    gain: str


@dataclass(frozen=True, slots=True)
class Plan:
    ok: bool
    torch: str | None
    torchvision: str | None
    torchaudio: str | None
    variant: str | None  # "cu130", "cpu", "mps" (the macOS arm64 build), "rocm6.4"
    index_url: str | None  # where the wheels come from; PYPI_INDEX for the default index
    python: str | None  # "3.12"
    cuda: str | None  # "13.0" for a CUDA build
    min_driver: str | None  # the lowest driver this plan runs on (None: no NVIDIA driver needed)
    driver_support: str | None  # "full", "minor-version-compat", "unknown-driver", None (no CUDA)
    gpu_code: tuple[str, ...]  # per GPU: how the wheel's code runs on it
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    alternatives: tuple[Option, ...]
    driver_upgrade: DriverUpgrade | None
    unmet: tuple[str, ...]  # what cannot be met (only when not ok)
    nearest: tuple[Option, ...]  # the nearest plans that can be met (only when not ok)
    target: Target
    request: PlanRequest
    knowledge_version: str
    schema_version: int = PLAN_SCHEMA_VERSION
    wheel_url: str | None = None  # a build published as one wheel file (JetPack), installed by URL

    @property
    def packages(self) -> tuple[tuple[str, str], ...]:
        """(name, version) of every package to install, torch first."""
        out = [("torch", self.torch)] if self.torch else []
        if self.torchvision and "torchvision" in self.request.companions:
            out.append(("torchvision", self.torchvision))
        if self.torchaudio and "torchaudio" in self.request.companions:
            out.append(("torchaudio", self.torchaudio))
        return tuple(out)

    @property
    def uses_default_index(self) -> bool:
        return self.index_url in (None, PYPI_INDEX)


__all__ = ["PLAN_SCHEMA_VERSION", "PYPI_INDEX", "DriverUpgrade", "GpuTarget", "Option", "Plan", "PlanRequest", "Target"]
