"""Shared wording for the bench renderers (terminal and HTML): numbers, headings, the header line."""

from __future__ import annotations

from ..model.bench import BenchReport, Measurement
from ..model.versions import cudnn_text

SECTION_TITLES = {
    "matmul": "Matmul throughput against the datasheet peak (dense)",
    "memory": "Memory bandwidth (copy: bytes read + written)",
    "transfer": "Host ↔ device copies: pageable vs pinned",
    "conv": "Convolution test: cudnn.benchmark and deterministic",
    "amp": "AMP against FP32 (training step)",
    "ladder-resnet50": "Training ladder: ResNet-50",
    "ladder-gpt": "Training ladder: GPT-style block",
}


def number(value: float | None) -> str:
    if value is None:
        return "—"
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def figure(m: Measurement) -> str:
    return f"{number(m.value)} {m.unit}" if m.value is not None else "—"


def spread(m: Measurement) -> str:
    return f"±{m.time.spread * 50:.1f}%" if m.time is not None else ""


def times(value: float | None) -> str:
    return f"{value:.2f}×" if value is not None else ""


def notes(m: Measurement) -> list[str]:
    """What a measured figure's note says in every view: its one-time cost, a branch rung."""
    parts = []
    if m.one_time_s is not None and m.one_time_kind in ("compile", "autotune") and m.one_time_s >= 0.05:
        what = "compile" if m.one_time_kind == "compile" else "cudnn.benchmark search"
        parts.append(f"first step +{m.one_time_s:.1f} s ({what})")
    if m.params.get("branch"):
        parts.append(str(m.params["branch"]))
    if m.id.endswith(".sustained") and m.speedup is not None:
        parts.append(f"sustained {m.speedup:.0%} of the burst{_clock_text(m.observed)}")
    if len(m.modes) == 2:
        scale, unit = (1000.0, "ms") if m.modes[0] >= 1e-3 else (1e6, "µs")
        parts.append(f"bimodal: {m.modes[0] * scale:.1f} and {m.modes[1] * scale:.1f} {unit} per step")
    if m.verdict == "unclear" and (m.step_gain is not None or m.section == "amp"):
        parts.append("no verdict: within the spread of the rung it is compared with")
    return parts


def _clock_text(observed: dict | None) -> str:
    """ " (SM clock 1515 of 1980 MHz, power cap)" from NVML's reading under load, if any."""
    if not isinstance(observed, dict):
        return ""
    clock, top = observed.get("sm_clock_mhz"), observed.get("max_sm_clock_mhz")
    if not isinstance(clock, int) or not isinstance(top, int) or clock >= top:
        return ""
    reasons = observed.get("clock_reasons")
    capped = ", power cap" if isinstance(reasons, int) and reasons & 0x4 else ""
    return f" (SM clock {clock} of {top} MHz{capped})"


def header(report: BenchReport) -> str:
    env = report.environment
    if env is None:
        return f"torchenv bench · {report.mode} · the worker did not report its environment"
    device = env.device_name + (f" ({env.gpu_model})" if env.gpu_model and env.gpu_model != env.device_name else "")
    parts = [f"torchenv bench · {report.mode}", device, f"torch {env.torch_version}"]
    if env.device == "cuda":
        parts.append(f"CUDA {env.cuda}" + (f" · cuDNN {cudnn_text(env.cudnn)}" if env.cudnn else ""))
    else:
        parts.append(f"CPU path, {env.threads} thread(s)" + (", bf16 native" if env.cpu_bf16 else ""))
    return " · ".join(parts)


def timing_line(report: BenchReport) -> str:
    text = f"suite {report.suite_s:.1f} s, torch import included"
    if report.autotune_s >= 0.05:
        text += f" (of which cudnn.benchmark first-step search {report.autotune_s:.1f} s)"
    if report.compile_s:
        text += f"; torch.compile first compile {report.compile_s:.1f} s, reported apart (wall {report.wall_s:.1f} s)"
    return text


# The order sections are shown in (the worker measures the deterministic conv test last).
SECTION_ORDER = ("matmul", "memory", "transfer", "conv", "amp", "ladder-resnet50", "ladder-gpt")


def sections(report: BenchReport) -> list[tuple[str, list[Measurement]]]:
    order: list[str] = []
    for m in report.measurements:
        if m.section not in order:
            order.append(m.section)
    known = {s: i for i, s in enumerate(SECTION_ORDER)}
    order.sort(key=lambda s: known.get(s, len(known)))  # stable: unknown sections keep their place at the end
    return [(s, [m for m in report.measurements if m.section == s]) for s in order]
