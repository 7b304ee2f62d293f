"""`torchenv` command line. Subcommands import their modules lazily: `--help` stays instant,
and nothing here ever imports torch (the torch probe runs in a child process)."""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from .. import __version__
from .exit_codes import ExitCode

ISSUES_URL = "https://github.com/torchenv/torchenv/issues"


class UsageError(Exception):
    """A problem with the user's arguments or input: one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="torchenv",
        description="Makes PyTorch on NVIDIA GPUs work, run fast and stay reproducible.",
    )
    parser.add_argument("--version", action="version", version=f"torchenv {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

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
    doctor.set_defaults(run=_run_doctor)
    return parser


def _run_doctor(args: argparse.Namespace) -> int:
    from .doctor import run_doctor

    return run_doctor(args)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    if not getattr(args, "command", None):
        parser.print_help()
        return ExitCode.USAGE
    try:
        return int(args.run(args))
    except UsageError as exc:
        print(f"torchenv: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        print("torchenv: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:  # a bug in torchenv, never a problem of the user's machine
        if os.environ.get("TORCHENV_DEBUG"):
            traceback.print_exc()
        print(
            f"torchenv: internal error ({type(exc).__name__}: {exc}). This is a bug in torchenv {__version__}; "
            f"please report it at {ISSUES_URL} (rerun with TORCHENV_DEBUG=1 for the traceback).",
            file=sys.stderr,
        )
        return ExitCode.USAGE
