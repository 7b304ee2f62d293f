"""GPU ↔ driver and GPU ↔ wheel: can this driver drive this GPU, and does the wheel carry code for it (pure).

* Driver ↔ GPU generation (knowledge/data/gpu_generations.toml): each architecture has a first
  driver branch that knows it (Ada needs R520+, Blackwell R570+) and, for the generations NVIDIA
  moved to legacy drivers, a last one (Kepler: R470). Outside that range the driver does not see
  the GPU at all, whatever torch is installed.
* Compute capability ↔ arch list (knowledge/arch.py's rules): native SASS, SASS of an older minor
  of the same major, PTX the driver JIT-compiles, or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..knowledge.arch import arch_runs_on
from ..model.versions import StackVersion

NATIVE = "native"
SAME_MAJOR = "same-major"
PTX_JIT = "ptx-jit"
NONE = "none"
_HOW = {"exact": NATIVE, "binary-compatible": SAME_MAJOR, "ptx-jit": PTX_JIT}


@dataclass(frozen=True, slots=True)
class GpuCode:
    """How a wheel's compiled code runs on a GPU."""

    how: str  # NATIVE, SAME_MAJOR, PTX_JIT, NONE
    arch: str | None  # the arch that serves it: "sm_90", "compute_120"
    cc: tuple[int, int]
    arches: tuple[str, ...]

    @property
    def runs(self) -> bool:
        return self.how != NONE

    @property
    def sm(self) -> str:
        return f"sm_{self.cc[0]}{self.cc[1]}"


def gpu_code(arches, cc: tuple[int, int]) -> GpuCode:
    """The one answer to "does this arch list run on compute capability cc, and how?"."""
    items = tuple(arches or ())
    match = arch_runs_on(items, cc)
    if match is None:
        return GpuCode(NONE, None, cc, items)
    return GpuCode(_HOW[match.how], match.arch, cc, items)


@dataclass(frozen=True, slots=True)
class GpuDriverSupport:
    level: str  # "ok", "too-old" (branch before the generation), "dropped" (branch after its last), "unknown"
    architecture: str | None
    min_branch: int | None
    max_branch: int | None
    reason: str
    source: str

    @property
    def drives(self) -> bool:
        return self.level in ("ok", "unknown")


def driver_drives_gpu(knowledge, driver: str | None, cc: tuple[int, int] | None, architecture: str | None = None):
    """The one answer to "can driver D drive a GPU of this generation at all?"."""
    generation = knowledge.generation_for(cc=cc, architecture=architecture)
    if generation is None:
        what = f"cc {cc[0]}.{cc[1]}" if cc else (architecture or "this GPU")
        return GpuDriverSupport("unknown", architecture, None, None, f"no driver range recorded for {what}", "")
    have = StackVersion.parse(driver) if driver else None
    name = generation.architecture
    if have is None:
        return GpuDriverSupport(
            "unknown", name, generation.min_branch, generation.max_branch, "driver version unknown", generation.source
        )
    if generation.min_branch is not None and have.major < generation.min_branch:
        first = generation.min_driver or f"R{generation.min_branch}"
        return GpuDriverSupport(
            "too-old",
            name,
            generation.min_branch,
            generation.max_branch,
            f"driver {driver} predates {name} GPUs: they need the R{generation.min_branch} branch or newer ({first})",
            generation.source,
        )
    if generation.max_branch is not None and have.major > generation.max_branch:
        return GpuDriverSupport(
            "dropped",
            name,
            generation.min_branch,
            generation.max_branch,
            f"driver {driver} no longer supports {name} GPUs: R{generation.max_branch} is the last branch that does",
            generation.source,
        )
    return GpuDriverSupport(
        "ok",
        name,
        generation.min_branch,
        generation.max_branch,
        f"driver {driver} supports {name} GPUs",
        generation.source,
    )


__all__ = ["NATIVE", "NONE", "PTX_JIT", "SAME_MAJOR", "GpuCode", "GpuDriverSupport", "driver_drives_gpu", "gpu_code"]
