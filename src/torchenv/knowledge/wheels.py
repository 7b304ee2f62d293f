"""Which published torch wheel fits a machine: a pure query over the knowledge base.

Used by the doctor's fixes ("which build to get instead") and, later, by `torchenv plan`.
A wheel fits when its Python tag matches, the driver meets the CUDA variant's full-support floor
(so PTX JIT works too) and the GPU's architecture runs its code without PTX JIT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .arch import arch_runs_on

INDEX = "https://download.pytorch.org/whl/"


@dataclass(frozen=True, slots=True)
class WheelChoice:
    torch: str
    variant: str  # "cu130", "cpu"
    index_url: str
    torchvision: str | None
    torchaudio: str | None


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text))


def cuda_of_variant(variant: str) -> str | None:
    """`cu130` -> `13.0`, `cu118` -> `11.8`, `cu92` -> `9.2`; None for cpu/rocm."""
    match = re.fullmatch(r"cu(\d+)(\d)", variant)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def wheels_for(
    knowledge,
    *,
    cc: tuple[int, int] | None = None,
    driver: str | None = None,
    python: str | None = None,
    os: str = "linux",
    cpu: bool = False,
) -> list[WheelChoice]:
    """Every fitting (torch, variant), newest torch first and, within it, the newest CUDA first."""
    choices = []
    for release in reversed(knowledge.torch_releases()):
        if python and python not in release.python:
            continue
        variants = ["cpu"] if cpu else [v for v in release.variants if cuda_of_variant(v)]
        variants.sort(key=lambda v: _numbers(cuda_of_variant(v) or "0"), reverse=True)
        for variant in variants:
            if not cpu and not _fits(knowledge, release.version, variant, cc=cc, driver=driver, os=os):
                continue
            choices.append(
                WheelChoice(release.version, variant, INDEX + variant, release.torchvision, release.torchaudio)
            )
    return choices


def _fits(knowledge, torch: str, variant: str, *, cc, driver, os) -> bool:
    cuda = cuda_of_variant(variant)
    if driver:
        floor = knowledge.cuda_driver_floor(cuda, os)
        if floor is None or floor.full_support is None or _numbers(driver) < _numbers(floor.full_support):
            return False
    if cc:
        arches = knowledge.wheel_arches(torch, variant)
        if not arches:
            return False
        match = arch_runs_on(arches, cc)
        if match is None or match.how == "ptx-jit":
            return False
    return True


def best_wheel(knowledge, **kwargs) -> WheelChoice | None:
    choices = wheels_for(knowledge, **kwargs)
    return choices[0] if choices else None
