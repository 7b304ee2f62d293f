"""`%torchenv doctor | plan | bench --quick | monitor | kernels` in Jupyter and IPython.

Each subcommand runs for the kernel's own interpreter (`sys.executable`): the doctor and the plan in this
process (their probes run in child processes, so torch is never imported here by torchenv), bench and
monitor as the `torchenv` command in a child process of the same interpreter, whose HTML report is shown.
`run_magic` returns the HTML; the IPython magic displays it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
from pathlib import Path

from .html import e, render_doctor_html, render_kernels_html, render_output_html, render_plan_html

USAGE = """%torchenv doctor [--no-smoke] [--no-torch] [--deep] [--timeout S] [-v]   the doctor, for this kernel's Python
%torchenv plan [--gpu NAME] [--torch SPEC] ...                             the right torch build for it (%pip line)
%torchenv bench --quick [...]                                              what this GPU delivers (HTML report)
%torchenv monitor [...]                                                    torchenv monitor, when installed
%torchenv kernels [--no-torch]                                             every kernel and the env it runs"""
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder `import torchenv` found


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # a usage error is shown in the cell, never a SystemExit in the kernel
        raise ValueError(message)


def _doctor(argv: list[str], python: str) -> str:
    from .. import __version__
    from ..checks import diagnose
    from ..knowledge import load_knowledge
    from ..probes import gather_facts

    parser = _Parser(prog="%torchenv doctor", add_help=False)
    parser.add_argument("--no-smoke", action="store_true")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--deep", action="store_true")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if not args.timeout > 0:
        raise ValueError("--timeout must be a positive number of seconds")
    facts = gather_facts(
        python=python,
        with_torch=not args.no_torch,
        smoke=not args.no_smoke,
        import_companions=args.deep,
        timeout=args.timeout,
    )
    report = diagnose(facts, load_knowledge(), torchenv_version=__version__)
    return render_doctor_html(report, verbose=args.verbose)


def _plan(argv: list[str], python: str) -> str:
    from ..cli.errors import UsageError
    from ..cli.plan import add_target_arguments, build_plan

    parser = _Parser(prog="%torchenv plan", add_help=False)
    add_target_arguments(parser)
    args = parser.parse_args(argv)
    try:
        plan, _ = build_plan(args)
    except UsageError as exc:
        raise ValueError(str(exc)) from None
    return render_plan_html(plan, python=python)


def _kernels(argv: list[str], python: str) -> str:
    from .report import collect_kernels_report

    parser = _Parser(prog="%torchenv kernels", add_help=False)
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    return render_kernels_html(collect_kernels_report(with_torch=not args.no_torch, timeout=args.timeout))


def _child_environment() -> dict[str, str]:
    env = dict(os.environ)
    parts = [PACKAGE_ROOT, *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(parts))
    return env


def _command(name: str, argv: list[str], python: str, runner, timeout: float) -> str:
    """`torchenv NAME ARGS --html FILE` in a child process of this interpreter; its HTML report, else its output."""
    from ..cli.main import COMMAND_MODULES

    if name not in COMMAND_MODULES:
        return render_output_html(f"torchenv {name}", f"`torchenv {name}` is not part of this torchenv.", ok=False)
    with tempfile.TemporaryDirectory(prefix="torchenv-magic-") as folder:
        report = os.path.join(folder, f"{name}.html")
        command = [python, "-m", "torchenv", name, *argv]
        if "--html" in argv[:-1]:
            report = argv[argv.index("--html") + 1]
        elif name == "bench":  # bench writes an HTML report; other commands show their output
            command += ["--html", report]
        result = runner.run(command, timeout, env=_child_environment())
        text = (result.stdout + ("\n" + result.stderr if result.stderr.strip() else "")).strip()
        if os.path.isfile(report) and os.path.getsize(report):
            with open(report, encoding="utf-8") as handle:
                page = handle.read()
            # The report is a whole HTML document: an iframe keeps its styles out of the notebook's.
            frame = f'<iframe srcdoc="{e(page)}" style="width:100%;height:720px;border:1px solid #d0d7de"></iframe>'
            return frame + render_output_html(f"torchenv {name} (exit {result.returncode})", text, ok=result.ok)
        return render_output_html(
            f"torchenv {name} (exit {result.returncode})", text or result.describe_failure(), ok=False
        )


def run_magic(line: str, *, python: str | None = None, runner=None) -> str:
    """The HTML `%torchenv LINE` shows (usage and argument errors included)."""
    python = python or sys.executable
    try:
        argv = shlex.split(line)
    except ValueError as exc:
        return render_output_html("torchenv: cannot parse the line", f"{exc}\n\n{USAGE}", ok=False)
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    try:
        if command == "doctor":
            return _doctor(rest, python)
        if command == "plan":
            return _plan(rest, python)
        if command == "kernels":
            return _kernels(rest, python)
        if command in ("bench", "monitor"):
            from ..probes.runner import Runner

            timeout = 1200.0 if command == "bench" else 24 * 3600.0
            return _command(command, rest, python, runner or Runner(), timeout)
    except ValueError as exc:
        return render_output_html(f"%torchenv {command}: {exc}", USAGE, ok=False)
    return render_output_html("%torchenv", USAGE, ok=command in ("help", "--help", "-h"))


def torchenv_magic(line: str = "") -> None:
    from IPython.display import HTML, display

    display(HTML(run_magic(line)))


__all__ = ["USAGE", "run_magic", "torchenv_magic"]
