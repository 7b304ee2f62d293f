"""`torchenv` command line. Subcommands import their modules lazily: `--help` stays instant,
and nothing here ever imports torch (the torch probe runs in a child process)."""

from __future__ import annotations

import argparse
import os
import sys

from .. import __version__

ISSUES_URL = "https://github.com/torchenv/torchenv/issues"


# Each subcommand lives in its own module with `register(subcommands)`; its heavy imports happen
# only inside its run function, so `torchenv --help` stays instant and never imports torch.
COMMAND_MODULES = ("doctor", "bench", "plan", "create", "explain", "snapshot", "tune", "monitor", "preflight", "kernels", "findings", "profile")


def build_parser() -> argparse.ArgumentParser:
    import importlib

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
    """The command line. Called without `argv` (the `torchenv` script, `python -m torchenv`), an
    interrupt ends the process as soon as the children are dead and the clean-up ran: no wait on
    worker threads, exit 130 (143 for SIGTERM). With `argv` (tests, embedding) it returns the code."""
    # Only the runner (standard library) before the doctor's torch probe is started: see doctor_early.
    from ..probes.runner import interrupts

    as_script = argv is None
    early = None
    try:
        with interrupts(exit_on_second=as_script):
            if as_script:
                from .doctor_early import start_early

                early = start_early(sys.argv[1:])
            code = _main(argv, early)
    except KeyboardInterrupt as exc:  # raised before _main's own handler was reached
        return _interrupted(exc, as_script)
    except BrokenPipeError:  # argparse's --help or usage text into a closed pipe
        code = _reader_left()
    if early is not None:
        _exit_now(code)
    return _flush_stdout(code)


def _reader_left() -> int:
    """stdout's reader is gone (`torchenv doctor | head`): point stdout at /dev/null, so that neither
    rich nor the interpreter's final flush writes to the closed pipe again (no "Exception ignored"
    on stderr, no exit 120), and exit 0, quietly, whatever the command was printing."""
    from .exit_codes import ExitCode

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (tests' capture, embedding)
        pass
    return ExitCode.OK


def _stdout_is_devnull() -> bool:
    try:
        return os.path.samestat(os.fstat(sys.stdout.fileno()), os.stat(os.devnull))
    except (OSError, ValueError, AttributeError):
        return False


def _flush_stdout(code: int) -> int:
    """Flush while a broken pipe can still be handled here, not at interpreter exit."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return _reader_left()
    except (OSError, ValueError):
        pass
    return code


def _exit_now(code: int) -> None:
    """The doctor's report is written and its children are dead: flush and leave without the
    interpreter's teardown (module finalisers, joining the probe threads, ~20-50 ms)."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = _reader_left()  # the reader left (`| head`): quietly, exit 0 like every command
    except (OSError, ValueError):
        code = code or 1
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(int(code))


def _main(argv: list[str] | None, early=None) -> int:
    import traceback

    from .errors import TorchenvError
    from .exit_codes import ExitCode

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    if not getattr(args, "command", None):
        parser.print_help()
        return ExitCode.USAGE
    if early is not None and args.command == "doctor":
        args.early = early
    elif early is not None:
        early.runner.discard()
    devnull_before = _stdout_is_devnull()
    try:
        return int(args.run(args))
    except TorchenvError as exc:  # UsageError (2), GateFailure (1), ...: one line, its own exit code
        print(f"torchenv: {exc}", file=sys.stderr)
        return int(exc.exit_code)  # LaunchError carries the shell's 126/127
    except KeyboardInterrupt as exc:
        return _interrupted(exc, argv is None)
    except BrokenPipeError:
        return _reader_left()
    except SystemExit:
        # rich's Console.on_broken_pipe: stdout already pointed at /dev/null, then SystemExit(1).
        # No command of ours raises SystemExit, so anything else goes on as it came.
        if _stdout_is_devnull() and not devnull_before:
            return _reader_left()
        raise
    except Exception as exc:  # a bug in torchenv, never a problem of the user's machine
        if os.environ.get("TORCHENV_DEBUG"):
            traceback.print_exc()
        print(
            f"torchenv: internal error ({type(exc).__name__}: {exc}). This is a bug in torchenv {__version__}; "
            f"please report it at {ISSUES_URL} (rerun with TORCHENV_DEBUG=1 for the traceback).",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL


def _interrupted(exc: BaseException, as_script: bool) -> int:
    """Every child is dead (the runner's handler killed them); say so in one line and leave."""
    from ..probes.runner import kill_children, reap_children

    kill_children()
    reap_children()
    code = getattr(exc, "exit_code", 130)
    word = "interrupted" if code == 130 else "terminated"
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    try:
        print(f"torchenv: {word}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
    if as_script:
        os._exit(code)  # threads still joining dead children must not hold the prompt
    return code
