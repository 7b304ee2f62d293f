"""`torchenv` command line. Subcommands import their modules lazily: `--help` stays instant,
and nothing here ever imports torch (the torch probe runs in a child process)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from .. import __version__
from .errors import UsageError
from .exit_codes import ExitCode

ISSUES_URL = "https://github.com/torchenv/torchenv/issues"


# Each subcommand lives in its own module with `register(subcommands)`; its heavy imports happen
# only inside its run function, so `torchenv --help` stays instant and never imports torch.
COMMAND_MODULES = ("doctor", "bench", "plan", "create", "explain", "snapshot", "tune")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="torchenv",
        description="Makes PyTorch on NVIDIA GPUs work, run fast and stay reproducible.",
    )
    parser.add_argument("--version", action="version", version=f"torchenv {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__package__}.{name}").register(commands)
    return parser


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
