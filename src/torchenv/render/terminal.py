"""The terminal view: the verdict first, then findings grouped by layer, then the key facts."""

from __future__ import annotations

from rich.console import Console, Group
from rich.markup import escape
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..model import DoctorReport, Facts, Severity, Unknown, known
from ..model.finding import LAYERS
from ..model.versions import cudnn_text


def render_finding_section(console, heading: str, findings, verbose: bool) -> None:
    """One heading and its findings: title, id, evidence, explanation (not for info unless verbose), fix."""
    if not findings:
        return
    console.print(Text(f"\n{heading}", style="bold underline"))
    for finding in findings:
        style = STYLE[finding.severity]
        # A grid, not one Text: a title that wraps hangs under its first word, not under the mark.
        console.print(_hanging(f" {MARK[finding.severity]}", finding.title, style))
        body = [Text(f"[{finding.id}]", style="dim")]
        body += [_hanging("·", line, "dim") for line in finding.evidence]
        if verbose or finding.severity is not Severity.INFO:
            body.append(Text(finding.explanation))
        if finding.fix:
            body.append(Text.assemble(("fix: ", "bold"), finding.fix))
        # Indent the whole block so wrapped lines stay under their finding.
        console.print(Padding(Group(*body), (0, 0, 0, 5)))


def _hanging(mark: str, text: str, style: str = "") -> Table:
    """`mark text`, with the text's wrapped lines under its first character (a hanging indent)."""
    grid = Table.grid(padding=(0, 1), pad_edge=False)
    grid.add_column(no_wrap=True)
    grid.add_column()
    grid.add_row(Text(mark, style), Text(text, style))  # Text: a title's "[...]" is never rich markup
    return grid


STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
MARK = {Severity.ERROR: "✗", Severity.WARNING: "!", Severity.INFO: "i"}
VERDICT_STYLE = {"healthy": "bold green", "degraded": "bold yellow", "broken": "bold red"}


def render_terminal(report: DoctorReport, console: Console, *, verbose: bool = False) -> None:
    usable = {True: "CUDA usable", False: "CUDA not usable", None: "CUDA usability unknown"}[report.cuda_usable]
    if report.cpu_only:
        usable = "CPU only"
    console.print(
        Panel(
            Text(report.summary),
            title=Text(f"{report.verdict.upper()} · {usable}", style=VERDICT_STYLE[report.verdict]),
            title_align="left",
            border_style=VERDICT_STYLE[report.verdict],
        )
    )
    console.print(_facts_table(report.facts))
    for layer in LAYERS:
        render_finding_section(console, layer, [f for f in report.findings if f.layer == layer], verbose)
    if verbose and report.skipped:
        console.print(Text("\nskipped checks", style="bold underline"))
        for skip in report.skipped:
            console.print(Text(f"   {skip.check}: {skip.reason}", style="dim"))
    console.print(
        Text(
            f"\ntorchenv {report.torchenv_version} · knowledge {report.knowledge_version} · "
            "`torchenv findings <id>` explains each [id] · --json for machines",
            style="dim",
        )
    )


def _text(value: object, unknown: str = "unknown") -> str:
    if isinstance(value, Unknown):
        return f"{unknown} ({value.reason})"
    return str(value)


def _facts_table(facts: Facts) -> Table:
    table = Table(show_header=False, box=None, pad_edge=False, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    host = facts.host
    where = [f"{host.os} {host.arch}", _text(host.os_release, "?")]
    if host.container:
        where.append(f"in {host.container}")
    if host.wsl is True:
        where.append("WSL")
    table.add_row("machine", escape(", ".join(where)))
    driver = facts.driver
    if known(driver.version):
        extra = f" (CUDA {driver.cuda_driver_version})" if known(driver.cuda_driver_version) else ""
        table.add_row("driver", escape(f"{driver.version}{extra}, from {driver.source}"))
    else:
        table.add_row("driver", escape(_text(driver.version)))
    if known(facts.gpus.gpus) and facts.gpus.gpus:
        for gpu in facts.gpus.gpus:
            cc = f"cc {gpu.cc[0]}.{gpu.cc[1]}" if known(gpu.cc) else "cc ?"
            memory = f"{gpu.memory_total_mib} MiB" if known(gpu.memory_total_mib) else ""
            table.add_row(f"gpu {gpu.index}", escape(f"{gpu.name}, {cc}, {memory}".rstrip(", ")))
    else:
        table.add_row("gpus", escape(_text(facts.gpus.gpus, "none")))
    if known(facts.python):
        table.add_row("python", escape(f"{facts.python.version} {facts.python.executable}"))
    torch = facts.torch
    if not known(torch):
        table.add_row("torch", escape(torch.reason))
    elif torch.status != "ok" and not known(torch.version):
        table.add_row("torch", escape(f"{torch.status}: {torch.error or ''}"[:200]))
    else:
        build = (
            f"CUDA {torch.cuda}"
            if known(torch.cuda) and torch.cuda
            else ("CPU-only build" if known(torch.cuda) else "CUDA version unknown")
        )
        table.add_row("torch", escape(f"{torch.version} ({build}) at {_text(torch.location)}"))
        if known(torch.arch_list) and torch.arch_list:
            table.add_row("arch list", " ".join(torch.arch_list))
        if known(torch.cudnn_version) and torch.cudnn_version:
            cudnn = next((lib for lib in _libs(torch) if lib.name == "libcudnn"), None)
            origin = f" from {cudnn.owner} ({cudnn.path})" if cudnn else ""
            table.add_row("cuDNN loaded", escape(f"{cudnn_text(torch.cudnn_version)}{origin}"))
        if torch.cuda_available is True and known(torch.cuda_init_seconds):
            table.add_row("cuda init", f"{torch.cuda_init_seconds:.2f} s")
        if known(torch.smoke) and torch.smoke:
            parts = [
                f"cuda:{s.device} {s.op} {'ok' if s.ok else 'FAILED'}"
                + (f" (rel err {s.rel_error:.1e})" if known(s.rel_error) else "")
                for s in torch.smoke
            ]
            table.add_row("smoke test", escape(", ".join(parts)))
    if known(facts.system_libraries):
        cudnn = sorted(
            {f"{lib.version}" for lib in facts.system_libraries if lib.name == "libcudnn" and known(lib.version)}
        )
        if cudnn:
            table.add_row("system cuDNN", escape(", ".join(cudnn)))
    return table


def _libs(torch):
    return torch.loaded_libraries if known(torch.loaded_libraries) else ()


def render_report_context(console: Console, source: str, fmt: str, notes) -> None:
    """`doctor --from`: what the input was read as, before the report."""
    console.print(Text(f"read {source} as a {fmt} report", style="dim"))
    for note in notes:
        console.print(Text(f"note: {note}", style="yellow"))


def render_missing_facts(console: Console, missing) -> None:
    """`doctor --from`: the facts the report lacks, each with the command that shows it."""
    if not missing:
        return
    console.print(Text("\nmissing facts (the checks that need them were skipped)", style="bold underline"))
    for item in missing:
        console.print(Text(f"   {item.fact}: run {item.how}"))
    console.print(Text("   best: run `torchenv doctor` on that machine", style="bold"))


LINE_STYLE = {"fact": "green", "message": "bold red", "noise": "dim", "prose": "", "blank": "dim"}


def render_report_lines(console: Console, lines, *, limit: int = 400) -> None:
    """`doctor --from -v`: which input line gave which fact or message (the line reader's records)."""
    shown = [line for line in lines if line.kind != "blank"]
    if not shown:
        return
    console.print(Text("\ninput lines (number · kind · what it gave)", style="bold underline"))
    width = len(str(shown[-1].number))
    for line in shown[:limit]:
        gave = f" [{line.detail}]" if line.detail else ""
        console.print(
            Text.assemble(
                (f"   {line.number:>{width}} ", "dim"),
                (f"{line.kind:<7}", LINE_STYLE.get(line.kind, "")),
                (gave, "cyan"),
                ("  " + line.text[:160], "dim" if line.kind in ("noise", "prose") else ""),
            )
        )
    if len(shown) > limit:
        console.print(Text(f"   … {len(shown) - limit} more lines (--json -v lists them all)", style="dim"))


def render_markdown_page(text: str, console: Console) -> None:
    """A documentation page (`torchenv findings ID`), rendered for the terminal."""
    from rich.markdown import Markdown

    console.print(Markdown(text, hyperlinks=False))


PIPED_WIDTH = 100  # columns when the output is not a terminal and COLUMNS is unset (rich would take 80)


def piped_width(stream, environ=None) -> int | None:
    """None on a terminal (rich asks it); else COLUMNS when it is a sane number, else PIPED_WIDTH."""
    import os

    try:
        if stream.isatty():
            return None
    except (AttributeError, ValueError):
        pass
    columns = (os.environ if environ is None else environ).get("COLUMNS", "")
    return int(columns) if columns.isdigit() and 40 <= int(columns) <= 1000 else PIPED_WIDTH


class _LineTrimmer:
    """A file that writes whole lines without their trailing spaces (rich pads every line to the
    console's width: noise in a CI log, a diff or a golden file)."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.pending = ""

    def write(self, text: str) -> int:
        self.pending += text
        if "\n" in self.pending:
            *lines, self.pending = self.pending.split("\n")
            self.stream.write("".join(line.rstrip(" ") + "\n" for line in lines))
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.stream.write(self.pending.rstrip(" "))
            self.pending = ""
        self.stream.flush()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", "utf-8")


def make_console(stream, *, color: bool | None = None, width: int | None = None) -> Console:
    """The console of a report: on a terminal its width; piped or saved, `width` or piped_width()
    columns, lines without trailing padding (hanging indents stay: wrapped text keeps its column)."""
    width = width or piped_width(stream)
    if width is None:
        return Console(file=stream, highlight=False, force_terminal=color, soft_wrap=False)
    return Console(file=_LineTrimmer(stream), highlight=False, force_terminal=color, soft_wrap=False, width=width)


__all__ = [
    "cudnn_text",
    "make_console",
    "render_markdown_page",
    "render_missing_facts",
    "render_report_context",
    "render_report_lines",
    "render_terminal",
]
