"""Wiring of `torchenv kernels`: every Jupyter kernel (and VS Code's interpreter setting) with the environment
it runs, its torch build and the doctor's one-line verdict; the `ipykernel install` fix when none runs the
environment you install into."""

from __future__ import annotations

import argparse
import json
import sys

from .common import require_seconds, resolve_python
from .exit_codes import ExitCode


def register(commands) -> None:
    kernels = commands.add_parser(
        "kernels",
        help="every Jupyter kernel with the environment it runs, its torch build and a verdict",
        description="List the installed Jupyter kernels (and VS Code's interpreter setting) with the interpreter and "
        "environment each runs, its torch build and the doctor's one-line verdict; say how to register the "
        "environment you install into when no kernel runs it.",
    )
    kernels.add_argument(
        "--python",
        metavar="PATH",
        help="the environment you install into (default: the one `pip` on PATH installs into)",
    )
    kernels.add_argument("--no-torch", action="store_true", help="do not import torch in each kernel's interpreter")
    kernels.add_argument("--json", action="store_true", help="print the list as JSON (kind torchenv.kernels)")
    kernels.add_argument(
        "--timeout", type=float, default=60.0, metavar="SECONDS", help="bound on each interpreter's probe (default 60)"
    )
    kernels.set_defaults(run=run_kernels)


def kernels_to_dict(report) -> dict:
    from ..model.codec import to_json

    return {
        "kind": "torchenv.kernels",
        "schema_version": 1,
        "install": to_json(report.install),
        "interpreters": [to_json(r) for r in report.rows],
        "platform": report.platform,
        "findings": [to_json(f) for f in report.findings],
        "kernel_folders": list(report.folders),
        "notes": list(report.notes),
    }


def run_kernels(args: argparse.Namespace) -> int:
    from ..notebook.report import collect_kernels_report

    require_seconds(args.timeout, "--timeout")
    report = collect_kernels_report(
        python=resolve_python(args.python), with_torch=not args.no_torch, timeout=args.timeout
    )
    if args.json:
        sys.stdout.write(json.dumps(kernels_to_dict(report), indent=2) + "\n")
    else:
        render_kernels_terminal(report)
    problem = any(f.severity.value in ("error", "warning") for f in report.findings)
    return ExitCode.PROBLEMS if problem else ExitCode.OK


def render_kernels_terminal(report) -> None:
    from rich.table import Table
    from rich.text import Text

    from .common import table_console

    console = table_console(160)
    console.print(Text(f"You install into {report.install.python} ({report.install.source})", style="bold"))
    table = Table(show_lines=False, box=None, pad_edge=False)
    for column in ("", "kernel", "interpreter", "torch", "verdict"):
        table.add_column(column, overflow="fold")
    styles = {"healthy": "green", "degraded": "yellow", "broken": "red"}
    for row in report.rows:
        name = f"{row.name} ({row.label})" if row.kind == "kernel" else f"VS Code {row.label} ({row.name})"
        verdict = Text(row.verdict, style=styles.get(row.verdict, "dim"))
        verdict.append(f" {row.summary}", style="default")
        table.add_row("✔" if row.installs_here else "", name, row.interpreter or "not found", row.torch, verdict)
    if report.rows:
        console.print(table)
    else:
        console.print(Text("No Jupyter kernels found in: " + ", ".join(report.folders), style="yellow"))
    for finding in report.findings:
        console.print(Text(f"\n[{finding.id}] {finding.title}", style="bold yellow"))
        for line in finding.evidence:
            console.print(Text(f"   {line}"))
        if finding.fix:
            console.print(Text(f"   fix: {finding.fix}", style="bold"))
    for note in report.notes:
        console.print(Text(note, style="dim"))
