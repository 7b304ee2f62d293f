# ruff: noqa: UP031  (runs inside the target interpreter: conservative syntax)
"""`torchenv profile -- python train.py ARGS…`: the user's unmodified script under torch.profiler.

Part of the perf worker runtime (the target interpreter; Python 3.8+ syntax; nothing of torchenv
outside this package). The script runs in this process as `python train.py ARGS…` would run it:
`runpy.run_path` with `__name__ == "__main__"`, `sys.argv == [train.py, ARGS…]`, its folder first
on sys.path, in the user's working directory. `-m module` runs through `runpy.run_module`.

Step boundaries, each one `prof.step()` (the schedule is wait=0, warmup, active=steps, as for a
workload):
  (a) `torchenv.step()`, which the user may add: the real torchenv's step() calls the module this
      plan registers as sys.modules[HOOK_MODULE]; where torchenv is not importable in this
      interpreter, a stand-in module `torchenv` with only `step` is registered (that name only);
  (b) while the script never calls it: every `step()` of the first torch.optim optimizer that steps
      (torch.optim.optimizer.register_optimizer_step_post_hook, a public API since torch 2.0), so
      a GAN's two optimizers count one step per iteration.
After warmup + steps boundaries the profiler has exported the trace: the capture record is sent and
CaptureDone (a BaseException, so `except Exception` in the script does not swallow it) ends the
script. A script that goes on regardless is ended by a watchdog; the multiprocessing children it
started (DataLoader workers) are terminated before the worker leaves.

Re-measure (plan_script_remeasure.py; `--remeasure-from FILE` with --script/--module: FILE holds
{"config": {...}}): the same script in a fresh process, timing only — no profiler; a torch.cuda.synchronize() at each boundary so
each step's wall time is real — with one fix torchenv can apply to an unmodified script: TF32
(`{"tf32": true}`: allow_tf32 on for matmuls and cuDNN at the first boundary) or a foreach optimizer
(`{"optimizer": "foreach"}`: foreach=True in every param_group of each optimizer at its first step,
through the global step pre-hook; never fused, which cannot be switched on after construction).
`{}` is the baseline. One `remeasure` record: the timed steps after warm-up, or why it failed.
"""

import importlib
import importlib.util
import multiprocessing
import os
import runpy
import sys
import threading
import time
import traceback
import types

from . import profiling
from .protocol import describe, emit

HOOK_MODULE = "torchenv_profile_hook"  # torchenv.stepping.step() looks for this module
STOP_GRACE_S = 10.0  # a script that swallows CaptureDone is ended this long after the capture


class CaptureDone(BaseException):
    """Raised at the step boundary after the last recorded step: ends the user's script."""


class Stepper:
    """Counts step boundaries and drives the profiler. The profiler starts at the first boundary (the
    script's setup is no step and is not recorded) and each later boundary is one `prof.step()`.
    The optimizer hook's first step only notes the optimizer: the iteration that follows it is the
    first step, and a torchenv.step() in that first iteration (after optimizer.step()) takes over
    with nothing counted twice; from the first torchenv.step() on, the hook is ignored."""

    def __init__(self, prof, warmup, steps, on_done, sync=None):
        self.prof = prof
        self.sync = sync  # re-measure: torch.cuda.synchronize() before each boundary's clock
        self.warmup = warmup
        self.steps = steps
        self.on_done = on_done
        self.pid = os.getpid()
        self.mode = None  # "torchenv.step()" | "optimizer.step()"
        self.optimizer = None
        self.started = False
        self.advanced = 0
        self.done = False
        self.wall = []
        self.last = None

    def explicit_step(self):
        if os.getpid() != self.pid or self.done:
            return  # a forked DataLoader worker, or after the capture
        self.mode = "torchenv.step()"
        self._boundary()

    def optimizer_hook(self, optimizer, args, kwargs):
        if os.getpid() != self.pid or self.done or self.mode == "torchenv.step()":
            return
        if self.optimizer is None:  # the first optimizer that steps is the step clock
            self.optimizer = id(optimizer)
            self.mode = "optimizer.step()"
            return
        if id(optimizer) == self.optimizer:
            self._boundary()

    def _boundary(self):
        if self.sync is not None:
            self.sync()
        now = time.perf_counter()
        if not self.started:
            self.started = True
            self.last = now
            self.prof.start()
            return
        self.wall.append(now - self.last)
        self.last = now
        self.prof.step()
        self.advanced += 1
        if self.advanced >= self.warmup + self.steps:
            self.done = True
            self.on_done()
            raise CaptureDone()


def install_step_module(step):
    """torchenv.step() reaches `step` through sys.modules[HOOK_MODULE]; where torchenv itself is not
    importable here, a stand-in `torchenv` module holding only `step` is registered."""
    hook = types.ModuleType(HOOK_MODULE)
    hook.step = step
    sys.modules[HOOK_MODULE] = hook
    try:
        importable = importlib.util.find_spec("torchenv") is not None
    except (ImportError, ValueError):
        importable = False
    if not importable:
        stand_in = types.ModuleType("torchenv")
        stand_in.__doc__ = "torchenv's stand-in under `torchenv profile --`: only step() exists"
        stand_in.step = step
        sys.modules["torchenv"] = stand_in
    return importable


def where_raised(exc, script):
    """`train.py:12` for the deepest frame of the traceback in the script (else any frame outside
    this runtime and the standard library); None when none is."""
    here = os.path.dirname(os.path.abspath(__file__))
    frames = traceback.extract_tb(exc.__traceback__)
    best = None
    for frame in frames:
        name = os.path.abspath(frame.filename)
        if script and name == script:
            best = frame
        elif best is None and not name.startswith(here) and not frame.filename.startswith("<"):
            best = frame if "site-packages" not in name and os.sep + "lib" + os.sep + "python" not in name else best
    if best is None:
        return None
    return "%s:%d" % (os.path.basename(best.filename), best.lineno)


def _end_children():
    """The multiprocessing children the script left (DataLoader workers): none outlives us."""
    children = multiprocessing.active_children()
    for child in children:
        try:
            child.terminate()
        except Exception:
            pass
    deadline = time.monotonic() + 3.0
    for child in children:
        try:
            child.join(max(0.0, deadline - time.monotonic()))
            if child.is_alive():
                child.kill()
        except Exception:
            pass


def _watchdog(seconds):
    def leave():
        time.sleep(seconds)
        emit("note", section="script", text="the script went on after the capture; ended after %g s" % seconds)
        _end_children()
        sys.stdout.flush()
        os._exit(0)

    thread = threading.Thread(target=leave, name="torchenv-stop", daemon=True)
    thread.start()


def _prepare(args):
    """The script's path (None for -m), its argv; the working directory and sys.path as `python`
    would set them."""
    script = os.path.abspath(args.script) if args.script else None
    argv = list(args.script_argv or ([args.script] if args.script else [args.module]))
    if args.cwd:
        os.chdir(args.cwd)
    if script:
        sys.path.insert(0, os.path.dirname(script))
    else:
        sys.path.insert(0, os.getcwd())  # python -m puts the working directory first
    return script, argv


def _run_script(script, module, argv):
    """Runs the script as __main__ with `argv`; None when it ended by CaptureDone or exit 0, else
    one line saying how it failed (with its place in the script)."""
    saved_argv = sys.argv[:]
    sys.argv[:] = argv
    failure = None
    try:
        if script:
            runpy.run_path(script, run_name="__main__")
        else:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
    except CaptureDone:
        pass
    except SystemExit as exc:
        if exc.code not in (None, 0):
            failure = "the script exited with %s" % (exc.code,)
    except BaseException as exc:  # the script's own error: one line with its place
        where = where_raised(exc, script)
        failure = ("%s: %s" % (where, describe(exc))) if where else describe(exc)
    finally:
        sys.argv[:] = saved_argv
    return failure


def run(torch, emit_, args):
    """Run the script of `args` (script or module, script_argv, cwd) and capture its steps, or,
    with --remeasure-from, time it with one fix (remeasure)."""
    if args.remeasure_from:
        from .plan_script_remeasure import remeasure

        return remeasure(torch, emit_, args)
    script, argv = _prepare(args)
    trace_path = profiling.trace_file(args.trace)
    exported = {}
    summary = {}
    cuda = bool(torch.cuda.is_available())

    def on_trace_ready(prof):
        if exported.get("skip"):  # the script failed: its trace would be thrown away
            return
        profiling.export(prof, trace_path)
        exported["done"] = True

    def send_capture():
        device = _device(torch, cuda)
        info = profiling.device_info(torch, device)
        summary.update(
            trace_path=trace_path,
            exported=bool(exported.get("done")),
            steps=max(0, stepper.advanced - args.warmup),
            requested_steps=args.steps,
            warmup=args.warmup,
            step_wall_s=stepper.wall,
            recorded=[i >= args.warmup for i in range(len(stepper.wall))],
            device=info,
            precision=profiling.precision_settings(torch),
            torch_version=str(torch.__version__),
            stepping=stepper.mode,
            profiler_s=time.perf_counter() - began,
        )
        emit_(
            "capture",
            summary=summary,
            caps=script_caps(info, handle is not None),
            description=" ".join(["python", *argv]),
            items=None,
            unit=None,
        )

    activities = [torch.profiler.ProfilerActivity.CPU]
    if cuda:
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    prof = torch.profiler.profile(
        activities=activities,
        schedule=torch.profiler.schedule(wait=0, warmup=args.warmup, active=args.steps, repeat=1),
        on_trace_ready=on_trace_ready,
        record_shapes=True,
        profile_memory=True,
        with_stack=True,
    )
    stepper = Stepper(prof, args.warmup, args.steps, lambda: None)

    def on_done():
        prof.stop()
        send_capture()
        _watchdog(STOP_GRACE_S)  # should the script swallow CaptureDone and go on

    stepper.on_done = on_done
    importable = install_step_module(stepper.explicit_step)
    handle = _optimizer_hook(stepper.optimizer_hook)
    emit_(
        "begin",
        section="script",
        argv=argv,
        torchenv_importable=importable,
        optimizer_hook=handle is not None,
    )
    began = time.perf_counter()
    try:
        failure = _run_script(script, args.module, argv)
    finally:
        if handle is not None:
            handle.remove()
    if stepper.done:  # the capture record went out at the last boundary
        _end_children()
        emit_("end", section="script", steps_seen=stepper.advanced)
        return True
    stepper.done = True
    exported["skip"] = bool(failure) or stepper.advanced <= args.warmup
    if stepper.started:
        try:
            prof.stop()  # exports an incomplete active window, if any
        except Exception:
            pass
    _end_children()
    seen = stepper.advanced
    if failure:
        emit_("fatal", stage="script", error=failure)
        return False
    if not stepper.started or (seen == 0 and stepper.mode == "optimizer.step()"):
        emit_(
            "fatal",
            stage="steps",
            error="the script ended without a step boundary: call torchenv.step() at the end of each training "
            "step (a no-op outside torchenv profile), or step a torch.optim optimizer",
        )
        return False
    if seen <= args.warmup or not exported.get("done"):
        emit_(
            "fatal",
            stage="steps",
            error="the script ended after %d step%s, all of them warm-up (--warmup %d): nothing was recorded; "
            "lower --warmup or let the script run more steps" % (seen, "" if seen == 1 else "s", args.warmup),
        )
        return False
    send_capture()
    emit_("end", section="script", steps_seen=seen)
    return True


def script_caps(info, hook):
    """The fixes torchenv can apply to this unmodified script by itself (see remeasure): TF32 where
    the script ran on a CUDA device of cc >= 8, a foreach optimizer where the step hooks exist.
    AMP, fused and the rest need the user's code: never."""
    cc = info.get("cc") or ""
    try:
        tf32 = info.get("type") == "cuda" and int(cc.split(".")[0]) >= 8
    except ValueError:
        tf32 = False
    return {"tf32": bool(tf32), "foreach": bool(hook), "fused": False, "bf16": False, "fp16": False,
            "plain_step": False, "script": True}  # fmt: skip


def _optimizer_hook(hook):
    """Registers `hook` after every torch.optim optimizer's step (torch >= 2.0); None when unavailable."""
    try:
        optimizer = importlib.import_module("torch.optim.optimizer")  # not an attribute of torch.optim
        return optimizer.register_optimizer_step_post_hook(hook)
    except (ImportError, AttributeError):
        return None


def _device(torch, cuda):
    if cuda:
        try:
            if torch.cuda.is_initialized():
                return torch.device("cuda", torch.cuda.current_device())
        except Exception:
            pass
    return torch.device("cpu")
