"""The terminal view of a preflight report: the verdict, the ranks, the sweep, then the findings
grouped by section. No decisions: everything shown was judged in torchenv.preflight.judge."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..model import known
from ..model.preflight import SECTION_OF, SECTIONS, PreflightReport, RankData, size_text
from .terminal import render_finding_section

VERDICT_STYLE = {"ready": "bold green", "degraded": "bold yellow", "not-ready": "bold red"}
MAX_RANK_ROWS = 16


def render_preflight_terminal(report: PreflightReport, console: Console, *, verbose: bool = False) -> None:
    style = VERDICT_STYLE[report.verdict]
    title = f"{report.verdict.upper().replace('-', ' ')} · {report.world_size} rank{'s' if report.world_size != 1 else ''} · {report.nodes} node{'s' if report.nodes != 1 else ''} · {report.backend}"
    console.print(Panel(Text(report.summary), title=Text(title, style=style), title_align="left", border_style=style))
    if report.test_hooks:
        console.print(Text("test hooks were active (TORCHENV_PREFLIGHT_TEST): not a real result", style="bold magenta"))
    if report.ranks:
        console.print(_ranks_table(report.ranks))
    if report.sweep:
        console.print(_sweep_table(report))
    if report.fabric is not None:
        fabric = report.fabric
        expected = (
            f"expects ≈ {fabric.expected_busbw_gbs:g} GB/s all-reduce busbw"
            if fabric.expected_busbw_gbs
            else f"not judged: {fabric.why_unjudged}"
        )
        console.print(Text.assemble(("fabric  ", "bold"), escape(f"{fabric.detail} — {expected}")))
    for section in SECTIONS:
        render_finding_section(
            console, section, [f for f in report.findings if SECTION_OF.get(f.id) == section], verbose
        )
    phases = " ".join(f"{k} {v:.1f}s" for k, v in report.phases.items() if v >= 0.05 and k != "start")
    console.print(
        Text(
            f"\ntorchenv {report.torchenv_version} · knowledge {report.knowledge_version} · exit {report.exit_code}"
            + (f" · {phases}" if phases else "")
            + " · finding ids: docs/preflight.md · --json for machines",
            style="dim",
        )
    )


def _gemm(data: RankData, dtype: str) -> str:
    result = next((g for g in data.gemm if g.dtype == dtype), None)
    if result is None:
        return ""
    if result.status != "ok" or result.tflops is None:
        return result.status
    return f"{result.tflops:.1f}" if result.tflops >= 1 else f"{result.tflops:.3f}"


def _ranks_table(ranks) -> Table:
    table = Table(
        box=None,
        pad_edge=False,
        padding=(0, 2),
        header_style="bold",
        caption="bf16/fp32: GEMM TFLOP/s per rank",
        caption_justify="left",
        caption_style="dim",
    )
    for name in ("rank", "host", "device", "gpu", "cpus", "torch", "nccl", "bf16", "fp32"):
        table.add_column(
            name,
            justify="right" if name in ("rank", "bf16", "fp32") else "left",
            no_wrap=name in ("torch", "nccl", "device"),
        )
    for data in ranks[:MAX_RANK_ROWS]:
        snapshot = data.snapshot
        torch = snapshot.torch if known(snapshot) and known(snapshot.torch) else None
        version = str(torch.version) if torch is not None and known(torch.version) else "?"
        nccl = torch.nccl_version if torch is not None and known(torch.nccl_version) else None
        table.add_row(
            str(data.place.rank),
            escape(data.place.host),
            escape(data.binding.device),
            escape(data.binding.gpu_name or "—"),
            escape(data.binding.cpu_affinity),
            escape(version),
            escape(str(nccl) if nccl else "—"),
            _gemm(data, "bf16"),
            _gemm(data, "fp32"),
        )
    if len(ranks) > MAX_RANK_ROWS:
        table.add_row("…", f"{len(ranks) - MAX_RANK_ROWS} more", "", "", "", "", "", "", "")
    return table


def _sweep_table(report: PreflightReport) -> Table:
    table = Table(box=None, pad_edge=False, padding=(0, 2), header_style="bold")
    for name in ("collective", "size", "time", "algbw GB/s", "busbw GB/s"):
        table.add_column(name, justify="left" if name == "collective" else "right")
    for point in report.sweep:
        micro = point.seconds * 1e6
        table.add_row(
            point.collective,
            size_text(point.size_bytes),
            f"{micro:.0f} µs" if micro < 10_000 else f"{point.seconds * 1e3:.1f} ms",
            f"{point.algbw_gbs:.2f}",
            f"{point.busbw_gbs:.2f}",
        )
    return table


__all__ = ["render_preflight_terminal"]
