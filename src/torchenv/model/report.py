"""The doctor's report: a verdict over findings, plus the facts it was drawn from."""

from __future__ import annotations

from dataclasses import dataclass

from .facts import Facts
from .finding import Finding, Severity, Skipped

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class DoctorReport:
    verdict: str  # "healthy" | "degraded" | "broken"
    cuda_usable: bool | None
    summary: str  # the one-line verdict shown first
    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...]
    facts: Facts
    knowledge_version: str
    torchenv_version: str
    cpu_only: bool = False  # healthy as a CPU-only machine (checks/policy.py): no GPU, no CUDA build, not required

    @property
    def worst(self) -> Severity | None:
        return min((f.severity for f in self.findings), key=lambda s: s.rank, default=None)

    @property
    def problems(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is not Severity.INFO)


def verdict_for(findings: tuple[Finding, ...]) -> str:
    severities = {f.severity for f in findings}
    if Severity.ERROR in severities:
        return "broken"
    if Severity.WARNING in severities:
        return "degraded"
    return "healthy"
