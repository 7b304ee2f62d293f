"""Wiring of `torchenv explain`: read a message (argument, --file or stdin), match it against the
known errors, optionally use this machine's facts (gathered without importing torch), render."""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from .errors import UsageError
from .exit_codes import ExitCode

STDIN_LIMIT = 16 * 1024 * 1024  # read at most this much from a pipe; keep the tail
TAIL_BYTES = 2 * 1024 * 1024  # of a large log, explain the end (where the error is) and its head


def register(commands) -> None:
    explain = commands.add_parser(
        "explain",
        help="what an error message from the PyTorch GPU stack means, its likely cause and the fix",
        description="Recognises CUDA, driver, cuDNN/cuBLAS, NCCL, out-of-memory, DataLoader, torch.compile "
        "and library errors. On a machine it also uses that machine's facts (without importing torch) to "
        "pick the likely cause.",
    )
    explain.add_argument("message", nargs="?", help="the error message (or use --file, or pipe it on stdin)")
    explain.add_argument("--file", metavar="LOG", help="read the message from a log file ('-' for stdin)")
    explain.add_argument("--json", action="store_true", help='print {"kind": "torchenv.explain", "matches": [...]} as JSON')
    explain.add_argument(
        "--format",
        choices=("terminal", "json", "markdown"),
        default=None,
        help="markdown: a comment to paste back into an issue thread (meaning, cause, evidence, fix, next steps)",
    )
    explain.add_argument(
        "--no-probe", action="store_true", help="do not look at this machine; explain from the message alone"
    )
    explain.add_argument("-v", "--verbose", action="store_true", help="show every match in full")
    explain.set_defaults(run=run_explain)


# --- input ------------------------------------------------------------------------------------------


def read_input(path: str | None, *, limit: int, keep: str = "tail") -> tuple[bytes, int]:
    """Read a file (or stdin for '-'/None) up to `limit` bytes: (data, total size seen), through the
    one bounded reader (a FIFO, a device or a folder is refused with one line, never read).

    keep="tail" keeps the head (64 KiB) and the end of a large file; keep="head" the beginning."""
    from ..userfiles import UserFileError, read_bounded, read_stream_bounded

    if path in (None, "-"):
        data, total = read_stream_bounded(sys.stdin.buffer, limit=STDIN_LIMIT)
        return _cap(data, limit, keep), total
    try:
        return read_bounded(path, limit=limit, keep=keep, what="report or log")
    except UserFileError as exc:
        raise UsageError(str(exc)) from None


def _cap(data: bytes, limit: int, keep: str) -> bytes:
    if len(data) <= limit:
        return data
    if keep == "head":
        return data[:limit]
    return data[: 64 * 1024] + b"\n" + data[-(limit - 64 * 1024) :]


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    return bool(sample) and control / len(sample) > 0.1


def _message(args: argparse.Namespace) -> str:
    if args.message is not None and args.file is not None:
        raise UsageError("give the message or --file, not both")
    if args.message is not None:
        if args.message == "-":
            data, _ = read_input("-", limit=TAIL_BYTES)
        else:
            return args.message
    elif args.file is not None:
        data, _ = read_input(args.file, limit=TAIL_BYTES)
    elif not sys.stdin.isatty():
        data, _ = read_input(None, limit=TAIL_BYTES)
    else:
        raise UsageError(
            'nothing to explain: give a message (`torchenv explain "CUDA error: ..."`), --file LOG, or pipe it in'
        )
    if _looks_binary(data):
        raise UsageError("the input looks binary, not an error message or log")
    return data.decode("utf-8", errors="replace")


def _facts(args: argparse.Namespace):
    if args.no_probe:
        return None
    from ..probes import gather_facts

    try:
        return gather_facts(with_torch=False, timeout=10.0)
    except Exception:  # a machine we cannot read still gets an explanation from the message alone
        return None


# --- command ------------------------------------------------------------------------------------------


def run_explain(args: argparse.Namespace) -> int:
    text = _message(args)
    if not text.strip():
        raise UsageError("the message is empty")
    from ..checks.explain import explain
    from ..knowledge import load_knowledge

    knowledge = load_knowledge()
    facts = _facts(args)
    matches = explain(text, facts, knowledge)
    fmt = "json" if args.json else (args.format or "terminal")
    if args.json and args.format not in (None, "json"):
        raise UsageError(f"--json and --format {args.format} contradict each other")
    code = ExitCode.OK if matches else ExitCode.PROBLEMS
    if fmt == "json":
        from ..render.json_explain import render_explain_json

        document = render_explain_json(
            matches, facts_used=facts is not None, knowledge_version=knowledge.version, torchenv_version=__version__
        )
        sys.stdout.write(document + "\n")
        return code
    if fmt == "markdown":
        from ..render.markdown_report import render_explain_markdown

        sys.stdout.write(
            render_explain_markdown(
                matches, facts_used=facts is not None, knowledge_version=knowledge.version, torchenv_version=__version__
            )
        )
        return code
    if not matches:
        print(
            "torchenv explain: no known PyTorch GPU-stack error in this text "
            "(run `torchenv doctor` to check the machine itself).",
            file=sys.stderr,
        )
        return ExitCode.PROBLEMS
    from ..render.terminal import make_console
    from ..render.terminal_explain import render_matches

    render_matches(matches, make_console(sys.stdout), verbose=args.verbose, facts_used=facts is not None)
    return ExitCode.OK
