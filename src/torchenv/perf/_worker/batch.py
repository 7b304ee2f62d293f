"""The largest batch that fits with a memory margin, predicted from two measured points.

Peak memory of a training step is close to affine in the batch size (weights, gradients and
optimizer state fixed; activations per sample), so two probes predict the limit; the prediction
is then verified, and shrunk if it does not fit.

Pure and stdlib-only, Python 3.8+ syntax.
"""

from __future__ import annotations


def predict_max_batch(points, limit_bytes, multiple=8):
    """points: [(batch, peak_bytes), ...] (at least two different batches). Returns the largest
    batch (a multiple of `multiple`, at least the largest probe that fit) whose predicted peak stays
    under `limit_bytes`, or None when the points do not allow a prediction."""
    pts = sorted({int(b): float(m) for b, m in points}.items())
    if len(pts) < 2:
        return None
    (b0, m0), (b1, m1) = pts[-2], pts[-1]
    per_item = (m1 - m0) / float(b1 - b0)
    if per_item <= 0:
        return None
    fixed = m1 - per_item * b1
    batch = int((limit_bytes - fixed) / per_item)
    if multiple and batch >= multiple:
        batch -= batch % multiple
    fitting = [b for b, m in pts if m <= limit_bytes]
    if fitting:
        batch = max(batch, max(fitting))
    return batch if batch > 0 else None


def memory_limit(total_bytes, margin):
    """The memory a step may use: the device's total minus the margin (0.1 = keep 10 % free)."""
    if not 0.0 <= margin < 1.0:
        raise ValueError("margin must be within [0, 1)")
    return int(total_bytes * (1.0 - margin))
