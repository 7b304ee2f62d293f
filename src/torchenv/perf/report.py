"""Turns the worker's records into a BenchReport: statistics, ratios to the hardware's figures,
speedups, one-time costs and likely causes. Reads the typed records of model/perf_records.py (wire
dicts are decoded at the entry). Pure: unit-tested on recorded worker output."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from ..model.bench import BenchEnvironment, BenchReport, Measurement
from ..model.perf_records import BenchResult, Env, Record, WorkerEnvironment, decode_all
from .causes import SHORT_OF, Context, is_short, measurement_causes, pcie_rate_gbs, report_causes
from .records import first, outcome, section_seconds
from .stats import compare_times, modes, one_time_cost, rate, summarize


@dataclasses.dataclass(frozen=True, slots=True)
class Hardware:
    """The hardware's figures from the knowledge base (datasheet, dense), if it knows the GPU."""

    model: str | None = None
    peak_tflops: Mapping[str, float] = dataclasses.field(default_factory=dict)
    memory_bandwidth_gbs: float | None = None
    source: str | None = None


def environment_from_record(env: WorkerEnvironment | None, hardware: Hardware | None = None) -> BenchEnvironment | None:
    """The worker's `env` record's data as a BenchEnvironment (shared by bench and tune)."""
    if env is None or env == WorkerEnvironment():  # no env record, or one with nothing in it
        return None
    return BenchEnvironment(
        device=str(env.device),
        device_name=str(env.device_name),
        torch_version=env.torch,
        cuda=env.cuda,
        cudnn=env.cudnn,
        debug=env.debug,
        cc=env.cc,
        threads=env.threads,
        cpu_count=env.cpu_count,
        gpu_model=hardware.model if hardware else None,
        python=env.python,
        cpu_bf16=env.cpu_bf16,
    )


def _measurement(record: BenchResult, env: WorkerEnvironment, hardware: Hardware, ctx: Context) -> Measurement:
    base = dict(
        id=record.id,
        section=record.section,
        label=record.label,
        status=record.status,
        reason=record.reason,
        params=dict(record.params),
        baseline=record.baseline,
    )
    if record.status != "ok":
        return Measurement(**base)
    try:
        time = summarize(record.samples_s)
    except ValueError as exc:
        return Measurement(**{**base, "status": "failed", "reason": f"no usable samples ({exc})"})
    if record.report == "time":
        value, unit, higher = time.median * 1000.0, "ms", False
    else:
        value, unit = rate(record.work, time.median, items_unit=record.unit or "items/s")
        higher = True
    peak = source = None
    section = record.section
    if env.device == "cuda":
        if section == "matmul":
            peak = hardware.peak_tflops.get(str(record.params.get("dtype")))
            source = hardware.source if peak else None
        elif section == "memory":
            peak, source = hardware.memory_bandwidth_gbs, hardware.source
        elif section == "transfer":
            observed = record.observed or {}
            gen = observed.get("pcie_gen_max", ctx.pcie_gen_max)
            width = observed.get("pcie_width_max", ctx.pcie_width_max)
            peak = pcie_rate_gbs(gen, width)
            source = f"PCIe gen {gen} x{width} link rate" if peak else None
    kind = record.one_time_kind
    measured = _finish(base, record, value, unit, higher, time, peak, source, kind)
    return dataclasses.replace(measured, modes=modes(record.samples_s))


def _finish(base, record: BenchResult, value, unit, higher, time, peak, source, kind) -> Measurement:
    params = dict(base.pop("params"))
    if record.previous:
        params["previous"] = record.previous
    return Measurement(
        **base,
        params=params,
        value=value,
        unit=unit,
        higher_is_better=higher,
        time=time,
        peak=peak,
        peak_source=source,
        ratio=value / peak if peak else None,
        one_time_s=one_time_cost(record.first_s, time.median) if kind else None,
        one_time_kind=kind,
        observed=record.observed,
    )


def _share_link_rate(measurements: list[Measurement]) -> list[Measurement]:
    """All host↔device copies share one PCIe link: a copy without its own link reading (NVML is
    read during the pinned copies only) is rated against the link rate the others saw."""
    rated = next((m for m in measurements if m.section == "transfer" and m.peak), None)
    if rated is None:
        return measurements
    return [
        dataclasses.replace(m, peak=rated.peak, peak_source=rated.peak_source, ratio=(m.value or 0.0) / rated.peak)
        if m.section == "transfer" and m.status == "ok" and not m.peak and rated.peak
        else m
        for m in measurements
    ]


def _with_relations(measurements: list[Measurement]) -> list[Measurement]:
    by_id = {m.id: m for m in measurements}
    out = []
    for m in measurements:
        if m.status != "ok":
            out.append(m)
            continue
        baseline_id = m.baseline
        if m.section == "conv":
            baseline_id = f"conv.{m.params.get('kind')}.bench0.det0"
        base = by_id.get(baseline_id) if baseline_id else None
        speedup = None
        if base is not None and base.status == "ok" and base.value and m.value and base.id != m.id:
            speedup = m.value / base.value if m.higher_is_better else base.value / m.value
        previous = by_id.get(m.params.get("previous")) if m.params.get("previous") else None
        gain = m.value / previous.value if previous is not None and previous.value and m.value else None
        against = previous if previous is not None else base
        verdict = None
        if against is not None and against.time is not None and m.time is not None and against.id != m.id:
            verdict = compare_times(m.time, against.time)
        out.append(
            dataclasses.replace(
                m,
                baseline=baseline_id if speedup is not None else m.baseline,
                speedup=speedup,
                step_gain=gain,
                verdict=verdict,
            )
        )
    return out


def build_report(
    records: Sequence[Record | dict],
    *,
    mode: str,
    hardware: Hardware,
    context: Context,
    wall_s: float,
    worker_error: str | None,
    knowledge_version: str,
    torchenv_version: str,
) -> BenchReport:
    records = decode_all(records)  # a record already typed is kept as it is
    env_record = first(records, Env)
    env = env_record.data if env_record is not None else WorkerEnvironment()
    ctx = dataclasses.replace(
        context,
        device=_or(env.device, context.device),
        cuda_build=_or(env.cuda_built, context.cuda_build),
        cuda_available=_or(env.cuda_available, context.cuda_available),
        debug_build=_or(env.debug, context.debug_build),
        threads=_or(env.threads, context.threads),
        cpu_count=_or(env.cpu_count, context.cpu_count),
    )
    measurements = [_measurement(r, env, hardware, ctx) for r in records if isinstance(r, BenchResult) and r.id]
    measurements = _with_relations(_share_link_rate(measurements))
    pinned = {m.id.split(".")[1]: m for m in measurements if m.id.endswith(".pinned") and m.status == "ok"}
    final = []
    for m in measurements:
        partner = pinned.get(m.id.split(".")[1]) if m.section == "transfer" else None
        causes = measurement_causes(m, ctx, pinned=partner)
        final.append(dataclasses.replace(m, short=is_short(m), causes=causes))

    run = outcome(records, worker_error)
    compile_s = sum(m.one_time_s or 0.0 for m in final if m.one_time_kind == "compile")
    autotune_s = sum(m.one_time_s or 0.0 for m in final if m.one_time_kind == "autotune")
    return BenchReport(
        mode=mode,
        status=run.status,
        error=run.error,
        environment=environment_from_record(env_record.data if env_record else None, hardware),
        measurements=tuple(final),
        causes=report_causes(ctx),
        wall_s=round(wall_s, 3),
        compile_s=round(compile_s, 3),
        autotune_s=round(autotune_s, 3),
        section_s=section_seconds(records),
        knowledge_version=knowledge_version,
        torchenv_version=torchenv_version,
    )


def _or(value, default):
    """The env record's value where it has one (a field it did not send decodes as None)."""
    return default if value is None else value


__all__ = ["SHORT_OF", "Hardware", "build_report"]
