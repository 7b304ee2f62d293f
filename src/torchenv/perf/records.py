"""The worker runtime's records as the reports read them: one status rule for every plan (bench,
tune, profile), and the lookups each report builder needs. Pure."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RunOutcome:
    status: str  # "ok" | "partial" | "failed"
    error: str | None


def each(records: Sequence[dict], event: str) -> Iterator[dict]:
    return (r for r in records if r.get("event") == event)


def first(records: Sequence[dict], event: str, **match: object) -> dict | None:
    return next((r for r in each(records, event) if all(r.get(k) == v for k, v in match.items())), None)


def outcome(records: Sequence[dict], worker_error: str | None, *, nothing_measured: bool = False) -> RunOutcome:
    """The one status rule. failed: the worker stopped before measuring (a `fatal` record) or measured
    nothing; partial: a section raised, the worker did not finish, or it failed after reporting;
    ok: everything asked for was measured. The error names every reason, the worker's last."""
    fatal = first(records, "fatal")
    reasons = [f"{r.get('section')}: {r.get('error')}" for r in each(records, "error")]
    if fatal is not None:
        reasons.insert(0, f"the worker stopped at {fatal.get('stage')}: {fatal.get('error')}")
    if first(records, "done") is None and not worker_error:
        worker_error = "the worker stopped before the end"
    if worker_error and worker_error not in reasons:
        reasons.append(worker_error)
    error = "; ".join(reasons) or None
    if fatal is not None or nothing_measured:
        return RunOutcome("failed", error or "nothing was measured")
    return RunOutcome("partial" if error else "ok", error)


def section_seconds(records: Sequence[dict]) -> dict[str, float]:
    return {r["section"]: float(r["seconds"]) for r in each(records, "end") if "seconds" in r}


def span_s(records: Sequence[dict], section: str) -> float | None:
    """Seconds between a section's begin and end records (their timestamps), None when either is missing."""
    begin, end = first(records, "begin", section=section), first(records, "end", section=section)
    if begin is None or end is None:
        return None
    return float(end.get("t", 0.0)) - float(begin.get("t", 0.0))
