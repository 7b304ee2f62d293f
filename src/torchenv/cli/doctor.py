"""Wiring of `torchenv doctor`: real probes, the knowledge base, checks, a renderer, an exit code."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor

from .. import __version__
from .errors import UsageError
from .exit_codes import ExitCode

STAGE_WORDS = {
    "env": "reading the Python environment",
    "import": "importing torch",
    "build": "reading torch's build",
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
    doctor.set_defaults(run=run_doctor)


def resolve_python(path: str | None) -> str | None:
    if path is None:
        return None
    found = path if os.sep in path else shutil.which(path)
    if not found or not os.path.exists(found):
        raise UsageError(f"--python {path}: no such interpreter")
    if not os.access(found, os.X_OK) or os.path.isdir(found):
        raise UsageError(f"--python {path}: not an executable file")
    return found


def run_doctor(args: argparse.Namespace) -> int:
    from ..probes import gather_facts

    if args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
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
