"""`diagnose`: every check on the facts (in registry.ORDER), the verdict policy, the summary."""

from __future__ import annotations

from ..model import DoctorReport, Facts, Finding, Severity, known, verdict_for
from .common import gpu_present
from .policy import DEFAULT, Policy, apply_policy, cpu_only, cpu_only_summary, ordered, regrade, stack_text
from .registry import REGISTRY, Skip, build_registry, check, run_checks

__all__ = ["DEFAULT", "REGISTRY", "Policy", "Skip", "apply_policy", "check", "diagnose", "run_checks"]

# The order is declared in registry.ORDER (bottom layer first), not by import order.
REGISTRY[:] = REGISTRY or build_registry()

def diagnose(facts: Facts, knowledge, *, torchenv_version: str, policy: Policy = DEFAULT) -> DoctorReport:
    """Every check on the facts, then the verdict policy (checks/policy.py: CPU only, --require-cuda)."""
    findings, skipped = run_checks(facts, knowledge)
    usable = cuda_usable(facts, tuple(findings))
    findings = ordered(regrade(tuple(findings), facts, policy, usable))
    verdict = verdict_for(findings)
    is_cpu_only = cpu_only(facts, policy) and verdict == "healthy"
    return DoctorReport(
        verdict=verdict,
        cuda_usable=usable,
        summary=cpu_only_summary(facts) if is_cpu_only else summarise(facts, findings),
        findings=findings,
        skipped=tuple(skipped),
        facts=facts,
        knowledge_version=knowledge.version,
        torchenv_version=torchenv_version,
        cpu_only=is_cpu_only,
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
    stack = stack_text(facts)
    if warnings and warnings[0].id == "no-nvidia-gpu":
        works = f"{stack} works" if stack else "torch can work"
        return f"CPU only: {works}, but this machine has no NVIDIA GPU"
    if warnings:
        return f"Works, with {len(warnings)} warning(s): {warnings[0].title}" + (f" ({stack})" if stack else "")
    if not stack:
        return "Healthy as far as checked (torch was not probed)"
    return f"Healthy: {stack}"
