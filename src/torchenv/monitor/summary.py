"""The end-of-run summary: statistics per series, energy, steps, verdicts. Pure."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from ..model import Severity
from ..perf.causes import REASON_BITS
from .model import (
    Event,
    GpuInfo,
    GpuSummary,
    MonitorReport,
    Overhead,
    RuleSkipped,
    Sample,
    SeriesStats,
    Steps,
    Verdict,
)
from .verdicts import judge, judge_events, judge_memory_creep, judge_other_processes, judge_unused

SERIES = (
    "kernel_busy_pct",
    "memory_busy_pct",
    "sm_active_pct",
    "sm_occupancy_pct",
    "tensor_active_pct",
    "dram_active_pct",
    "fp32_active_pct",
    "fp16_active_pct",
    "memory_used_mib",
    "power_w",
    "sm_clock_mhz",
    "temperature_c",
    "pcie_rx_mbs",
    "pcie_tx_mbs",
    "nvlink_rx_mbs",
    "nvlink_tx_mbs",
)
MAX_MARKS = 5000  # step marks kept for the plot


def quantile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        raise ValueError("no values")
    pos = (len(sorted_values) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def series_stats(values: Sequence[float | None]) -> SeriesStats | None:
    known = sorted(v for v in values if v is not None and math.isfinite(v))
    if not known:
        return None
    return SeriesStats(
        n=len(known),
        mean=round(sum(known) / len(known), 3),
        p50=round(quantile(known, 0.5), 3),
        p95=round(quantile(known, 0.95), 3),
        maximum=round(known[-1], 3),
        minimum=round(known[0], 3),
    )


def used_gpus(samples: Sequence[Sample]) -> set[int]:
    return {p.gpu for s in samples for p in s.processes if p.own}


def gpu_summary(samples: Sequence[Sample], info: GpuInfo, used: bool) -> GpuSummary:
    rows = [g for s in samples for g in s.gpus if g.index == info.index]
    series = {}
    for name in SERIES:
        stats = series_stats([getattr(g, name) for g in rows])
        if stats is not None:
            series[name] = stats
    energy = [g.energy_j for g in rows if g.energy_j is not None]
    with_reasons = [g.clock_reasons for g in rows if g.clock_reasons is not None]
    reasons = {}
    if with_reasons:
        for bit, name in REASON_BITS.items():
            share = sum(1 for r in with_reasons if r & bit) / len(with_reasons)
            if share > 0:
                reasons[name] = round(share, 4)
    own_memory = []
    others = set()
    for s in samples:
        mine = [p.memory_mib for p in s.processes if p.gpu == info.index and p.own and p.memory_mib is not None]
        if mine:
            own_memory.append(sum(mine))
        others |= {p.pid for p in s.processes if p.gpu == info.index and not p.own}
    return GpuSummary(
        info=info,
        used_by_job=used,
        series=series,
        energy_j=round(energy[-1], 3) if energy else None,
        reasons_share=reasons,
        own_memory_max_mib=round(max(own_memory), 1) if own_memory else None,
        other_processes=tuple(sorted(others)),
    )


def _energy_at(samples: Sequence[Sample], gpu: int, t: float) -> float | None:
    """The GPU's energy counter at time t, interpolated between the samples around it."""
    points = [(s.t_s, g.energy_j) for s in samples for g in s.gpus if g.index == gpu and g.energy_j is not None]
    if not points or t < points[0][0] or t > points[-1][0]:
        return None
    for (t0, e0), (t1, e1) in itertools.pairwise(points):
        if t0 <= t <= t1:
            return e0 if t1 == t0 else e0 + (e1 - e0) * (t - t0) / (t1 - t0)
    return points[-1][1]


def summarize_steps(marks_s: Sequence[float], samples: Sequence[Sample], gpus: set[int]) -> Steps | None:
    if len(marks_s) < 2:
        return (
            Steps(
                count=len(marks_s),
                step_s=None,
                steps_per_s=None,
                energy_per_step_j=None,
                kernel_busy_pct=None,
                marks_s=tuple(round(m, 4) for m in marks_s),
            )
            if marks_s
            else None
        )
    marks = sorted(marks_s)
    durations = [b - a for a, b in itertools.pairwise(marks)]
    first, last = marks[0], marks[-1]
    steps = len(durations)
    energy = None
    parts = [(_energy_at(samples, g, first), _energy_at(samples, g, last)) for g in sorted(gpus)]
    if parts and all(a is not None and b is not None for a, b in parts):
        energy = sum(b - a for a, b in parts) / steps  # type: ignore[operator]
    busy = [
        g.kernel_busy_pct
        for s in samples
        if first <= s.t_s <= last
        for g in s.gpus
        if g.index in gpus and g.kernel_busy_pct is not None
    ]
    keep = marks if len(marks) <= MAX_MARKS else marks[:: math.ceil(len(marks) / MAX_MARKS)]
    return Steps(
        count=len(marks),
        step_s=series_stats(durations),
        steps_per_s=round(steps / (last - first), 4) if last > first else None,
        energy_per_step_j=round(energy, 4) if energy is not None else None,
        kernel_busy_pct=round(sum(busy) / len(busy), 2) if busy else None,
        marks_s=tuple(round(m, 4) for m in keep),
    )


def order(verdicts: Sequence[Verdict]) -> list[Verdict]:
    return sorted(verdicts, key=lambda v: (Severity(v.finding.severity).rank, -v.share, v.gpu or 0, v.finding.id))


def build_report(
    *,
    torchenv_version: str,
    infos: Sequence[GpuInfo],
    samples: Sequence[Sample],
    events: Sequence[Event],
    marks_s: Sequence[float],
    duration_s: float,
    interval_s: float,
    fast: bool,
    window_s: float,
    command: Sequence[str],
    attach_pid: int | None,
    exit_code: int | None,
    status: str,
    started_at: str,
    overhead: Overhead,
    attribution: str,
    ambiguous: frozenset[int] = frozenset(),
    notes: Sequence[str] = (),
    profile: str = "torchenv profile -- COMMAND",
) -> MonitorReport:
    used = used_gpus(samples)
    judged = used | set(ambiguous)
    verdicts: list[Verdict] = []
    skipped: list[RuleSkipped] = []
    if samples:
        window_verdicts, skipped = judge(
            samples,
            infos,
            duration_s=duration_s,
            window_s=window_s,
            used=judged,
            ambiguous=ambiguous,
            profile=profile,
        )
        verdicts += window_verdicts
        for info in infos:
            if info.index not in judged:
                continue
            own = attribution in ("pid", "context") and info.index in used
            creep = judge_memory_creep(samples, info, own=own)
            if creep is not None:
                verdicts.append(creep)
            if info.index in ambiguous:
                skipped.append(
                    RuleSkipped("other-process", info.index, "the job's processes cannot be told from the others")
                )
                continue
            other = judge_other_processes(samples, info.index, duration_s)
            if other is not None:
                verdicts.append(other)
        if not judged:
            verdicts.append(judge_unused(samples, infos, duration_s))
    verdicts += judge_events(events, duration_s)
    gpus = tuple(gpu_summary(samples, info, info.index in used) for info in infos)
    return MonitorReport(
        torchenv_version=torchenv_version,
        command=tuple(command),
        attach_pid=attach_pid,
        status=status if samples else "no-samples",
        exit_code=exit_code,
        started_at=started_at,
        duration_s=round(duration_s, 3),
        interval_s=interval_s,
        fast=fast,
        window_s=window_s,
        samples=len(samples),
        gpus=gpus,
        verdicts=tuple(order(verdicts)),
        skipped=tuple(skipped),
        events=tuple(events),
        steps=summarize_steps(marks_s, samples, used or {i.index for i in infos}),
        overhead=overhead,
        attribution=attribution,
        notes=tuple(notes),
    )


def overhead_from(
    cpu_s: Sequence[float], interval_s: float, process_cpu_s: float | None, wall_s: float, late_ticks: int = 0
) -> Overhead:
    """Sampler CPU per sample and its share of one core at the rate used; the whole process's share."""
    if not cpu_s:
        return Overhead(0, None, None, None, late_ticks)
    per = sum(cpu_s) / len(cpu_s)
    return Overhead(
        samples=len(cpu_s),
        sampler_cpu_ms_per_sample=round(per * 1000, 3),
        sampler_core_pct=round(per / interval_s * 100, 3) if interval_s > 0 else None,
        process_core_pct=round(process_cpu_s / wall_s * 100, 3) if process_cpu_s is not None and wall_s > 0 else None,
        late_ticks=late_ticks,
    )
