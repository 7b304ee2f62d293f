"""`torchenv profile` in the terminal: the step breakdown, then the findings ranked by ms per step."""

from __future__ import annotations

from rich.console import Console, Group
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..model import Severity
from ..model.profile import ProfileReport
from .profile_format import breakdown_rows, device_line, headline, ms, remeasured_lines, share, subject_line

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
MARK = {Severity.ERROR: "✗", Severity.WARNING: "!", Severity.INFO: "i"}


def render_profile_terminal(report: ProfileReport, console: Console, *, verbose: bool = False) -> None:
    head = [Text(headline(report))]
    device = device_line(report)
    if device:
        head.append(Text(device, style="dim"))
    subject = subject_line(report)
    if subject:
        head.append(Text(subject, style="dim"))
    worst = min((f.finding.severity.rank for f in report.findings), default=3)
    border = {0: "bold red", 1: "yellow"}.get(worst, "green")
    console.print(
        Panel(
            Group(*head),
            title=Text(f"torchenv profile · {report.trace}"[:100]),
            title_align="left",
            border_style=border,
        )
    )
    if report.breakdown is not None:
        b = report.breakdown
        table = Table(
            title=Text("mean step", style="bold"), title_justify="left", box=None, pad_edge=False, padding=(0, 2)
        )
        table.add_column("")
        table.add_column("ms", justify="right")
        table.add_column("share", justify="right")
        table.add_column("", style="dim")
        for label, value, note in breakdown_rows(b):
            table.add_row(label, ms(value), share(value, b.wall_ms) if label != "step wall time" else "", note)
        console.print(table)
    if report.findings:
        console.print(Text("findings, by time lost per step", style="bold underline"))
    for rank, item in enumerate(report.findings, 1):
        f = item.finding
        style = STYLE[f.severity]
        console.print(
            Text.assemble(
                (f" {MARK[f.severity]} ", style),
                (f"{rank}. ", "bold"),
                (f.title, style),
                (f"  ~{ms(item.ms_per_step)}/step", "bold"),
            )
        )
        body = [
            Text(
                f"[{f.id}]" + (f" ranks {', '.join(map(str, item.ranks))}" if len(item.ranks) > 1 else ""), style="dim"
            )
        ]
        body += [Text(f"· {line}", style="dim") for line in f.evidence]
        body.append(Text(f"estimate: {item.estimate}", style="dim"))
        if verbose or f.severity is not Severity.INFO:
            body.append(Text(f.explanation))
        if f.fix:
            body.append(Text.assemble(("fix: ", "bold"), f.fix))
        console.print(Padding(Group(*body), (0, 0, 0, 5)))
    if not report.findings:
        console.print(Text("no findings: nothing in these steps crossed a rule's threshold", style="green"))
    if verbose and report.skipped:
        console.print(Text("rules not judged", style="bold underline"))
        for s in report.skipped:
            console.print(Text(f"   {s.check}: {s.reason}", style="dim"))
    if report.remeasured:
        console.print(Text("re-measured: the step again with each fix torchenv can apply", style="bold underline"))
        for line in remeasured_lines(report):
            console.print(Text(f"   {line}"))
    for note in report.notes:
        console.print(Text(note, style="dim"))
    console.print(Text(f"raw trace (open in https://ui.perfetto.dev): {', '.join(report.files)}", style="dim"))
