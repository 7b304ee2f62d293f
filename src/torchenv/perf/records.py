"""The worker runtime's records as the reports read them: one status rule for every plan (bench,
tune, profile), and the lookups each report builder needs, over the typed records of
`model/perf_records.py` (decoded once, at the boundary). Pure."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ..model.perf_records import Begin, Done, End, Fatal, Malformed, Record, SectionError, decode_all

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class RunOutcome:
    status: str  # "ok" | "partial" | "failed"
    error: str | None


def each(records: Iterable[object], kind: type[R]) -> Iterator[R]:
    return (r for r in records if isinstance(r, kind))


def first(records: Iterable[object], kind: type[R], **match: object) -> R | None:
    return next((r for r in each(records, kind) if all(getattr(r, k, None) == v for k, v in match.items())), None)


def outcome(records: Sequence[Record | Any], worker_error: str | None, *, nothing_measured: bool = False) -> RunOutcome:
    """The one status rule. failed: the worker stopped before measuring (a `fatal` record, readable
    or not) or measured nothing; partial: a section raised, a record could not be read (a gate that
    cannot read its input must fail), the worker did not finish, or it failed after reporting; ok:
    everything asked for was measured. The error names every reason, the worker's last."""
    records = decode_all(records)
    fatal = first(records, Fatal)
    unreadable_fatal = next((r for r in each(records, Malformed) if r.event == "fatal"), None)
    reasons = []
    for r in records:
        if isinstance(r, SectionError):
            reasons.append(f"{r.section}: {r.error}")
        elif isinstance(r, Malformed):
            reasons.append(f"{r.section}: {r.reason}")
    if fatal is not None:
        reasons.insert(0, f"the worker stopped at {fatal.stage}: {fatal.error}")
    if first(records, Done) is None and not worker_error:
        worker_error = "the worker stopped before the end"
    if worker_error and worker_error not in reasons:
        reasons.append(worker_error)
    error = "; ".join(reasons) or None
    if fatal is not None or unreadable_fatal is not None or nothing_measured:
        return RunOutcome("failed", error or "nothing was measured")
    return RunOutcome("partial" if error else "ok", error)


def section_seconds(records: Iterable[object]) -> dict[str, float]:
    return {r.section: float(r.seconds) for r in each(records, End) if r.seconds is not None}


def span_s(records: Sequence[object], section: str) -> float | None:
    """Seconds between a section's begin and end records (their timestamps), None when either is missing."""
    begin, end = first(records, Begin, section=section), first(records, End, section=section)
    if begin is None or end is None:
        return None
    return end.t - begin.t
