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
    doctor.add_argument("--json", action="store_true", help="print the report as JSON (schema_version 1)")
    doctor.add_argument("--no-torch", action="store_true", help="skip the torch probe (no torch import)")
    doctor.add_argument("--no-smoke", action="store_true", help="import torch but skip the GPU smoke test")
    doctor.add_argument(
        "--deep", action="store_true", help="also import torchvision/torchaudio to prove their operators load (slow)"
    )
    doctor.add_argument(
        "--timeout", type=float, default=60.0, metavar="SECONDS", help="bound on the torch probe (default 60)"
    )
    doctor.add_argument("-v", "--verbose", action="store_true", help="explain info findings and list skipped checks")
    doctor.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE",
        help="diagnose a pasted report instead of this machine: collect_env, torchenv --json, pip/conda list, "
        "nvidia-smi ('-' for stdin)",
    )
    doctor.set_defaults(run=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    if getattr(args, "from_file", None):
        return run_doctor_from(args)
    from ..probes import gather_facts

    require_seconds(args.timeout, "--timeout")
    python = resolve_python(args.python)

    status = None
    on_stage = None
    if not args.json and sys.stderr.isatty():
        from rich.console import Console

        status = Console(stderr=True).status("probing the machine…")
        status.start()

        def on_stage(stage: str) -> None:
            status.update(STAGE_WORDS.get(stage, stage) + "…")

    # Start the probes first: they mostly wait on child processes, while importing the checks and
    # parsing the knowledge files is CPU work for this process in the meantime.
    background = ThreadPoolExecutor(max_workers=1)
    facts_future = background.submit(
        gather_facts,
        python=python,
        with_torch=not args.no_torch,
        smoke=not args.no_smoke,
        import_companions=args.deep,
        timeout=args.timeout,
        on_stage=on_stage,
    )
    try:
        from ..checks import diagnose
        from ..knowledge import load_knowledge

        knowledge = load_knowledge()
        facts = facts_future.result()
    finally:
        background.shutdown(wait=False)
        if status is not None:
            status.stop()
    report = diagnose(facts, knowledge, torchenv_version=__version__)

    if args.json:
        from ..render.json_report import render_json

        sys.stdout.write(render_json(report) + "\n")
    else:
        from ..render.terminal import make_console, render_terminal

        render_terminal(report, make_console(sys.stdout), verbose=args.verbose)
    return ExitCode.OK if report.verdict == "healthy" else ExitCode.PROBLEMS


def run_doctor_from(args: argparse.Namespace) -> int:
    """`torchenv doctor --from FILE|-`: the same checks on the facts a pasted report contains."""
    from ..checks.explain import diagnose_report
    from ..knowledge import load_knowledge
    from ..reports.detect import MAX_BYTES, read_report
    from .explain import read_input

    data, total = read_input(args.from_file, limit=MAX_BYTES, keep="head")
    parsed = read_report(data, total_size=total)
    if parsed.facts is None:
        raise UsageError(f"{args.from_file}: {parsed.error}")
    knowledge = load_knowledge()
    report = diagnose_report(parsed, knowledge, torchenv_version=__version__)
    if args.json:
        import json

        from ..render.json_report import report_to_dict

        payload = report_to_dict(report)
        payload["report"] = {
            "format": parsed.format,
            "missing": [{"fact": m.fact, "how": m.how} for m in parsed.missing],
            "notes": list(parsed.notes),
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        from rich.text import Text

        from ..render.terminal import make_console, render_terminal

        console = make_console(sys.stdout)
        console.print(Text(f"read {args.from_file} as a {parsed.format} report", style="dim"))
        for note in parsed.notes:
            console.print(Text(f"note: {note}", style="yellow"))
        render_terminal(report, console, verbose=args.verbose)
        if parsed.missing:
            console.print(Text("\nmissing facts (the checks that need them were skipped)", style="bold underline"))
            for missing in parsed.missing:
                console.print(Text(f"   {missing.fact}: run {missing.how}"))
            console.print(Text("   best: run `torchenv doctor` on that machine", style="bold"))
    return ExitCode.OK if report.verdict == "healthy" else ExitCode.PROBLEMS
