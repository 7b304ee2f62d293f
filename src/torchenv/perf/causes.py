"""Likely causes of figures that fall short of what the hardware should give. Pure: decided from
the facts gathered before the run (NVML, via gather_facts(with_torch=False)), the worker's
environment record and its NVML readings under load. Unit-tested without torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Facts, known
from ..model.bench import Measurement
from ..model.finding import Finding, Severity
from ..model.perf_records import WorkerEnvironment

# A measured figure "falls short" below these fractions of the hardware's figure. Well-tuned
# kernels reach 0.75–0.85 of the dense datasheet peak on matmul, ~0.9 on a device copy and
# ~0.85 of the PCIe link on pinned copies (H100 SXM capture: 0.80, 0.90, 0.87).
SHORT_OF = {"matmul": 0.6, "memory": 0.7, "transfer": 0.6}

# Usable bandwidth per direction of a x16 PCIe link, GB/s (encoding overhead included).
PCIE_X16_GBS = {1: 4.0, 2: 8.0, 3: 15.75, 4: 31.5, 5: 63.0, 6: 121.0}

# NVML clock event (throttle) reason bits.
REASON_BITS = {
    0x1: "gpu idle",
    0x2: "application clocks setting",
    0x4: "software power cap",
    0x8: "hardware slowdown",
    0x10: "sync boost",
    0x20: "software thermal slowdown",
    0x40: "hardware thermal slowdown",
    0x80: "hardware power brake",
    0x100: "display clock setting",
}
THROTTLING = 0x8 | 0x20 | 0x40 | 0x80  # slowdowns that are faults, not the normal power envelope


def decode_reasons(mask: int | None) -> list[str]:
    if not isinstance(mask, int):
        return []
    return [name for bit, name in REASON_BITS.items() if mask & bit]


def pcie_rate_gbs(gen: int | None, width: int | None) -> float | None:
    if not isinstance(gen, int) or not isinstance(width, int) or gen not in PCIE_X16_GBS or width <= 0:
        return None
    return PCIE_X16_GBS[gen] * width / 16


@dataclass(frozen=True, slots=True)
class Context:
    """What the causes are drawn from, distilled from Facts and the worker's environment record."""

    device: str = "cuda"  # what the suite ran on
    nvidia_gpus: int | None = None  # GPUs NVML (or nvidia-smi) sees on the machine
    cuda_build: bool | None = None  # torch.version.cuda is not None
    cuda_available: bool | None = None
    debug_build: bool | None = None
    pcie_gen: int | None = None  # read at rest, before the run
    pcie_gen_max: int | None = None
    pcie_width: int | None = None
    pcie_width_max: int | None = None
    other_processes: int | None = None  # compute processes on the GPU before the run
    other_processes_memory_mib: int | None = None
    utilization_percent: int | None = None
    mig_enabled: bool | None = None
    threads: int | None = None
    cpu_count: int | None = None


def context_from(facts: Facts | None, env: WorkerEnvironment | None, index: int = 0) -> Context:
    """The causes' context from the facts read at rest and the worker's typed `env` record data."""
    env = env or WorkerEnvironment()
    values: dict = dict(
        device=env.device or "cuda",
        cuda_build=env.cuda_built,
        cuda_available=env.cuda_available,
        debug_build=env.debug,
        threads=env.threads,
        cpu_count=env.cpu_count,
    )
    if facts is not None and known(facts.gpus.gpus):
        gpus = facts.gpus.gpus
        values["nvidia_gpus"] = len(gpus)
        gpu = next((g for g in gpus if g.index == index), None)
        if gpu is not None:
            for name, attr in (
                ("pcie_gen", "pcie_gen_current"),
                ("pcie_gen_max", "pcie_gen_max"),
                ("pcie_width", "pcie_width_current"),
                ("pcie_width_max", "pcie_width_max"),
                ("other_processes", "compute_processes"),
                ("other_processes_memory_mib", "other_processes_memory_mib"),
                ("utilization_percent", "utilization_percent"),
                ("mig_enabled", "mig_enabled"),
            ):
                value = getattr(gpu, attr)
                values[name] = value if known(value) else None
    if facts is not None and known(facts.host.pci_gpus) and values.get("nvidia_gpus") is None:
        values["nvidia_gpus"] = len(facts.host.pci_gpus)
    return Context(**values)


# bench's causes are findings (the one diagnostic type), under the doctor's IDs where they mean the same
# thing (gpu-memory-held-by-others, mig-enabled, pcie-link-degraded, cpu-only-build, cuda-unavailable,
# torch-debug-build): id -> (category, layer, severity).
KINDS = {
    "cpu-only-build": ("cpu-only-build", "torch", Severity.ERROR),
    "cuda-unavailable": ("torch-broken", "torch", Severity.ERROR),
    "torch-debug-build": ("performance", "torch", Severity.WARNING),
    "gpu-memory-held-by-others": ("out-of-memory", "compute", Severity.WARNING),
    "cpu-threads-limited": ("performance", "environment", Severity.WARNING),
    "pageable-host-memory": ("performance", "compute", Severity.WARNING),
    "pcie-link-degraded": ("performance", "hardware", Severity.WARNING),
    "gpu-busy-before-run": ("performance", "compute", Severity.WARNING),
    "gpu-clocks-throttled": ("performance", "hardware", Severity.WARNING),
    "gpu-power-capped": ("performance", "hardware", Severity.INFO),
    "mig-enabled": ("gpu-hidden", "cuda", Severity.INFO),
    "unexplained-shortfall": ("performance", "compute", Severity.WARNING),
}


def _cause(id: str, summary: str, evidence: str, fix: str) -> Finding:
    category, layer, severity = KINDS[id]
    return Finding(id, category, severity, layer, summary, (evidence,), summary, fix or None)


def report_causes(ctx: Context) -> tuple[Finding, ...]:
    """Causes that hold the whole report back, whatever the figure."""
    causes = []
    if ctx.device == "cpu" and ctx.nvidia_gpus:
        if ctx.cuda_build is False:
            causes.append(
                _cause(
                    "cpu-only-build",
                    f"torch is a CPU-only build, but this machine has {ctx.nvidia_gpus} NVIDIA GPU(s): every figure is the CPU's",
                    "torch.version.cuda is None; NVML lists the GPU(s)",
                    "install a CUDA build of torch (torchenv doctor shows the exact command)",
                )
            )
        elif ctx.cuda_available is False:
            causes.append(
                _cause(
                    "cuda-unavailable",
                    "torch was built with CUDA but cannot use the GPU here: the suite ran on the CPU",
                    "torch.cuda.is_available() is False",
                    "run `torchenv doctor` for the reason",
                )
            )
    if ctx.debug_build:
        causes.append(
            _cause(
                "torch-debug-build",
                "torch is a debug build: kernels and the dispatcher run without optimisation",
                "torch.version.debug is True",
                "install a release build of torch",
            )
        )
    if ctx.device == "cuda" and ctx.other_processes:
        memory = f", holding {ctx.other_processes_memory_mib} MiB" if ctx.other_processes_memory_mib else ""
        causes.append(
            _cause(
                "gpu-memory-held-by-others",
                "another process was running on the GPU: it competes for the same SMs and memory bandwidth",
                f"NVML: {ctx.other_processes} other compute process(es){memory} before the run",
                "rerun when the GPU is idle (nvidia-smi lists the processes)",
            )
        )
    if ctx.device == "cpu" and ctx.threads and ctx.cpu_count and ctx.threads < ctx.cpu_count / 2:
        causes.append(
            _cause(
                "cpu-threads-limited",
                f"torch uses {ctx.threads} thread(s) on a {ctx.cpu_count}-CPU machine",
                f"torch.get_num_threads() = {ctx.threads}; os.cpu_count() = {ctx.cpu_count}",
                "unset OMP_NUM_THREADS / MKL_NUM_THREADS, or raise them to the number of physical cores",
            )
        )
    return tuple(causes)


def is_short(m: Measurement) -> bool:
    """Whether a figure falls short of what the hardware should give."""
    if m.status != "ok" or m.ratio is None:
        return False
    threshold = SHORT_OF.get(m.section)
    return threshold is not None and m.ratio < threshold


def measurement_causes(m: Measurement, ctx: Context, pinned: Measurement | None = None) -> tuple[Finding, ...]:
    """The likely causes of one short figure, most specific first; empty when the figure is fine."""
    if not is_short(m):
        return ()
    causes: list[Finding] = []
    observed = m.observed if isinstance(m.observed, dict) and "error" not in m.observed else {}
    if ctx.debug_build:
        causes.append(
            _cause(
                "torch-debug-build", "torch is a debug build", "torch.version.debug is True", "install a release build"
            )
        )

    if m.section == "transfer":
        if m.params.get("memory") == "pageable" and pinned is not None and pinned.value and m.value:
            causes.append(
                _cause(
                    "pageable-host-memory",
                    f"pageable host memory: the copy is staged through a pinned bounce buffer ({pinned.value / m.value:.1f}× slower than pinned)",
                    f"pinned {pinned.value:.1f} GB/s vs pageable {m.value:.1f} GB/s",
                    "pin the host buffers: DataLoader(pin_memory=True), tensor.pin_memory(), then .to(device, non_blocking=True)",
                )
            )
        gen, width = observed.get("pcie_gen", ctx.pcie_gen), observed.get("pcie_width", ctx.pcie_width)
        gen_max = observed.get("pcie_gen_max", ctx.pcie_gen_max)
        width_max = observed.get("pcie_width_max", ctx.pcie_width_max)
        if (isinstance(gen, int) and isinstance(gen_max, int) and gen < gen_max) or (
            isinstance(width, int) and isinstance(width_max, int) and width < width_max
        ):
            when = "under load" if "pcie_gen" in observed else "at rest (GPUs lower the link speed when idle)"
            causes.append(
                _cause(
                    "pcie-link-degraded",
                    f"the PCIe link runs at gen {gen} x{width}, below its gen {gen_max} x{width_max}",
                    f"NVML, read {when}",
                    "reseat the card or move it to a full x16 slot of the CPU's generation; check BIOS PCIe settings and risers",
                )
            )
    if m.section in ("matmul", "memory"):
        if ctx.other_processes or observed.get("other_processes"):
            count = observed.get("other_processes") or ctx.other_processes
            causes.append(
                _cause(
                    "gpu-memory-held-by-others",
                    "another process is using the GPU",
                    f"NVML: {count} other compute process(es)",
                    "rerun when the GPU is idle",
                )
            )
        elif ctx.utilization_percent and ctx.utilization_percent > 10:
            causes.append(
                _cause(
                    "gpu-busy-before-run",
                    "the GPU was busy before the run",
                    f"NVML utilisation {ctx.utilization_percent} % at rest",
                    "rerun when the GPU is idle",
                )
            )
        reasons = observed.get("clock_reasons")
        clock, clock_max = observed.get("sm_clock_mhz"), observed.get("max_sm_clock_mhz")
        slow = isinstance(clock, int) and isinstance(clock_max, int) and clock_max > 0 and clock < 0.85 * clock_max
        clock_text = f"SM clock {clock} of {clock_max} MHz" if isinstance(clock, int) else "SM clock not read"
        if isinstance(reasons, int) and reasons & THROTTLING:
            causes.append(
                _cause(
                    "gpu-clocks-throttled",
                    "the GPU throttled its clocks: " + ", ".join(n for n in decode_reasons(reasons & THROTTLING)),
                    f"NVML under load: {clock_text}; reasons {', '.join(decode_reasons(reasons))}",
                    "check cooling and power delivery (nvidia-smi -q -d PERFORMANCE,TEMPERATURE,POWER)",
                )
            )
        elif isinstance(reasons, int) and reasons & 0x4 and slow:
            limit, default = observed.get("power_limit_w"), observed.get("default_power_limit_w")
            lowered = isinstance(limit, (int, float)) and isinstance(default, (int, float)) and limit < default * 0.98
            causes.append(
                _cause(
                    "gpu-power-capped",
                    "the power limit holds the clocks down" + (" (the limit was lowered)" if lowered else ""),
                    f"NVML under load: {clock_text}; power limit {limit} W (default {default} W)",
                    "restore the default power limit (nvidia-smi -pl)"
                    if lowered
                    else "expected under a sustained dense load",
                )
            )
        if ctx.mig_enabled:
            causes.append(
                _cause(
                    "mig-enabled",
                    "MIG is on: the process sees a slice of the GPU, the datasheet peak is for the whole GPU",
                    "NVML: MIG mode enabled",
                    "compare against the slice's share of the GPU, or disable MIG",
                )
            )
    if not causes:
        causes.append(
            _cause(
                "unexplained-shortfall",
                "none of the known causes was seen (throttling, other processes, PCIe link, debug build, MIG)",
                f"measured {m.ratio:.0%} of the hardware's figure",
                "profile the operation (torch.profiler) or compare with a bare script",
            )
        )
    return tuple(causes)
