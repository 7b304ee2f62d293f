"""A self-contained HTML report of `torchenv bench`: inline CSS and SVG charts, no external assets.

Charts: the ratio of each measured figure to the hardware's (datasheet peak, link rate), and the
training ladder per workload. Colours are fixed so a screenshot test can find the charts.
"""

from __future__ import annotations

from html import escape

from ..model.bench import BenchReport, Measurement
from .bench_format import SECTION_TITLES, figure, header, notes, number, sections, spread, times, timing_line

RATIO_COLOUR = "#2563eb"  # bars of figures that reach what the hardware should give
SHORT_COLOUR = "#dc2626"  # bars of figures that fall short
LADDER_COLOUR = "#16a34a"  # training ladder bars
COMPILE_COLOUR = "#0d9488"  # the torch.compile rung

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#111827;background:#fff}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px} .sub{color:#4b5563;font-size:13px}
table{border-collapse:collapse;font-size:13px;margin:4px 0 8px} td,th{padding:3px 10px;border-bottom:1px solid #e5e7eb;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums} .skip{color:#9ca3af} .short{color:#b45309}
.cause{font-size:12px;color:#92400e;margin:2px 0 2px 12px} .charts{display:flex;flex-wrap:wrap;gap:24px}
.box{border:1px solid #e5e7eb;border-radius:6px;padding:8px 12px} svg text{font-size:12px;fill:#111827}
"""


def bar_chart(
    rows: list[tuple[str, float, str, str]],
    scale_max: float,
    width: int = 540,
    marker: float | None = None,
    label_width: int = 170,
) -> str:
    """Horizontal bars: (label, value, colour, value text). bench's and tune's charts."""
    left, bar_w, row_h = label_width, width - label_width - 90, 24
    height = row_h * len(rows) + 24
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for i, (label, value, colour, text) in enumerate(rows):
        y = 8 + i * row_h
        w = max(0.0, min(value / scale_max, 1.0)) * bar_w if scale_max > 0 else 0
        parts.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 2}" width="{bar_w}" height="{row_h - 6}" fill="#f3f4f6"/>')
        if w > 0:
            parts.append(f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row_h - 6}" fill="{colour}"/>')
        parts.append(f'<text x="{left + bar_w + 6}" y="{y + 15}">{escape(text)}</text>')
    if marker is not None and scale_max > 0:
        x = left + min(marker / scale_max, 1.0) * bar_w
        parts.append(
            f'<line x1="{x:.1f}" y1="4" x2="{x:.1f}" y2="{height - 14}" stroke="#6b7280" stroke-dasharray="3,3"/>'
            f'<text x="{x:.1f}" y="{height - 2}" text-anchor="middle" font-size="10">{marker:.0%}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def ratio_chart(report: BenchReport) -> str | None:
    rows = [m for m in report.measurements if m.status == "ok" and m.ratio is not None]
    if not rows:
        return None
    data = [
        (m.label.split(" (")[0], m.ratio, SHORT_COLOUR if m.short else RATIO_COLOUR, f"{m.ratio:.0%}")
        for m in rows
        if m.ratio is not None
    ]
    return bar_chart(data, 1.0, marker=1.0)


def ladder_chart(rows: list[Measurement]) -> str | None:
    measured = [m for m in rows if m.status == "ok" and m.value]
    if not measured:
        return None
    top = max(m.value or 0.0 for m in measured)
    data = []
    for m in rows:
        if m.status == "ok" and m.value:
            colour = COMPILE_COLOUR if m.one_time_kind == "compile" else LADDER_COLOUR
            data.append((m.label, m.value, colour, f"{number(m.value)} {times(m.speedup)}".strip()))
        else:
            data.append((m.label, 0.0, LADDER_COLOUR, m.status))
    return bar_chart(data, top)


def _table(section: str, rows: list[Measurement]) -> str:
    out = [
        "<table><tr><th>test</th><th>result</th><th>spread</th><th>hardware</th><th>ratio</th><th>× baseline</th><th>note</th></tr>"
    ]
    for m in rows:
        cls = "skip" if m.status != "ok" else ("short" if m.short else "")
        note = m.reason or "; ".join(notes(m))
        out.append(
            f'<tr class="{cls}"><td>{escape(m.label)}</td><td class="num">{escape(figure(m))}</td>'
            f'<td class="num">{spread(m)}</td><td class="num">{escape(number(m.peak) + " " + m.unit) if m.peak else ""}</td>'
            f'<td class="num">{f"{m.ratio:.0%}" if m.ratio is not None else ""}</td><td class="num">{times(m.speedup)}</td>'
            f"<td>{escape(note)}</td></tr>"
        )
    out.append("</table>")
    for m in rows:
        for c in m.causes:
            out.append(
                f'<div class="cause">↳ <b>{escape(m.label)}</b>: {escape(c.title)} <code>[{escape(c.id)}]</code><br>'
                f"evidence: {escape('; '.join(c.evidence))} · fix: {escape(c.fix or '')}</div>"
            )
    return "".join(out)


def render_bench_body(report: BenchReport) -> str:
    """The bench report's part of a page (render/perf_page.py makes the page)."""
    body = [f"<h1>{escape(header(report))}</h1>", f'<div class="sub">{escape(timing_line(report))}</div>']
    if report.error:
        body.append(f'<div class="cause">{escape(report.status)}: {escape(report.error)}</div>')
    for c in report.causes:
        body.append(
            f'<div class="cause">! {escape(c.title)} <code>[{escape(c.id)}]</code> — fix: {escape(c.fix or "")}</div>'
        )
    charts = []
    chart = ratio_chart(report)
    if chart:
        charts.append(
            f'<div class="box" id="ratio-chart"><h2>Measured / what the hardware should give</h2>{chart}</div>'
        )
    for section, rows in sections(report):
        if section.startswith("ladder-"):
            chart = ladder_chart(rows)
            if chart:
                unit = next((m.unit for m in rows if m.unit), "")
                charts.append(
                    f'<div class="box" id="{section}-chart"><h2>{escape(SECTION_TITLES.get(section, section))} ({escape(unit)})</h2>{chart}</div>'
                )
    body.append('<div class="charts">' + "".join(charts) + "</div>")
    for section, rows in sections(report):
        body.append(f"<h2>{escape(SECTION_TITLES.get(section, section))}</h2>{_table(section, rows)}")
    body.append(
        f'<p class="sub">torchenv {escape(report.torchenv_version)} · knowledge {escape(report.knowledge_version)} · '
        "medians of repeated runs after warm-up (CUDA events on GPU); spread is half the interquartile range.</p>"
    )
    return "".join(body)


def render_html(report: BenchReport) -> str:
    from .perf_page import render_perf_page

    return render_perf_page(bench=report)
