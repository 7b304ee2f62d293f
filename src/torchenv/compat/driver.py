"""Driver ↔ CUDA: does this driver run code built with this CUDA, and how (pure).

NVIDIA's two tables decide it (knowledge/data/cuda_drivers.toml, each row with its source):

* Table 3, the toolkit driver: a driver at or above it *fully* supports that CUDA, PTX JIT included.
* Table 2, minor-version compatibility: within one CUDA major, an older driver down to the
  major's floor runs code built with a newer minor, but never JIT-compiles its PTX.

Under WSL the driver is the Windows one, so the Windows column applies. Where NVIDIA publishes no
toolkit floor for an OS (Windows from CUDA 13: "N/A"), the branch floor of Table 2 is the only
requirement stated, and a driver meeting it is taken as supported, with that said in the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model.versions import StackVersion

FULL = "full"
MINOR_COMPAT = "minor-version-compat"
TOO_OLD = "too-old"
UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class DriverSupport:
    """How a driver runs a CUDA version, with the floor it was judged against and its source."""

    level: str  # FULL, MINOR_COMPAT, TOO_OLD, UNKNOWN
    cuda: str  # "13.0"
    driver: str | None
    table: str  # the OS column used: "linux" or "windows" (WSL uses Windows)
    full_floor: str | None  # Table 3 (None: not published for this OS)
    minor_floor: str | None  # Table 2 floor of the CUDA major
    needed: str | None  # the lowest driver that runs it (as asked: with PTX JIT or not)
    reason: str
    source: str
    needs_ptx: bool = False

    @property
    def runs(self) -> bool:
        return self.level in (FULL, MINOR_COMPAT)

    @property
    def floor_text(self) -> str:
        """ ">= 580.65.06 (>= 580 with minor-version compatibility)" for messages."""
        if self.full_floor and self.minor_floor and not self.needs_ptx:
            return f">= {self.full_floor} (>= {self.minor_floor} with minor-version compatibility)"
        if self.full_floor:
            return f">= {self.full_floor}"
        return f">= {self.minor_floor}" if self.minor_floor else "unknown"


def driver_table(os: str, wsl: bool | None = False) -> str:
    """Which column of NVIDIA's tables applies: WSL and Windows read the Windows one."""
    return "windows" if wsl is True or os == "windows" else "linux"


def driver_support(
    knowledge,
    cuda: str,
    driver: str | None,
    *,
    os: str = "linux",
    wsl: bool | None = False,
    needs_ptx: bool = False,
) -> DriverSupport:
    """The one answer to "does driver D run CUDA C here?" (needs_ptx: the GPU relies on PTX JIT)."""
    table = driver_table(os, wsl)
    floor = knowledge.cuda_driver_floor(cuda, table) if isinstance(cuda, str) else None
    cuda_text = floor.cuda if floor is not None else str(cuda)

    def answer(level: str, needed: str | None, reason: str) -> DriverSupport:
        return DriverSupport(
            level=level,
            cuda=cuda_text,
            driver=driver,
            table=table,
            full_floor=floor.full_support if floor else None,
            minor_floor=floor.minor_compat if floor else None,
            needed=needed,
            reason=reason,
            source=floor.source if floor else "",
            needs_ptx=needs_ptx,
        )

    if floor is None or (floor.full_support is None and floor.minor_compat is None):
        return answer(UNKNOWN, None, f"no {table} driver floor is recorded for CUDA {cuda_text}")
    full, minor = floor.full_support, floor.minor_compat
    # No toolkit floor for this OS: the branch floor is the requirement NVIDIA states.
    needed = full if (full and (needs_ptx or not minor)) else (minor or full)
    have = StackVersion.parse(driver) if driver else None
    wsl_note = " (WSL runs the Windows driver)" if wsl is True else ""
    if have is None:
        return answer(UNKNOWN, needed, f"driver version unknown; CUDA {cuda_text} needs {table} driver >= {needed}")
    if full and have.at_least(full):
        return answer(FULL, needed, f"driver {driver} >= {full}, CUDA {cuda_text}'s {table} toolkit driver{wsl_note}")
    if full is None and minor and have.at_least(minor):
        return answer(
            FULL,
            needed,
            f"driver {driver} >= {minor}, the R{StackVersion.parse(minor).major} branch floor NVIDIA states for "
            f"CUDA {floor.cuda.split('.')[0]}.x on {table} (no per-toolkit {table} floor is published){wsl_note}",
        )
    if minor and have.at_least(minor):
        if needs_ptx:
            return answer(
                TOO_OLD,
                full,
                f"driver {driver} runs CUDA {cuda_text} only under minor-version compatibility (>= {minor}), which "
                f"does not cover the PTX JIT this GPU needs (full support: >= {full}){wsl_note}",
            )
        return answer(
            MINOR_COMPAT,
            needed,
            f"driver {driver} is below CUDA {cuda_text}'s toolkit driver (>= {full}), so it runs under "
            f"minor-version compatibility (CUDA {cuda_text.split('.')[0]}.x: >= {minor}): compiled kernels run, "
            f"PTX JIT does not{wsl_note}",
        )
    extra = f" (>= {minor} with minor-version compatibility)" if minor and full and not needs_ptx else ""
    return answer(
        TOO_OLD,
        needed,
        f"CUDA {cuda_text} needs {table} driver >= {full or minor}{extra}; this driver is {driver}{wsl_note}",
    )


__all__ = ["FULL", "MINOR_COMPAT", "TOO_OLD", "UNKNOWN", "DriverSupport", "driver_support", "driver_table"]
