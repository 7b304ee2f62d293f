"""The terminal view of a tune report (rich): the ranked table, what was not tried, the snippet."""

from __future__ import annotations

from rich.markup import escape as escape_rich

from ..model.tune import TuneReport
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


def render_tune_terminal(report: TuneReport, console) -> None:
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


def print_tune_report(report: TuneReport, stream) -> None:
    """The terminal view on `stream` (torchenv.tune(show=True) prints it on stderr)."""
    from rich.console import Console

    render_tune_terminal(report, Console(file=stream, highlight=False))
