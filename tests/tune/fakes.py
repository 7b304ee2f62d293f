"""Fake measurements for the pure search: a workload whose step time is a function of the knobs."""

from __future__ import annotations

import math


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


# Step seconds multipliers, shaped on the H100 ResNet-50 capture: TF32 2.16×, AMP +19 %,
# channels_last +73 % only with AMP (+3 % without), cudnn.benchmark ~0, compile +39 %.
def h100_like_step_s(config):
    s = 0.1535
    if config.get("tf32"):
        s /= 2.16
    if config.get("amp"):
        s /= 1.19
    if config.get("channels_last"):
        s /= 1.73 if config.get("amp") else 1.03
    if config.get("benchmark"):
        s /= 1.005
    if config.get("optimizer") == "fused":
        s /= 1.03
    if config.get("compile") == "default":
        s /= 1.39
    if config.get("compile") == "max-autotune":
        s /= 1.45
    if config.get("deterministic"):
        s *= 1.3
    return s


class FakeMeasure:
    """measure(config, purpose) with controllable timings, losses and failures; advances the clock."""

    def __init__(self, clock, step_s=h100_like_step_s, loss_shift=None, fail=None, one_time=None, trial_s=2.0):
        self.clock = clock
        self.step_s = step_s
        self.loss_shift = loss_shift or (lambda config: 0.0)
        self.fail = fail or (lambda config: None)
        self.one_time = one_time or (lambda config: 50.0 if config.get("compile") else 0.0)
        self.trial_s = trial_s
        self.calls = []

    def __call__(self, config, purpose):
        self.calls.append((dict(config), purpose))
        reason = self.fail(config)
        self.clock.now += self.trial_s + self.one_time(config)
        if reason:
            return {"status": "failed", "reason": reason}
        s = self.step_s(config)
        shift = self.loss_shift(config)
        losses = [6.9 * (1 + shift), 6.5 * (1 + shift), 6.0 * (1 + shift)]
        out = {
            "status": "ok",
            "samples_s": [s * f for f in (0.995, 1.0, 1.0, 1.005, 1.0, 0.998)],
            "first_step_s": s + self.one_time(config),
            "losses": losses,
            "memory_bytes": 10 << 30,
        }
        if purpose in ("reference", "determinism"):
            out["losses_repeat"] = list(losses)
        if purpose == "reference":
            out["losses_perturbed"] = [x * (1 + 1e-5) for x in losses]
        return out


GPU_CAPS = {
    "device": "cuda",
    "tf32": True,
    "bf16": True,
    "fp16": True,
    "has_conv": True,
    "cudnn_search_measurable": True,  # the search logic as it would run with a fresh process per trial
    "plain_step": False,
    "optimizer": "SGD",
    "fused": True,
    "foreach": True,
    "default_impl": "foreach",
    "compile": True,
}
CPU_CAPS = dict(GPU_CAPS, device="cpu", tf32=False, fp16=False, default_impl="for-loop")


def capture_loader_rate(config, cores=16):
    """samples/s of a CPU-heavy dataset shaped on the H100 capture: 0 workers 443, 2 → 167,
    4 → 273, 8 → 448, 15 → ~500; pin_memory +1 %, prefetch 4 +0.5 %."""
    nw = config["num_workers"]
    rate = 443.0 if nw == 0 else 520.0 * (1.0 - math.exp(-nw / 5.0)) * (0.99 if nw >= cores else 1.0)
    if config.get("pin_memory"):
        rate *= 1.01
    if nw and config.get("prefetch_factor") == 4:
        rate *= 1.005
    if nw and not config.get("persistent_workers"):
        rate *= 0.97
    return rate
