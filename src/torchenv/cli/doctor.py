"""Wiring of `torchenv doctor`: real probes, the knowledge base, checks, a renderer, an exit code."""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor

from .. import __version__
from .common import require_seconds, resolve_python
from .errors import UsageError
from .exit_codes import ExitCode

STAGE_WORDS = {
    "env": "reading the Python environment",
    "import": "importing torch",
    "build": "reading torch's build",
    "settings": "reading numerics settings",
    "cuda-init": "initialising CUDA",
    "devices": "reading GPU properties",
    "smoke": "running the GPU smoke test",
    "cudnn": "reading the cuDNN version",
    "libraries": "listing loaded CUDA libraries",
    "companions": "importing torchvision/torchaudio",
}


def register(commands) -> None:
    doctor = commands.add_parser(
        "doctor",
        help="a layered verdict on this machine's PyTorch GPU stack",
        description="Check hardware, driver, CUDA, the torch build, cuDNN and a real GPU computation; "
        "each problem comes with its evidence and the fix for this machine.",
    )
    doctor.add_argument("--python", metavar="PATH", help="diagnose this interpreter's environment (default: this one)")
    doctor.add_argument("--json", action="store_true", help="print the report as JSON (kind torchenv.doctor, schema_version 1)")
    doctor.add_argument(
        "--format",
        choices=("terminal", "json", "markdown"),
        default=None,
        help="markdown: a comment to paste back into an issue thread (verdict, cause, quoted evidence, fix, next steps)",
    )
    doctor.add_argument(
        "--require-cuda",
        action="store_true",
        help="fail (exit 1) unless CUDA is usable; without it a CPU build on a machine without a GPU is healthy",
    )
    doctor.add_argument(
        "--explain", metavar="ID", help="print the documentation page of a finding ID and exit (= torchenv findings ID)"
    )
    doctor.add_argument("--no-torch", action="store_true", help="skip the torch probe (no torch import)")
    doctor.add_argument("--no-smoke", action="store_true", help="import torch but skip the GPU smoke test")
    doctor.add_argument(
        "--deep", action="store_true", help="also import torchvision/torchaudio to prove their operators load (slow)"
    )
    doctor.add_argument(
        "--timeout", type=float, default=60.0, metavar="SECONDS", help="bound on the torch probe (default 60)"
    )
    doctor.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="explain info findings and list skipped checks; with --from, which input line gave which fact or message",
    )
    doctor.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE",
        help="diagnose a pasted report instead of this machine: collect_env, torchenv --json, pip/conda list, "
        "nvidia-smi ('-' for stdin)",
    )
    doctor.set_defaults(run=run_doctor)


def _format(args: argparse.Namespace) -> str:
    if args.json and args.format not in (None, "json"):
        raise UsageError(f"--json and --format {args.format} contradict each other")
    return "json" if args.json else (args.format or "terminal")


def _policy(args: argparse.Namespace):
    from ..checks.policy import Policy

    return Policy(require_cuda=bool(getattr(args, "require_cuda", False)))


def _exit_code(report) -> int:
    return ExitCode.OK if report.verdict == "healthy" else ExitCode.PROBLEMS


def run_doctor(args: argparse.Namespace) -> int:
    early = getattr(args, "early", None)
    progress = early.progress if early is not None else None
    try:
        return _run_doctor(args, early)
    finally:
        if progress is not None:
            progress.clear()
        if early is not None:
            early.runner.discard()


def _run_doctor(args: argparse.Namespace, early) -> int:
    if getattr(args, "explain", None):
        from .findings import page_or_usage_error, show_page

        show_page(page_or_usage_error(args.explain), None)
        return ExitCode.OK
    fmt = _format(args)
    if getattr(args, "from_file", None):
        return run_doctor_from(args, fmt)
    from ..probes import gather_facts

    require_seconds(args.timeout, "--timeout")
    python = resolve_python(args.python)

    # cli/doctor_early.py started the torch probe and showed the first verdict before the parser was
    # built; without it (main(argv) from a test or an embedding) the probe starts here.
    progress = early.progress if early is not None else None
    on_stage = None
    if progress is not None:

        def on_stage(stage: str) -> None:
            progress.stage(STAGE_WORDS.get(stage, stage))

    # The probes mostly wait on child processes, while importing the checks, parsing the knowledge
    # files and importing the renderer is CPU work for this process in the meantime.
    background = ThreadPoolExecutor(max_workers=1)
    facts_future = background.submit(
        gather_facts,
        python=python,
        with_torch=not args.no_torch,
        smoke=not args.no_smoke,
        import_companions=args.deep,
        timeout=args.timeout,
        on_stage=on_stage,
        runner=early.runner if early is not None else None,
    )
    try:
        from ..checks import diagnose
        from ..knowledge import load_knowledge

        knowledge = load_knowledge()
        if fmt == "terminal":
            from ..render import terminal  # noqa: F401  (rich, imported while the probe runs)
        elif fmt == "json":
            from ..render import json_report  # noqa: F401
        facts = facts_future.result()
    finally:
        background.shutdown(wait=False)
        if progress is not None:
            progress.clear()
    policy = _policy(args)
    report = diagnose(facts, knowledge, torchenv_version=__version__, policy=policy)
    _render(report, fmt, args, policy)
    return _exit_code(report)


def _render(report, fmt: str, args: argparse.Namespace, policy, parsed=None) -> None:
    if fmt == "json":
        from ..render.json_report import render_json

        lines = parsed is not None and args.verbose
        sys.stdout.write(render_json(report, require_cuda=policy.require_cuda, source=parsed, lines=lines) + "\n")
        return
    if fmt == "markdown":
        from ..render.markdown_report import render_doctor_markdown

        sys.stdout.write(render_doctor_markdown(report, source=parsed))
        return
    from ..render import terminal

    console = terminal.make_console(sys.stdout)
    if parsed is not None:
        terminal.render_report_context(console, args.from_file, parsed.format, parsed.notes)
    terminal.render_terminal(report, console, verbose=args.verbose)
    if parsed is not None:
        terminal.render_missing_facts(console, parsed.missing)
        if args.verbose:
            terminal.render_report_lines(console, parsed.lines)


def run_doctor_from(args: argparse.Namespace, fmt: str = "terminal") -> int:
    """`torchenv doctor --from FILE|-`: the same checks (and the same verdict policy) on the facts a
    pasted report contains."""
    from ..checks.explain import diagnose_report
    from ..checks.policy import apply_policy
    from ..knowledge import load_knowledge
    from ..reports.detect import MAX_BYTES, read_report
    from .explain import read_input

    data, total = read_input(args.from_file, limit=MAX_BYTES, keep="head")
    parsed = read_report(data, total_size=total)
    if parsed.facts is None:
        raise UsageError(f"{args.from_file}: {parsed.error}")
    knowledge = load_knowledge()
    policy = _policy(args)
    # diagnose_report adds the report-only findings after the checks; the policy then judges them all
    report = apply_policy(diagnose_report(parsed, knowledge, torchenv_version=__version__), policy)
    _render(report, fmt, args, policy, parsed)
    return _exit_code(report)
