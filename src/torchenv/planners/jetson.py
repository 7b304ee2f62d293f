"""Plans for Jetson boards: NVIDIA's JetPack builds of torch (pure).

A Jetson's GPU is integrated and its driver is part of L4T, so neither PyPI's aarch64 wheels nor
download.pytorch.org's SBSA builds apply: the JetPack release the board runs decides CUDA, Python
and the one torch build NVIDIA publishes for it (knowledge: platform_wheels.toml [[jetpack]]).
"""

from __future__ import annotations

from packaging.version import InvalidVersion, Version

from ..compat.platform import jetpack_builds
from ..model.plan import GpuTarget, Option, Plan
from .core import impossible_plan, parse_torch_pin


def _fits_pin(pin, version: str) -> bool:
    try:
        return pin is None or pin.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def _option(build, trade_off: str) -> Option:
    return Option(
        torch=build.torch,
        variant=build.variant,
        index_url=build.index_url or build.wheel_url or "",
        python=build.python[0],
        cuda=build.cuda,
        min_driver=None,
        trade_off=trade_off,
    )


def _label(gpu: GpuTarget) -> str:
    return f"{gpu.name} (cc {gpu.cc[0]}.{gpu.cc[1]})" if gpu.cc else gpu.name


def plan_jetson(planner, jetsons: list[GpuTarget]) -> Plan:
    t, req, k = planner.target, planner.request, planner.k
    pin = parse_torch_pin(req.torch)
    gpu = jetsons[0]
    # cc unknown (a board seen only through its L4T kernel): every JetPack is a candidate, Python decides
    for_gpu = [b for b in jetpack_builds() if gpu.cc is None or gpu.cc in b.ccs]
    fitting = [b for b in for_gpu if (not t.python or t.python in b.python) and _fits_pin(pin, b.torch)]
    common = dict(target=t, request=req, knowledge_version=k.version)
    if not fitting:
        unmet = []
        if not for_gpu:
            unmet.append(f"no JetPack torch build is recorded for {_label(gpu)}")
        elif t.python and not any(t.python in b.python for b in for_gpu):
            have = ", ".join(f"JetPack {b.jetpack}: Python {'/'.join(b.python)}" for b in for_gpu)
            unmet.append(f"no JetPack torch build for {gpu.name} runs Python {t.python} ({have})")
        else:
            unmet.append(f"no JetPack torch build for {gpu.name} matches --torch {req.torch}")
        nearest = [
            _option(b, f"JetPack {b.jetpack} (L4T {b.l4t}, CUDA {b.cuda}) with its Python {'/'.join(b.python)}")
            for b in for_gpu[:3]
        ]
        return impossible_plan(t, req, k.version, unmet, nearest)
    build = fitting[0]
    reasons = [
        f"{gpu.name} is a Jetson board: torch comes from NVIDIA's JetPack {build.jetpack} build (L4T {build.l4t}, "
        f"CUDA {build.cuda}), not from PyPI's or download.pytorch.org's aarch64 wheels, which do not target it",
        f"Python {build.python[0]}: the Python of JetPack {build.jetpack}'s Ubuntu image",
        f"the driver is part of L4T: JetPack {build.jetpack} brings the one CUDA {build.cuda} needs",
    ]
    if build.note:
        reasons.append(build.note)
    warnings = list(t.notes)
    if build.confidence == "inferred":
        warnings.append(f"the JetPack {build.jetpack} row is inferred, not read from a primary source: {build.source}")
    alternatives = tuple(
        _option(b, f"JetPack {b.jetpack}: flash the board with that JetPack first") for b in for_gpu if b is not build
    )
    with_vision = "torchvision" in req.companions and build.index_url and build.torchvision
    return Plan(
        ok=True,
        torch=build.torch,
        torchvision=build.torchvision if with_vision else None,
        torchaudio=None,
        variant=build.variant,
        index_url=build.index_url,
        python=build.python[0] if not t.python else t.python,
        cuda=build.cuda,
        min_driver=None,
        driver_support=None,
        gpu_code=(f"{_label(gpu)}: JetPack {build.jetpack} builds target it",),
        reasons=tuple(reasons),
        warnings=tuple(warnings),
        alternatives=alternatives,
        driver_upgrade=None,
        unmet=(),
        nearest=(),
        wheel_url=build.wheel_url,
        **common,
    )
