"""Turns the tune worker's records into a TuneReport: statistics of every trial (torchenv.perf's
summarize), speedups against the FP32 reference, the recommended configuration and its snippet.
Pure: unit-tested on recorded and fake records."""

from __future__ import annotations

from collections.abc import Sequence

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


def _trial(record: dict, items: float, reference_median: float | None) -> TuneTrial:
    time = None
    throughput = speedup = None
    status = str(record.get("status") or "failed")
    reason = record.get("reason")
    if status == "ok":
        try:
            time = summarize(record.get("samples_s") or ())
            throughput = items / time.median
            if reference_median:
                speedup = reference_median / time.median
        except ValueError as exc:
            status, reason = "failed", f"no usable samples ({exc})"
    memory = record.get("memory_bytes")
    losses = tuple(float(x) for x in (record.get("losses") or ()) if x is not None)
    return TuneTrial(
        id=str(record.get("id")),
        stage=str(record.get("stage")),
        label=str(record.get("label")),
        config=dict(record.get("config") or {}),
        change=dict(record.get("change") or {}),
        status=status,
        decision=record.get("decision"),
        reason=reason,
        throughput=throughput,
        speedup=speedup,
        gain=record.get("gain"),
        time=time,
        memory_mib=memory / MIB if isinstance(memory, (int, float)) else None,
        one_time_s=record.get("one_time_s"),
        one_time_kind=_one_time_kind(record.get("change") or {}) if record.get("one_time_s") is not None else None,
        break_even_steps=record.get("break_even_steps"),
        numerics=record.get("numerics"),
        numerics_delta=_finite(record.get("numerics_delta")),
        losses=losses,
        reproducible=record.get("reproducible"),
        seconds=record.get("seconds"),
    )


def _finite(value):
    if value is None:
        return None
    value = float(value)
    return value if value == value and abs(value) != float("inf") else None


def _loader(records: Sequence[dict]) -> LoaderResult | None:
    trials = [r for r in records if r.get("event") == "loader_trial"]
    result = next((r for r in records if r.get("event") == "loader_result"), None)
    if not trials and result is None:
        return None
    rows = tuple(
        LoaderTrial(
            id=str(r.get("id")),
            label=str(r.get("label")),
            stage=str(r.get("stage")),
            config=dict(r.get("config") or {}),
            status=str(r.get("status") or "failed"),
            reason=r.get("reason"),
            items_per_s=r.get("items_per_s"),
            steady_items_per_s=r.get("steady_items_per_s"),
            startup_s=tuple(r.get("startup_s") or ()),
            restart_saving_s=r.get("restart_saving_s"),
            cpu_busy=r.get("cpu_busy"),
            seconds=r.get("seconds"),
        )
        for r in trials
    )
    result = result or {}
    return LoaderResult(
        trials=rows,
        best=result.get("best"),
        best_config=result.get("best_config"),
        four_workers=result.get("four_workers"),
        cpu_count=result.get("cpu_count"),
        seconds=float(result.get("seconds") or 0.0),
        epoch_s=result.get("epoch_s"),
    )


def _reference_median(reference: dict | None) -> float | None:
    if not reference or reference.get("status") != "ok":
        return None
    try:
        return summarize(reference.get("samples_s") or ()).median
    except ValueError:
        return None


def _stages(records: Sequence[dict]) -> tuple[TuneStage, ...]:
    return tuple(
        TuneStage(
            name=str(r.get("name")),
            title=str(r.get("title")),
            outcome=str(r.get("outcome")),
            why=str(r.get("why") or ""),
            skip_reason=r.get("skip_reason"),
            adopted=r.get("adopted"),
        )
        for r in each(records, "stage")
    )


def _max_batch(record: dict | None) -> MaxBatch | None:
    if not record:
        return None
    throughput = None
    if record.get("status") == "ok" and record.get("samples_s"):
        try:
            throughput = float(record.get("items") or 0) / summarize(record["samples_s"]).median
        except ValueError:
            throughput = None
    return MaxBatch(
        status=str(record.get("status")),
        reason=record.get("reason"),
        batch=record.get("batch"),
        peak_mib=(record["peak_bytes"] / MIB) if record.get("peak_bytes") else None,
        limit_mib=(record["limit_bytes"] / MIB) if record.get("limit_bytes") else None,
        total_mib=(record["total_bytes"] / MIB) if record.get("total_bytes") else None,
        margin=record.get("margin"),
        throughput=throughput,
    )


def _snippet(result, env, workload, trials, loader) -> str:
    """The recommended settings as code; empty when nothing stands to recommend."""
    config = result.get("best_config") if result else None
    if not ((config is not None and not (result and result.get("error"))) or (loader and loader.best_config)):
        return ""
    caps = workload.get("caps") or {}
    recommended = next((t for t in trials if result and t.id == result.get("best")), None)
    compiled = recommended if recommended and recommended.config.get("compile") else None
    return render_snippet(
        config if config is not None else {},
        device=str(env.get("device") or "cuda"),
        optimizer=caps.get("optimizer") if caps.get("optimizer") not in (None, "optimizer") else None,
        optimizer_args=caps.get("optimizer_args"),
        plain_step=bool(workload.get("plain_step")),
        loader=loader.best_config if loader else None,
        break_even_steps=compiled.break_even_steps if compiled else None,
        compile_s=compiled.one_time_s if compiled else None,
        unchecked=bool(recommended and recommended.numerics == "unchecked"),
    )


def build_report(
    records: Sequence[dict],
    *,
    budget_s: float,
    tolerance: float,
    wall_s: float,
    worker_error: str | None = None,
    torchenv_version: str = "",
) -> TuneReport:
    env = (first(records, "env") or {}).get("data") or {}
    workload = first(records, "workload") or {}
    results = list(each(records, "result"))
    result = results[-1] if results else None  # provisional results after each trial; the last one stands
    items = float(workload.get("items") or 1.0)
    trial_records = {str(r.get("id")): r for r in each(records, "trial")}  # a re-emitted trial's decision wins
    reference = trial_records.get("t0")
    trials = tuple(_trial(r, items, _reference_median(reference)) for r in trial_records.values())
    loader = _loader(records)
    # the search's own error (a trial that broke it) counts as a section error under the one status rule
    searched = (
        [{"event": "error", "section": "search", "error": result["error"]}] if result and result.get("error") else []
    )
    run = outcome(
        [*records, *searched],
        worker_error,
        nothing_measured=result is None and workload.get("plain_step") is not None and loader is None,
    )
    return TuneReport(
        status=run.status,
        error=run.error,
        environment=environment_from_record(env),
        workload=str(workload.get("description") or "?"),
        unit=str(workload.get("unit") or "samples/s"),
        items_per_step=workload.get("items"),
        batch_size=workload.get("batch_size"),
        trials=trials,
        stages=_stages(records),
        reference=reference.get("id") if reference else None,
        recommended=result.get("best") if result else None,
        recommended_config=result.get("best_config") if result else None,
        snippet=_snippet(result, env, workload, trials, loader),
        tolerance=float(result.get("tolerance", tolerance)) if result else tolerance,
        tolerance_applied=result.get("tolerance_applied") if result else None,
        noise_floor=_finite(result.get("noise_floor")) if result else None,
        budget_s=budget_s,
        search_s=span_s(records, "search"),
        wall_s=wall_s,
        notes=tuple(str(r.get("text")) for r in each(records, "note")),
        max_batch=_max_batch(first(records, "max_batch")),
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
