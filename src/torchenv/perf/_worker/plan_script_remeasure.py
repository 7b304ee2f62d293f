# ruff: noqa: UP031  (runs inside the target interpreter: conservative syntax)
"""`torchenv profile -- COMMAND`'s re-measure runs: the user's script again in a fresh process, timing only
(no profiler; a CUDA sync at each step boundary so each step's wall time is real), with one fix torchenv can
apply to an unmodified script itself: TF32 switched on at the first step boundary, or foreach=True set in
every param_group at each optimizer's first step. The parent writes the fix (`{"config": {...}}`, `{}` for
the baseline) to the --remeasure-from file before it starts this process; one `remeasure` record comes back.

Part of the perf worker runtime (Python 3.8+ syntax; nothing of torchenv outside this package).
"""

import importlib

from .plan_script import (
    STOP_GRACE_S,
    Stepper,
    _end_children,
    _optimizer_hook,
    _prepare,
    _run_script,
    _watchdog,
    install_step_module,
)
from .protocol import describe


def read_config(path):
    """The fix of a re-measure run, written by the parent before it started this process."""
    import json

    with open(path) as handle:
        return dict(json.load(handle).get("config") or {})


class Foreach:
    """Turns foreach on in every param_group of each optimizer at its first step (a step pre-hook)."""

    def __init__(self):
        self.seen = set()
        self.switched = 0

    def __call__(self, optimizer, args, kwargs):
        if id(optimizer) in self.seen:
            return
        self.seen.add(id(optimizer))
        for group in getattr(optimizer, "param_groups", ()):
            if "foreach" in group and not group.get("fused") and not group.get("differentiable"):
                group["foreach"] = True
                self.switched += 1


class Timer:
    """Stands in for the profiler in a re-measure run: the first boundary applies TF32."""

    def __init__(self, torch, config):
        self.torch = torch
        self.config = config

    def start(self):
        if self.config.get("tf32"):
            self.torch.backends.cuda.matmul.allow_tf32 = True
            self.torch.backends.cudnn.allow_tf32 = True

    def step(self):
        pass


def _cuda_sync(torch):
    def sync():
        try:
            if torch.cuda.is_initialized():
                torch.cuda.synchronize()
        except Exception:
            pass

    return sync


def remeasure(torch, emit_, args):
    """The script again, timing only, with the config of --remeasure-from; one `remeasure` record."""
    from .knobs import label

    config = {}
    record = {"config": config, "label": "the script as it is"}
    try:
        config = read_config(args.remeasure_from)
    except (OSError, ValueError, AttributeError) as exc:
        emit_("remeasure", status="failed", reason="unreadable fix from the parent: %s" % describe(exc), **record)
        return False
    record = {"config": config, "label": label(config) if config else "the script as it is"}
    script, argv = _prepare(args)
    foreach = Foreach() if config.get("optimizer") == "foreach" else None
    pre = _optimizer_pre_hook(foreach) if foreach is not None else None
    if foreach is not None and pre is None:
        emit_("remeasure", status="failed", reason="this torch has no optimizer step pre-hook", **record)
        return False
    sent = {}

    def on_done():
        samples = stepper.wall[args.warmup :]
        if foreach is not None and not foreach.switched:
            emit_("remeasure", status="failed", reason="no optimizer with a foreach option stepped", **record)
        else:
            emit_("remeasure", status="ok", samples_s=samples, steps=len(samples), stepping=stepper.mode, **record)
        sent["done"] = True
        _watchdog(STOP_GRACE_S)

    stepper = Stepper(Timer(torch, config), args.warmup, args.steps, on_done, sync=_cuda_sync(torch))
    install_step_module(stepper.explicit_step)
    handle = _optimizer_hook(stepper.optimizer_hook)
    emit_("begin", section="remeasure", config=config)
    try:
        failure = _run_script(script, args.module, argv)
    finally:
        for h in (handle, pre):
            if h is not None:
                h.remove()
    _end_children()
    if not sent:
        stepper.done = True
        timed = len(stepper.wall) - args.warmup
        if failure:
            reason = failure
        elif not stepper.started:
            reason = "the script ended without a step boundary"
        else:
            reason = "the script ended after %d timed step%s" % (max(0, timed), "" if timed == 1 else "s")
        if not failure and timed >= 2:
            emit_("remeasure", status="ok", samples_s=stepper.wall[args.warmup :], steps=timed, **record)
        else:
            emit_("remeasure", status="failed", reason=reason, **record)
    emit_("end", section="remeasure")
    return True


def _optimizer_pre_hook(hook):
    """Registers `hook` before every torch.optim optimizer's step (torch >= 2.0); None when unavailable."""
    try:
        optimizer = importlib.import_module("torch.optim.optimizer")
        return optimizer.register_optimizer_step_pre_hook(hook)
    except (ImportError, AttributeError):
        return None
