"""Interval arithmetic and time-containment lookups over decoded trace records. Pure."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import Generic, Protocol, TypeVar


class Timed(Protocol):
    ts: float
    dur: float

    @property
    def end(self) -> float: ...


T = TypeVar("T", bound=Timed)
MAX_BACK_SCAN = 20000  # siblings scanned backwards when looking for the innermost enclosing record


def merge(intervals: Iterable[tuple[float, float]], tolerance: float = 0.0) -> list[tuple[float, float]]:
    """The union of [start, end) intervals, sorted; gaps up to `tolerance` are closed."""
    out: list[list[float]] = []
    for start, end in sorted(intervals):
        if end < start:
            continue
        if out and start <= out[-1][1] + tolerance:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]


def covered(merged: Sequence[tuple[float, float]], start: float, end: float) -> float:
    """How much of [start, end) the merged intervals cover."""
    if end <= start or not merged:
        return 0.0
    total = 0.0
    i = max(0, bisect_right(merged, (start, float("inf"))) - 1)
    while i < len(merged) and merged[i][0] < end:
        a, b = merged[i]
        total += max(0.0, min(b, end) - max(a, start))
        i += 1
    return total


def clip(merged: Sequence[tuple[float, float]], start: float, end: float) -> list[tuple[float, float]]:
    out = []
    i = max(0, bisect_right(merged, (start, float("inf"))) - 1)
    while i < len(merged) and merged[i][0] < end:
        a, b = max(merged[i][0], start), min(merged[i][1], end)
        if b > a:
            out.append((a, b))
        i += 1
    return out


def subtract(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """a minus b (both merged)."""
    out = []
    for start, end in a:
        cursor = start
        for bs, be in clip(b, start, end):
            if bs > cursor:
                out.append((cursor, bs))
            cursor = max(cursor, be)
        if cursor < end:
            out.append((cursor, end))
    return out


def total(merged: Iterable[tuple[float, float]]) -> float:
    return sum(b - a for a, b in merged)


class Containment(Generic[T]):
    """Records of one thread sorted by start: the innermost one containing a time."""

    def __init__(self, records: Iterable[T]):
        self.records: list[T] = sorted(records, key=lambda r: (r.ts, -r.dur))
        self.starts = [r.ts for r in self.records]

    def innermost(self, t: float, end: float | None = None) -> T | None:
        """The latest-starting record with ts <= t and t (and `end`, if given) inside it."""
        end = t if end is None else end
        i = bisect_right(self.starts, t) - 1
        scanned = 0
        while i >= 0 and scanned < MAX_BACK_SCAN:
            r = self.records[i]
            if r.ts <= t and end <= r.end:
                return r
            i -= 1
            scanned += 1
        return None

    def within(self, start: float, end: float) -> list[T]:
        """Records that start inside [start, end)."""
        lo = bisect_right(self.starts, start - 1e-9)
        hi = bisect_right(self.starts, end)
        return [r for r in self.records[lo:hi] if r.ts >= start]

    def overlapping(self, start: float, end: float) -> list[T]:
        hi = bisect_right(self.starts, end)
        return [r for r in self.records[:hi] if r.end > start and r.ts < end]
