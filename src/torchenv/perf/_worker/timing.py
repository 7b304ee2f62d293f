# ruff: noqa: UP031, RUF046  (runs inside the target interpreter: conservative syntax)
"""The timing harness, shared by `bench` and `tune`: warm-up, CUDA events (or a synchronised
clock on CPU), repeated samples. Returns raw per-call seconds; statistics are computed by the
caller (torchenv.perf.stats, pure and unit-tested without torch).

Runs inside the target interpreter. Python 3.8+ syntax.
"""

import math
import time


class Clock:
    """Times work on one device. On CUDA each sample is bracketed by CUDA events, so host-side
    launch overhead is not counted unless the GPU actually waits for it; on CPU, perf_counter."""

    def __init__(self, torch, device):
        self.torch = torch
        self.device = device
        self.cuda = device.type == "cuda"

    def sync(self):
        if self.cuda:
            self.torch.cuda.synchronize(self.device)

    def now(self):
        self.sync()
        return time.perf_counter()

    def event(self):
        event = self.torch.cuda.Event(enable_timing=True)
        event.record()
        return event


def measure(
    clock,
    fn,
    warmup_s=0.2,
    min_warmup=2,
    sample_s=0.6,
    min_samples=5,
    max_samples=50,
    target_sample_s=0.02,
    during=None,
):
    """Per-call seconds of `fn()`.

    Warm-up runs until `warmup_s` has passed (at least `min_warmup` calls). Each sample runs `fn`
    `inner` times, with `inner` chosen so one sample lasts about `target_sample_s` (so a 50 µs
    kernel is not dominated by event resolution); samples are taken until `sample_s` has passed
    (between `min_samples` and `max_samples`). `during()` is called once while the GPU is still
    busy with the samples (to read clocks under load).
    Returns (seconds_per_call list, info dict).
    """
    began = clock.now()
    calls = 0
    first_s = None
    while True:
        t0 = clock.now()
        fn()
        t1 = clock.now()
        if first_s is None:
            first_s = t1 - t0
        calls += 1
        if calls >= min_warmup and t1 - began >= warmup_s:
            break
    # One synchronised call to size the inner loop.
    t0 = clock.now()
    fn()
    single = max(clock.now() - t0, 1e-7)
    inner = max(1, int(math.ceil(target_sample_s / single)))
    n = int(min(max_samples, max(min_samples, sample_s / max(single * inner, 1e-9))))
    samples = []
    observed = None
    if clock.cuda:
        marks = []
        for _ in range(n):
            start = clock.event()
            for _ in range(inner):
                fn()
            marks.append((start, clock.event()))
        if during is not None:
            observed = _safe(during)
        clock.sync()
        samples = [s.elapsed_time(e) / 1000.0 / inner for s, e in marks]
    else:
        for index in range(n):
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            samples.append((time.perf_counter() - t0) / inner)
            if index == 0 and during is not None:
                observed = _safe(during)
    return samples, {"inner": inner, "warmup_calls": calls, "first_call_s": first_s, "observed": observed}


def measure_steps(clock, step, warmup_steps=2, min_steps=5, max_steps=40, sample_s=1.0, max_first_s=None):
    """Per-step seconds of a training step, each step timed on its own (CUDA events).

    The first step is timed separately (synchronised): it carries one-time costs such as
    torch.compile's compilation or cudnn.benchmark's algorithm search, which are reported apart
    from the steady state. Returns (seconds_per_step list, info dict).
    """
    t0 = clock.now()
    step()
    first_s = clock.now() - t0
    warm = []
    for _ in range(max(0, warmup_steps - 1)):
        t0 = clock.now()
        step()
        warm.append(clock.now() - t0)
    single = min(warm) if warm else first_s
    n = int(min(max_steps, max(min_steps, sample_s / max(single, 1e-9))))
    samples = []
    if clock.cuda:
        marks = []
        for _ in range(n):
            start = clock.event()
            step()
            marks.append((start, clock.event()))
        clock.sync()
        samples = [s.elapsed_time(e) / 1000.0 for s, e in marks]
    else:
        for _ in range(n):
            t0 = time.perf_counter()
            step()
            samples.append(time.perf_counter() - t0)
    return samples, {"first_step_s": first_s, "warmup_steps": warmup_steps}


def _safe(fn):
    try:
        return fn()
    except Exception as exc:  # an observation must never break a measurement
        return {"error": "%s: %s" % (type(exc).__name__, exc)}


def measure_burst(clock, fn, calls, idle_s=0.0, warmup=3):
    """Per-call seconds of `calls` calls each timed alone (synchronised), after an idle pause of
    `idle_s` (the clocks recover from the previous load) and `warmup` calls: what a bare script does."""
    time.sleep(idle_s)
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(calls):
        if clock.cuda:
            start = clock.event()
            fn()
            end = clock.event()
            end.synchronize()
            samples.append(start.elapsed_time(end) / 1000.0)
        else:
            began = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - began)
    return samples
