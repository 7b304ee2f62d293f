"""`torchenv tune` results: the configurations measured on the user's workload, the recommended
one, and the DataLoader search. Pure data: the JSON contract of `torchenv tune --json`, kind
"torchenv.tune". Built from the worker's records by torchenv.tune.report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .bench import BenchEnvironment, Summary

TUNE_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class TuneTrial:
    """One configuration of the training step, measured (or skipped, with the reason)."""

    id: str  # "t0" (the FP32 reference), "t1", ... in the order measured
    stage: str  # "reference", "tf32", "amp", "channels_last", "benchmark", "optimizer", "determinism", "compile"
    label: str  # "TF32 + AMP bf16 + channels_last"
    config: dict[str, Any]  # every knob's value (see torchenv.perf._worker.knobs.BASE)
    change: dict[str, Any]  # what this trial added to the configuration it was measured against
    status: str  # "ok" | "failed" | "skipped"
    decision: (
        str | None
    )  # reference | adopted | outpaced | no-gain | rejected-numerics | not-worth | offered | failed | skipped
    reason: str | None = None
    throughput: float | None = None  # items per second in the report's unit
    speedup: float | None = None  # against the FP32 reference
    gain: float | None = None  # against the configuration it was measured on top of
    time: Summary | None = None  # seconds per step
    memory_mib: float | None = None  # peak allocated (GPU)
    one_time_s: float | None = None  # first step beyond a steady one: compile, cudnn.benchmark search
    one_time_kind: str | None = None  # "compile" | "autotune" | "warm-up"
    break_even_steps: int | None = None  # compile: steps until its time is paid back
    numerics: str | None = None  # "reference" | "ok" | "beyond" | "unchecked"
    numerics_delta: float | None = None  # largest relative difference of the first losses from FP32
    losses: tuple[float, ...] = ()
    reproducible: bool | None = None  # determinism trial: two runs gave bit-identical losses
    seconds: float | None = None  # the trial's wall time


@dataclass(frozen=True, slots=True)
class TuneStage:
    name: str
    title: str
    outcome: str  # "adopted" | "kept" | "skipped" | "offered" | "not-measured"
    why: str  # where it sits in the order, and why
    skip_reason: str | None = None
    adopted: str | None = None  # trial id


@dataclass(frozen=True, slots=True)
class MaxBatch:
    status: str  # "ok" | "skipped" | "failed"
    reason: str | None = None
    batch: int | None = None
    peak_mib: float | None = None
    limit_mib: float | None = None
    total_mib: float | None = None
    margin: float | None = None
    throughput: float | None = None


@dataclass(frozen=True, slots=True)
class LoaderTrial:
    id: str  # "nw8.pin1.pf2.pw1"
    label: str
    stage: str  # the search stage that measured it ("num_workers", "pin_memory", ...) or "grid"
    config: dict[str, Any]
    status: str
    reason: str | None = None
    items_per_s: float | None = None  # in a real epoch: the steady rate, its start-up charged once
    steady_items_per_s: float | None = None  # after the first batch, before the sampler stopped
    startup_s: tuple[float | None, ...] = ()  # time to the first batch, per epoch
    restart_saving_s: float | None = None  # persistent_workers: start-up saved per epoch
    cpu_busy: float | None = None  # share of all cores busy during the trial
    seconds: float | None = None


@dataclass(frozen=True, slots=True)
class LoaderResult:
    trials: tuple[LoaderTrial, ...]
    best: str | None  # trial id
    best_config: dict[str, Any] | None
    four_workers: str | None  # the folklore num_workers=4, as measured on the way
    cpu_count: int | None
    seconds: float  # the search's wall time
    epoch_s: float | None = None


@dataclass(frozen=True, slots=True)
class TuneReport:
    status: str  # "ok" | "partial" (the worker died or ran out of time; what arrived is kept) | "failed"
    error: str | None
    environment: BenchEnvironment | None
    workload: str
    unit: str
    items_per_step: float | None
    batch_size: int | None
    trials: tuple[TuneTrial, ...]
    stages: tuple[TuneStage, ...]
    reference: str | None  # trial id of the FP32 reference
    recommended: str | None  # trial id of the recommended configuration
    recommended_config: dict[str, Any] | None
    snippet: str
    tolerance: float
    tolerance_applied: float | None
    noise_floor: float | None
    budget_s: float
    search_s: float | None  # the step search's wall time
    wall_s: float  # the whole run, torch import included
    notes: tuple[str, ...] = ()
    max_batch: MaxBatch | None = None
    loader: LoaderResult | None = None
    torchenv_version: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def by_id(self, id: str | None) -> TuneTrial | None:
        return next((t for t in self.trials if t.id == id), None)

    def ranked(self) -> list[TuneTrial]:
        """Measured configurations, fastest first (the determinism offer is listed apart)."""
        rows = [t for t in self.trials if t.status == "ok" and t.throughput is not None and t.stage != "determinism"]
        return sorted(rows, key=lambda t: -(t.throughput or 0.0))
