"""Shared words and numbers of the `torchenv profile` renderers (terminal, markdown, HTML)."""

from __future__ import annotations

from ..model.profile import Breakdown, ProfileReport


def ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value >= 100:
        return f"{value:.0f} ms"
    if value >= 1:
        return f"{value:.1f} ms"
    return f"{value:.2f} ms"


def share(value: float | None, wall: float) -> str:
    if value is None or not wall:
        return ""
    return f"{value / wall:.0%}"


def breakdown_rows(b: Breakdown) -> list[tuple[str, float | None, str]]:
    """(label, ms, note) rows of the mean step, in the order the report shows them."""
    rows: list[tuple[str, float | None, str]] = [
        ("step wall time", b.wall_ms, f"mean of {b.steps} steps"),
        ("host: in torch ops", b.cpu_ops_ms, "top-level ops and annotations on the step's thread"),
        ("host: DataLoader", b.dataloader_ms, "inside DataLoader __next__"),
        ("host: stall at step start", b.host_stall_ms, "before the first torch op"),
    ]
    if b.gpu_busy_ms is not None:
        rows += [
            ("GPU busy", b.gpu_busy_ms, "kernels, copies and memsets (union of streams)"),
            ("GPU idle: host wait", b.host_wait_ms, "no launch pending (HTA)"),
            ("GPU idle: kernel wait", b.kernel_wait_ms, "between back-to-back kernels (HTA)"),
            ("GPU idle: other", b.other_idle_ms, "a launch pending, GPU still idle (HTA)"),
            ("communication (NCCL)", b.communication_ms, "NCCL kernel time"),
        ]
    return rows


def headline(report: ProfileReport) -> str:
    b = report.breakdown
    n = len(report.findings)
    lost = report.total_ms_lost()
    where = "GPU" if report.has_gpu else "CPU-only"
    ranks = f", {len(report.ranks)} ranks" if len(report.ranks) > 1 else ""
    step = f"{ms(b.wall_ms)} per step over {b.steps} steps" if b else "no steps"
    found = f"{n} finding{'s' if n != 1 else ''}, about {ms(lost)} per step to gain" if n else "no findings"
    return f"{where} trace{ranks}: {step}; {found}"


def device_line(report: ProfileReport) -> str | None:
    d = report.device
    if d is None:
        return None
    parts = [d.name or "GPU"]
    if d.cc:
        parts.append(f"cc {d.cc}")
    if d.total_memory_bytes:
        parts.append(f"{d.total_memory_bytes / 2**30:.1f} GiB")
    return " · ".join(parts)


def subject_line(report: ProfileReport) -> str | None:
    """What was captured: `profile -- COMMAND`'s command and how its steps were found, or the WORKLOAD."""
    extra = report.extra or {}
    if extra.get("command"):
        stepping = extra.get("stepping")
        return f"command: {extra['command']}" + (f" · steps at {stepping}" if stepping else "")
    if extra.get("workload"):
        return f"workload: {extra['workload']}"
    return None


def remeasured_lines(report) -> list[str]:
    """One line per fix torchenv applied and measured (`profile WORKLOAD` or `-- COMMAND`), for every text view."""
    lines = []
    for r in report.remeasured:
        answers = ", ".join(r.for_findings)
        if r.status != "ok":
            lines.append(f"{r.fix}: failed ({r.reason}) — for {answers}")
            continue
        verdict = {"faster": "faster", "slower": "slower", "unclear": "no verdict: within the spread"}.get(
            r.verdict or "", ""
        )
        gain = f"{r.gain:.2f}× steps/s" if r.gain else "—"
        lines.append(
            f"{r.fix}: {r.baseline_ms:.2f} → {r.step_ms:.2f} ms per step, {gain} ({verdict}) — for {answers}"
            if r.baseline_ms is not None
            else f"{r.fix}: {r.step_ms:.2f} ms per step — for {answers}"
        )
    return lines
