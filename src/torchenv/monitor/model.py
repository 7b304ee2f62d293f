"""The data of `torchenv monitor`: what NVML said at each tick, and what the run amounted to.

Pure data (frozen dataclasses, JSON through `torchenv.model.codec`). A field is None when the GPU or
the driver does not give it ("n/a on this GPU"): `GpuInfo.unsupported` says which and why, so a
consumer never has to guess whether a None means "zero" or "unknown".

Units are in the field names: `_pct` (0-100), `_mib` (2^20 bytes), `_mbs` (10^6 bytes per second),
`_w`, `_j`, `_mhz`, `_c`, `_s` (seconds since the start of the session).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import Finding

MONITOR_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class GpuInfo:
    """What does not change while the job runs, read once at the start."""

    index: int
    name: str
    uuid: str | None = None
    minor: int | None = None  # /dev/nvidia<minor>: how a process's open device files name this GPU
    cc: tuple[int, int] | None = None
    memory_total_mib: float | None = None
    sm_clock_max_mhz: float | None = None
    power_default_limit_w: float | None = None
    gpm: bool = False  # GPM counters (SM active, occupancy, tensor, DRAM): Hopper and newer
    unsupported: dict[str, str] = field(default_factory=dict)  # metric -> why it is None ("n/a on this GPU")


@dataclass(frozen=True, slots=True)
class GpuSample:
    index: int
    kernel_busy_pct: float | None = None  # utilization.gpu: share of time *any* kernel ran, not SM usage
    memory_busy_pct: float | None = None  # utilization.memory: share of time the memory controller was busy
    sm_active_pct: float | None = None  # GPM: SMs with at least one warp resident, averaged over SMs
    sm_occupancy_pct: float | None = None  # GPM: resident warps over the maximum
    tensor_active_pct: float | None = None  # GPM: any tensor pipe active
    dram_active_pct: float | None = None  # GPM: DRAM bandwidth in use
    fp32_active_pct: float | None = None  # GPM: FP32 pipe
    fp16_active_pct: float | None = None  # GPM: FP16 pipe
    memory_used_mib: float | None = None
    memory_reserved_mib: float | None = None  # held by the driver (NVML memory v2)
    power_w: float | None = None
    power_limit_w: float | None = None  # the enforced limit
    energy_j: float | None = None  # since the session started (the GPU's energy counter)
    sm_clock_mhz: float | None = None
    clock_reasons: int | None = None  # NVML clock event (throttle) reason bits
    temperature_c: float | None = None
    pcie_rx_mbs: float | None = None
    pcie_tx_mbs: float | None = None
    nvlink_rx_mbs: float | None = None
    nvlink_tx_mbs: float | None = None


@dataclass(frozen=True, slots=True)
class ProcessSample:
    """A compute process NVML lists on a GPU, and whether it belongs to the monitored job."""

    gpu: int
    pid: int  # as NVML reports it: in a container, the host's PID
    own: bool
    memory_mib: float | None = None
    sm_pct: float | None = None  # its share of kernel time (NVML process utilization), when given
    name: str | None = None  # when the PID is visible here


@dataclass(frozen=True, slots=True)
class Event:
    """A fault NVML reported while the job ran: an XID, ECC errors, remapped rows, a lost GPU."""

    t_s: float
    gpu: int
    kind: str  # "xid" | "ecc-corrected" | "ecc-uncorrected" | "row-remap-pending" | "row-remap-failed" | "gpu-lost"
    value: int = 0  # the XID code, the number of new errors
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Sample:
    t_s: float
    gpus: tuple[GpuSample, ...]
    processes: tuple[ProcessSample, ...] = ()
    full: bool = True  # False: a --fast in-between tick (GPM, energy, clocks, utilization only)
    own_cpu_pct: float | None = None  # the job's process tree, all cores (100 = one core)
    own_pids: int | None = None  # processes in the job's tree
    attribution: str = "none"  # "pid" | "context" | "ambiguous" | "none"
    sampler_cpu_s: float = 0.0  # CPU time this sample cost torchenv


# --- the summary ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeriesStats:
    n: int
    mean: float
    p50: float
    p95: float
    maximum: float
    minimum: float


@dataclass(frozen=True, slots=True)
class GpuSummary:
    info: GpuInfo
    used_by_job: bool
    series: dict[str, SeriesStats]  # GpuSample field name -> statistics over the run
    energy_j: float | None
    reasons_share: dict[str, float]  # decoded clock event reason -> share of samples it was set
    own_memory_max_mib: float | None
    other_processes: tuple[int, ...]  # PIDs of compute processes not of the job


@dataclass(frozen=True, slots=True)
class Span:
    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class Verdict:
    """A finding about a stretch of the run: the same diagnostic type every command reports, plus
    where it held (spans, shaded in the HTML plot) and on which GPU."""

    finding: Finding
    gpu: int | None
    spans: tuple[Span, ...]
    share: float  # of the monitored time


@dataclass(frozen=True, slots=True)
class RuleSkipped:
    rule: str
    gpu: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class Steps:
    """From `torchenv.step()` marks in the job."""

    count: int
    step_s: SeriesStats | None
    steps_per_s: float | None
    energy_per_step_j: float | None
    kernel_busy_pct: float | None  # mean over the stepped stretch
    marks_s: tuple[float, ...] = ()  # when each step ended (kept for the plot; at most a few thousand)


@dataclass(frozen=True, slots=True)
class Overhead:
    """What sampling cost: CPU time per sample in the sampler thread, and torchenv's whole process."""

    samples: int
    sampler_cpu_ms_per_sample: float | None
    sampler_core_pct: float | None  # of one core, at the sampling rate used
    process_core_pct: float | None  # torchenv's process in all (live view and output relay included)
    late_ticks: int = 0  # ticks skipped because a sample took longer than the interval


@dataclass(frozen=True, slots=True)
class MonitorReport:
    torchenv_version: str
    command: tuple[str, ...]
    attach_pid: int | None
    status: str  # "ok" | "interrupted" | "no-samples"
    exit_code: int | None  # the command's, passed through (128 + signal when it died of one)
    started_at: str  # ISO 8601, local time with offset
    duration_s: float
    interval_s: float
    fast: bool
    window_s: float
    samples: int
    gpus: tuple[GpuSummary, ...]
    verdicts: tuple[Verdict, ...]
    skipped: tuple[RuleSkipped, ...]
    events: tuple[Event, ...]
    steps: Steps | None
    overhead: Overhead
    attribution: str  # how the job's GPU processes were found
    notes: tuple[str, ...] = ()
