"""Pure checks: (Facts, Knowledge) -> Findings, in layer order, and the verdict drawn from them."""

from __future__ import annotations

import importlib

from ..model import DoctorReport, Facts, Finding, Severity, known, verdict_for
from ..model.finding import LAYERS
from .common import gpu_present
from .registry import REGISTRY, Skip, check, run_checks

# Importing a module registers its checks; this order (bottom layer first) is the order they run in.
for _module in ("hardware", "container", "torch_build", "libraries", "compute", "environment"):
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["REGISTRY", "Skip", "check", "diagnose", "run_checks"]


def diagnose(facts: Facts, knowledge, *, torchenv_version: str) -> DoctorReport:
    findings, skipped = run_checks(facts, knowledge)
    ordered = tuple(sorted(findings, key=lambda f: (f.severity.rank, LAYERS.index(f.layer))))
    return DoctorReport(
        verdict=verdict_for(ordered),
        cuda_usable=cuda_usable(facts, ordered),
        summary=summarise(facts, ordered),
        findings=ordered,
        skipped=tuple(skipped),
        facts=facts,
        knowledge_version=knowledge.version,
        torchenv_version=torchenv_version,
    )


# Errors in these categories mean CUDA work cannot run even when torch.cuda.is_available() says True.
BLOCKING_CATEGORIES = ("no-gpu", "no-driver", "driver-too-old", "gpu-arch-unsupported", "gpu-hidden", "cpu-only-build")


def cuda_usable(facts: Facts, findings: tuple[Finding, ...]) -> bool | None:
    blocked = any(f.severity is Severity.ERROR and f.category in BLOCKING_CATEGORIES for f in findings)
    torch = facts.torch
    if known(torch):
        if torch.status != "ok" or torch.cuda_available is False:
            return False
        if torch.cuda_available is True:
            if known(torch.smoke) and torch.smoke:
                return all(s.ok for s in torch.smoke)
            return not blocked  # no smoke test (--no-smoke): trust the findings
    if gpu_present(facts) is False or blocked:
        return False
    return None


def summarise(facts: Facts, findings: tuple[Finding, ...]) -> str:
    errors = [f for f in findings if f.severity is Severity.ERROR]
    warnings = [f for f in findings if f.severity is Severity.WARNING]
    if errors:
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"Broken: {errors[0].title}{more}"
    torch = facts.torch
    stack = ""
    if known(torch) and torch.status == "ok" and known(torch.version):
        gpus = ", ".join(sorted({d.name for d in torch.devices}))
        cuda = f"CUDA {torch.cuda}" if known(torch.cuda) and torch.cuda else "CPU build"
        smoke = "; smoke test passed" if known(torch.smoke) and torch.smoke and all(s.ok for s in torch.smoke) else ""
        stack = f"torch {torch.version} ({cuda})" + (f" on {gpus}" if gpus else "") + smoke
    if warnings and warnings[0].id == "no-nvidia-gpu":
        works = f"{stack} works" if stack else "torch can work"
        return f"CPU only: {works}, but this machine has no NVIDIA GPU"
    if warnings:
        return f"Works, with {len(warnings)} warning(s): {warnings[0].title}" + (f" ({stack})" if stack else "")
    if not stack:
        return "Healthy as far as checked (torch was not probed)"
    return f"Healthy: {stack}"
