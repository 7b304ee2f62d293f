"""A self-contained HTML page of a monitor run: every series per GPU as inline SVG line charts on one
time axis, the verdict windows shaded across them, step marks and fault events drawn in, and the
summary. No script, no external asset, no CDN: it opens from a mail attachment."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from ..model import Severity
from ..monitor.model import MonitorReport, Sample
from .monitor_format import LABELS, exit_line, number, overhead_line, steps_line

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#111827;background:#fff;max-width:1100px}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px} h3{font-size:14px;margin:16px 0 4px}
.sub{color:#4b5563;font-size:13px} table{border-collapse:collapse;font-size:13px;margin:4px 0 8px}
td,th{padding:3px 10px;border-bottom:1px solid #e5e7eb;text-align:left} td.num{text-align:right;font-variant-numeric:tabular-nums}
.na{color:#9ca3af} .verdict{margin:6px 0 10px;padding:6px 10px;border-left:4px solid #9ca3af;background:#f9fafb}
.verdict.error{border-color:#dc2626} .verdict.warning{border-color:#d97706} .verdict.info{border-color:#2563eb}
.verdict .ev{font-size:12px;color:#374151;margin:2px 0 0 12px} .verdict .next{font-size:12px;margin-top:3px}
.swatch{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
svg text{font-size:11px;fill:#374151} .legend{font-size:12px;margin:2px 0 10px}
"""

SERIES_COLOURS = {
    "kernel_busy_pct": "#6b7280",
    "sm_active_pct": "#2563eb",
    "sm_occupancy_pct": "#7c3aed",
    "tensor_active_pct": "#16a34a",
    "dram_active_pct": "#ea580c",
    "fp32_active_pct": "#0891b2",
    "memory_used_mib": "#2563eb",
    "own_memory_mib": "#16a34a",
    "power_w": "#dc2626",
    "sm_clock_mhz": "#7c3aed",
    "temperature_c": "#ea580c",
    "pcie_rx_mbs": "#2563eb",
    "pcie_tx_mbs": "#60a5fa",
    "nvlink_rx_mbs": "#16a34a",
    "nvlink_tx_mbs": "#86efac",
}
BAND_COLOURS = ("#fde68a", "#bfdbfe", "#fecaca", "#bbf7d0", "#ddd6fe", "#fed7aa", "#a5f3fc", "#e5e7eb")
CHARTS = (
    (
        "activity",
        "activity, %",
        (
            "kernel_busy_pct",
            "sm_active_pct",
            "sm_occupancy_pct",
            "tensor_active_pct",
            "dram_active_pct",
            "fp32_active_pct",
        ),
    ),
    ("memory", "memory, GiB", ("memory_used_mib", "own_memory_mib")),
    ("power", "power, W", ("power_w",)),
    ("clock", "SM clock, MHz", ("sm_clock_mhz",)),
    ("temperature", "temperature, °C", ("temperature_c",)),
    ("links", "PCIe / NVLink, MB/s", ("pcie_rx_mbs", "pcie_tx_mbs", "nvlink_rx_mbs", "nvlink_tx_mbs")),
)
LOAD_IDS = ("gpu-idle", "launch-bound", "input-bound", "memory-bound", "tensor-cores-idle", "compute-bound", "gpu-busy")
SHADES = {  # each chart shades the verdicts about what it shows; the lanes above show them all
    "activity": frozenset(LOAD_IDS),
    "memory": frozenset({"memory-creep"}),
    "power": frozenset({"power-capped"}),
    "clock": frozenset({"power-capped", "thermal-capped"}),
    "temperature": frozenset({"thermal-capped"}),
    "links": frozenset({"input-bound"}),
}
LANE_H = 18
MAX_POINTS = 1500
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 1000, 150, 140, 20, 10, 22


def _series(samples: Sequence[Sample], gpu: int, field: str) -> list[tuple[float, float]]:
    points = []
    for s in samples:
        if field == "own_memory_mib":
            if not s.full:
                continue
            own = [p.memory_mib for p in s.processes if p.gpu == gpu and p.own and p.memory_mib is not None]
            if own:
                points.append((s.t_s, sum(own) / 1024))
            continue
        for g in s.gpus:
            if g.index == gpu:
                value = getattr(g, field)
                if value is not None:
                    points.append((s.t_s, value / 1024 if field == "memory_used_mib" else value))
    if len(points) > MAX_POINTS:  # average into buckets: the plot keeps its shape, the page its size
        size = len(points) / MAX_POINTS
        buckets: dict[int, list[tuple[float, float]]] = {}
        for i, p in enumerate(points):
            buckets.setdefault(int(i / size), []).append(p)
        points = [(sum(t for t, _ in b) / len(b), sum(v for _, v in b) / len(b)) for b in buckets.values()]
    return points


def _nice(value: float) -> float:
    """The round number at or above `value` the axis ends at (1, 2, 2.5, 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= value * (1 - 1e-9))


def _band_colours(report: MonitorReport) -> dict[str, str]:
    ids = []
    for v in report.verdicts:
        if v.finding.id not in ids:
            ids.append(v.finding.id)
    return {vid: BAND_COLOURS[i % len(BAND_COLOURS)] for i, vid in enumerate(ids)}


def _chart(
    report: MonitorReport,
    samples: Sequence[Sample],
    gpu: int,
    title: str,
    fields: Sequence[str],
    *,
    bands: dict[str, str],
    shade: frozenset[str] = frozenset(),
    top: float | None = None,
    reference: tuple[float, str] | None = None,
    marks: Sequence[float] = (),
) -> str | None:
    lines = [(f, _series(samples, gpu, f)) for f in fields]
    lines = [(f, p) for f, p in lines if p]
    if not lines:
        return None
    duration = max(report.duration_s, max(p[-1][0] for _, p in lines), 1e-6)
    high = top or max(max(v for _, v in p) for _, p in lines)
    if reference is not None:
        high = max(high, reference[0])
    high = top or _nice(high * 1.05)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + t / duration * plot_w

    def y(v: float) -> float:
        return TOP + plot_h - max(0.0, min(v / high, 1.0)) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(title)}">'
    ]
    for v in report.verdicts:
        if v.gpu not in (gpu, None) or v.finding.id not in bands or v.finding.id not in shade:
            continue
        for span in v.spans:
            if span.end_s <= span.start_s:
                continue
            out.append(
                f'<rect class="band" data-verdict="{escape(v.finding.id)}" x="{x(span.start_s):.1f}" y="{TOP}" '
                f'width="{max(x(span.end_s) - x(span.start_s), 1):.1f}" height="{plot_h}" '
                f'fill="{bands[v.finding.id]}" fill-opacity="0.5"><title>{escape(v.finding.title)}</title></rect>'
            )
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#d1d5db"/>')
    for frac in (0.0, 0.5, 1.0):
        value = high * frac
        out.append(f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:.0f}</text>')
    for k in range(6):
        t = duration * k / 5
        out.append(f'<text x="{x(t):.1f}" y="{HEIGHT - 6}" text-anchor="middle">{t:.0f} s</text>')
    if reference is not None:
        value, label = reference
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#111827" '
            f'stroke-dasharray="4,3"/><text x="{LEFT + plot_w - 4}" y="{y(value) - 3:.1f}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
    for e in report.events:
        if e.gpu == gpu:
            out.append(
                f'<line class="event" x1="{x(e.t_s):.1f}" x2="{x(e.t_s):.1f}" y1="{TOP}" y2="{TOP + plot_h}" '
                f'stroke="#dc2626" stroke-width="2"><title>{escape(e.kind)} {e.value}</title></line>'
            )
    for m in marks:
        out.append(f'<line class="step" x1="{x(m):.1f}" x2="{x(m):.1f}" y1="{TOP}" y2="{TOP + 5}" stroke="#111827"/>')
    for field, points in lines:
        path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points)
        colour = SERIES_COLOURS.get(field, "#111827")
        out.append(
            f'<polyline class="series" data-series="{field}" fill="none" stroke="{colour}" stroke-width="1.5" '
            f'points="{path}"/>'
        )
    out.append("</svg>")
    legend = " ".join(
        f'<span><span class="swatch" style="background:{SERIES_COLOURS.get(f, "#111827")}"></span>'
        f"{escape(_label(f))}</span>"
        for f, _ in lines
    )
    return f'<h3>{escape(title)}</h3><div class="legend">{legend}</div>{"".join(out)}'


def _lanes(report: MonitorReport, gpu: int, bands: dict[str, str]) -> str:
    """One lane per verdict on this GPU: where it held, on the charts' time axis."""
    rows = [v for v in report.verdicts if v.gpu in (gpu, None)]
    if not rows:
        return ""
    duration = max(report.duration_s, 1e-6)
    plot_w = WIDTH - LEFT - RIGHT
    height = LANE_H * len(rows) + 4
    out = [
        f'<svg class="lanes" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" role="img" '
        'aria-label="verdicts">'
    ]
    for i, v in enumerate(rows):
        y = 2 + i * LANE_H
        colour = bands.get(v.finding.id, "#fca5a5")
        out.append(f'<text x="{LEFT - 6}" y="{y + 13}" text-anchor="end">{escape(v.finding.id)}</text>')
        out.append(f'<rect x="{LEFT}" y="{y + 2}" width="{plot_w}" height="{LANE_H - 4}" fill="#f9fafb"/>')
        for span in v.spans:
            x0 = LEFT + span.start_s / duration * plot_w
            width = max((span.end_s - span.start_s) / duration * plot_w, 2.0)
            out.append(
                f'<rect class="lane" data-verdict="{escape(v.finding.id)}" x="{x0:.1f}" y="{y + 2}" width="{width:.1f}" '
                f'height="{LANE_H - 4}" fill="{colour}"><title>{escape(v.finding.title)}</title></rect>'
            )
    out.append("</svg>")
    return "".join(out)


def _label(field: str) -> str:
    if field == "own_memory_mib":
        return "the job's processes"
    return LABELS[field].label


def _verdicts(report: MonitorReport, bands: dict[str, str]) -> str:
    if not report.verdicts:
        return '<p class="sub">No verdict: nothing conclusive in these samples.</p>'
    out = []
    for v in report.verdicts:
        f = v.finding
        severity = Severity(f.severity).value
        where = f"GPU {v.gpu} · " if v.gpu is not None else ""
        spans = ", ".join(f"{s.start_s:.0f}–{s.end_s:.0f} s" for s in v.spans[:6])
        swatch = f'<span class="swatch" style="background:{bands[f.id]}"></span>' if f.id in bands else ""
        evidence = "".join(f'<div class="ev">· {escape(e)}</div>' for e in f.evidence)
        share = f" ({v.share:.0%} of the run)" if v.share > 0 else ""
        out.append(
            f'<div class="verdict {severity}" data-verdict="{escape(f.id)}">{swatch}<b>{escape(f.title)}</b> '
            f'<span class="sub">[{escape(f.id)}] {where}{escape(spans)}{share}</span>{evidence}'
            f'<div class="ev">{escape(f.explanation)}</div>'
            + (f'<div class="next"><b>next:</b> <code>{escape(f.fix)}</code></div>' if f.fix else "")
            + "</div>"
        )
    return "".join(out)


def _summary_table(gpu) -> str:
    rows = []
    for label in LABELS.values():
        stats = gpu.series.get(label.field)
        if stats is None:
            why = gpu.info.unsupported.get(label.field)
            if why and label.gpm:
                rows.append(f'<tr><td>{escape(label.label)}</td><td class="na" colspan="3">{escape(why)}</td></tr>')
            continue
        cells = "".join(
            f'<td class="num">{escape(number(v, label.unit))}</td>' for v in (stats.mean, stats.p95, stats.maximum)
        )
        rows.append(f"<tr><td>{escape(label.label)}</td>{cells}</tr>")
    head = "<tr><th></th><th>mean</th><th>p95</th><th>max</th></tr>"
    extra = []
    if gpu.energy_j is not None:
        extra.append(f"energy {gpu.energy_j / 1000:.2f} kJ")
    if gpu.reasons_share:
        extra.append("clock event reasons: " + ", ".join(f"{k} {v:.0%}" for k, v in gpu.reasons_share.items()))
    if gpu.other_processes:
        extra.append("other processes: " + ", ".join(f"PID {p}" for p in gpu.other_processes[:8]))
    return f"<table>{head}{''.join(rows)}</table>" + (
        f'<p class="sub">{escape(" · ".join(extra))}</p>' if extra else ""
    )


def render_monitor_html(report: MonitorReport, samples: Sequence[Sample]) -> str:
    bands = _band_colours(report)
    command = " ".join(report.command) if report.command else f"PID {report.attach_pid}"
    rate = "10 Hz (--fast)" if report.fast else f"{1 / report.interval_s:g} Hz"
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>torchenv monitor · {escape(command[:80])}</title><style>{CSS}</style></head><body>",
        f"<h1>torchenv monitor · {escape(command)}</h1>",
        f'<p class="sub">{escape(exit_line(report))} · {report.samples} samples at {rate} · started '
        f"{escape(report.started_at)} · torchenv {escape(report.torchenv_version)}</p>",
        "<h2>Verdicts</h2>",
        _verdicts(report, bands),
    ]
    marks = report.steps.marks_s if report.steps is not None else ()
    for gpu in report.gpus:
        info = gpu.info
        used = "used by the job" if gpu.used_by_job else "not used by the job"
        gpm = "GPM counters" if info.gpm else "no GPM counters: SM activity n/a on this GPU"
        parts.append(f'<h2>GPU {info.index} · {escape(info.name)}</h2><p class="sub">{used} · {gpm}</p>')
        parts.append(_summary_table(gpu))
        parts.append(_lanes(report, info.index, bands))
        for key, title, fields in CHARTS:
            top = 100.0 if key == "activity" else None
            reference = None
            if key == "power":
                limits = [g.power_limit_w for s in samples for g in s.gpus if g.index == info.index and g.power_limit_w]
                if limits:
                    reference = (max(limits), f"limit {max(limits):.0f} W")
            if key == "clock" and info.sm_clock_max_mhz:
                reference = (info.sm_clock_max_mhz, f"max {info.sm_clock_max_mhz:.0f} MHz")
            used = gpu.series.get("memory_used_mib")
            if key == "memory" and info.memory_total_mib and used and used.maximum >= 0.5 * info.memory_total_mib:
                reference = (info.memory_total_mib / 1024, f"total {info.memory_total_mib / 1024:.0f} GiB")
            chart = _chart(
                report,
                samples,
                info.index,
                title,
                fields,
                bands=bands,
                top=top,
                reference=reference,
                marks=marks if key == "activity" else (),
                shade=SHADES[key],
            )
            if chart:
                parts.append(chart)
    if report.steps is not None:
        parts.append(f"<p>{escape(steps_line(report))}</p>")
    parts.append(f'<p class="sub">{escape(overhead_line(report.overhead, report.interval_s))}</p>')
    for note in report.notes:
        parts.append(f'<p class="sub">{escape(note)}</p>')
    parts.append("</body></html>")
    return "".join(parts)
