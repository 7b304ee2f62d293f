# ruff: noqa: RUF005  (runs inside the target interpreter: conservative syntax)
"""`torchenv profile WORKLOAD` as a plan over the runtime: capture a few steps of the workload with
torch.profiler (profiling.py), hand the trace to the parent (a `capture` record), wait for the parent's
analysis to name the fixes torchenv can apply itself, then re-measure the step with each of them
(the same engine as tune's trials), so every such fix comes with its measured gain.

Python 3.8+ syntax.
"""

import json

from .engine import Engine
from .knobs import label
from .profiling import capture
from .protocol import emit, wait_for_word


def run(torch, device, workload, emit_, args):
    engine = Engine(torch, device, workload, timing={"numerics_steps": 1})
    try:
        step, _built = engine.build({})  # the user's step as written: torch's flags are left alone
        summary = capture(torch, device, step, steps=args.steps, warmup=args.warmup, trace_path=args.trace)
        del step, _built
        engine.free()
        emit_(
            "capture",
            summary=summary,
            caps=engine.caps(),
            description=workload.description,
            items=workload.items,
            unit=workload.unit,
        )
        configs = wait_for_fixes(args.remeasure_from, args.wait_timeout) if args.remeasure_from else []
        if configs:
            emit_("begin", section="remeasure")
            for config in [{}] + configs:
                out = engine.measure(config, purpose="profile")
                emit_(
                    "remeasure",
                    config=config,
                    label=label(config),
                    status=out.get("status"),
                    samples_s=out.get("samples_s"),
                    reason=out.get("reason"),
                    items=workload.items,
                )
            emit_("end", section="remeasure")
    finally:
        engine.restore()


def wait_for_fixes(path, timeout):
    """The parent writes {"configs": [...]} (or "stop") into `path` once it has analysed the trace."""
    text = wait_for_word(path, timeout, poll_s=0.02)
    if not text or text == "stop":
        return []
    try:
        return list(json.loads(text).get("configs") or [])
    except (ValueError, AttributeError):
        emit("error", section="remeasure", error="unreadable fix list from the parent")
        return []
