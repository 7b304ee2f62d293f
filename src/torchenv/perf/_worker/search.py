# ruff: noqa: UP031, RUF005, RUF046  (runs in the target interpreter: Python 3.8+ syntax)
"""The search over training-step settings: staged, ordered by what is known to interact, and bounded
by a time budget. Not a grid: each stage measures one knob's candidates on top of the best
configuration so far, keeps a candidate only if it is faster beyond the noise AND its losses stay
within the numerics tolerance, and skips knobs that cannot apply to this workload or device.

The order (see STAGES) exploits the known interactions:
  TF32 first (cheap, and the precision everything later runs at) → AMP → channels_last after AMP
  (NHWC pays mostly once tensor cores run in half precision) → cudnn.benchmark once dtype and layout
  are fixed (its algorithm search is redone for every new dtype/layout, so it is paid once) → the
  optimizer's fused/foreach kernels → torch.compile last (it captures every eager setting above, and
  its compile time is weighed as a break-even step count). Determinism is measured on the best
  eager configuration as an offer, never adopted.

Pure and stdlib-only, Python 3.8+ syntax: `measure(config, purpose)` is injected (the torch engine in
the worker, or fake measurements in the tests), and so is the clock.
"""

from __future__ import annotations

import math

from .knobs import BASE, config_id, label, merge
from .numerics import effective_tolerance, loss_delta, reproducible, verdict
from .stages import plan_stages

DEFAULT_MIN_GAIN = 0.02  # a knob must make the step at least 2 % faster (and beyond the timing spread)
DEFAULT_BUDGET_S = 300.0

# One-time costs before anything is measured (seconds): what a trial must be able to afford.
# torch.compile of a ResNet-50 training step took 53 s on the H100 capture; cudnn.benchmark's first
# step 15-20 s. max-autotune is estimated from the measured default compile (it benchmarks many
# kernel candidates per graph): MAX_AUTOTUNE_FACTOR × the default's compile time.
ONE_TIME_PRIOR_S = {
    ("cuda", "compile"): 60.0,
    ("cpu", "compile"): 30.0,
    ("cuda", "max-autotune"): 240.0,
    ("cpu", "max-autotune"): 120.0,
    ("cuda", "benchmark"): 20.0,
}
# Measured on the H100 (ResNet-50 training, torch 2.11): default compile 52 s; max-autotune had not
# finished 270 s later. 8x keeps a 300 s budget from starting a compile it cannot finish.
MAX_AUTOTUNE_FACTOR = 8.0
TRIAL_OVERHEAD_S = 1.5  # building the model copy, the optimizer, freeing memory


def median(values):
    values = sorted(float(v) for v in values if v is not None and float(v) > 0 and math.isfinite(float(v)))
    if not values:
        return None
    n = len(values)
    mid = n // 2
    return values[mid] if n % 2 else 0.5 * (values[mid - 1] + values[mid])


def spread(values):
    """Interquartile range over the median (0.02: the middle half lies within 2 %)."""
    values = sorted(float(v) for v in values if v is not None and float(v) > 0)
    if len(values) < 2:
        return 0.0

    def q(p):
        pos = (len(values) - 1) * p
        low = int(math.floor(pos))
        high = min(low + 1, len(values) - 1)
        return values[low] + (values[high] - values[low]) * (pos - low)

    m = q(0.5)
    return (q(0.75) - q(0.25)) / m if m > 0 else 0.0


def break_even_steps(one_time_s, before_s, after_s):
    """Steps after which a one-time cost (compile) is paid back by a faster step; None if never."""
    if one_time_s is None or before_s is None or after_s is None:
        return None
    saved = before_s - after_s
    if saved <= 0:
        return None
    return int(math.ceil(one_time_s / saved))


class Search:
    """Runs the stages against an injected `measure(config, purpose) -> dict`.

    `measure` returns: status ("ok"|"failed"), reason, samples_s (per-step seconds), first_step_s,
    losses (first steps, from the shared initial state), losses_repeat (reference and determinism
    trials: a second run), memory_bytes, seconds (the trial's wall time). Everything else (the
    decision, gain, numerics verdict, break-even) is decided here.
    """

    def __init__(
        self,
        caps,
        measure,
        clock,
        budget_s=DEFAULT_BUDGET_S,
        tolerance=0.05,
        min_gain=DEFAULT_MIN_GAIN,
        expected_steps=None,
        skip=(),
        items=1.0,
        trial_steps=12,
        on_trial=None,
        on_stage=None,
        on_best=None,
    ):
        self.caps = dict(caps)
        self.measure = measure
        self.clock = clock
        self.deadline = clock() + float(budget_s)
        self.tolerance = float(tolerance)
        self.min_gain = float(min_gain)
        self.expected_steps = expected_steps
        self.items = float(items)
        self.trial_steps = trial_steps  # numerics + warm-up + timed steps of one eager trial
        self.stages = plan_stages(caps, skip)
        self.on_trial = on_trial or (lambda trial: None)
        self.on_stage = on_stage or (lambda stage: None)
        self.on_best = on_best or (lambda trial: None)  # the best configuration so far, after every trial
        self.in_flight = None  # the trial being measured (a watchdog may report it when time runs out)
        self.trials = []
        self.noise_floor = None
        self.tolerance_applied = self.tolerance
        self.reference = None
        self.measured_one_time = {}

    # --- budget ------------------------------------------------------------------------------

    def remaining(self):
        return self.deadline - self.clock()

    def estimate_s(self, change, incumbent):
        step_s = incumbent["median_s"] if incumbent and incumbent.get("median_s") else 1.0
        device = self.caps.get("device", "cpu")
        steps_s = self.trial_steps * step_s
        one_time = 0.0
        mode = change.get("compile")
        if mode == "default":
            one_time = self.measured_one_time.get("compile", ONE_TIME_PRIOR_S.get((device, "compile"), 60.0))
        elif mode == "max-autotune":
            measured = self.measured_one_time.get("compile")
            one_time = (
                MAX_AUTOTUNE_FACTOR * measured
                if measured is not None
                else ONE_TIME_PRIOR_S.get((device, "max-autotune"), 240.0)
            )
        elif change.get("benchmark"):
            one_time = ONE_TIME_PRIOR_S.get((device, "benchmark"), 0.0)
        if change.get("deterministic"):
            steps_s *= 1.5  # a second run of the numerics steps (reproducibility)
        return TRIAL_OVERHEAD_S + steps_s + one_time

    # --- one trial ---------------------------------------------------------------------------

    def _trial(self, stage, config, change, purpose):
        trial = {
            "id": "t%d" % len(self.trials),
            "stage": stage,
            "config": dict(config),
            "config_id": config_id(config),
            "label": label(config),
            "change": dict(change),
            "status": "skipped",
            "reason": None,
            "decision": None,
        }
        self.trials.append(trial)
        return trial

    def _run(self, trial, purpose):
        self.in_flight = trial
        try:
            result = self.measure(dict(trial["config"]), purpose) or {}
        finally:
            self.in_flight = None
        trial.update({k: v for k, v in result.items() if k not in ("config", "id", "stage")})
        trial["status"] = result.get("status", "failed")
        med = median(result.get("samples_s") or ())
        if trial["status"] == "ok" and med is None:
            trial["status"], trial["reason"] = "failed", "no usable timing samples"
        if trial["status"] == "ok":
            trial["median_s"] = med
            trial["spread"] = spread(result.get("samples_s") or ())
            trial["throughput"] = self.items / med
            first = result.get("first_step_s")
            trial["one_time_s"] = max(0.0, first - med) if first is not None else None
        return trial

    def _numerics(self, trial):
        ref = self.reference
        if trial is ref:
            trial["numerics"], trial["numerics_delta"] = "reference", 0.0 if ref.get("losses") else None
            return
        delta = loss_delta(trial.get("losses"), ref.get("losses") if ref else None)
        trial["numerics_delta"] = delta
        trial["numerics"] = verdict(delta, self.tolerance_applied)

    def _skip(self, stage, config, change, reason, purpose="search"):
        trial = self._trial(stage, config, change, purpose)
        trial["reason"] = reason
        trial["decision"] = "skipped"
        self.on_trial(trial)
        return trial

    # --- the search --------------------------------------------------------------------------

    def run(self):
        ref = self._reference()
        if ref["status"] != "ok":
            return self.result(ref, error="the FP32 reference failed: %s" % (ref.get("reason") or "unknown error"))
        incumbent = eager = ref
        for stage in self.stages:
            record = stage.as_record()
            if stage.name == "compile":
                eager = incumbent  # the best eager configuration, which the determinism offer is measured on
            if stage.skip_reason:
                record["outcome"] = "skipped"
            elif stage.name == "determinism":
                self._determinism(stage, eager if incumbent["config"].get("compile") else incumbent)
                record["outcome"] = "offered"
            else:
                incumbent = self._stage(stage, incumbent, record)
            self.on_stage(record)
        return self.result(incumbent)

    def _reference(self):
        """The FP32 reference, measured twice more for the numerics floor (run-to-run and rounding)."""
        ref = self._trial("reference", dict(BASE), {}, "reference")
        self._run(ref, "reference")
        self.reference = ref
        if ref["status"] != "ok":
            ref["decision"] = "failed"
            self.on_trial(ref)
            return ref
        floors = [loss_delta(ref.get(key), ref.get("losses")) for key in ("losses_repeat", "losses_perturbed")]
        floors = [f for f in floors if f is not None]
        self.noise_floor = max(floors) if floors else None
        self.tolerance_applied = effective_tolerance(self.tolerance, self.noise_floor)
        self._numerics(ref)
        ref["decision"] = "reference"
        self.on_trial(ref)
        self.on_best(ref)
        return ref

    def _stage(self, stage, incumbent, record):
        """Each candidate of one stage on top of the incumbent; the fastest eligible one is adopted."""
        eligible, measured = [], []
        for change in stage.candidates:
            trial = self._candidate(stage, incumbent, change)
            measured.append(trial)
            if trial.get("decision") == "faster":
                eligible.append(trial)
                self.on_best(max(eligible + [incumbent], key=lambda t: t["throughput"]))
        if not eligible:
            record["outcome"] = "kept" if any(t["status"] == "ok" for t in measured) else "not-measured"
            return incumbent
        best = max(eligible, key=lambda t: t["throughput"])
        for trial in eligible:
            trial["decision"] = "adopted" if trial is best else "outpaced"
            self.on_trial(dict(trial, update=True))
        record["outcome"], record["adopted"] = "adopted", best["id"]
        return best

    def _candidate(self, stage, incumbent, change):
        config = merge(incumbent["config"], change)
        need, left = self.estimate_s(change, incumbent), self.remaining()
        if need > left:
            reason = "budget: needs about %.0f s, %.0f s left (raise --budget)" % (need, max(0.0, left))
            return self._skip(stage.name, config, change, reason)
        trial = self._trial(stage.name, config, change, "search")
        self._run(trial, "search")
        if trial["status"] != "ok":
            trial["decision"] = "failed"
            self.on_trial(trial)
            return trial
        if change.get("compile") == "default" and trial.get("one_time_s") is not None:
            self.measured_one_time["compile"] = trial["one_time_s"]
        self._numerics(trial)
        trial["gain"] = trial["throughput"] / incumbent["throughput"] - 1.0
        if change.get("compile"):
            trial["break_even_steps"] = break_even_steps(
                trial.get("one_time_s"), incumbent["median_s"], trial["median_s"]
            )
        trial["decision"], reason = self._decide(trial, incumbent, change)
        if reason:
            trial["reason"] = reason
        self.on_trial(trial)
        return trial

    def _decide(self, trial, incumbent, change):
        """(decision, reason) of a measured candidate against the incumbent."""
        threshold = max(self.min_gain, 0.5 * (trial.get("spread", 0.0) + incumbent.get("spread", 0.0)))
        if trial["numerics"] == "beyond":
            delta = _fmt_delta(trial["numerics_delta"])
            return "rejected-numerics", "losses differ from FP32 by %s (tolerance %.3g)" % (
                delta,
                self.tolerance_applied,
            )
        if trial["gain"] < threshold:
            return "no-gain", "%+.1f %% (needs > %+.1f %%)" % (100 * trial["gain"], 100 * threshold)
        steps = trial.get("break_even_steps")
        if change.get("compile") and self.expected_steps is not None and (steps is None or steps > self.expected_steps):
            return "not-worth", "pays back after %s steps; you plan %d" % (steps, self.expected_steps)
        return "faster", None

    def _determinism(self, stage, incumbent):
        change = stage.candidates[0]
        config = merge(incumbent["config"], change)
        config["compile"] = None
        need = self.estimate_s(change, incumbent)
        if need > self.remaining():
            return self._skip(stage.name, config, change, "budget: needs about %.0f s" % need)
        trial = self._trial(stage.name, config, change, "determinism")
        self._run(trial, "determinism")
        if trial["status"] == "ok":
            self._numerics(trial)
            trial["gain"] = trial["throughput"] / incumbent["throughput"] - 1.0
            trial["reproducible"] = reproducible(trial.get("losses"), trial.get("losses_repeat"))
            trial["decision"] = "offered"
        else:
            trial["decision"] = "failed"
        self.on_trial(trial)
        return trial

    def result(self, best, error=None):
        return {
            "best": best,
            "reference": self.reference,
            "trials": self.trials,
            "stages": [s.as_record() for s in self.stages],
            "noise_floor": self.noise_floor,
            "tolerance": self.tolerance,
            "tolerance_applied": self.tolerance_applied,
            "error": error,
        }


def _fmt_delta(delta):
    if delta is None:
        return "?"
    if not math.isfinite(delta):
        return "a non-finite loss"
    return "%.3g" % delta
