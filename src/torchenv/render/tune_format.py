"""The words and numbers of a tune report, shared by its terminal, HTML and JSON views. No decisions."""

from __future__ import annotations

from ..model.tune import TuneReport, TuneTrial
from .bench_format import number as bench_number

DECISION_WORDS = {
    "reference": "reference",
    "adopted": "adopted",
    "outpaced": "faster, but another was faster still",
    "no-gain": "no gain",
    "rejected-numerics": "changes results",
    "not-worth": "does not pay back",
    "offered": "offered",
    "failed": "failed",
    "skipped": "skipped",
    "stopped": "stopped by the budget",
    "faster": "faster (stage unfinished)",
}


def number(value: float | None, digits: int = 3) -> str:
    """bench's number format ("—" when unknown), so both commands print figures alike."""
    return bench_number(value)


def delta_text(trial: TuneTrial) -> str:
    if trial.numerics == "reference":
        return "ref"
    if trial.numerics == "unchecked" or trial.numerics is None:
        return "unchecked"
    text = "∞" if trial.numerics_delta is None else f"{trial.numerics_delta:.2%}"
    return text + (" ✗" if trial.numerics == "beyond" else "")


def one_time_text(trial: TuneTrial) -> str:
    if trial.one_time_s is None or trial.one_time_s < 0.5:
        return ""
    text = f"{trial.one_time_s:.1f} s {trial.one_time_kind or ''}".strip()
    if trial.break_even_steps is not None:
        text += f" (pays back after {trial.break_even_steps:,} steps)"
    return text


def header(report: TuneReport) -> str:
    env = report.environment
    where = f"{env.device_name} · torch {env.torch_version}" if env else "unknown device"
    return f"torchenv tune · {report.workload} · {where}"


def summary_line(report: TuneReport) -> str:
    best = report.by_id(report.recommended)
    ref = report.by_id(report.reference)
    if not best or not ref or best.throughput is None or ref.throughput is None:
        return "no recommendation" + (f": {report.error}" if report.error else "")
    return (
        f"recommended: {best.label} — {number(best.throughput)} {report.unit}, "
        f"{best.throughput / ref.throughput:.2f}× the FP32 reference ({number(ref.throughput)})"
    )


def timing_line(report: TuneReport) -> str:
    parts = [f"budget {report.budget_s:.0f} s"]
    if report.search_s is not None:
        parts.append(f"search {report.search_s:.0f} s")
    parts.append(f"whole run {report.wall_s:.0f} s")
    if report.tolerance_applied is not None:
        tol = f"numerics tolerance {report.tolerance_applied:.3g}"
        if report.noise_floor is not None and report.tolerance_applied > report.tolerance:
            tol += f" (raised from {report.tolerance:.3g}: FP32's own rounding floor is {report.noise_floor:.3g})"
        parts.append(tol)
    return " · ".join(parts)


def loader_lines(report: TuneReport) -> list[str]:
    loader = report.loader
    if loader is None:
        return []
    rows = {t.id: t for t in loader.trials}
    best = rows.get(loader.best or "")
    out = []
    if best is not None:
        out.append(
            f"DataLoader: {best.label} — {number(best.items_per_s)} samples/s "
            f"({len(loader.trials)} settings measured in {loader.seconds:.0f} s on {loader.cpu_count} cores)"
        )
        zero = next((t for t in loader.trials if t.config.get("num_workers") == 0), None)
        four = rows.get(loader.four_workers or "")
        if zero is not None and zero.items_per_s:
            out.append(f"  num_workers=0: {number(zero.items_per_s)} samples/s")
        if four is not None and four.items_per_s:
            out.append(f"  num_workers=4 (the usual advice): {number(four.items_per_s)} samples/s")
        if best.restart_saving_s:
            out.append(f"  persistent_workers saves {best.restart_saving_s:.2f} s of worker start-up per epoch")
        ref = report.by_id(report.recommended)
        if ref is not None and ref.throughput and best.items_per_s and report.unit == "images/s":
            verdict = "keeps up with" if best.items_per_s >= ref.throughput else "is slower than"
            out.append(
                f"  the loader {verdict} the training step ({number(ref.throughput)} {report.unit} with the recommended settings)"
            )
    return out
