"""`torchenv preflight` results: is this set of GPUs and nodes ready for distributed training?

Pure data (the JSON contract of `torchenv preflight --json`, kind "torchenv.preflight"). Each rank
of the run under torchrun contributes a `RankData` (its snapshot, where it runs, what it is bound
to, its GEMM health); rank 0 adds the collective sweep and judges (torchenv.preflight.judge).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .facts import Unknown
from .finding import Finding
from .snapshot import Snapshot

PREFLIGHT_KIND = "torchenv.preflight"
PREFLIGHT_SCHEMA_VERSION = 1

# The verdicts and the exit codes a scheduler prolog or CI gates on.
VERDICTS = ("ready", "degraded", "not-ready")
EXIT_CODES = {"ready": 0, "degraded": 1, "not-ready": 2}

# The sections of the report, in order; each finding id belongs to one.
SECTIONS = ("launch", "inventory", "binding", "environment", "health", "bandwidth")
SECTION_OF = {
    "rank-missing": "launch",
    "rank-no-answer": "launch",
    "process-group-failed": "launch",
    "collective-failed": "launch",
    "preflight-timeout": "launch",
    "preflight-interrupted": "launch",
    "launch-failed": "launch",
    "rank-check-failed": "launch",
    "rank-skew": "inventory",
    "rank-facts-unreadable": "inventory",
    "more-ranks-than-gpus": "inventory",
    "gpus-left-idle": "inventory",
    "gpu-shared-by-ranks": "binding",
    "rank-cross-numa": "binding",
    "ranks-not-bound": "binding",
    "socket-ifname-missing": "environment",
    "nccl-transport-disabled": "environment",
    "nccl-settings": "environment",
    "shm-too-small": "environment",
    "cpu-oversubscribed": "environment",
    "omp-threads-one": "environment",
    "gemm-failed": "health",
    "gemm-wrong-result": "health",
    "gemm-result-differs": "health",
    "gemm-slow": "health",
    "gemm-straggler": "health",
    "gemm-health": "health",
    "gpu-throttled": "health",
    "gpu-memory-errors": "health",
    "gpu-reset-pending": "health",
    "pcie-link-degraded": "health",
    "nvlink-down": "health",
    "p2p-unavailable": "health",
    "bus-bandwidth": "bandwidth",
    "bus-bandwidth-low": "bandwidth",
    "slow-link": "bandwidth",
}


@dataclass(frozen=True, slots=True)
class RankPlace:
    """Where one rank runs, as torchrun told it."""

    rank: int
    local_rank: int
    node: int  # GROUP_RANK: the node's index among the nodes
    host: str
    pid: int
    local_world_size: int = 1


@dataclass(frozen=True, slots=True)
class MissingRank:
    """A rank that did not arrive (or did not answer) in time."""

    rank: int
    node: int | None  # the node it belongs to, when the layout says (rank // local world size)
    host: str | None  # that node's host name, when another rank of it arrived
    phase: str  # "join", "inventory", "sweep", ...
    last_seen: str | None = None  # the last phase the rank reported, if any


@dataclass(frozen=True, slots=True)
class NetInterface:
    name: str
    state: str  # operstate: "up", "down", "unknown", "dormant", ...
    speed_mbps: int | None  # None: not reported (virtual interfaces, down links)
    virtual: bool  # lo, docker0, veth*, bridges: /sys/devices/virtual/net


@dataclass(frozen=True, slots=True)
class IbPort:
    device: str  # "mlx5_0"
    port: int
    state: str  # "ACTIVE", "DOWN", "INIT", ...
    rate_gbits: float | None  # 200.0 for "200 Gb/sec (4X HDR)"
    link_layer: str  # "InfiniBand" or "Ethernet" (RoCE)


@dataclass(frozen=True, slots=True)
class GpuTopology:
    """One GPU of a node as NVML and /sys see it (read once per node, by its local rank 0)."""

    index: int  # NVML index
    name: str
    uuid: str | None
    pci_bus_id: str | None  # "0000:1b:00.0", as /sys names it
    numa_node: int | None
    numa_cpus: str | None  # that NUMA node's cpulist, "0-47,96-143"
    nvlink_active: int | None  # links up; None: NVML has no NVLink for it
    nvlink_links: int | None  # links NVML answered for
    nvlink_version: int | None  # NVML's raw nvmlDeviceGetNvLinkVersion of the first active link
    pcie_gen_current: int | None = None
    pcie_gen_max: int | None = None
    pcie_width_current: int | None = None
    pcie_width_max: int | None = None
    ecc_uncorrected_volatile: int | None = None
    ecc_uncorrected_aggregate: int | None = None
    remapped_rows_uncorrectable: int | None = None
    remapped_rows_pending: bool | None = None
    remapped_rows_failure: bool | None = None
    retired_pages_pending: bool | None = None
    power_limit_w: float | None = None
    default_power_limit_w: float | None = None
    max_sm_clock_mhz: int | None = None


@dataclass(frozen=True, slots=True)
class NodeTopology:
    gpus: tuple[GpuTopology, ...]
    # p2p[i][j]: "ok" or why not ("not supported", "chipset not supported", "disabled by regkey", ...)
    # for NVML indices i, j; "self" on the diagonal. Empty without NVML.
    p2p: tuple[tuple[str, ...], ...]
    # link[i][j]: nvidia-smi topo -m words: "NV" (NVLink), "PIX", "PXB", "PHB", "NODE", "SYS", "X".
    link: tuple[tuple[str, ...], ...]
    numa_nodes: int | None  # NUMA nodes of the host (/sys/devices/system/node)
    error: str | None = None  # why NVML did not answer


@dataclass(frozen=True, slots=True)
class Binding:
    """What one rank computes on and which CPUs it may run on."""

    device: str  # "cuda:3" or "cpu"
    gpu_index: int | None  # torch's index (after CUDA_VISIBLE_DEVICES)
    gpu_uuid: str | None  # "GPU-…": the same card whatever the numbering
    gpu_name: str | None
    gpu_count: int | None  # devices torch sees in this rank
    cpu_affinity: str  # cpulist the rank may run on, "0-15"
    cpu_count: int  # CPUs of the host


@dataclass(frozen=True, slots=True)
class GemmResult:
    """A few seconds of one GEMM on one rank, and whether its results are right."""

    dtype: str  # "bf16", "fp32" (TF32 off)
    n: int  # burn size (n×n by n×n)
    status: str  # "ok", "skipped", "failed"
    tflops: float | None = None  # median over the burn
    samples: int = 0
    seconds: float = 0.0
    check_n: int = 0  # size of the correctness check
    rel_error: float | None = None  # against a float64 reference of the same inputs
    tolerance: float | None = None
    checksum: str | None = None  # of the check product's bits: equal across identical GPUs and libraries
    repeat_equal: bool | None = None  # the check product before and after the burn, bitwise
    observed: dict[str, Any] | None = None  # NVML under load: clocks, throttle reasons, power, temperature
    reason: str | None = None  # why skipped or failed


@dataclass(frozen=True, slots=True)
class RankData:
    place: RankPlace
    snapshot: Snapshot | Unknown
    binding: Binding
    shm_bytes: int | Unknown
    environment: dict[str, str]  # NCCL_*, CUDA_VISIBLE_DEVICES, OMP_NUM_THREADS, ... as this rank sees them
    interfaces: tuple[NetInterface, ...] | Unknown
    ib_ports: tuple[IbPort, ...] | Unknown
    topology: NodeTopology | None  # local rank 0 only
    gemm: tuple[GemmResult, ...] = ()
    nccl_library: str | None = None  # the libnccl this process mapped
    errors: tuple[str, ...] = ()  # a part of the rank's checks that raised
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """One collective at one size, timed on every rank (nccl-tests' conventions)."""

    collective: str  # "all_reduce", "all_gather", "reduce_scatter"
    size_bytes: int  # the total buffer (all_gather: the output; reduce_scatter: the input)
    iterations: int
    seconds: float  # per iteration, averaged over the ranks (nccl-tests' default `-a 1`)
    max_seconds: float  # the slowest rank's
    algbw_gbs: float  # size / seconds, GB/s (10^9)
    busbw_gbs: float  # algbw × the collective's bus factor for the world size


@dataclass(frozen=True, slots=True)
class PairResult:
    """Two ranks exchanging a buffer both ways at once (send/recv), to find a bad link."""

    a: int
    b: int
    size_bytes: int
    seconds: float
    gbs: float  # per direction
    cross_node: bool


@dataclass(frozen=True, slots=True)
class Fabric:
    """What the ranks talk over, and what all-reduce bus bandwidth that fabric should give."""

    kind: str  # "nvlink", "pcie", "network", "host" (CPU/gloo), "single" (one rank)
    detail: str  # "NVLink 4, 18 links per GPU, NVLS off", "PCIe gen 5", "4× 200 Gb/s InfiniBand per node"
    expected_busbw_gbs: float | None  # None: no expectation recorded for it
    source: str | None  # where the expectation comes from
    row: str | None  # the fabrics.toml row id
    why_unjudged: str | None = None


@dataclass(frozen=True, slots=True)
class PreflightReport:
    kind: str
    schema_version: int
    torchenv_version: str
    knowledge_version: str
    verdict: str  # one of VERDICTS
    summary: str
    world_size: int
    nodes: int
    backend: str  # "nccl", "gloo"
    findings: tuple[Finding, ...]
    ranks: tuple[RankData, ...]
    missing: tuple[MissingRank, ...]
    sweep: tuple[SweepPoint, ...]
    pairs: tuple[PairResult, ...]
    fabric: Fabric | None
    phases: dict[str, float]  # seconds per phase on rank 0
    failure: str | None = None  # the phase that failed, in one line
    test_hooks: bool = False  # a test-only hook changed what a rank reported: never a real result

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]


# --- CPU lists as Linux writes them ("0-3,8,10-11") ---------------------------------------------


def parse_cpulist(text: str) -> frozenset[int]:
    """`0-3,8,10-11` -> {0, 1, 2, 3, 8, 10, 11}; raises ValueError on anything else."""
    cpus: set[int] = set()
    for part in (text or "").strip().split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            low, high = (int(x) for x in part.split("-", 1))
            if high < low:
                raise ValueError(f"bad CPU range {part!r}")
            cpus.update(range(low, high + 1))
        else:
            cpus.add(int(part))
    return frozenset(cpus)


def format_cpulist(cpus) -> str:
    """{0, 1, 2, 3, 8} -> `0-3,8`."""
    ordered = sorted(set(cpus))
    parts = []
    start = previous = None
    for cpu in ordered:
        if start is None:
            start = previous = cpu
        elif cpu == previous + 1:
            previous = cpu
        else:
            parts.append(f"{start}-{previous}" if previous != start else f"{start}")
            start = previous = cpu
    if start is not None:
        parts.append(f"{start}-{previous}" if previous != start else f"{start}")
    return ",".join(parts)


def size_text(size_bytes: int) -> str:
    """1073741824 -> `1 GiB`, 1572864 -> `1.5 MiB`."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size_bytes >= scale:
            value = size_bytes / scale
            return f"{value:g} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size_bytes} B"
