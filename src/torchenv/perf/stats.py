"""Statistics of timing samples. Pure (stdlib only); unit-tested without torch."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..model.bench import Summary


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile (numpy's default) of already sorted values."""
    if not sorted_values:
        raise ValueError("no samples")
    if not 0.0 <= q <= 1.0:
        raise ValueError("q must be within [0, 1]")
    position = (len(sorted_values) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def summarize(samples: Sequence[float]) -> Summary:
    values = sorted(float(s) for s in samples if s is not None and math.isfinite(float(s)) and float(s) > 0)
    if not values:
        raise ValueError("no positive finite samples")
    return Summary(
        n=len(values),
        median=quantile(values, 0.5),
        mean=sum(values) / len(values),
        minimum=values[0],
        maximum=values[-1],
        q1=quantile(values, 0.25),
        q3=quantile(values, 0.75),
    )


# What one unit of work per second becomes in a reported unit.
RATE_UNITS = {"flop": ("TFLOP/s", 1e-12), "bytes": ("GB/s", 1e-9)}


def rate(work: dict[str, float], seconds: float, items_unit: str = "items/s") -> tuple[float, str]:
    """Throughput of `work` done in `seconds`: TFLOP/s for flop, GB/s (10^9) for bytes, else items/s."""
    if seconds <= 0:
        raise ValueError("seconds must be positive")
    for key, (unit, scale) in RATE_UNITS.items():
        if key in work:
            return work[key] / seconds * scale, unit
    if "items" in work:
        return work["items"] / seconds, items_unit
    raise ValueError(f"unknown work {sorted(work)}")


def one_time_cost(first_s: float | None, steady_s: float) -> float | None:
    """What the first call cost beyond a steady-state one (compilation, algorithm search)."""
    if first_s is None:
        return None
    return max(0.0, first_s - steady_s)


def relative_difference(value: float, reference: float) -> float:
    """(value − reference) / reference: +0.03 is 3 % above the reference."""
    if reference == 0:
        raise ValueError("reference must be non-zero")
    return (value - reference) / reference


def within(value: float, reference: float, tolerance: float) -> bool:
    return abs(relative_difference(value, reference)) <= tolerance
