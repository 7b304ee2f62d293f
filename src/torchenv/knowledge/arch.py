"""Pure rules for GPU code compatibility: which compiled arch in a wheel runs on a GPU.

``sm_XY``  SASS for compute capability X.Y: runs on X.Z for Z >= Y (same major only).
``sm_XYa`` arch-specific SASS: runs only on exactly X.Y.
``sm_XYf`` family-specific SASS: runs on X.Z for Z >= Y (same major).
``compute_XY`` PTX: the driver JIT-compiles it for any cc >= X.Y
(``compute_XYa`` only for X.Y, ``compute_XYf`` only within the family).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["Arch", "ArchMatch", "arch_runs_on", "parse_arch"]

_ARCH_RE = re.compile(r"^(sm|compute)_(\d+?)(\d)([af]?)$")
_RANK = {"exact": 0, "binary-compatible": 1, "ptx-jit": 2}


@dataclass(frozen=True, slots=True)
class Arch:
    kind: Literal["sass", "ptx"]
    major: int
    minor: int
    suffix: str = ""

    @property
    def name(self) -> str:
        prefix = "sm" if self.kind == "sass" else "compute"
        return f"{prefix}_{self.major}{self.minor}{self.suffix}"


@dataclass(frozen=True, slots=True)
class ArchMatch:
    how: Literal["exact", "binary-compatible", "ptx-jit"]
    arch: str


def parse_arch(text: object) -> Arch | None:
    """``"sm_90"`` / ``"compute_90"`` / ``"sm_90a"`` / ``"sm_100f"`` -> Arch; anything else -> None."""
    if not isinstance(text, str):
        return None
    m = _ARCH_RE.match(text.strip().lower())
    if not m:
        return None
    kind = "sass" if m[1] == "sm" else "ptx"
    return Arch(kind=kind, major=int(m[2]), minor=int(m[3]), suffix=m[4])


def _cc(cc: object) -> tuple[int, int] | None:
    if (
        isinstance(cc, tuple)
        and len(cc) == 2
        and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in cc)
    ):
        return cc[0], cc[1]
    return None


def _match(arch: Arch, cc: tuple[int, int]) -> str | None:
    major, minor = cc
    same = arch.major == major and arch.minor == minor
    family = arch.major == major and minor >= arch.minor
    if arch.kind == "sass":
        if arch.suffix == "a":
            return "exact" if same else None
        if family:
            return "exact" if same else "binary-compatible"
        return None
    if arch.suffix == "a":
        ok = same
    elif arch.suffix == "f":
        ok = family
    else:
        ok = (arch.major, arch.minor) <= (major, minor)
    return "ptx-jit" if ok else None


def arch_runs_on(arch_list: Iterable[str], cc: tuple[int, int]) -> ArchMatch | None:
    """The best way code from ``arch_list`` can run on a GPU of compute capability ``cc``.

    Prefers exact SASS, then binary-compatible SASS (the newest such arch), then PTX JIT
    (the newest PTX not above cc). Returns None when nothing runs, or on bad input.
    """
    target = _cc(cc)
    if target is None:
        return None
    try:
        items = list(arch_list) if not isinstance(arch_list, str) else arch_list.replace(",", " ").split()
    except TypeError:
        return None
    best: tuple[int, tuple[int, int, int], Arch] | None = None
    for item in items:
        arch = parse_arch(item)
        if arch is None:
            continue
        how = _match(arch, target)
        if how is None:
            continue
        # lower rank is better; within a rank the newer arch wins; plain beats suffixed on ties
        key = (_RANK[how], (-arch.major, -arch.minor, 1 if arch.suffix else 0))
        if best is None or key < best[:2]:
            best = (key[0], key[1], arch)
    if best is None:
        return None
    how = next(h for h, r in _RANK.items() if r == best[0])
    return ArchMatch(how=how, arch=best[2].name)  # type: ignore[arg-type]
