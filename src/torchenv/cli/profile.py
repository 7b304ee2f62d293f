"""Wiring of `torchenv profile`: `--trace FILE_OR_DIR` analyses an existing Kineto/chrome trace (this
process, pure, never imports torch); `profile WORKLOAD` and `profile -- COMMAND` capture in a worker
through torchenv.profile.run.capture_and_analyse. Report on stdout or in -o FILE."""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from .common import absolute, check_report_path, table_console, write_report
from .errors import UsageError
from .exit_codes import ExitCode

FORMATS = ("terminal", "markdown", "html", "json")


def _add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trace", metavar="FILE_OR_DIR", help="analyse this trace (.json, .json.gz, or a folder of per-rank traces)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the report as JSON (kind torchenv.profile); same as --format json"
    )
    parser.add_argument("--format", choices=FORMATS, help="terminal (default), markdown, html or json")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument("--python", metavar="PATH", help="WORKLOAD: capture in this interpreter's environment")
    parser.add_argument(
        "--device", choices=("auto", "cuda", "cpu"), default="auto", help="WORKLOAD: default cuda if usable"
    )
    parser.add_argument("--steps", type=int, default=5, metavar="N", help="WORKLOAD: steps recorded (default 5)")
    parser.add_argument(
        "--warmup", type=int, default=2, metavar="N", help="WORKLOAD: steps run before recording (default 2)"
    )
    parser.add_argument(
        "--keep-trace", metavar="FILE", help="WORKLOAD / COMMAND: keep the raw trace here (for Perfetto)"
    )
    parser.add_argument(
        "--timeout", type=float, metavar="S", help="WORKLOAD / COMMAND: stop the capture after S seconds "
        "(default 240 for a workload, 900 for a script)"
    )  # fmt: skip
    parser.add_argument(
        "--no-remeasure", action="store_true", help="WORKLOAD / COMMAND: do not re-measure the fixes torchenv can apply"
    )
    parser.add_argument(
        "--remeasure-timeout", type=float, metavar="S", help="COMMAND: the script's re-runs (the baseline and each "
        "fix) share this deadline (default 300)"
    )  # fmt: skip
    parser.add_argument("-v", "--verbose", action="store_true", help="explain every finding; list the rules not judged")


def register(commands) -> None:
    profile = commands.add_parser(
        "profile",
        help="find what costs time in a training step, ranked by ms per step, with the fix",
        description="Analyse a torch.profiler (Kineto) trace — or capture one of WORKLOAD — and report the step "
        "breakdown (GPU busy; idle split into host wait, kernel wait, other) and findings ranked by milliseconds "
        "lost per step: host<->device syncs with the source line, pageable copies, DataLoader waits, launch-bound "
        "phases, FP32 matmuls without tensor cores, per-parameter optimizers, allocator churn, peak memory, "
        "communication share, host stalls. Thresholds and their sources: docs/profile.md.",
        usage="torchenv profile --trace FILE_OR_DIR [--format terminal|markdown|html|json] [-o FILE]\n"
        "       torchenv profile [options] WORKLOAD\n       torchenv profile [options] -- COMMAND [ARG ...]",
    )
    _add_options(profile)
    # one REMAINDER positional: WORKLOAD [options], or -- COMMAND ... (argparse cannot tell them apart)
    profile.add_argument("rest", nargs=argparse.REMAINDER, metavar="WORKLOAD | -- COMMAND", help=argparse.SUPPRESS)
    profile.set_defaults(run=run_profile)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # options after WORKLOAD: a usage error, one line
        raise UsageError(message)


def _split(args: argparse.Namespace) -> tuple[str | None, tuple[str, ...]]:
    """(WORKLOAD, COMMAND) from the remainder; options given after WORKLOAD are parsed into args."""
    rest = list(args.rest or [])
    if not rest:
        return None, ()
    if rest[0] == "--":
        if len(rest) == 1:
            raise UsageError("profile --: no command after --")
        return None, tuple(rest[1:])
    workload, tail = rest[0], rest[1:]
    if workload.startswith("-"):
        raise UsageError(f"profile: unknown option {workload}")
    command: tuple[str, ...] = ()
    if "--" in tail:
        cut = tail.index("--")
        tail, command = tail[:cut], tuple(tail[cut + 1 :])
    if tail:
        parser = _Parser(prog="torchenv profile", add_help=False)
        _add_options(parser)
        parser.parse_args(tail, namespace=args)
    if command:
        raise UsageError("profile: give a WORKLOAD or -- COMMAND, not both")
    return workload, command


def _format(args: argparse.Namespace) -> str:
    if args.json and args.format and args.format != "json":
        raise UsageError(f"--json and --format {args.format}: choose one")
    if args.json:
        return "json"
    if args.format:
        return args.format
    output = args.output or ""
    if output.endswith((".html", ".htm")):
        return "html"
    if output.endswith(".md"):
        return "markdown"
    if output.endswith(".json"):
        return "json"
    return "terminal"


def run_profile(args: argparse.Namespace) -> int:
    workload, command = _split(args)
    fmt = _format(args)
    output = absolute(args.output)
    if args.trace is not None and (workload or command):
        raise UsageError("give --trace FILE or a WORKLOAD / -- COMMAND, not both")
    if args.trace is None and not (workload or command):
        raise UsageError(
            "nothing to profile: torchenv profile --trace FILE_OR_DIR, profile WORKLOAD, or profile -- COMMAND"
        )
    if args.steps < 1 or args.warmup < 0:
        raise UsageError("--steps must be at least 1 and --warmup at least 0")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    if args.remeasure_timeout is not None and args.remeasure_timeout <= 0:
        raise UsageError("--remeasure-timeout must be a positive number of seconds")
    if command and args.device != "auto":
        raise UsageError("profile -- COMMAND: the script picks its own device; --device is for a WORKLOAD")
    check_report_path(output, "-o")
    if args.trace is not None:
        report = _analyse_trace(absolute(args.trace) or args.trace)
    else:
        report = _capture(args, workload, command)
    _write(report, fmt, output, args.verbose)
    return ExitCode.OK


def _analyse_trace(path: str):
    from ..profile.analysis import analyse
    from ..profile.trace import TraceError

    try:
        return analyse(path, torchenv_version=__version__)
    except TraceError as exc:
        raise UsageError(f"--trace {exc}") from None


def _capture(args: argparse.Namespace, workload: str | None, command: tuple[str, ...]):
    from ..profile.run import CaptureSpec, NotWired, capture_and_analyse
    from ..tune.spec import SpecError, parse_workload

    if workload is not None:
        try:  # as tune names it: a built-in, or path/to/file.py:factory made absolute (the worker runs elsewhere)
            workload = parse_workload(workload).argument
        except SpecError as exc:
            raise UsageError(str(exc)) from None
    spec = CaptureSpec(
        workload=workload,
        command=command,
        python=args.python,
        device=args.device,
        steps=args.steps,
        warmup=args.warmup,
        trace_out=absolute(args.keep_trace),
        timeout_s=args.timeout,
        remeasure=not args.no_remeasure,
        remeasure_timeout_s=args.remeasure_timeout,
    )
    try:
        return capture_and_analyse(spec, torchenv_version=__version__)
    except NotWired as exc:
        raise UsageError(str(exc)) from None


def _write(report, fmt: str, output: str | None, verbose: bool) -> None:
    if fmt == "terminal":
        if output and output != "-":
            import io

            from rich.console import Console

            from ..render.profile_terminal import render_profile_terminal

            buffer = io.StringIO()
            render_profile_terminal(
                report, Console(file=buffer, width=120, highlight=False, no_color=True), verbose=verbose
            )
            write_report(output, buffer.getvalue(), "-o")
            return
        from ..render.profile_terminal import render_profile_terminal

        render_profile_terminal(report, table_console(120), verbose=verbose)
        return
    if fmt == "json":
        from ..render.profile_json import render_profile_json

        text = render_profile_json(report) + "\n"
    elif fmt == "markdown":
        from ..render.profile_markdown import render_profile_markdown

        text = render_profile_markdown(report)
    else:
        from ..render.profile_html import render_profile_html

        text = render_profile_html(report)
    if output and output != "-":
        write_report(output, text, "-o")
    else:
        sys.stdout.write(text)
