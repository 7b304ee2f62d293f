"""The worker runtime's command line: `main.py bench|tune|profile …` inside the target interpreter.

Imports torch (reporting how long it took), chooses the device, sends the `env` record, then runs
one plan. Python 3.8+ syntax; imports nothing of torchenv outside this package.
"""

import argparse
import gc
import json
import os
import sys
import time

from . import device as D
from .protocol import describe, emit, wait_for_word

STARTED = time.monotonic()


def parser():
    p = argparse.ArgumentParser(prog="torchenv-worker")
    plans = p.add_subparsers(dest="plan")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--device", default="auto", choices=("auto", "cuda", "cpu"))
    common.add_argument("--index", type=int, default=0)
    common.add_argument("--no-compile", action="store_true")
    bench = plans.add_parser("bench", parents=[common])
    bench.add_argument("--quick", action="store_true")
    bench.add_argument("--sections", default="matmul,memory,transfer,conv,amp,ladder-resnet50,ladder-gpt")
    bench.add_argument("--phase", default="both", choices=("both", "heuristics", "search"))
    bench.add_argument("--wait-for", metavar="PATH", help="after importing torch, wait for PATH to say go or stop")
    bench.add_argument("--wait-timeout", type=float, default=900.0)
    tune = plans.add_parser("tune", parents=[common])
    tune.add_argument("workload")
    tune.add_argument("--budget", type=float, default=300.0)
    tune.add_argument("--batch", type=int)
    tune.add_argument("--tolerance", type=float, default=0.05)
    tune.add_argument("--min-gain", type=float, default=0.02)
    tune.add_argument("--steps", type=int)
    tune.add_argument("--skip", default="")
    tune.add_argument("--numerics-steps", type=int)
    tune.add_argument("--max-batch", action="store_true")
    tune.add_argument("--memory-margin", type=float, default=0.1)
    tune.add_argument("--loader", action="store_true")
    tune.add_argument("--loader-epoch-s", type=float, default=3.0)
    profile = plans.add_parser("profile", parents=[common])
    profile.add_argument("workload", nargs="?", help="a built-in or file.py:factory (else --script / --module)")
    profile.add_argument("--script", metavar="PATH", help="profile -- python PATH ARGS: run this script")
    profile.add_argument("--module", metavar="NAME", help="profile -- python -m NAME ARGS: run this module")
    profile.add_argument("--script-argv", type=json.loads, help="the script's sys.argv, a JSON list")
    profile.add_argument("--cwd", metavar="DIR", help="the script's working directory (the user's)")
    profile.add_argument("--batch", type=int)
    profile.add_argument("--steps", type=int, default=5)
    profile.add_argument("--warmup", type=int, default=2)
    profile.add_argument("--trace", required=True, help="where the Kineto trace is written (.json.gz)")
    profile.add_argument("--remeasure-from", metavar="PATH", help="after the capture, read the fixes to re-measure")
    profile.add_argument("--wait-timeout", type=float, default=120.0)
    return p


def load_workload(torch, spec, device, batch=None, loader=False, mode="full"):
    """A built-in by name, or the `file.py:factory` a user wrote."""
    from .workload import from_factory
    from .workloads import builtin

    if ":" in spec:
        return from_factory(torch, spec, device, batch)
    return builtin(torch, spec, device, mode=mode, batch=batch, loader=loader)


def main(argv=None):
    args = parser().parse_args(argv)
    if not args.plan:
        emit("fatal", stage="arguments", error="no plan given (bench, tune or profile)")
        return 2
    emit("begin", section="import")
    began = time.perf_counter()
    try:
        import torch
    except BaseException as exc:
        emit("fatal", stage="import", error=describe(exc))
        return 3
    emit("end", section="import", seconds=round(time.perf_counter() - began, 3))
    # torch's own objects (hundreds of thousands) are never garbage: moved out of the collector's
    # sight, each collection between sections costs microseconds instead of ~0.2 s.
    gc.freeze()
    if getattr(args, "wait_for", None) and not wait_for_go(args.wait_for, args.wait_timeout):
        return 0
    device = D.select(torch, args.device, args.index)
    if device is None:
        return 3
    nvml = D.Nvml(torch, device.index or 0) if device.type == "cuda" else None
    env = D.environment(torch, device, nvml)
    return {"bench": run_bench, "tune": run_tune, "profile": run_profile}[args.plan](torch, device, nvml, env, args)


def run_bench(torch, device, nvml, env, args):
    from .plan_bench import Bench

    mode = "quick" if args.quick else "full"
    emit("env", data=env, mode=mode, phase=args.phase)
    bench = Bench(
        torch,
        device,
        mode,
        compile_ok=not args.no_compile and mode == "full",
        phase=args.phase,
        nvml=nvml,
        bf16_cpu=bool(env.get("cpu_bf16")),
    )
    bench.run([s for s in args.sections.split(",") if s])
    emit("done")
    return 0


def run_tune(torch, device, nvml, env, args):
    from . import plan_tune

    emit("env", data=env)
    workload = _workload(torch, args, device, loader=args.loader)
    if workload is None:
        return 3
    options = plan_tune.Options(
        budget_s=args.budget,
        tolerance=args.tolerance,
        min_gain=args.min_gain,
        expected_steps=args.steps,
        skip=[s for s in args.skip.split(",") if s],
        numerics_steps=args.numerics_steps,
        max_batch=args.max_batch,
        memory_margin=args.memory_margin,
        loader=args.loader,
        loader_epoch_s=args.loader_epoch_s,
        no_compile_reason="skipped on request (--no-compile)" if args.no_compile else None,
        started=STARTED,
    )
    state = {}
    plan_tune.watchdog(emit, STARTED + args.budget, state)
    try:
        plan_tune.run(torch, device, workload, emit, options, state=state)
    except Exception as exc:
        emit("error", section="tune", error=describe(exc))
    emit("done")
    return 0


def run_profile(torch, device, nvml, env, args):
    from . import plan_profile

    emit("env", data=env)
    if args.script or args.module:  # profile -- python train.py ARGS: the user's script, unmodified
        from . import plan_script

        plan_script.run(torch, emit, args)
        emit("done")
        return 0
    if not args.workload:
        emit("fatal", stage="arguments", error="profile: a workload, --script or --module is needed")
        return 2
    workload = _workload(torch, args, device)
    if workload is None:
        return 3
    try:
        plan_profile.run(torch, device, workload, emit, args)
    except Exception as exc:
        emit("error", section="profile", error=describe(exc))
    emit("done")
    return 0


def _workload(torch, args, device, loader=False):
    emit("begin", section="workload")
    try:
        # tune and profile measure the GPU sizes of bench's full suite, and bench --quick's on CPU.
        mode = "full" if device.type == "cuda" else "quick"
        workload = load_workload(torch, args.workload, device, args.batch, loader=loader, mode=mode)
    except BaseException as exc:
        emit("fatal", stage="workload", error=describe(exc))
        return None
    emit("end", section="workload")
    return workload


def wait_for_go(path, timeout):
    """Started early (its torch import overlapping the other process's measurements), the search
    process waits for the parent's word before touching the GPU. False: stop (the word, the
    parent gone, or the time up)."""
    emit("begin", section="wait")
    began = time.perf_counter()
    word = wait_for_word(path, timeout)
    emit("end", section="wait", seconds=round(time.perf_counter() - began, 3), word=word)
    return word == "go"


def leave(code):
    """Exits without the interpreter's teardown once everything is reported: tearing down a CUDA
    context, cuDNN handles and torch's modules costs up to a second that nobody waits for. Inductor's
    compile workers are stopped first so that none outlives the worker."""
    inductor = sys.modules.get("torch._inductor.async_compile")
    shutdown = getattr(inductor, "shutdown_compile_workers", None)
    if shutdown is not None:
        try:
            shutdown()
        except Exception:
            pass
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
