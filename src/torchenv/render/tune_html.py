"""The HTML section of a tune report: its chart (bench's bar chart) and ranked table. A page is made
by render/perf_page.py, alone or beside a bench report."""

from __future__ import annotations

from html import escape

from ..model.tune import TuneReport
from .html_bench import bar_chart
from .tune_format import (
    DECISION_WORDS,
    delta_text,
    header,
    loader_lines,
    number,
    one_time_text,
    summary_line,
    timing_line,
)

TUNE_COLOUR = "#7c3aed"
BEST_COLOUR = "#16a34a"
BEYOND_COLOUR = "#dc2626"


def tune_chart(report: TuneReport) -> str:
    rows = report.ranked()
    if not rows:
        return ""
    top = max(t.throughput or 0.0 for t in rows) or 1.0
    data = [
        (
            t.label,
            t.throughput or 0.0,
            BEYOND_COLOUR if t.numerics == "beyond" else (BEST_COLOUR if t.id == report.recommended else TUNE_COLOUR),
            number(t.throughput),
        )
        for t in rows
    ]
    return bar_chart(data, top, width=760, label_width=330)


def render_tune_section(report: TuneReport) -> str:
    out = ['<section id="torchenv-tune">', f"<h2>{escape(header(report))}</h2>"]
    out.append(f'<div class="sub">{escape(timing_line(report))}</div>')
    if report.error:
        out.append(f'<div class="sub">{escape(report.status)}: {escape(report.error)}</div>')
    out.append(f'<div id="tune-chart">{tune_chart(report)}</div>')
    out.append(
        "<table><tr><th>#</th><th>configuration</th>"
        f"<th>{escape(report.unit)}</th><th>speedup</th><th>memory MiB</th><th>one-time</th><th>numerics Δ</th><th>decision</th></tr>"
    )
    for rank, t in enumerate(report.ranked(), 1):
        cls = "best" if t.id == report.recommended else ("beyond" if t.numerics == "beyond" else "")
        out.append(
            f'<tr class="{cls}"><td class="num">{rank}</td><td>{escape(t.label)}</td>'
            f'<td class="num">{escape(number(t.throughput))}</td><td class="num">{f"{t.speedup:.2f}×" if t.speedup else ""}</td>'
            f'<td class="num">{escape(number(t.memory_mib, 4) if t.memory_mib else "")}</td><td>{escape(one_time_text(t))}</td>'
            f'<td class="num">{escape(delta_text(t))}</td><td>{escape(DECISION_WORDS.get(t.decision or "", t.decision or ""))}</td></tr>'
        )
    out.append("</table>")
    skipped = [t for t in report.trials if t.status != "ok" and t.stage != "reference"]
    for t in skipped:
        out.append(f'<div class="sub">{escape(t.label)}: {escape(t.status)} — {escape(t.reason or "")}</div>')
    for stage in report.stages:
        if stage.outcome == "skipped" and stage.skip_reason:
            out.append(f'<div class="sub">{escape(stage.title)}: not tried — {escape(stage.skip_reason)}</div>')
    for line in loader_lines(report):
        out.append(f'<div class="sub">{escape(line)}</div>')
    out.append(f"<p><b>{escape(summary_line(report))}</b></p>")
    if report.snippet:
        out.append(f"<pre>{escape(report.snippet)}</pre>")
    out.append("</section><!--/torchenv-tune-->")
    return "".join(out)


def render_tune_html(report: TuneReport) -> str:
    from .perf_page import render_perf_page

    return render_perf_page(tune=report)
