"""Renders a TuneReport: terminal (rich), JSON (the contract), a self-contained HTML section that
stands alone or is added to `torchenv bench --html`'s report. No decisions here."""

from __future__ import annotations

import json
import math
import re
from html import escape

from ..model.codec import to_json
from ..model.tune import TUNE_SCHEMA_VERSION, TuneReport, TuneTrial

DECISION_WORDS = {
    "reference": "reference",
    "adopted": "adopted",
    "outpaced": "faster, but another was faster still",
    "no-gain": "no gain",
    "rejected-numerics": "changes results",
    "not-worth": "does not pay back",
    "offered": "offered",
    "failed": "failed",
    "skipped": "skipped",
    "stopped": "stopped by the budget",
    "faster": "faster (stage unfinished)",
}


def number(value: float | None, digits: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def delta_text(trial: TuneTrial) -> str:
    if trial.numerics == "reference":
        return "ref"
    if trial.numerics == "unchecked" or trial.numerics is None:
        return "unchecked"
    text = "∞" if trial.numerics_delta is None else f"{trial.numerics_delta:.2%}"
    return text + (" ✗" if trial.numerics == "beyond" else "")


def one_time_text(trial: TuneTrial) -> str:
    if trial.one_time_s is None or trial.one_time_s < 0.5:
        return ""
    text = f"{trial.one_time_s:.1f} s {trial.one_time_kind or ''}".strip()
    if trial.break_even_steps is not None:
        text += f" (pays back after {trial.break_even_steps:,} steps)"
    return text


def header(report: TuneReport) -> str:
    env = report.environment
    where = f"{env.device_name} · torch {env.torch_version}" if env else "unknown device"
    return f"torchenv tune · {report.workload} · {where}"


def summary_line(report: TuneReport) -> str:
    best = report.by_id(report.recommended)
    ref = report.by_id(report.reference)
    if not best or not ref or best.throughput is None or ref.throughput is None:
        return "no recommendation" + (f": {report.error}" if report.error else "")
    return (
        f"recommended: {best.label} — {number(best.throughput)} {report.unit}, "
        f"{best.throughput / ref.throughput:.2f}× the FP32 reference ({number(ref.throughput)})"
    )


def timing_line(report: TuneReport) -> str:
    parts = [f"budget {report.budget_s:.0f} s"]
    if report.search_s is not None:
        parts.append(f"search {report.search_s:.0f} s")
    parts.append(f"whole run {report.wall_s:.0f} s")
    if report.tolerance_applied is not None:
        tol = f"numerics tolerance {report.tolerance_applied:.3g}"
        if report.noise_floor is not None and report.tolerance_applied > report.tolerance:
            tol += f" (raised from {report.tolerance:.3g}: FP32's own rounding floor is {report.noise_floor:.3g})"
        parts.append(tol)
    return " · ".join(parts)


def loader_lines(report: TuneReport) -> list[str]:
    loader = report.loader
    if loader is None:
        return []
    rows = {t.id: t for t in loader.trials}
    best = rows.get(loader.best or "")
    out = []
    if best is not None:
        out.append(
            f"DataLoader: {best.label} — {number(best.items_per_s)} samples/s "
            f"({len(loader.trials)} settings measured in {loader.seconds:.0f} s on {loader.cpu_count} cores)"
        )
        zero = next((t for t in loader.trials if t.config.get("num_workers") == 0), None)
        four = rows.get(loader.four_workers or "")
        if zero is not None and zero.items_per_s:
            out.append(f"  num_workers=0: {number(zero.items_per_s)} samples/s")
        if four is not None and four.items_per_s:
            out.append(f"  num_workers=4 (the usual advice): {number(four.items_per_s)} samples/s")
        if best.restart_saving_s:
            out.append(f"  persistent_workers saves {best.restart_saving_s:.2f} s of worker start-up per epoch")
        ref = report.by_id(report.recommended)
        if ref is not None and ref.throughput and best.items_per_s and report.unit == "images/s":
            verdict = "keeps up with" if best.items_per_s >= ref.throughput else "is slower than"
            out.append(
                f"  the loader {verdict} the training step ({number(ref.throughput)} {report.unit} with the recommended settings)"
            )
    return out


def render_terminal(report: TuneReport, console) -> None:
    from rich.table import Table

    console.print(f"[bold]{escape_rich(header(report))}[/bold]")
    console.print(escape_rich(timing_line(report)), style="dim")
    if report.error:
        console.print(f"[yellow]{report.status}: {escape_rich(report.error)}[/yellow]")
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for column, justify in (
        ("#", "right"),
        ("configuration", "left"),
        (report.unit, "right"),
        ("speedup", "right"),
        ("memory MiB", "right"),
        ("one-time", "left"),
        ("numerics Δ", "right"),
        ("decision", "left"),
    ):
        table.add_column(column, justify=justify)
    for rank, trial in enumerate(report.ranked(), 1):
        star = "★ " if trial.id == report.recommended else ""
        table.add_row(
            str(rank),
            star + trial.label,
            number(trial.throughput),
            f"{trial.speedup:.2f}×" if trial.speedup else "",
            number(trial.memory_mib, 4) if trial.memory_mib else "",
            one_time_text(trial),
            delta_text(trial),
            DECISION_WORDS.get(trial.decision or "", trial.decision or ""),
            style="bold green" if star else ("red" if trial.numerics == "beyond" else None),
        )
    console.print(table)
    for trial in report.trials:
        if trial.status != "ok" and trial.stage != "reference":
            console.print(
                f"  [dim]{escape_rich(trial.label)}: {trial.status} — {escape_rich(trial.reason or '')}[/dim]"
            )
    for stage in report.stages:
        if stage.outcome == "skipped" and stage.skip_reason:
            console.print(f"  [dim]{escape_rich(stage.title)}: not tried — {escape_rich(stage.skip_reason)}[/dim]")
    det = next((t for t in report.trials if t.stage == "determinism" and t.status == "ok"), None)
    if det is not None and det.gain is not None:
        repro = {True: "two runs gave identical losses", False: "two runs still differed", None: "not verified"}[
            det.reproducible
        ]
        console.print(
            f"determinism (offered, not adopted): {det.gain:+.0%} throughput on the best eager settings; {repro}"
        )
    if report.max_batch is not None:
        mb = report.max_batch
        if mb.status == "ok":
            console.print(
                f"largest batch with {mb.margin:.0%} memory kept free: {mb.batch} "
                f"({number(mb.peak_mib, 4)} of {number(mb.total_mib, 4)} MiB, {number(mb.throughput)} {report.unit})"
            )
        else:
            console.print(f"largest batch: {mb.status} — {escape_rich(mb.reason or '')}", style="dim")
    for line in loader_lines(report):
        console.print(escape_rich(line))
    for note in report.notes:
        console.print(f"note: {escape_rich(note)}", style="dim")
    console.print(f"[bold]{escape_rich(summary_line(report))}[/bold]")
    if report.snippet:
        from rich.syntax import Syntax

        console.print(Syntax(report.snippet, "python", theme="ansi_dark", background_color="default"))


def escape_rich(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def render_json(report: TuneReport) -> str:
    body = {"schema_version": TUNE_SCHEMA_VERSION, "kind": "torchenv.tune"}
    body.update(to_json(report))
    body["ranked"] = [t.id for t in report.ranked()]
    return json.dumps(body, indent=2, default=_json_default, allow_nan=False)


def _json_default(value):
    return str(value)


CSS = """
#torchenv-tune{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#111827}
#torchenv-tune table{border-collapse:collapse;font-size:13px;margin:4px 0 8px}
#torchenv-tune td,#torchenv-tune th{padding:3px 10px;border-bottom:1px solid #e5e7eb;text-align:left}
#torchenv-tune td.num{text-align:right;font-variant-numeric:tabular-nums}
#torchenv-tune tr.best td{font-weight:600;color:#166534} #torchenv-tune tr.beyond td{color:#b91c1c}
#torchenv-tune pre{background:#f3f4f6;padding:10px;border-radius:6px;font-size:12px;overflow-x:auto}
#torchenv-tune .sub{color:#4b5563;font-size:13px}
"""
TUNE_COLOUR = "#7c3aed"
SECTION_RE = re.compile(r"<section id=\"torchenv-tune\">.*?</section><!--/torchenv-tune-->", re.S)


def _chart(report: TuneReport) -> str:
    rows = report.ranked()
    if not rows:
        return ""
    top = max(t.throughput or 0.0 for t in rows) or 1.0
    left, bar_w, row_h = 300, 320, 22
    height = row_h * len(rows) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + bar_w + 120}" height="{height}" role="img">']
    for i, t in enumerate(rows):
        y = 4 + i * row_h
        w = (t.throughput or 0.0) / top * bar_w
        colour = "#dc2626" if t.numerics == "beyond" else ("#16a34a" if t.id == report.recommended else TUNE_COLOUR)
        parts.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" font-size="12">{escape(t.label)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row_h - 6}" fill="{colour}"/>')
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 14}" font-size="12">{escape(number(t.throughput))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_section(report: TuneReport) -> str:
    out = [f'<section id="torchenv-tune"><style>{CSS}</style>', f"<h2>{escape(header(report))}</h2>"]
    out.append(f'<div class="sub">{escape(timing_line(report))}</div>')
    if report.error:
        out.append(f'<div class="sub">{escape(report.status)}: {escape(report.error)}</div>')
    out.append(f'<div id="tune-chart">{_chart(report)}</div>')
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


def render_html(report: TuneReport) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>torchenv tune</title></head>'
        f"<body>{render_section(report)}</body></html>\n"
    )


def merge_into_html(existing: str, report: TuneReport) -> str:
    """`existing` (a `torchenv bench --html` page) with the tune section added before </body>,
    or replacing the tune section a previous run added."""
    section = render_section(report)
    if SECTION_RE.search(existing):
        return SECTION_RE.sub(lambda _: section, existing, count=1)
    index = existing.lower().rfind("</body>")
    if index < 0:
        return existing + section
    return existing[:index] + section + existing[index:]
