"""`torchenv tune` as a plan over the runtime: the step search, the optional largest batch, the
optional DataLoader search, streaming records through `emit(event, **fields)`. Shared by the worker
(records go to stdout, for the parent) and the Python API (records collected in memory).
Python 3.8+ syntax."""

import os
import sys
import threading
import time

from . import batch as batch_logic
from . import loader_search as loader_logic
from .dataloading import loader_factory
from .engine import Engine
from .search import DEFAULT_MIN_GAIN, Search

LOADER_SHARE = 0.3  # of the budget kept for the DataLoader search when one is asked for
LOADER_MAX_S = 90.0
MAX_BATCH_RESERVE_S = 20.0


class Options:
    def __init__(
        self,
        budget_s=300.0,
        tolerance=0.05,
        min_gain=DEFAULT_MIN_GAIN,
        expected_steps=None,
        skip=(),
        numerics_steps=None,
        max_batch=False,
        memory_margin=0.1,
        loader=False,
        loader_epoch_s=1.0,
        no_compile_reason=None,
        started=None,
    ):
        self.budget_s = float(budget_s)
        self.tolerance = float(tolerance)
        self.min_gain = float(min_gain)
        self.expected_steps = expected_steps
        self.skip = tuple(skip or ())
        self.numerics_steps = numerics_steps
        self.max_batch = bool(max_batch)
        self.memory_margin = float(memory_margin)
        self.loader = bool(loader)
        self.loader_epoch_s = float(loader_epoch_s)
        self.no_compile_reason = no_compile_reason
        self.started = started if started is not None else time.monotonic()


def _public(trial):
    return {k: v for k, v in trial.items() if k not in ("proc_stat",)}


def _result(emit, result, provisional):
    emit(
        "result",
        best=result["best"]["id"],
        best_config=result["best"]["config"],
        reference=result["reference"]["id"] if result["reference"] else None,
        noise_floor=result["noise_floor"],
        tolerance=result["tolerance"],
        tolerance_applied=result["tolerance_applied"],
        error=result["error"],
        provisional=provisional,
    )


def run(torch, device, workload, emit, options, cpu_count=None, clock=time.monotonic, state=None):
    """The whole tune. Returns the step search's result dict (or None with only a loader).
    state (a dict) receives the running Search as state["search"], for a watchdog."""
    deadline = options.started + options.budget_s
    engine = Engine(torch, device, workload, numerics_steps=options.numerics_steps)
    result = None
    try:
        caps = engine.caps(options.no_compile_reason)
        emit(
            "workload",
            description=workload.description,
            items=workload.items,
            unit=workload.unit,
            batch_size=workload.batch_size,
            caps=caps,
            plain_step=workload.model is None,
            optimizer=caps.get("optimizer"),
            timing=engine.timing,
        )
        has_loader = options.loader and (workload.loader is not None or workload.dataset is not None)
        if options.loader and not has_loader:
            emit("note", text="no DataLoader or dataset in the workload: the DataLoader search was skipped")
        reserve = min(LOADER_SHARE * options.budget_s, LOADER_MAX_S) if has_loader else 0.0
        if options.max_batch:
            reserve += MAX_BATCH_RESERVE_S
        if workload.model is not None or workload.step is not None:
            emit("begin", section="search")
            t = engine.timing
            search = Search(
                caps,
                engine.measure,
                clock,
                budget_s=max(0.0, deadline - reserve - clock()),
                tolerance=options.tolerance,
                min_gain=options.min_gain,
                expected_steps=options.expected_steps,
                skip=options.skip,
                items=float(workload.items or 1),
                trial_steps=t["numerics_steps"] + t["warmup_steps"] + t["min_steps"] + 2,
                on_trial=lambda trial: emit("trial", **_public(trial)),
                on_stage=lambda stage: emit("stage", **stage),
                on_best=lambda best: _result(emit, search.result(best), True),
            )
            if state is not None:
                state["search"] = search
            emit("plan", stages=[s.as_record() for s in search.stages])
            result = search.run()
            _result(emit, result, False)
            emit("end", section="search")
            if options.max_batch and result["error"] is None:
                emit("begin", section="max-batch")
                info = engine.max_batch(
                    result["best"]["config"],
                    options.memory_margin,
                    batch_logic.memory_limit,
                    batch_logic.predict_max_batch,
                )
                emit("max_batch", **info)
                emit("end", section="max-batch")
        if has_loader:
            emit("begin", section="loader")
            run_loader(
                torch,
                engine,
                workload,
                emit,
                options,
                cpu_count=cpu_count,
                clock=clock,
                budget_s=max(5.0, deadline - clock()),
            )
            emit("end", section="loader")
    finally:
        engine.restore()
    return result


def loader_measure(engine, make_loader, epoch_s):
    def measure(config):
        out = engine.measure_loader(make_loader, config, epoch_s=epoch_s)
        stat = out.pop("proc_stat", None)
        if stat and stat[0] and stat[1]:
            out["cpu_busy"] = loader_logic.cpu_busy(stat[0], stat[1])
        out["restart_saving_s"] = loader_logic.restart_saving_s(dict(out, config=config))
        effective, steady = loader_logic.loader_rate(out.pop("windows", None) or [], out.get("epoch_items"))
        if effective is not None:  # else the raw rate stands: not one batch arrived inside a window
            out["raw_items_per_s"] = out.get("items_per_s")
            out["items_per_s"], out["steady_items_per_s"] = effective, steady
        return out

    return measure


def run_loader(torch, engine, workload, emit, options, cpu_count=None, clock=time.monotonic, budget_s=None):
    cpu_count = cpu_count or os.cpu_count() or 1
    make = loader_factory(
        torch,
        template=workload.loader,
        dataset=workload.dataset,
        batch_size=workload.loader_batch_size or workload.batch_size,
        device_cuda=engine.cuda,
        epoch_s=options.loader_epoch_s,
    )
    began = clock()
    search = loader_logic.LoaderSearch(
        loader_measure(engine, make, options.loader_epoch_s),
        cpu_count,
        engine.cuda,
        clock=clock,
        budget_s=budget_s,
        on_trial=lambda trial: emit("loader_trial", **_public(trial)),
    )
    result = search.run()
    emit(
        "loader_result",
        best=result["best"]["id"] if result["best"] else None,
        best_config=result["best"]["config"] if result["best"] else None,
        four_workers=result["four_workers"]["id"] if result["four_workers"] else None,
        cpu_count=cpu_count,
        seconds=clock() - began,
        epoch_s=options.loader_epoch_s,
    )
    return result


def watchdog(emit, deadline, state):
    """--budget is a hard bound: a trial still running at the deadline (a compile that took longer
    than estimated) is reported as stopped, and the worker ends with what it has measured."""

    def watch():
        while time.monotonic() < deadline:
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
        search = state.get("search")
        trial = getattr(search, "in_flight", None)
        if trial is not None:
            stopped = dict(
                trial,
                status="skipped",
                decision="stopped",
                reason="still running when the budget ran out (raise --budget)",
            )
            emit("trial", **stopped)
        emit("note", text="the budget ran out: the search stopped at %s" % (trial["label"] if trial else "its end"))
        emit("done", stopped=True)
        sys.stdout.flush()
        os._exit(0)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread
