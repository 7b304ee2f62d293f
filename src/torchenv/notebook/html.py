"""HTML for notebooks (pure): a doctor report, a plan, the kernels table. One self-contained <div> each,
inline styles only (JupyterLab, classic Notebook, VS Code and Colab strip <style> blocks differently),
every value escaped. No decisions: the report, plan and rows are rendered as the CLI renders them."""

from __future__ import annotations

import html
import shlex

from ..model import DoctorReport, Finding, Severity, known
from .kernels import KernelsReport

COLOURS = {"healthy": "#1a7f37", "degraded": "#9a6700", "broken": "#cf222e"}
SEVERITY_COLOURS = {Severity.ERROR: "#cf222e", Severity.WARNING: "#9a6700", Severity.INFO: "#57606a"}
BOX = "font-family:system-ui,-apple-system,Segoe UI,sans-serif;font-size:13px;line-height:1.45;max-width:1100px"
CODE = "font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px"
CELL = "padding:2px 8px;text-align:left;vertical-align:top;border-bottom:1px solid #d0d7de"


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _banner(word: str, colour: str, text: str) -> str:
    return (
        f'<div style="border-left:6px solid {colour};padding:6px 10px;margin:4px 0 8px 0;background:#f6f8fa">'
        f'<b style="color:{colour}">{e(word)}</b> {e(text)}</div>'
    )


def _table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(
        f'<tr><th style="{CELL};color:#57606a">{e(k)}</th><td style="{CELL}">{v}</td></tr>' for k, v in rows
    )
    return f'<table style="border-collapse:collapse;margin:4px 0">{cells}</table>'


def _finding(f: Finding) -> str:
    colour = SEVERITY_COLOURS[f.severity]
    evidence = "".join(f"<li>{e(line)}</li>" for line in f.evidence)
    fix = f'<div><b>fix:</b> <span style="{CODE}">{e(f.fix)}</span></div>' if f.fix else ""
    return (
        f'<div style="margin:6px 0;padding:4px 8px;border-left:3px solid {colour}">'
        f'<div><b style="color:{colour}">{e(f.severity.value)}</b> <code style="{CODE}">[{e(f.id)}]</code> '
        f'<b>{e(f.title)}</b> <span style="color:#57606a">({e(f.layer)})</span></div>'
        f'<ul style="margin:2px 0 2px 18px;padding:0">{evidence}</ul>'
        f'<div style="color:#24292f">{e(f.explanation)}</div>{fix}</div>'
    )


def render_doctor_html(report: DoctorReport, *, verbose: bool = False) -> str:
    facts = report.facts
    word = report.verdict.upper()
    usable = {True: "CUDA usable", False: "CUDA not usable", None: "CUDA not checked"}[report.cuda_usable]
    rows: list[tuple[str, str]] = []
    if known(facts.python):
        rows.append(
            (
                "interpreter",
                f'<span style="{CODE}">{e(facts.python.executable)}</span> (Python {e(facts.python.version)})',
            )
        )
    torch = facts.torch
    if known(torch) and known(torch.version):
        cuda = f"CUDA {torch.cuda}" if known(torch.cuda) and torch.cuda else "CPU build"
        rows.append(("torch", f"{e(torch.version)} ({e(cuda)})"))
    elif known(torch):
        rows.append(("torch", e(torch.status)))
    if known(facts.driver.version):
        rows.append(
            ("driver", f'{e(facts.driver.version)} <span style="color:#57606a">from {e(facts.driver.source)}</span>')
        )
    if known(facts.gpus.gpus):
        for gpu in facts.gpus.gpus:
            cc = f", cc {gpu.cc[0]}.{gpu.cc[1]}" if known(gpu.cc) else ""
            rows.append((f"gpu {gpu.index}", e(f"{gpu.name}{cc}")))
    container = facts.container
    if known(container) and container.in_container:
        where = container.platform or container.orchestrator or container.runtime
        rows.append(("container", e(f"{where} ({', '.join(container.evidence[:2])})")))
    body = "".join(_finding(f) for f in report.findings) or "<div>No findings.</div>"
    skipped = ""
    if verbose and report.skipped:
        items = "".join(f'<li><code style="{CODE}">{e(s.check)}</code>: {e(s.reason)}</li>' for s in report.skipped)
        skipped = f"<details><summary>{len(report.skipped)} checks skipped</summary><ul>{items}</ul></details>"
    return (
        f'<div class="torchenv-doctor" style="{BOX}">'
        + _banner(f"{word} · {usable}", COLOURS.get(report.verdict, "#57606a"), report.summary)
        + _table(rows)
        + body
        + skipped
        + f'<div style="color:#57606a;font-size:11px">torchenv {e(report.torchenv_version)} · knowledge '
        f"{e(report.knowledge_version)} · docs: docs/findings/&lt;id&gt;.md</div></div>"
    )


def render_plan_html(plan, *, python: str) -> str:
    """The plan as `torchenv plan` explains it, with the command for this kernel (`%pip install` goes to
    the kernel's own interpreter)."""
    from ..planners.export import pip_install_argv, plan_parts
    from ..render.plan_text import render_plan_text

    text = render_plan_text(plan, plan_parts(plan))
    parts = [f'<div class="torchenv-plan" style="{BOX}">']
    if plan.ok:
        argv = pip_install_argv(plan, python)
        magic = "%pip install " + shlex.join(argv[4:])
        parts.append(_banner("PLAN", "#0969da", text.splitlines()[0].removeprefix("Plan: ")))
        parts.append(
            _table(
                [
                    ("in this notebook", f'<span style="{CODE}">{e(magic)}</span>'),
                    ("in a shell", f'<span style="{CODE}">{e(shlex.join(argv))}</span>'),
                ]
            )
        )
    else:
        parts.append(_banner("CANNOT BE MET", COLOURS["broken"], "; ".join(plan.unmet)))
    parts.append(f'<pre style="{CODE};white-space:pre-wrap;margin:4px 0">{e(text)}</pre></div>')
    return "".join(parts)


def render_kernels_html(report: KernelsReport) -> str:
    header = ("", "kernel", "interpreter", "torch", "verdict")
    cells = "".join(f'<th style="{CELL}">{e(h)}</th>' for h in header)
    body = []
    for row in report.rows:
        colour = COLOURS.get(row.verdict, "#57606a")
        mark = "✔ installs here" if row.installs_here else ""
        name = f"{row.name} ({row.label})" if row.kind == "kernel" else f"VS Code: {row.label}"
        body.append(
            "<tr>"
            f'<td style="{CELL};color:#1a7f37">{e(mark)}</td>'
            f'<td style="{CELL}">{e(name)}</td>'
            f'<td style="{CELL};{CODE}">{e(row.interpreter or "not found")}</td>'
            f'<td style="{CELL}">{e(row.torch)}</td>'
            f'<td style="{CELL}"><b style="color:{colour}">{e(row.verdict)}</b> {e(row.summary)}</td>'
            "</tr>"
        )
    table = f'<table style="border-collapse:collapse"><tr>{cells}</tr>{"".join(body)}</table>'
    findings = "".join(_finding(f) for f in report.findings)
    notes = "".join(f'<div style="color:#57606a">{e(n)}</div>' for n in report.notes)
    install = (
        f'<div>You install into <span style="{CODE}">{e(report.install.python)}</span> '
        f"({e(report.install.source)}).</div>"
    )
    return f'<div class="torchenv-kernels" style="{BOX}">{install}{table}{findings}{notes}</div>'


def render_output_html(title: str, text: str, *, ok: bool) -> str:
    colour = "#1a7f37" if ok else COLOURS["broken"]
    return (
        f'<div style="{BOX}">{_banner(title, colour, "")}'
        f'<pre style="{CODE};white-space:pre-wrap;margin:4px 0">{e(text)}</pre></div>'
    )


__all__ = ["render_doctor_html", "render_kernels_html", "render_output_html", "render_plan_html"]
