"""Turns the tune worker's records into a TuneReport: statistics of every trial (torchenv.perf's
summarize), speedups against the FP32 reference, the recommended configuration and its snippet.
Reads the typed records of model/perf_records.py (wire dicts are decoded at the entry). Pure:
unit-tested on recorded and fake records."""

from __future__ import annotations

from collections.abc import Sequence

from ..model import perf_records as R
from ..model.tune import LoaderResult, LoaderTrial, MaxBatch, TuneReport, TuneStage, TuneTrial
from ..perf.records import each, first, outcome, span_s
from ..perf.report import environment_from_record
from ..perf.stats import summarize
from .snippet import render_snippet

MIB = 1024.0 * 1024.0


def _one_time_kind(change: dict) -> str | None:
    if change.get("compile"):
        return "compile"
    if change.get("benchmark"):
        return "autotune"
    return "warm-up"


def _trial(record: R.Trial, items: float, reference_median: float | None) -> TuneTrial:
    time = None
    throughput = speedup = None
    status = record.status or "failed"
    reason = record.reason
    if status == "ok":
        try:
            time = summarize(record.samples_s)
            throughput = items / time.median
            if reference_median:
                speedup = reference_median / time.median
        except ValueError as exc:
            status, reason = "failed", f"no usable samples ({exc})"
    memory = record.memory_bytes
    return TuneTrial(
        id=record.id,
        stage=record.stage,
        label=record.label,
        config=dict(record.config),
        change=dict(record.change),
        status=status,
        decision=record.decision,
        reason=reason,
        throughput=throughput,
        speedup=speedup,
        gain=record.gain,
        time=time,
        memory_mib=memory / MIB if memory is not None else None,
        one_time_s=record.one_time_s,
        one_time_kind=_one_time_kind(record.change) if record.one_time_s is not None else None,
        break_even_steps=record.break_even_steps,
        numerics=record.numerics,
        numerics_delta=_finite(record.numerics_delta),
        losses=tuple(x for x in (record.losses or ()) if x is not None),
        reproducible=record.reproducible,
        seconds=record.seconds,
    )


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _loader(records: Sequence[R.Record]) -> LoaderResult | None:
    trials = list(each(records, R.LoaderTrialRecord))
    result = first(records, R.LoaderSearchResult)
    if not trials and result is None:
        return None
    rows = tuple(
        LoaderTrial(
            id=r.id,
            label=r.label,
            stage=r.stage,
            config=dict(r.config),
            status=r.status or "failed",
            reason=r.reason,
            items_per_s=r.items_per_s,
            steady_items_per_s=r.steady_items_per_s,
            startup_s=r.startup_s,
            restart_saving_s=r.restart_saving_s,
            cpu_busy=r.cpu_busy,
            seconds=r.seconds,
        )
        for r in trials
    )
    result = result or R.LoaderSearchResult()
    return LoaderResult(
        trials=rows,
        best=result.best,
        best_config=result.best_config,
        four_workers=result.four_workers,
        cpu_count=result.cpu_count,
        seconds=float(result.seconds or 0.0),
        epoch_s=result.epoch_s,
    )


def _reference_median(reference: R.Trial | None) -> float | None:
    if reference is None or reference.status != "ok":
        return None
    try:
        return summarize(reference.samples_s).median
    except ValueError:
        return None


def _stages(records: Sequence[R.Record]) -> tuple[TuneStage, ...]:
    return tuple(
        TuneStage(
            name=r.name,
            title=r.title,
            outcome=str(r.outcome),
            why=r.why or "",
            skip_reason=r.skip_reason,
            adopted=r.adopted,
        )
        for r in each(records, R.Stage)
    )


def _max_batch(record: R.MaxBatchResult | None) -> MaxBatch | None:
    if record is None:
        return None
    throughput = None
    if record.status == "ok" and record.samples_s:
        try:
            throughput = float(record.items or 0) / summarize(record.samples_s).median
        except ValueError:
            throughput = None
    return MaxBatch(
        status=record.status,
        reason=record.reason,
        batch=record.batch,
        peak_mib=(record.peak_bytes / MIB) if record.peak_bytes else None,
        limit_mib=(record.limit_bytes / MIB) if record.limit_bytes else None,
        total_mib=(record.total_bytes / MIB) if record.total_bytes else None,
        margin=record.margin,
        throughput=throughput,
    )


def _snippet(
    result: R.SearchResult | None,
    env: R.WorkerEnvironment,
    workload: R.Workload,
    trials: Sequence[TuneTrial],
    loader: LoaderResult | None,
) -> str:
    """The recommended settings as code; empty when nothing stands to recommend."""
    config = result.best_config if result else None
    if not ((config is not None and not (result and result.error)) or (loader and loader.best_config)):
        return ""
    caps = workload.caps
    recommended = next((t for t in trials if result and t.id == result.best), None)
    compiled = recommended if recommended and recommended.config.get("compile") else None
    return render_snippet(
        config if config is not None else {},
        device=str(env.device or "cuda"),
        optimizer=caps.get("optimizer") if caps.get("optimizer") not in (None, "optimizer") else None,
        optimizer_args=caps.get("optimizer_args"),
        plain_step=bool(workload.plain_step),
        loader=loader.best_config if loader else None,
        break_even_steps=compiled.break_even_steps if compiled else None,
        compile_s=compiled.one_time_s if compiled else None,
        unchecked=bool(recommended and recommended.numerics == "unchecked"),
    )


def build_report(
    records: Sequence[R.Record | dict],
    *,
    budget_s: float,
    tolerance: float,
    wall_s: float,
    worker_error: str | None = None,
    torchenv_version: str = "",
) -> TuneReport:
    records = R.decode_all(records)  # a record already typed is kept as it is
    env_record = first(records, R.Env)
    env = env_record.data if env_record is not None else R.WorkerEnvironment()
    workload = first(records, R.Workload) or R.Workload()
    results = list(each(records, R.SearchResult))
    result = results[-1] if results else None  # provisional results after each trial; the last one stands
    items = float(workload.items or 1.0)
    trial_records = {r.id: r for r in each(records, R.Trial)}  # a re-emitted trial's decision wins
    reference = trial_records.get("t0")
    trials = tuple(_trial(r, items, _reference_median(reference)) for r in trial_records.values())
    loader = _loader(records)
    # the search's own error (a trial that broke it) counts as a section error under the one status rule
    searched = [R.SectionError(section="search", error=result.error)] if result and result.error else []
    run = outcome(
        [*records, *searched],
        worker_error,
        nothing_measured=result is None and workload.plain_step is not None and loader is None,
    )
    return TuneReport(
        status=run.status,
        error=run.error,
        environment=environment_from_record(env_record.data if env_record else None),
        workload=workload.description or "?",
        unit=workload.unit or "samples/s",
        items_per_step=workload.items,
        batch_size=workload.batch_size,
        trials=trials,
        stages=_stages(records),
        reference=reference.id if reference else None,
        recommended=result.best if result else None,
        recommended_config=result.best_config if result else None,
        snippet=_snippet(result, env, workload, trials, loader),
        tolerance=float(result.tolerance if result and result.tolerance is not None else tolerance),
        tolerance_applied=result.tolerance_applied if result else None,
        noise_floor=_finite(result.noise_floor) if result else None,
        budget_s=budget_s,
        search_s=span_s(records, "search"),
        wall_s=wall_s,
        notes=tuple(r.text for r in each(records, R.Note)),
        max_batch=_max_batch(first(records, R.MaxBatchResult)),
        loader=loader,
        torchenv_version=torchenv_version,
    )


def report_from_json(text: str) -> TuneReport:
    """A TuneReport back from `torchenv tune --json` (to re-render a saved run)."""
    import json

    from ..model.codec import from_json

    data = json.loads(text)
    body = {k: v for k, v in data.items() if k not in ("schema_version", "kind", "ranked", "knowledge_version")}
    for trial in body.get("trials", []):
        if trial.get("time"):
            trial["time"].pop("spread", None)
    return from_json(TuneReport, body)
