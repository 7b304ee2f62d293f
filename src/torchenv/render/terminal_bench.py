"""The terminal view of a bench report: one table per section, causes under short figures."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..model.bench import BenchReport, Measurement
from .bench_format import SECTION_TITLES, figure, header, notes, number, sections, spread, times, timing_line


def _note(m: Measurement) -> Text:
    if m.status == "skipped":
        return Text(f"skipped: {m.reason}", style="dim")
    if m.status == "failed":
        return Text(f"failed: {m.reason}", style="red")
    parts = notes(m)
    if m.short:
        parts.append("short of the hardware")
    return Text("; ".join(parts), style="yellow" if m.short else "")


def _table(section: str, rows: list[Measurement]) -> Table:
    table = Table(title=SECTION_TITLES.get(section, section), title_justify="left", title_style="bold", expand=False)
    ladder = section.startswith("ladder-") or section == "amp"
    table.add_column("test" if not ladder else "setting")
    table.add_column("result", justify="right")
    table.add_column("spread", justify="right", style="dim")
    if ladder:
        table.add_column("× fp32", justify="right")
        table.add_column("× previous" if section != "amp" else "", justify="right")
    elif section == "conv":
        table.add_column("× off/off", justify="right")
        table.add_column("", justify="right")
    else:
        table.add_column("hardware", justify="right")
        table.add_column("ratio", justify="right")
    table.add_column("note")
    for m in rows:
        if ladder or section == "conv":
            third, fourth = times(m.speedup), times(m.step_gain)
        else:
            third = f"{number(m.peak)} {m.unit}" if m.peak else ""
            fourth = f"{m.ratio:.0%}" if m.ratio is not None else ""
        style = "yellow" if m.short else ("dim" if m.status == "skipped" else "")
        table.add_row(Text(m.label, style=style), figure(m), spread(m), third, fourth, _note(m))
    return table


def render_bench_terminal(report: BenchReport, console: Console) -> None:
    console.print(Text(header(report), style="bold"))
    if report.status != "ok" or report.error:
        console.print(Text(f"{report.status}: {report.error}", style="red" if report.status != "ok" else "yellow"))
    for cause in report.causes:
        console.print(Text.assemble(("! ", "yellow"), (cause.title, "yellow"), (f"  [{cause.id}]", "dim")))
        console.print(Text(f"    evidence: {'; '.join(cause.evidence)}\n    fix: {cause.fix or ''}", style="dim"))
    for section, rows in sections(report):
        console.print()
        console.print(_table(section, rows))
        for m in rows:
            for cause in m.causes:
                console.print(
                    Text.assemble(("  ↳ ", "yellow"), (f"{m.label}: ", "bold"), cause.title, (f"  [{cause.id}]", "dim"))
                )
                console.print(
                    Text(f"      evidence: {'; '.join(cause.evidence)} · fix: {cause.fix or ''}", style="dim")
                )
    console.print()
    console.print(Text(timing_line(report), style="bold"))
