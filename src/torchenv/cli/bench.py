"""Wiring of `torchenv bench`: NVML facts (no torch), the worker in the target env, the report."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from .. import __version__
from .common import check_report_path, choose_from, require_seconds, resolve_python, table_console, write_report
from .exit_codes import ExitCode

# The worker runtime's sections (perf/_worker/plan_bench.py:SECTIONS; a test holds them equal). Spelled out
# here because importing the runtime package loads torchenv.perf, 0.1 s that `torchenv --help` would pay.
SECTIONS = ("matmul", "memory", "transfer", "conv", "amp", "ladder-resnet50", "ladder-gpt")


def register(commands) -> None:
    bench = commands.add_parser(
        "bench",
        help="measure what this GPU (or CPU) really delivers, against the hardware's limits",
        description="Run a benchmark suite in a worker process of the target environment: matmul per dtype "
        "against the datasheet peak, memory bandwidth, host↔device copies, the classic convolution test, "
        "AMP against FP32 and a training ladder (ResNet-50, GPT block) over each speed setting.",
    )
    bench.add_argument("--python", metavar="PATH", help="benchmark this interpreter's torch (default: this one)")
    bench.add_argument("--quick", action="store_true", help="a ~15-second run: fewer repeats, no torch.compile")
    bench.add_argument("--json", action="store_true", help="print the report as JSON (kind torchenv.bench)")
    bench.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report with charts")
    bench.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto", help="default: cuda if usable")
    bench.add_argument(
        "--sections", metavar="LIST", help=f"comma-separated subset of: {', '.join(SECTIONS)} (default: all)"
    )
    bench.add_argument("--no-compile", action="store_true", help="skip the torch.compile rungs")
    bench.add_argument(
        "--timeout", type=float, default=900.0, metavar="SECONDS", help="bound on the whole worker run (default 900)"
    )
    bench.set_defaults(run=run_bench)


def run_bench(args: argparse.Namespace) -> int:
    from ..knowledge import load_knowledge
    from ..perf import Hardware, build_report, context_from, run_suite
    from ..perf.run import describe_worker_failure
    from ..probes import gather_facts
    from ..probes.runner import Runner

    require_seconds(args.timeout, "--timeout")
    check_report_path(args.html, "--html")  # before minutes of measuring, not after
    sections = choose_from(args.sections, SECTIONS, "--sections") or None
    python = resolve_python(args.python, sys.executable)
    runner = Runner()

    # NVML facts at rest (no torch): PCIe link, other processes, MIG. Read while the worker imports
    # torch (seconds) rather than before it starts; if they were not in before the worker touched
    # the GPU, its own context could be among the "other processes", so that count is dropped.
    background = ThreadPoolExecutor(max_workers=2)
    facts_future = background.submit(_timed, gather_facts, python=python, with_torch=False, timeout=10.0, runner=runner)
    knowledge_future = background.submit(load_knowledge)

    from ..render.perf_progress import WorkerProgress

    progress = WorkerProgress(sys.stderr, rich=not args.json and sys.stderr.isatty(), plain_lines=False)
    gpu_touched = []

    from ..model.perf_records import Begin, Env

    def on_record(record) -> None:  # a typed record (model/perf_records.py), decoded once by perf.run
        if isinstance(record, Begin) and record.section == "cuda-init" and not gpu_touched:
            gpu_touched.append(time.monotonic())
        progress.update(record)

    with progress:
        run = run_suite(
            runner,
            python,
            quick=args.quick,
            device=args.device,
            sections=sections,
            compile=not args.no_compile,
            timeout=args.timeout,
            on_record=on_record,
        )
    facts, facts_at = facts_future.result()
    knowledge = knowledge_future.result()
    background.shutdown()

    env = next((r.data for r in run.typed if isinstance(r, Env)), None)
    context = context_from(facts, env)
    if gpu_touched and facts_at > gpu_touched[0]:
        context = dataclasses.replace(context, other_processes=None, other_processes_memory_mib=None)
    hardware = Hardware()
    if env is not None and env.device == "cuda":
        model = knowledge.gpu_by_name(str(env.device_name))
        if model is not None:
            hardware = Hardware(model.name, dict(model.peak_tflops), model.memory_bandwidth_gbs, model.source)
    report = build_report(
        run.typed,
        mode="quick" if args.quick else "full",
        hardware=hardware,
        context=context,
        wall_s=run.seconds,
        worker_error=describe_worker_failure(run),
        knowledge_version=knowledge.version,
        torchenv_version=__version__,
    )
    if args.html:
        from ..render.html_bench import render_html

        write_report(args.html, render_html(report), "--html")
    if args.json:
        from ..render.json_bench import render_bench_json

        sys.stdout.write(render_bench_json(report) + "\n")
    else:
        from ..render.terminal_bench import render_bench_terminal

        render_bench_terminal(report, table_console(140))
    return ExitCode.OK if report.status == "ok" else ExitCode.PROBLEMS


def _timed(fn, *args, **kwargs):
    """fn's result and the monotonic time it was ready."""
    value = fn(*args, **kwargs)
    return value, time.monotonic()
