"""Wiring of `torchenv preflight`: start `torchrun --standalone` with N ranks of
`python -m torchenv.preflight` (in the target interpreter, through the runner), then render rank 0's
report. Exit codes are the verdict: 0 ready, 1 degraded, 2 not ready (2 as well for a usage error).
Under a multi-node launcher, run `torchrun … -m torchenv.preflight` directly instead."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from .. import __version__
from .common import check_report_path, require_seconds, resolve_python, write_report
from .errors import UsageError


def register(commands) -> None:
    preflight = commands.add_parser(
        "preflight",
        help="is this set of GPUs ready for distributed training: ranks, skew, binding, health, bandwidth",
        description="Run one process per GPU under torchrun (--standalone) and judge: every rank arrives in time, "
        "all ranks have the same stack (NCCL, torch, CUDA, env vars), each has its own GPU near its CPUs, "
        "/dev/shm and NCCL's environment are sane, GEMMs are right and as fast as the datasheet says, and "
        "collectives reach the bus bandwidth the fabric should give. Exit 0 ready, 1 degraded, 2 not ready. "
        "Across nodes: torchrun --nnodes … --nproc-per-node N -m torchenv.preflight.",
    )
    preflight.add_argument(
        "--gpus", "--nproc", dest="gpus", type=int, metavar="N", help="ranks to start (default: every visible GPU; 1 without GPUs)"
    )
    preflight.add_argument("--python", metavar="PATH", help="run the ranks in this interpreter (default: this one)")
    preflight.add_argument("--json", action="store_true", help="print the report as JSON (kind torchenv.preflight)")
    preflight.add_argument("-o", "--output", metavar="FILE", help="also write the JSON report to FILE")
    preflight.add_argument("--quick", action="store_true", help="fewer sizes and a shorter GEMM burn")
    preflight.add_argument("--backend", choices=("auto", "nccl", "gloo"), default="auto", help="default: nccl when CUDA is usable")
    preflight.add_argument("--sizes", metavar="LIST", help="sweep sizes, e.g. 1M,64M,1G,4G (default 1M..4G on GPUs)")
    preflight.add_argument("--collectives", metavar="LIST", help="subset of all_reduce,all_gather,reduce_scatter")
    preflight.add_argument("--no-bandwidth", action="store_true", help="skip the collective sweep")
    preflight.add_argument("--no-pairwise", action="store_true", help="skip the round-robin pair test")
    preflight.add_argument("--no-gemm", action="store_true", help="skip the GEMM health check")
    preflight.add_argument("--burn-seconds", type=float, metavar="S", help="GEMM burn per dtype (default 2 s on GPUs)")
    preflight.add_argument("--join-timeout", type=float, default=30.0, metavar="S", help="wait for the ranks to arrive (default 30)")
    preflight.add_argument(
        "--collective-timeout", type=float, default=60.0, metavar="S", help="bound on each collective and exchange (default 60)"
    )
    preflight.add_argument("--timeout", type=float, default=600.0, metavar="S", help="bound on the run after the join (default 600)")
    preflight.add_argument("-v", "--verbose", action="store_true", help="explain informational findings too")
    preflight.set_defaults(run=run_preflight)


def worker_arguments(args: argparse.Namespace) -> list[str]:
    """The rank worker's arguments for what the user asked (validated here, before anything starts)."""
    from ..preflight.bandwidth import COLLECTIVES, parse_sizes

    out = [
        "--join-timeout",
        f"{require_seconds(args.join_timeout, '--join-timeout'):g}",
        "--collective-timeout",
        f"{require_seconds(args.collective_timeout, '--collective-timeout'):g}",
        "--timeout",
        f"{require_seconds(args.timeout, '--timeout'):g}",
        "--backend",
        args.backend,
    ]
    if args.sizes:
        try:
            parse_sizes(args.sizes)
        except ValueError as exc:
            raise UsageError(f"--sizes: {exc}") from None
        out += ["--sizes", args.sizes]
    if args.collectives:
        chosen = [c.strip() for c in args.collectives.split(",") if c.strip()]
        unknown = [c for c in chosen if c not in COLLECTIVES]
        if unknown or not chosen:
            raise UsageError(f"--collectives: unknown {', '.join(unknown) or '(none given)'} (choose from {', '.join(COLLECTIVES)})")
        out += ["--collectives", ",".join(chosen)]
    if args.burn_seconds is not None:
        out += ["--burn-seconds", f"{require_seconds(args.burn_seconds, '--burn-seconds'):g}"]
    for flag in ("quick", "no_bandwidth", "no_pairwise", "no_gemm"):
        if getattr(args, flag):
            out.append("--" + flag.replace("_", "-"))
    return out


def default_ranks(runner) -> int:
    from ..preflight.launch import visible_gpus
    from ..probes.gpu import read_nvml

    answer = read_nvml(runner, 10.0)
    return visible_gpus(len(answer.gpus) if answer.gpus is not None else None, os.environ.get("CUDA_VISIBLE_DEVICES"))


def run_preflight(args: argparse.Namespace) -> int:
    from ..preflight.launch import run_ranks
    from ..probes.runner import Runner

    worker_args = worker_arguments(args)
    if args.gpus is not None and not 1 <= args.gpus <= 1024:
        raise UsageError("--gpus must be between 1 and 1024")
    check_report_path(args.output, "--output")
    python = resolve_python(args.python, sys.executable)
    runner = Runner()
    nproc = args.gpus or default_ranks(runner)
    # torchrun's own start, the join, the run, then the reporting: each bounded; the whole is too.
    bound = args.join_timeout + args.timeout + args.collective_timeout + 60.0
    status = _Status(enabled=not args.json and sys.stderr.isatty(), text=f"{nproc} rank(s) under torchrun…")
    with status, tempfile.TemporaryDirectory(prefix="torchenv-preflight-") as folder:
        report, _ = run_ranks(runner, python, nproc, worker_args, folder=Path(folder), timeout=bound, torchenv_version=__version__)
    from ..render.json_preflight import render_preflight_json

    if args.output:
        write_report(args.output, render_preflight_json(report) + "\n", "--output")
    if args.json:
        sys.stdout.write(render_preflight_json(report) + "\n")
    else:
        from ..render.terminal import make_console
        from ..render.terminal_preflight import render_preflight_terminal

        render_preflight_terminal(report, make_console(sys.stdout), verbose=args.verbose)
    return report.exit_code


class _Status:
    def __init__(self, *, enabled: bool, text: str):
        self.enabled, self.text, self.status = enabled, text, None

    def __enter__(self):
        if self.enabled:
            from rich.console import Console

            self.status = Console(stderr=True).status(self.text)
            self.status.start()
        return self

    def __exit__(self, *exc):
        if self.status is not None:
            self.status.stop()
