"""The perf worker runtime's records, typed: one frozen dataclass per record kind the worker streams
(`perf/_worker/protocol.py:emit(event, **fields)`), and the one `decode` that turns a wire dict
into its record with the model codec. Pure, stdlib only.

Why here, in `model/`, and not in `perf/`: the records are a JSON contract between two processes, as
Facts are between a probe script and the parent, and `model/` is where contracts and their codec
live. Every reader can import them without loading `torchenv.perf` (whose package imports the
causes, the report builder and the launcher): the bench and tune report builders, the progress line
in `render/`, and later `profile/` and `monitor/`. The status rule and the lookups stay in
`perf/records.py`; the worker side (Python 3.8+, imports nothing of torchenv) is unchanged.

Decoded once, at the boundary (`perf/run.py:WorkerRun.typed`, `decode_all` at each builder's entry).
A record that does not decode (an unknown event, a missing field, a field of the wrong type, a line
that is not an object) becomes `Malformed(event, reason)`: never dropped, never a crash; the status
rule counts it as an error of its section, so a report built from unreadable records is never `ok`.
Fields the worker sends that a record does not declare are ignored here and caught by a test
(`tests/perf/test_records_typed.py` reads every `emit(...)` in the worker package).

Open-ended measurement payloads (a result's `params`, `work`, `observed`; a trial's `config`; the
profile capture's `summary`) stay `dict` fields. `result` is one event for two kinds: bench's
measurement (`BenchResult`, it has a `section`) and tune's search result (`SearchResult`, it has a
`best`); `decode` tells them apart by that shape.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .codec import from_json, to_json

WireDict = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Record:
    event: ClassVar[str] = ""
    t: float = 0.0  # seconds since the worker started (protocol.START); 0 for a record the parent made


# --- every plan ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Begin(_Record):
    event: ClassVar[str] = "begin"
    section: str
    config: dict[str, Any] | None = None  # profile's re-measure of one fix
    argv: tuple[str, ...] | None = None  # profile -- python script.py ARGS
    torchenv_importable: bool | None = None
    optimizer_hook: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class End(_Record):
    event: ClassVar[str] = "end"
    section: str
    seconds: float | None = None
    word: str | None = None  # the parent's word to a waiting search process ("go", "stop")
    steps_seen: int | None = None  # profile of a script: step boundaries it reached


@dataclass(frozen=True, slots=True, kw_only=True)
class SectionError(_Record):
    """A section raised: what it measured before stands, the run is partial."""

    event: ClassVar[str] = "error"
    section: str
    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Fatal(_Record):
    """The worker stopped before measuring (bad arguments, torch did not import, no device, ...)."""

    event: ClassVar[str] = "fatal"
    stage: str
    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Done(_Record):
    event: ClassVar[str] = "done"
    stopped: bool = False  # tune's watchdog: the budget ran out


@dataclass(frozen=True, slots=True, kw_only=True)
class Note(_Record):
    event: ClassVar[str] = "note"
    text: str
    section: str | None = None


@dataclass(frozen=True, slots=True)
class WorkerEnvironment:
    """The `env` record's data (perf/_worker/device.py:environment). Every field optional: what the
    worker could not read is absent."""

    device: str | None = None  # "cuda" | "cpu"
    device_name: str | None = None
    torch: str | None = None
    cuda: str | None = None  # torch.version.cuda; None for a CPU build
    cudnn: int | None = None
    debug: bool | None = None
    cc: tuple[int, int] | None = None
    threads: int | None = None
    cpu_count: int | None = None
    python: str | None = None
    cpu_bf16: bool | None = None
    cuda_available: bool | None = None
    cuda_built: bool | None = None
    sm_count: int | None = None
    memory_mib: int | None = None
    nvml_idle: dict[str, Any] | None = None  # NVML's reading at rest (open-ended)


@dataclass(frozen=True, slots=True, kw_only=True)
class Env(_Record):
    event: ClassVar[str] = "env"
    data: WorkerEnvironment = field(default_factory=WorkerEnvironment)
    mode: str | None = None  # bench: "full" | "quick"
    phase: str | None = None  # bench: "both" | "heuristics" | "search"


# --- bench --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchResult(_Record):
    """One bench measurement (perf/_worker/plan_bench.py:Bench.result/skipped/failed)."""

    event: ClassVar[str] = "result"
    section: str
    id: str
    label: str
    status: str  # "ok" | "skipped" | "failed"
    reason: str | None = None
    samples_s: tuple[float, ...] = ()
    work: dict[str, Any] = field(default_factory=dict)  # {"flop": ...} | {"bytes": ...} | {"items": ...}
    params: dict[str, Any] = field(default_factory=dict)
    first_s: float | None = None
    observed: dict[str, Any] | None = None  # NVML under load
    report: str | None = None  # "time": the figure is a step time, lower is better
    unit: str | None = None
    one_time_kind: str | None = None  # "compile" | "autotune" | "warm-up"
    baseline: str | None = None
    previous: str | None = None  # a ladder rung: the rung it is compared with
    rung: str | None = None
    workload: str | None = None
    memory_bytes: int | None = None


# --- tune ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Workload(_Record):
    event: ClassVar[str] = "workload"
    description: str | None = None
    items: float | None = None  # per step
    unit: str | None = None
    batch_size: int | None = None
    caps: dict[str, Any] = field(default_factory=dict)
    plain_step: bool | None = None
    optimizer: str | None = None
    timing: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan(_Record):
    event: ClassVar[str] = "plan"
    stages: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Trial(_Record):
    """One tune trial (perf/_worker/search.py); sent again when its decision changes (`update`)."""

    event: ClassVar[str] = "trial"
    id: str
    stage: str
    label: str
    config: dict[str, Any] = field(default_factory=dict)
    change: dict[str, Any] = field(default_factory=dict)
    config_id: str | None = None
    status: str = "failed"
    reason: str | None = None
    decision: str | None = None
    update: bool = False
    samples_s: tuple[float, ...] = ()
    first_step_s: float | None = None
    median_s: float | None = None
    spread: float | None = None
    throughput: float | None = None
    one_time_s: float | None = None
    gain: float | None = None
    break_even_steps: int | None = None
    losses: tuple[float | None, ...] | None = None
    losses_repeat: tuple[float | None, ...] | None = None
    losses_perturbed: tuple[float | None, ...] | None = None
    numerics: str | None = None
    numerics_delta: float | None = None
    numerics_reason: str | None = None
    reproducible: bool | None = None
    memory_bytes: int | None = None
    seconds: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Stage(_Record):
    event: ClassVar[str] = "stage"
    name: str
    title: str
    outcome: str | None = None  # "adopted" | "kept" | "skipped" | "offered" | "not-measured"
    why: str | None = None
    skip_reason: str | None = None
    adopted: str | None = None  # trial id
    candidates: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchResult(_Record):
    """The step search's result so far (`provisional`) or at its end; the last one stands."""

    event: ClassVar[str] = "result"
    best: str | None = None
    best_config: dict[str, Any] | None = None
    reference: str | None = None
    noise_floor: float | None = None
    tolerance: float | None = None
    tolerance_applied: float | None = None
    error: str | None = None
    provisional: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class MaxBatchResult(_Record):
    event: ClassVar[str] = "max_batch"
    status: str
    reason: str | None = None
    batch: int | None = None
    peak_bytes: float | None = None
    limit_bytes: float | None = None
    total_bytes: float | None = None
    margin: float | None = None
    items: float | None = None
    samples_s: tuple[float, ...] = ()
    probes: tuple[dict[str, Any], ...] = ()
    config: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LoaderTrialRecord(_Record):
    event: ClassVar[str] = "loader_trial"
    id: str
    label: str
    stage: str
    config: dict[str, Any] = field(default_factory=dict)
    status: str = "failed"
    reason: str | None = None
    items: float | None = None
    batches: int | None = None
    seconds: float | None = None
    items_per_s: float | None = None
    raw_items_per_s: float | None = None
    steady_items_per_s: float | None = None
    epoch_items: float | None = None
    startup_s: tuple[float | None, ...] = ()
    cpu_busy: float | None = None
    restart_saving_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LoaderSearchResult(_Record):
    event: ClassVar[str] = "loader_result"
    best: str | None = None
    best_config: dict[str, Any] | None = None
    four_workers: str | None = None
    cpu_count: int | None = None
    seconds: float | None = None
    epoch_s: float | None = None


# --- profile (read by profile/run.py, which still reads the wire dicts) --------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Capture(_Record):
    event: ClassVar[str] = "capture"
    summary: dict[str, Any] = field(default_factory=dict)  # perf/_worker/profiling.py:capture
    caps: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    items: float | None = None
    unit: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Remeasure(_Record):
    event: ClassVar[str] = "remeasure"
    label: str
    status: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    samples_s: tuple[float, ...] | None = None
    reason: str | None = None
    items: float | None = None
    steps: int | None = None
    stepping: str | None = None


# --- what does not decode -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Malformed(_Record):
    """A record that did not decode. `event` is what it claimed to be, `section` where it belongs
    (its own `section` or `stage` when it named one, else the event); `raw` the wire dict, kept."""

    event: str  # type: ignore[misc]  # an instance field here, a ClassVar on every decoded kind
    reason: str
    section: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


Record = (
    Begin
    | End
    | SectionError
    | Fatal
    | Done
    | Note
    | Env
    | BenchResult
    | Workload
    | Plan
    | Trial
    | Stage
    | SearchResult
    | MaxBatchResult
    | LoaderTrialRecord
    | LoaderSearchResult
    | Capture
    | Remeasure
    | Malformed
)

KINDS: tuple[type, ...] = (
    Begin,
    End,
    SectionError,
    Fatal,
    Done,
    Note,
    Env,
    BenchResult,
    Workload,
    Plan,
    Trial,
    Stage,
    SearchResult,
    MaxBatchResult,
    LoaderTrialRecord,
    LoaderSearchResult,
    Capture,
    Remeasure,
)
BY_EVENT: dict[str, tuple[type, ...]] = {}
for _kind in KINDS:
    BY_EVENT[_kind.event] = (*BY_EVENT.get(_kind.event, ()), _kind)
del _kind


def kind_of(raw: WireDict) -> type | None:
    """The record class of a wire dict; None for an event the parent does not know."""
    kinds = BY_EVENT.get(raw.get("event"))  # type: ignore[arg-type]
    if not kinds:
        return None
    if raw.get("event") == "result":  # bench's measurement names its section; tune's search result its best
        return BenchResult if "section" in raw or "id" in raw else SearchResult
    return kinds[0]


def _where(raw: WireDict) -> str:
    """The section an unreadable record belongs to: its own, a fatal record's stage, else its event."""
    key = "stage" if raw.get("event") == "fatal" else "section"
    if isinstance(raw.get(key), str) and raw[key]:
        return raw[key]
    return str(raw.get("event") or "worker")


def decode(raw: Any) -> Record:
    """The typed record of one wire dict, or Malformed saying why it is not one. Never raises."""
    if isinstance(raw, (*KINDS, Malformed)):
        return raw
    if not isinstance(raw, dict):
        return Malformed(event="?", section="worker", reason=f"a record that is not an object ({type(raw).__name__})")
    event = raw.get("event")
    where = _where(raw)
    if not isinstance(event, str):
        return Malformed(event=str(event), section=where, reason="a record without an event name", raw=dict(raw))
    kind = kind_of(raw)
    if kind is None:
        return Malformed(event=event, section=where, reason=f"unknown record kind {event!r}", raw=dict(raw))
    body = {k: v for k, v in raw.items() if k != "event"}
    try:
        return from_json(kind, body, event)
    except Exception as exc:  # DecodeError above all; anything else is as unreadable (fail closed)
        return Malformed(event=event, section=where, reason=f"unreadable {event} record ({exc})", raw=dict(raw))


def decode_all(records: Iterable[Any]) -> tuple[Record, ...]:
    """Each record decoded (a record already typed is kept as it is)."""
    return tuple(decode(r) for r in records)


def encode(record: Record) -> WireDict:
    """The wire dict of a record (what the worker would have sent); a Malformed one's own raw dict."""
    if isinstance(record, Malformed):
        return dict(record.raw) or {"event": record.event}
    return {"event": record.event, **to_json(record)}


def undeclared(raw: WireDict) -> set[str]:
    """Fields of a wire dict that its record class does not declare (they are ignored by decode)."""
    kind = kind_of(raw)
    if kind is None:
        return set()
    return set(raw) - {"event"} - {f.name for f in dataclasses.fields(kind)}


__all__ = [
    "KINDS",
    "Begin",
    "BenchResult",
    "Capture",
    "Done",
    "End",
    "Env",
    "Fatal",
    "LoaderSearchResult",
    "LoaderTrialRecord",
    "Malformed",
    "MaxBatchResult",
    "Note",
    "Plan",
    "Record",
    "Remeasure",
    "SearchResult",
    "SectionError",
    "Stage",
    "Trial",
    "WorkerEnvironment",
    "Workload",
    "decode",
    "decode_all",
    "encode",
    "undeclared",
]
