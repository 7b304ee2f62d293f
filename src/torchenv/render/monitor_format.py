"""Names, units and number formats of the monitor's series: one table for the terminal, the live
view and the HTML plot."""

from __future__ import annotations

from dataclasses import dataclass

from ..monitor.model import GpuInfo, MonitorReport, Overhead


@dataclass(frozen=True, slots=True)
class SeriesLabel:
    field: str
    label: str
    unit: str
    group: str  # which chart of the HTML plot
    gpm: bool = False


SERIES_LABELS = (
    SeriesLabel("kernel_busy_pct", "kernel-busy (utilization.gpu)", "%", "activity"),
    SeriesLabel("sm_active_pct", "SM active", "%", "activity", gpm=True),
    SeriesLabel("sm_occupancy_pct", "SM occupancy", "%", "activity", gpm=True),
    SeriesLabel("tensor_active_pct", "tensor pipes active", "%", "activity", gpm=True),
    SeriesLabel("dram_active_pct", "DRAM active", "%", "activity", gpm=True),
    SeriesLabel("fp32_active_pct", "FP32 pipe", "%", "activity", gpm=True),
    SeriesLabel("memory_busy_pct", "memory controller busy", "%", "activity"),
    SeriesLabel("memory_used_mib", "memory used", "MiB", "memory"),
    SeriesLabel("power_w", "power", "W", "power"),
    SeriesLabel("sm_clock_mhz", "SM clock", "MHz", "clock"),
    SeriesLabel("temperature_c", "temperature", "°C", "temperature"),
    SeriesLabel("pcie_rx_mbs", "PCIe rx", "MB/s", "links"),
    SeriesLabel("pcie_tx_mbs", "PCIe tx", "MB/s", "links"),
    SeriesLabel("nvlink_rx_mbs", "NVLink rx", "MB/s", "links"),
    SeriesLabel("nvlink_tx_mbs", "NVLink tx", "MB/s", "links"),
)
LABELS = {s.field: s for s in SERIES_LABELS}


def number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if unit == "MiB":
        return f"{value / 1024:.1f} GiB" if value >= 1024 else f"{value:.0f} MiB"
    if unit == "MB/s":
        return f"{value / 1000:.2f} GB/s" if value >= 1000 else f"{value:.1f} MB/s"
    text = f"{value:.1f}" if abs(value) < 10 else f"{value:.0f}"
    return f"{text} {unit}".rstrip() if unit != "%" else f"{text} %"


def unsupported(info: GpuInfo, field: str) -> str | None:
    """'n/a on this GPU' (or why else it is missing) when the GPU cannot give `field`."""
    return info.unsupported.get(field)


def overhead_line(o: Overhead, interval_s: float) -> str:
    if o.sampler_cpu_ms_per_sample is None:
        return "sampler overhead: no samples"
    rate = f"{1 / interval_s:.0f} Hz" if interval_s > 0 else "?"
    text = (
        f"sampler overhead: {o.sampler_cpu_ms_per_sample:.2f} ms CPU per sample = {o.sampler_core_pct:.2f} % of one "
        f"core at {rate} ({o.samples} samples)"
    )
    if o.process_core_pct is not None:
        text += f"; torchenv's process in all {o.process_core_pct:.2f} %"
    if o.late_ticks:
        text += f"; {o.late_ticks} ticks late"
    return text


def exit_line(report: MonitorReport) -> str:
    if report.attach_pid is not None:
        return f"attached to PID {report.attach_pid} for {report.duration_s:.1f} s"
    code = report.exit_code
    what = "exited with " + str(code) if code is not None else "exit status unknown"
    if code is not None and code > 128:
        what += f" (signal {code - 128})"
    return f"command {what} after {report.duration_s:.1f} s"


def steps_line(report: MonitorReport) -> str:
    s = report.steps
    if s is None:
        return ""
    parts = [f"steps: {s.count} marked"]
    if s.step_s is not None:
        parts.append(f"{s.step_s.p50 * 1000:.1f} ms median (p95 {s.step_s.p95 * 1000:.1f} ms)")
    if s.steps_per_s is not None:
        parts.append(f"{s.steps_per_s:.2f} steps/s")
    if s.energy_per_step_j is not None:
        parts.append(f"{s.energy_per_step_j:.1f} J/step")
    if s.kernel_busy_pct is not None:
        parts.append(f"kernel-busy {s.kernel_busy_pct:.0f} % over the steps")
    return ", ".join(parts)
