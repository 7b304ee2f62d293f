"""Turns the worker's records into a BenchReport: statistics, ratios to the hardware's figures,
speedups, one-time costs and likely causes. Pure: unit-tested on recorded worker output."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from ..model.bench import BenchEnvironment, BenchReport, Measurement
from .causes import SHORT_OF, Context, is_short, measurement_causes, pcie_rate_gbs, report_causes
from .records import outcome, section_seconds
from .stats import compare_times, modes, one_time_cost, rate, summarize


@dataclasses.dataclass(frozen=True, slots=True)
class Hardware:
    """The hardware's figures from the knowledge base (datasheet, dense), if it knows the GPU."""

    model: str | None = None
    peak_tflops: Mapping[str, float] = dataclasses.field(default_factory=dict)
    memory_bandwidth_gbs: float | None = None
    source: str | None = None


def environment_from_record(env: dict | None, hardware: Hardware | None = None) -> BenchEnvironment | None:
    """The worker's `env` record as a BenchEnvironment (shared by bench and tune)."""
    if not env:
        return None
    cc = env.get("cc")
    return BenchEnvironment(
        device=str(env.get("device")),
        device_name=str(env.get("device_name")),
        torch_version=env.get("torch"),
        cuda=env.get("cuda"),
        cudnn=env.get("cudnn"),
        debug=env.get("debug"),
        cc=(int(cc[0]), int(cc[1])) if isinstance(cc, list) and len(cc) == 2 else None,
        threads=env.get("threads"),
        cpu_count=env.get("cpu_count"),
        gpu_model=hardware.model if hardware else None,
        python=env.get("python"),
        cpu_bf16=env.get("cpu_bf16"),
    )


def _measurement(record: dict, env: dict, hardware: Hardware, ctx: Context) -> Measurement:
    base = dict(
        id=str(record.get("id")),
        section=str(record.get("section")),
        label=str(record.get("label")),
        status=str(record.get("status")),
        reason=record.get("reason"),
        params=dict(record.get("params") or {}),
        baseline=record.get("baseline"),
    )
    if base["status"] != "ok":
        return Measurement(**base)
    try:
        time = summarize(record.get("samples_s") or ())
    except ValueError as exc:
        return Measurement(**{**base, "status": "failed", "reason": f"no usable samples ({exc})"})
    work = record.get("work") or {}
    if record.get("report") == "time":
        value, unit, higher = time.median * 1000.0, "ms", False
    else:
        value, unit = rate(work, time.median, items_unit=record.get("unit") or "items/s")
        higher = True
    peak = source = None
    section = base["section"]
    if env.get("device") == "cuda":
        if section == "matmul":
            peak = hardware.peak_tflops.get(str(base["params"].get("dtype")))
            source = hardware.source if peak else None
        elif section == "memory":
            peak, source = hardware.memory_bandwidth_gbs, hardware.source
        elif section == "transfer":
            observed = record.get("observed") if isinstance(record.get("observed"), dict) else {}
            gen = observed.get("pcie_gen_max", ctx.pcie_gen_max)
            width = observed.get("pcie_width_max", ctx.pcie_width_max)
            peak = pcie_rate_gbs(gen, width)
            source = f"PCIe gen {gen} x{width} link rate" if peak else None
    kind = record.get("one_time_kind")
    measured = _finish(base, record, value, unit, higher, time, peak, source, kind)
    return dataclasses.replace(measured, modes=modes(record.get("samples_s") or ()))


def _finish(base, record, value, unit, higher, time, peak, source, kind) -> Measurement:
    params = dict(base.pop("params"))
    if record.get("previous"):
        params["previous"] = record["previous"]
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
        one_time_s=one_time_cost(record.get("first_s"), time.median) if kind else None,
        one_time_kind=kind,
        observed=record.get("observed") if isinstance(record.get("observed"), dict) else None,
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
    records: Sequence[dict],
    *,
    mode: str,
    hardware: Hardware,
    context: Context,
    wall_s: float,
    worker_error: str | None,
    knowledge_version: str,
    torchenv_version: str,
) -> BenchReport:
    env_record = next((r for r in records if r.get("event") == "env"), None)
    env = (env_record or {}).get("data") or {}
    ctx = dataclasses.replace(
        context,
        device=env.get("device", context.device),
        cuda_build=env.get("cuda_built", context.cuda_build),
        cuda_available=env.get("cuda_available", context.cuda_available),
        debug_build=env.get("debug", context.debug_build),
        threads=env.get("threads", context.threads),
        cpu_count=env.get("cpu_count", context.cpu_count),
    )
    measurements = [_measurement(r, env, hardware, ctx) for r in records if r.get("event") == "result" and r.get("id")]
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
        environment=environment_from_record(env, hardware),
        measurements=tuple(final),
        causes=report_causes(ctx),
        wall_s=round(wall_s, 3),
        compile_s=round(compile_s, 3),
        autotune_s=round(autotune_s, 3),
        section_s=section_seconds(records),
        knowledge_version=knowledge_version,
        torchenv_version=torchenv_version,
    )


__all__ = ["SHORT_OF", "Hardware", "build_report"]
