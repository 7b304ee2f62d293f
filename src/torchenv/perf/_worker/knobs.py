# ruff: noqa: UP031  (runs in the target interpreter: Python 3.8+ syntax)
"""The knobs `torchenv tune` measures, and how a configuration (a plain dict) is named.

Pure and stdlib-only, part of the perf worker runtime (Python 3.8+ syntax): bench's ladder rungs
and tune's trials are named by the same labels.
"""

from __future__ import annotations

# The FP32 reference: every speed setting off. TF32 is off for cuDNN too (torch's default leaves
# cuDNN's TF32 on), so the reference is strict FP32 and the same as `torchenv bench`'s fp32 rung.
BASE = {
    "tf32": False,  # TF32 matmuls and convolutions (float32 matmul precision "high")
    "amp": None,  # None | "bf16" | "fp16" (fp16 always with a GradScaler)
    "channels_last": False,  # NHWC memory format for the model and its 4-D inputs
    "benchmark": False,  # cudnn.benchmark
    "optimizer": "default",  # "default" | "foreach" | "fused"
    "compile": None,  # None | "default" | "max-autotune"
    "deterministic": False,  # torch.use_deterministic_algorithms(True) + cudnn.deterministic
}

LOADER_BASE = {"num_workers": 0, "pin_memory": False, "prefetch_factor": None, "persistent_workers": False}


def merge(config, change):
    out = dict(BASE)
    out.update(config or {})
    out.update(change or {})
    return out


def changes(config):
    """The settings of `config` that differ from the FP32 reference, in knob order."""
    config = merge(config, None)
    return {k: config[k] for k in BASE if config[k] != BASE[k]}


def describe_change(key, value):
    if key == "tf32":
        return "TF32"
    if key == "amp":
        return "AMP bf16" if value == "bf16" else "AMP fp16+GradScaler"
    if key == "channels_last":
        return "channels_last"
    if key == "benchmark":
        return "cudnn.benchmark"
    if key == "optimizer":
        return "%s optimizer" % value
    if key == "compile":
        return "torch.compile" if value == "default" else "torch.compile %s" % value
    if key == "deterministic":
        return "deterministic"
    return "%s=%s" % (key, value)


def label(config):
    """ "TF32 + AMP bf16 + channels_last + …", or "FP32 (reference)" for the reference."""
    parts = [describe_change(k, v) for k, v in changes(config).items()]
    return " + ".join(parts) if parts else "FP32 (reference)"


def config_id(config):
    """A stable short id: "tf32.amp-bf16.cl.bench.opt-fused.compile-default"; "fp32" for the reference."""
    short = {"tf32": "tf32", "channels_last": "cl", "benchmark": "bench", "deterministic": "det"}
    parts = []
    for key, value in changes(config).items():
        if value is True:
            parts.append(short[key])
        else:
            parts.append("%s-%s" % ({"optimizer": "opt"}.get(key, key), value))
    return ".".join(parts) or "fp32"


def loader_label(config):
    c = dict(LOADER_BASE)
    c.update(config or {})
    parts = ["num_workers=%d" % c["num_workers"]]
    if c["pin_memory"]:
        parts.append("pin_memory")
    if c["num_workers"] > 0:
        parts.append("prefetch_factor=%d" % (c["prefetch_factor"] or 2))
        if c["persistent_workers"]:
            parts.append("persistent_workers")
    return ", ".join(parts)


def loader_id(config):
    c = dict(LOADER_BASE)
    c.update(config or {})
    text = "nw%d.pin%d" % (c["num_workers"], 1 if c["pin_memory"] else 0)
    if c["num_workers"] > 0:
        text += ".pf%d.pw%d" % (c["prefetch_factor"] or 2, 1 if c["persistent_workers"] else 0)
    return text
