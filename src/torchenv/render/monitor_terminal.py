"""`torchenv monitor` in the terminal: the end summary, and the live view while the job runs."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, Group
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..model import Severity
from ..monitor.model import GpuInfo, GpuSample, MonitorReport, Sample
from ..perf.causes import decode_reasons
from .monitor_format import LABELS, SERIES_LABELS, exit_line, number, overhead_line, steps_line, unsupported

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
MARK = {Severity.ERROR: "✗", Severity.WARNING: "!", Severity.INFO: "i"}
SUMMARY_ROWS = tuple(s.field for s in SERIES_LABELS)
BLOCKS = "▁▂▃▄▅▆▇█"


def _spans(spans) -> str:
    parts = [f"{s.start_s:.0f}–{s.end_s:.0f} s" if s.end_s > s.start_s else f"{s.start_s:.0f} s" for s in spans[:4]]
    if len(spans) > 4:
        parts.append(f"+{len(spans) - 4} more")
    return ", ".join(parts)


def render_monitor_summary(report: MonitorReport, console: Console, *, verbose: bool = False) -> None:
    command = " ".join(report.command) if report.command else f"PID {report.attach_pid}"
    rate = "10 Hz (--fast)" if report.fast else f"{1 / report.interval_s:g} Hz"
    head = f"{exit_line(report)}; {report.samples} samples at {rate}"
    if report.status == "interrupted":
        head += "; stopped by a signal"
    worst = min((Severity(v.finding.severity).rank for v in report.verdicts), default=3)
    border = {0: "bold red", 1: "yellow"}.get(worst, "green")
    console.print(
        Panel(Text(head), title=Text(f"torchenv monitor · {command}"[:100]), title_align="left", border_style=border)
    )
    for gpu in report.gpus:
        console.print(_gpu_table(gpu, report))
    if report.verdicts:
        console.print(Text("verdicts", style="bold underline"))
    for verdict in report.verdicts:
        f = verdict.finding
        style = STYLE[Severity(f.severity)]
        where = f"GPU {verdict.gpu}, " if verdict.gpu is not None else ""
        share = f" ({verdict.share:.0%} of the run)" if verdict.share > 0 else ""
        console.print(Text.assemble((f" {MARK[Severity(f.severity)]} ", style), (f.title, style)))
        body = [Text(f"[{f.id}] {where}{_spans(verdict.spans)}{share}", style="dim")]
        body += [Text(f"· {line}", style="dim") for line in f.evidence]
        if verbose or Severity(f.severity) is not Severity.INFO:
            body.append(Text(f.explanation))
        if f.fix:
            body.append(Text.assemble(("next: ", "bold"), f.fix))
        console.print(Padding(Group(*body), (0, 0, 0, 5)))
    if not report.verdicts and report.samples:
        console.print(Text("no verdict: nothing conclusive in these samples", style="dim"))
    if report.steps is not None:
        console.print(Text(steps_line(report), style="bold"))
    if report.attribution in ("context", "ambiguous"):
        note = next((n for n in report.notes if "PID namespace" in n), None)
        if note:
            console.print(Text(note, style="dim"))
    for note in report.notes:
        if "PID namespace" not in note:
            console.print(Text(note, style="dim"))
    if verbose and report.skipped:
        console.print(Text("rules not judged", style="bold underline"))
        for skip in report.skipped:
            where = f"GPU {skip.gpu}: " if skip.gpu is not None else ""
            console.print(Text(f"   {skip.rule}: {where}{skip.reason}", style="dim"))
    console.print(Text(overhead_line(report.overhead, report.interval_s), style="dim"))


def _gpu_table(gpu, report: MonitorReport) -> Table:
    info: GpuInfo = gpu.info
    used = "used by the job" if gpu.used_by_job else "not used by the job"
    gpm = "GPM" if info.gpm else "no GPM"
    table = Table(
        title=Text(f"GPU {info.index} · {info.name} · {gpm} · {used}", style="bold"),
        title_justify="left",
        box=None,
        pad_edge=False,
        padding=(0, 2),
    )
    table.add_column("")
    for name in ("mean", "p95", "max"):
        table.add_column(name, justify="right")
    for field in SUMMARY_ROWS:
        label = LABELS[field]
        stats = gpu.series.get(field)
        if stats is None:
            why = unsupported(info, field)
            if why and (label.gpm or field.startswith(("pcie", "nvlink"))):
                table.add_row(label.label, Text(why, style="dim"), "", "")
            continue
        row = [number(stats.mean, label.unit), number(stats.p95, label.unit), number(stats.maximum, label.unit)]
        if field == "sm_clock_mhz" and info.sm_clock_max_mhz:
            row[2] += f" of {info.sm_clock_max_mhz:.0f}"
        if field == "memory_used_mib" and info.memory_total_mib:
            row[2] += f" of {number(info.memory_total_mib, 'MiB')}"
        table.add_row(label.label, *row)
    extras = []
    if gpu.energy_j is not None:
        extras.append(f"energy {gpu.energy_j / 1000:.2f} kJ")
    if gpu.reasons_share:
        reasons = ", ".join(f"{name} {share:.0%}" for name, share in gpu.reasons_share.items())
        extras.append(f"clock event reasons: {reasons}")
    if gpu.own_memory_max_mib is not None:
        extras.append(f"the job's memory up to {number(gpu.own_memory_max_mib, 'MiB')}")
    if gpu.other_processes:
        extras.append("other processes: " + ", ".join(f"PID {p}" for p in gpu.other_processes[:6]))
    if extras:
        table.caption = Text(" · ".join(extras), style="dim")
        table.caption_justify = "left"
    return table


# --- the live view -------------------------------------------------------------------------------


def sparkline(values: Sequence[float | None], top: float | None = None, width: int = 40) -> str:
    values = list(values)[-width:]
    known = [v for v in values if v is not None]
    if not known:
        return ""
    top = top if top else max(known) or 1.0
    out = []
    for v in values:
        if v is None:
            out.append(" ")
            continue
        level = max(0, min(len(BLOCKS) - 1, int(v / top * (len(BLOCKS) - 1) + 0.5)))
        out.append(BLOCKS[level])
    return "".join(out)


LIVE_ROWS = (
    ("kernel_busy_pct", 100.0),
    ("sm_active_pct", 100.0),
    ("sm_occupancy_pct", 100.0),
    ("tensor_active_pct", 100.0),
    ("dram_active_pct", 100.0),
    ("memory_used_mib", None),
    ("power_w", None),
    ("sm_clock_mhz", None),
    ("temperature_c", None),
    ("pcie_rx_mbs", None),
    ("pcie_tx_mbs", None),
    ("nvlink_rx_mbs", None),
    ("nvlink_tx_mbs", None),
)


def render_live(infos: Sequence[GpuInfo], samples: Sequence[Sample], *, command: str, elapsed_s: float, note: str = ""):
    """The live view's renderable: per GPU, each series now, and its sparkline over the last samples."""
    parts = [Text(f"torchenv monitor · {command} · {elapsed_s:.0f} s · Ctrl-C stops the command", style="bold")]
    latest = samples[-1] if samples else None
    for info in infos:
        rows = [g for s in samples for g in s.gpus if g.index == info.index]
        now: GpuSample | None = rows[-1] if rows else None
        table = Table(box=None, pad_edge=False, padding=(0, 1), show_header=False)
        table.add_column(width=28)
        table.add_column(justify="right", width=18)
        table.add_column()
        for field, top in LIVE_ROWS:
            label = LABELS[field]
            why = unsupported(info, field)
            if why and (label.gpm or field.startswith("nvlink")):
                if field in ("sm_active_pct", "tensor_active_pct"):
                    table.add_row(label.label, Text("n/a", style="dim"), Text(why, style="dim"))
                continue
            value = getattr(now, field) if now is not None else None
            text = number(value, label.unit)
            if field == "power_w" and now is not None and now.power_limit_w:
                text += f" / {now.power_limit_w:.0f}"
                top = now.power_limit_w
            if field == "sm_clock_mhz" and info.sm_clock_max_mhz:
                text += f" / {info.sm_clock_max_mhz:.0f}"
                top = info.sm_clock_max_mhz
            if field == "memory_used_mib":
                top = info.memory_total_mib
            table.add_row(label.label, text, sparkline([getattr(g, field) for g in rows], top))
        reasons = decode_reasons(now.clock_reasons) if now is not None and now.clock_reasons is not None else []
        table.add_row("clock event reasons", ", ".join(reasons) or "none", "")
        if latest is not None:
            own = [p for p in latest.processes if p.gpu == info.index and p.own]
            other = [p for p in latest.processes if p.gpu == info.index and not p.own]
            table.add_row(
                "job processes",
                f"{len(own)} · {number(sum(p.memory_mib or 0 for p in own), 'MiB')}" if own else "none",
                ("others: " + ", ".join(f"PID {p.pid}" for p in other[:4])) if other else "",
            )
        gpm = "" if info.gpm else " · no GPM: SM activity n/a on this GPU"
        parts.append(Panel(table, title=f"GPU {info.index} · {info.name}{gpm}", title_align="left"))
    if note:
        parts.append(Text(note, style="dim"))
    return Group(*parts)
