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


# Two modes: the sorted step times split at a gap wider than MODE_GAP of the median, with at least
# MODE_SHARE of the samples on each side. The H200's compiled ResNet-50 step came at ~22 and ~25.5 ms
# within one process (benchmarks/results/h200-round4/perf_truth), a 14 % gap; eager steps vary by 4 %.
MODE_GAP = 0.06
MODE_SHARE = 0.2


def modes(samples: Sequence[float]) -> tuple[float, ...]:
    """The two modes' medians when the samples are bimodal, else ()."""
    values = sorted(float(s) for s in samples if s is not None and math.isfinite(float(s)) and float(s) > 0)
    n = len(values)
    if n < 6:
        return ()
    middle = quantile(values, 0.5)
    least = max(2, math.ceil(MODE_SHARE * n))
    cuts = [(values[i] - values[i - 1], i) for i in range(least, n - least + 1)]
    if not cuts:
        return ()
    gap, at = max(cuts)
    if gap < MODE_GAP * middle:
        return ()
    return (quantile(values[:at], 0.5), quantile(values[at:], 0.5))


def compare_times(new: Summary, old: Summary) -> str:
    """"faster", "slower" or "unclear": whether `new`'s step times beat `old`'s beyond both spreads
    (their interquartile ranges do not overlap). A bimodal figure's wide range gives "unclear"."""
    if new.q3 < old.q1:
        return "faster"
    if new.q1 > old.q3:
        return "slower"
    return "unclear"
