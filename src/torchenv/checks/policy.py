"""The verdict policy: which findings are problems *for what the user asked of this machine*.

The one place the doctor's verdict is decided, for a machine (`diagnose`) and a pasted report
(`doctor --from`, after `diagnose_report` added its report-only findings): the checks state facts
with a default severity; the policy then re-grades the few whose meaning depends on the user's goal.

- A machine without an NVIDIA GPU whose torch is not a CUDA build (a CPU build, or torch not probed)
  is **CPU only**, and healthy: `no-nvidia-gpu` is info there (a CUDA build on it stays a warning:
  gigabytes of CUDA libraries that can never run).
- `CUDA_VISIBLE_DEVICES` that hides every GPU of a machine that has none hides nothing: info.
- A report whose only missing facts are the driver and GPU list (and torch, when it was not probed),
  from a machine established to have no GPU, is missing nothing (so `doctor --json | doctor --from -` keeps the verdict).
- `--require-cuda` (`Policy(require_cuda=True)`): none of the above is relaxed, and CUDA that is
  not usable (or whose usability is unknown: fail closed) adds the error `cuda-required`.

Applying the policy twice gives the same report.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..model import DoctorReport, Facts, Finding, Severity, known, verdict_for
from ..model.finding import LAYERS
from .common import container_expects_gpu, gpu_present


@dataclass(frozen=True, slots=True)
class Policy:
    require_cuda: bool = False  # `doctor --require-cuda`: CUDA not usable is a failure


DEFAULT = Policy()

# Report facts that a CPU-only machine need not have (reports/detect.py's MissingFact.fact texts): no
# driver and GPU list without a GPU; no torch build when torch was not probed (the machine's own
# `doctor --no-torch` was CPU only too).
CPU_HOST_ABSENT_FACTS = ("the NVIDIA driver version", "the GPU models", "the torch build (version")
NO_GPU_NOTE = " (this machine has no NVIDIA GPU, so there is nothing to hide)"


def gpu_less(facts: Facts) -> bool:
    """The facts establish that there is no NVIDIA GPU, and none is expected: no NVIDIA driver either
    (a loaded kernel module without a GPU is a broken machine, not a CPU one), not WSL, not a CUDA container."""
    return (
        gpu_present(facts) is False
        and facts.driver.source == "none"
        and facts.host.wsl is not True
        and not container_expects_gpu(facts)
    )


def cuda_build(facts: Facts) -> bool:
    torch = facts.torch
    return known(torch) and known(torch.cuda) and bool(torch.cuda)


def cpu_only(facts: Facts, policy: Policy = DEFAULT) -> bool:
    """CPU only, and fine: a GPU-less machine without a CUDA build of torch, CUDA not required."""
    return not policy.require_cuda and gpu_less(facts) and not cuda_build(facts)


def regrade(
    findings: tuple[Finding, ...], facts: Facts, policy: Policy, cuda_usable: bool | None
) -> tuple[Finding, ...]:
    out: list[Finding] = []
    relaxed = not policy.require_cuda and gpu_less(facts)
    for f in findings:
        if relaxed and f.id == "no-nvidia-gpu" and not cuda_build(facts):
            f = dataclasses.replace(f, severity=Severity.INFO)
        elif relaxed and f.id == "cuda-visible-devices-hides-all" and not f.title.endswith(NO_GPU_NOTE):
            f = dataclasses.replace(f, severity=Severity.INFO, title=f.title + NO_GPU_NOTE)
        elif (
            relaxed
            and f.id == "report-missing-facts"
            and f.severity is Severity.WARNING
            and not cuda_build(facts)
            and all(any(what in line for what in CPU_HOST_ABSENT_FACTS) for line in f.evidence)
        ):
            f = dataclasses.replace(
                f, severity=Severity.INFO, title="The report has no driver or GPU list: the machine has no NVIDIA GPU"
            )
        out.append(f)
    if policy.require_cuda and cuda_usable is not True and not any(f.id == "cuda-required" for f in out):
        out.insert(0, _cuda_required(out, cuda_usable))
    return tuple(out)


def _cuda_required(findings: list[Finding], cuda_usable: bool | None) -> Finding:
    causes = [f.id for f in findings if f.severity is not Severity.INFO or f.category in ("no-gpu", "cpu-only-build")]
    state = "not usable" if cuda_usable is False else "not established (the checks could not show it works)"
    return Finding(
        id="cuda-required",
        category="other",
        severity=Severity.ERROR,
        layer="cuda",
        title=f"CUDA is required (--require-cuda) but {'not usable' if cuda_usable is False else 'not shown to work'}",
        evidence=(f"cuda_usable: {state}", *(f"see {i}" for i in causes[:5])),
        explanation="With --require-cuda the doctor fails unless torch can run CUDA work here: a CPU-only machine "
        "or build, a hidden GPU, or a skipped torch probe (--no-torch) is a failure, not a note.",
        fix="Fix the findings listed above (each has its own fix); without --no-torch the doctor proves CUDA with a "
        "real computation. Drop --require-cuda if CPU-only is fine here.",
    )


def ordered(findings) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=lambda f: (f.severity.rank, LAYERS.index(f.layer))))


def apply_policy(report: DoctorReport, policy: Policy = DEFAULT) -> DoctorReport:
    """Re-grade a finished report (a pasted report's, after its report-only findings were added)."""
    from .diagnosis import summarise  # the summary of a machine's report; imported late (diagnosis imports us)

    findings = regrade(report.findings, report.facts, policy, report.cuda_usable)
    changed = findings != report.findings
    if changed:
        # keep the report's own ranking (causes first); a re-graded finding moves within it by severity
        findings = tuple(sorted(findings, key=lambda f: f.severity.rank))
    verdict = verdict_for(findings)
    is_cpu_only = cpu_only(report.facts, policy) and verdict == "healthy"
    summary = report.summary
    if is_cpu_only:
        summary = cpu_only_summary(report.facts)
    elif changed and verdict != report.verdict:
        summary = summarise(report.facts, findings)
    return dataclasses.replace(report, findings=findings, verdict=verdict, summary=summary, cpu_only=is_cpu_only)


def stack_text(facts: Facts) -> str:
    """`torch 2.13.0+cpu (CPU build) on H100; smoke test passed`, or '' when torch was not read."""
    torch = facts.torch
    if not (known(torch) and torch.status == "ok" and known(torch.version)):
        return ""
    gpus = ", ".join(sorted({d.name for d in torch.devices}))
    cuda = f"CUDA {torch.cuda}" if known(torch.cuda) and torch.cuda else "CPU build"
    smoke = "; smoke test passed" if known(torch.smoke) and torch.smoke and all(s.ok for s in torch.smoke) else ""
    return f"torch {torch.version} ({cuda})" + (f" on {gpus}" if gpus else "") + smoke


def cpu_only_summary(facts: Facts) -> str:
    stack = stack_text(facts)
    works = f"{stack} works" if stack else "no torch probe (--no-torch)"
    return f"CPU only: {works}; this machine has no NVIDIA GPU (--require-cuda to require one)"
