# ruff: noqa: B905  (runs in the target interpreter: Python 3.8+ syntax)
"""The numerics guard: a configuration's losses over its first steps against the FP32 reference's.

Every trial starts from the same initial weights, batch and seed, so its first losses should track
the reference's; a speed setting that moves them by more than the tolerance is reported as
changing results and is never recommended silently.

Pure and stdlib-only, Python 3.8+ syntax (the worker imports it too).
"""

from __future__ import annotations

import math

DEFAULT_TOLERANCE = 0.05  # relative difference of any of the first losses
NOISE_FACTOR = 3.0  # the tolerance is never below 3× the reference's own run-to-run difference


def loss_delta(losses, reference):
    """Largest relative difference between two loss curves over their common first steps.

    Returns None when either curve is missing, inf when a loss is not finite (NaN, overflow)."""
    if not losses or not reference:
        return None
    n = min(len(losses), len(reference))
    worst = 0.0
    for value, ref in zip(losses[:n], reference[:n]):
        if value is None or ref is None:
            return None
        value, ref = float(value), float(ref)
        if not math.isfinite(value) or not math.isfinite(ref):
            return math.inf
        worst = max(worst, abs(value - ref) / max(abs(ref), 1e-6))
    return worst


def effective_tolerance(tolerance, noise_floor):
    """The tolerance actually applied: the asked one, raised to NOISE_FACTOR × the reference's own
    run-to-run difference when FP32 itself is that noisy (nondeterministic kernels)."""
    if noise_floor is None or not math.isfinite(noise_floor):
        return tolerance
    return max(tolerance, NOISE_FACTOR * noise_floor)


def verdict(delta, tolerance):
    """ "ok" within the tolerance, "beyond" outside it (non-finite losses included), "unchecked"
    when there is nothing to compare."""
    if delta is None:
        return "unchecked"
    if not math.isfinite(delta) or delta > tolerance:
        return "beyond"
    return "ok"


def reproducible(first, second):
    """Two runs of the same configuration gave bit-identical losses."""
    if not first or not second or len(first) != len(second):
        return None
    return all(float(a) == float(b) for a, b in zip(first, second))
