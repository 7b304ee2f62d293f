"""Wiring of `torchenv tune`: the search runs in a worker process of the target env; this process
never imports torch. Progress on stderr, the report on stdout (terminal table or --json)."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

from .. import __version__
from .common import (
    check_report_path,
    choose_from,
    require_fraction,
    require_seconds,
    resolve_python,
    table_console,
    write_report,
)
from .errors import UsageError
from .exit_codes import ExitCode

KNOBS = ("tf32", "amp", "channels_last", "benchmark", "optimizer", "compile", "max-autotune", "determinism")


def register(commands) -> None:
    tune = commands.add_parser(
        "tune",
        help="find the fastest settings for a training step (and its DataLoader), measured",
        description="Measure speed settings on a training workload — TF32, AMP (bf16, or fp16 with a GradScaler), "
        "channels_last, cudnn.benchmark, fused/foreach optimizers, torch.compile (default, max-autotune) and, with "
        "--loader, the DataLoader's num_workers/pin_memory/prefetch_factor/persistent_workers — in a worker process "
        "of the target environment. Knobs that cannot apply are skipped; the order follows what interacts; each "
        "configuration's first losses are compared with FP32 and a setting that changes them beyond the tolerance "
        "is never recommended.",
    )
    tune.add_argument(
        "workload", help="resnet50, transformer, or path/to/file.py:make_workload (a function returning the workload)"
    )
    tune.add_argument("--python", metavar="PATH", help="tune in this interpreter's environment (default: this one)")
    tune.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto", help="default: cuda if usable")
    tune.add_argument(
        "--budget", type=float, default=300.0, metavar="SECONDS", help="bound on the search (default 300)"
    )
    tune.add_argument("--batch", type=int, metavar="N", help="batch size of a built-in workload (default: 128 on GPU)")
    tune.add_argument(
        "--tolerance", type=float, default=0.05, metavar="REL", help="numerics: largest relative loss difference (0.05)"
    )
    tune.add_argument("--min-gain", type=float, default=0.02, metavar="REL", help="a knob must be this much faster")
    tune.add_argument(
        "--steps", type=int, metavar="N", help="steps you will train: compile only if it pays back by then"
    )
    tune.add_argument("--skip", metavar="LIST", help=f"knobs not to try, comma-separated: {', '.join(KNOBS)}")
    tune.add_argument("--no-compile", action="store_true", help="do not try torch.compile")
    tune.add_argument("--max-batch", action="store_true", help="also find the largest batch that fits (GPU)")
    tune.add_argument("--memory-margin", type=float, default=0.1, metavar="REL", help="memory kept free (0.1)")
    tune.add_argument("--loader", action="store_true", help="also tune the DataLoader (resnet50: a CPU-heavy dataset)")
    tune.add_argument("--loader-epoch-s", type=float, default=3.0, metavar="SECONDS", help=argparse.SUPPRESS)
    tune.add_argument("--json", action="store_true", help="print the report as JSON (kind torchenv.tune)")
    tune.add_argument("--html", metavar="FILE", help="write the report as a self-contained HTML page")
    tune.add_argument(
        "--add-to-html", metavar="FILE", help="add the results to an existing `torchenv bench --html` report"
    )
    tune.set_defaults(run=run_tune)


MAX_HTML_BYTES = 64 * 1024 * 1024
HTML_TITLES = ("<title>torchenv bench</title>", "<title>torchenv tune</title>")


def read_torchenv_html(path: str) -> str:
    """The page `--add-to-html` extends: a regular file, bounded, that a torchenv report wrote."""
    from ..userfiles import UserFileError, read_text_bounded

    try:
        text = read_text_bounded(path, limit=MAX_HTML_BYTES, what="torchenv HTML report")
    except UserFileError as exc:
        raise UsageError(f"--add-to-html {exc}") from None
    head = text[:4096].lower()
    if not (head.lstrip().startswith("<!doctype html") and any(t in head for t in HTML_TITLES)):
        raise UsageError(
            f"--add-to-html {path}: not a torchenv HTML report (write one with `torchenv bench --html`); "
            "not changing it"
        )
    return text


def bench_of_page(path: str):
    """The bench report a `torchenv bench --html` page holds: the tune report is added by rendering
    the page again from both reports, never by editing its HTML."""
    from ..model.codec import DecodeError
    from ..render.perf_page import bench_report_from_page

    try:
        bench = bench_report_from_page(read_torchenv_html(path))
    except DecodeError as exc:
        raise UsageError(
            f"--add-to-html {path}: its embedded bench report does not decode ({exc}); not changing it"
        ) from None
    if bench is None:
        raise UsageError(
            f"--add-to-html {path}: no bench report embedded in the page (written by an older torchenv?); "
            "write it again with `torchenv bench --html`; not changing it"
        )
    return bench


def _check(args: argparse.Namespace) -> None:
    """Every flag and output path, before the worker starts (a bad one is one line, exit 2)."""
    require_seconds(args.budget, "--budget")
    require_seconds(args.loader_epoch_s, "--loader-epoch-s")
    require_fraction(args.min_gain, "--min-gain", low=0.0, high=10.0)
    if args.batch is not None and args.batch < 1:
        raise UsageError("--batch must be at least 1")
    if not (math.isfinite(args.tolerance) and 0 <= args.tolerance < 10):
        raise UsageError("--tolerance must be a relative difference such as 0.05")
    if not (math.isfinite(args.memory_margin) and 0 <= args.memory_margin < 1):
        raise UsageError("--memory-margin must be within [0, 1)")
    if args.steps is not None and args.steps < 1:
        raise UsageError("--steps must be at least 1")
    if args.loader and args.workload == "transformer":
        raise UsageError("--loader: the built-in transformer has no dataset; give a factory that returns a loader")
    if args.add_to_html:
        if not os.path.lexists(args.add_to_html):
            raise UsageError(f"--add-to-html {args.add_to_html}: no such file (write one with `torchenv bench --html`)")
        bench_of_page(args.add_to_html)
        check_report_path(args.add_to_html, "--add-to-html")
    check_report_path(args.html, "--html")


def run_tune(args: argparse.Namespace) -> int:
    from ..perf.run import describe_worker_failure
    from ..probes.runner import Runner
    from ..tune.report import build_report
    from ..tune.run import run_tune_worker, tune_argv
    from ..tune.spec import SpecError, parse_workload

    _check(args)
    skip = choose_from(args.skip, KNOBS, "--skip")
    try:
        spec = parse_workload(args.workload)
    except SpecError as exc:
        raise UsageError(str(exc)) from None
    python = resolve_python(args.python, sys.executable)
    argv = tune_argv(
        python,
        spec.argument,
        device=args.device,
        budget_s=args.budget,
        batch=args.batch,
        tolerance=args.tolerance,
        min_gain=args.min_gain,
        steps=args.steps,
        skip=skip,
        max_batch=args.max_batch,
        memory_margin=args.memory_margin,
        loader=args.loader,
        loader_epoch_s=args.loader_epoch_s,
        compile=not args.no_compile,
    )
    from ..render.perf_progress import WorkerProgress

    progress = WorkerProgress(sys.stderr, rich=sys.stderr.isatty() and not args.json, prefix="tune: ")
    began = time.monotonic()
    with progress:
        run = run_tune_worker(Runner(), argv, budget_s=args.budget, on_record=progress.update)
    worker_error = describe_worker_failure(run)
    report = build_report(
        run.typed,
        budget_s=args.budget,
        tolerance=args.tolerance,
        wall_s=time.monotonic() - began,
        worker_error=worker_error,
        torchenv_version=__version__,
    )
    from ..render.json_tune import render_tune_json
    from ..render.perf_page import render_perf_page
    from ..render.tune_terminal import render_tune_terminal

    if args.html:
        write_report(args.html, render_perf_page(tune=report), "--html")
    if args.add_to_html:
        bench = bench_of_page(args.add_to_html)  # again: it may have changed during the run
        write_report(args.add_to_html, render_perf_page(bench=bench, tune=report), "--add-to-html")
    if args.json:
        sys.stdout.write(render_tune_json(report) + "\n")
    else:
        render_tune_terminal(report, table_console(150))
    return ExitCode.OK if report.status == "ok" else ExitCode.PROBLEMS
