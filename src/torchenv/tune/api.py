"""`torchenv.tune(...)`: the tuner beside the user's own code, in the caller's process (the one
place torchenv runs torch in-process: the user already imported it, and their model, data and
step cannot be shipped to a worker). The same engine, search and report as the CLI's worker.

The user's model is never modified: every trial trains a deep copy. torch's global settings
(TF32, cudnn.benchmark, deterministic algorithms) are restored afterwards; torch._dynamo.reset()
is called around the compile trials.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from .. import __version__
from ..model.tune import TuneReport


def tune(
    model: Any = None,
    sample: Any = None,
    *,
    loader: Any = None,
    loss_fn: Callable | None = None,
    optimizer: Any = None,
    step: Callable | None = None,
    dataset: Any = None,
    items_per_step: float | None = None,
    unit: str | None = None,
    description: str | None = None,
    device: Any = None,
    budget: float = 300.0,
    tolerance: float = 0.05,
    min_gain: float = 0.02,
    expected_steps: int | None = None,
    skip: Iterable[str] = (),
    compile: bool = True,
    max_batch: bool = False,
    memory_margin: float = 0.1,
    tune_loader: bool | None = None,
    loader_epoch_s: float = 3.0,
    progress: bool = True,
    show: bool = True,
) -> TuneReport:
    """Measure speed settings on your training step and return a TuneReport.

    Give `model` + `sample` (one batch: `(inputs, target)`) or `loader` (its first batch is used,
    and with `tune_loader` its settings are tuned too) + `loss_fn(output, target)` + `optimizer`
    (a factory `params -> Optimizer`, an Optimizer class, or your optimizer instance); or only a
    plain `step()` callable (then only global settings can be tried: TF32, AMP bf16, cudnn.benchmark).

    `report.snippet` holds the recommended settings as code, `report.recommended_config` the
    knobs; `show=True` prints the ranked table. `budget` (seconds) bounds the search.
    """
    import torch

    from ..perf._worker import plan_tune
    from ..perf._worker.device import environment
    from ..perf._worker.protocol import describe
    from ..perf._worker.workload import normalize
    from .report import build_report

    if budget <= 0:
        raise ValueError("budget must be a positive number of seconds")
    started = time.monotonic()
    if device is None:
        if model is not None:
            first = next(iter(model.parameters()), None)
            device = first.device if first is not None else torch.device("cpu")
        else:
            device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    workload = normalize(
        torch,
        {
            "model": model,
            "sample": sample,
            "loader": loader,
            "dataset": dataset,
            "items_per_step": items_per_step,
            "unit": unit,
            "description": description or (type(model).__name__ if model is not None else "your step()"),
        },
        device,
        loss_fn=loss_fn,
        optimizer=optimizer,
        step=step,
    )
    from ..model.perf_records import Record, decode
    from ..render.perf_progress import WorkerProgress

    records: list[Record] = []
    say = WorkerProgress(sys.stderr, rich=False, plain_lines=progress, prefix="torchenv.tune ")

    def emit(event: str, **fields: Any) -> None:
        # the record as the worker's protocol would send it (JSON, default=str), decoded once: the
        # in-process run reads exactly what the CLI's worker run reads
        wire = {"event": event, "t": round(time.monotonic() - started, 4), **fields}
        record = decode(json.loads(json.dumps(wire, default=str)))
        records.append(record)
        say(record)

    emit("env", data=environment(torch, device))
    options = plan_tune.Options(
        budget_s=budget,
        tolerance=tolerance,
        min_gain=min_gain,
        expected_steps=expected_steps,
        skip=list(skip),
        max_batch=max_batch,
        memory_margin=memory_margin,
        loader=bool(tune_loader if tune_loader is not None else (loader is not None or dataset is not None)),
        loader_epoch_s=loader_epoch_s,
        no_compile_reason=None if compile else "skipped on request (compile=False)",
        started=started,
    )
    error = None
    try:
        plan_tune.run(torch, device, workload, emit, options)
    except Exception as exc:  # a failure inside the search comes back in the report
        error = describe(exc)
        emit("error", section="tune", error=error)
    emit("done")
    report = build_report(
        records, budget_s=budget, tolerance=tolerance, wall_s=time.monotonic() - started, torchenv_version=__version__
    )
    if show:
        from ..render.tune_terminal import print_tune_report

        print_tune_report(report, sys.stderr)
    return report
