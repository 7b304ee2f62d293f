"""Verdicts over windows of samples. Pure: samples in, `Verdict`s (findings with spans) out.

The job's stretch on each GPU (from the first sample in which it had a process there to the last) is
cut into windows (`window_s`, 10 s by default). For each GPU the job uses, each window
gets at most one *load* verdict, the first of LOAD_RULES that holds (is the GPU idle, starved,
launch-bound, memory-bound, computing without its tensor cores, or computing), and any number of
*clock* verdicts (power- or thermal-capped). Consecutive windows with the same verdict become one
span, and the evidence is recomputed over all the windows it held in. Run-level verdicts look at
the whole run: memory creeping up, another process on the GPU, a GPU the job never used, faults.

A rule whose input is unknown (SM active on a GPU without GPM) is skipped with the reason, never
guessed; the next rule may still hold, with evidence that says what could not be told apart.
Every threshold is in THRESHOLDS, with the reason for its value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..model import Finding, Severity
from ..perf.causes import THROTTLING, decode_reasons
from .model import Event, GpuInfo, RuleSkipped, Sample, Span, Verdict

POWER_CAP = 0x4  # NVML clocksEventReasonSwPowerCap

THRESHOLDS = {
    "idle_busy_pct": 2.0,  # kernel-busy below this: no kernel ran worth the name
    "starved_busy_pct": 60.0,  # below this the GPU waits for work more than a third of the time
    "launch_busy_pct": 50.0,  # "busy" by utilization.gpu ...
    "launch_sm_ratio": 0.35,  # ... while SM active is below this share of it: kernels that fill few SMs
    "launch_tiny_busy_pct": 20.0,  # or busy this much with kernels so small (SM active below
    "launch_tiny_ratio": 0.1,  # this share of kernel-busy) that launching them is the work
    "compute_sm_pct": 40.0,  # SM active at or above this: the SMs are doing the work
    "memory_dram_pct": 50.0,  # DRAM bandwidth in use at or above this ...
    "memory_tensor_pct": 20.0,  # ... with the tensor pipes below this: streaming memory, not math
    "memory_sm_pct": 30.0,
    "tensor_idle_pct": 5.0,  # tensor pipes below this on a math-heavy window ...
    "tensor_fp32_pct": 20.0,  # ... whose FP32 pipe is at least this busy: FP32 matmul on CUDA cores
    "tensor_sm_pct": 50.0,
    "busy_pct": 60.0,  # without GPM: kernel-busy at or above this is "busy", no more can be said
    "context_share": 0.5,  # the job held a context on the GPU in at least this share of the window
    "capped_share": 0.3,  # a clock reason set in at least this share of a window's samples
    # ... and the clock it cost: on the H200 the SW power cap bit is also set at 221 W with the SM clock at
    # 1969 of 1980 MHz (benchmarks/results/h200-round3, input-bound load), which is no cap worth reporting
    "capped_clock_loss": 0.05,
    "slowdown_share": 0.1,  # thermal/hardware slowdowns are faults: a tenth of the time is enough
    "creep_min_s": 60.0,  # memory creep needs a minute of samples after the warm-up ...
    "creep_warmup_share": 0.2,  # ... which is the first fifth of the run (the allocator's growth)
    "creep_r": 0.9,  # a steady rise (correlation with time) ...
    "creep_mib": 512.0,  # ... of at least this much, or creep_total_share of the GPU's memory
    "creep_total_share": 0.02,
    "other_share": 0.1,  # another process in at least this share of the samples
    "min_window_samples": 3,
}


@dataclass(frozen=True, slots=True)
class WindowStats:
    """One GPU over one window (or over all the windows a verdict held in)."""

    gpu: int
    start_s: float
    end_s: float
    n: int
    context_share: float | None = None  # the job had a process on this GPU; None: cannot be told
    kernel_busy: float | None = None
    busy_low_share: float | None = None  # samples under 10 % kernel-busy
    busy_high_share: float | None = None  # samples over 50 %
    sm_active: float | None = None
    sm_occupancy: float | None = None
    tensor: float | None = None
    dram: float | None = None
    fp32: float | None = None
    power_w: float | None = None
    power_limit_w: float | None = None
    power_default_limit_w: float | None = None
    sm_clock_mhz: float | None = None  # mean over the window
    capped_clock_mhz: float | None = None  # mean over the samples with a cap or slowdown reason set
    sm_clock_max_mhz: float | None = None
    power_cap_share: float | None = None  # None: the reasons are unknown
    slowdown_share: float | None = None
    slowdown_reasons: tuple[str, ...] = ()
    temperature_max_c: float | None = None
    pcie_rx_mbs: float | None = None
    burst_lead: tuple[int, int] | None = None  # (bursts preceded by a PCIe rx rise, bursts)
    job_cpu_pct: float | None = None

    @property
    def seconds(self) -> float:
        return self.end_s - self.start_s


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None and math.isfinite(v)]
    return sum(known) / len(known) if known else None


def _share(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def window_stats(
    samples: Sequence[Sample], gpu: int, info: GpuInfo | None, start_s: float, end_s: float, *, ambiguous: bool = False
) -> WindowStats:
    rows = [(s, g) for s in samples for g in s.gpus if g.index == gpu]
    busy = [g.kernel_busy_pct for _, g in rows if g.kernel_busy_pct is not None]
    reasons = [g for _, g in rows if g.clock_reasons is not None]
    full = [s for s, _ in rows if s.full]
    context = None
    if not ambiguous and full:
        context = _share([any(p.own and p.gpu == gpu for p in s.processes) for s in full])
    capped = [g.sm_clock_mhz for g in reasons if g.clock_reasons & (POWER_CAP | THROTTLING)]
    slowdown_bits = 0
    for g in reasons:
        slowdown_bits |= g.clock_reasons & THROTTLING
    temperatures = [g.temperature_c for _, g in rows if g.temperature_c is not None]
    return WindowStats(
        gpu=gpu,
        start_s=start_s,
        end_s=end_s,
        n=len(rows),
        context_share=context,
        kernel_busy=_mean(busy),
        busy_low_share=_share([b < 10 for b in busy]),
        busy_high_share=_share([b > 50 for b in busy]),
        sm_active=_mean([g.sm_active_pct for _, g in rows]),
        sm_occupancy=_mean([g.sm_occupancy_pct for _, g in rows]),
        tensor=_mean([g.tensor_active_pct for _, g in rows]),
        dram=_mean([g.dram_active_pct for _, g in rows]),
        fp32=_mean([g.fp32_active_pct for _, g in rows]),
        power_w=_mean([g.power_w for _, g in rows]),
        power_limit_w=_mean([g.power_limit_w for _, g in rows]),
        power_default_limit_w=info.power_default_limit_w if info else None,
        sm_clock_mhz=_mean([g.sm_clock_mhz for _, g in rows]),
        capped_clock_mhz=_mean(capped),
        sm_clock_max_mhz=info.sm_clock_max_mhz if info else None,
        power_cap_share=_share([bool(g.clock_reasons & POWER_CAP) for g in reasons]),
        slowdown_share=_share([bool(g.clock_reasons & THROTTLING) for g in reasons]),
        slowdown_reasons=tuple(decode_reasons(slowdown_bits)),
        temperature_max_c=max(temperatures) if temperatures else None,
        pcie_rx_mbs=_mean([g.pcie_rx_mbs for _, g in rows]),
        burst_lead=_burst_lead([g for _, g in rows]),
        job_cpu_pct=_mean([s.own_cpu_pct for s in full]),
    )


def _burst_lead(rows) -> tuple[int, int] | None:
    """How many rises of kernel-busy (under 10 % to over 50 %) had PCIe rx above twice its quiet
    level (the lower quartile) in the sample of the rise or the one before: the input arriving,
    then the work."""
    pairs = [(g.kernel_busy_pct, g.pcie_rx_mbs) for g in rows if g.kernel_busy_pct is not None]
    rx = sorted(r for _, r in pairs if r is not None)
    if len(rx) < 4:
        return None
    quiet = rx[len(rx) // 4]
    bursts = led = 0
    for i in range(1, len(pairs)):
        if pairs[i - 1][0] < 10 <= 50 < pairs[i][0]:
            bursts += 1
            near = [r for _, r in pairs[i - 1 : i + 1] if r is not None]
            if any(r > max(2 * quiet, 10.0) for r in near):
                led += 1
    return (led, bursts) if bursts >= 2 else None


# --- the rules -----------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    group: str  # "load" (one per window) | "clocks"
    category: str
    layer: str
    needs: tuple[str, ...]  # WindowStats fields that must be known
    holds: Callable[[WindowStats], bool]
    title: Callable[[WindowStats], str]
    evidence: Callable[[WindowStats], list[str]]
    explanation: str
    fix: str
    severity: Callable[[WindowStats], Severity] = field(default=lambda s: Severity.WARNING)


T = THRESHOLDS


def _context(s: WindowStats) -> bool:
    return s.context_share is not None and s.context_share >= T["context_share"]


def _busy_evidence(s: WindowStats) -> list[str]:
    out = [
        f"kernel-busy (utilization.gpu) {_pct(s.kernel_busy)} %: idle {_pct(100 - (s.kernel_busy or 0))} % of the time"
    ]
    if s.busy_high_share is not None and s.busy_high_share > 0 and s.busy_low_share:
        out.append(
            f"in bursts: over 50 % busy in {s.busy_high_share:.0%} of the samples, under 10 % in {s.busy_low_share:.0%}"
        )
    if s.burst_lead is not None:
        out.append(f"PCIe rx rose with or just before {s.burst_lead[0]} of {s.burst_lead[1]} bursts")
    if s.sm_active is not None:
        out.append(f"SM active {_pct(s.sm_active)} %")
    else:
        out.append("SM active n/a on this GPU: tiny kernels and an idle GPU cannot be told apart")
    if s.job_cpu_pct is not None:
        out.append(f"the job's processes used {s.job_cpu_pct:.0f} % CPU (100 % = one core)")
    return out


def _clock_lost(s: WindowStats) -> bool:
    """The capped clock is measurably below the maximum (unknown clocks: the reason bit alone decides)."""
    if s.capped_clock_mhz is None or not s.sm_clock_max_mhz:
        return True
    return s.capped_clock_mhz <= s.sm_clock_max_mhz * (1 - T["capped_clock_loss"])


def _clock_text(s: WindowStats, clock: float | None) -> str:
    if clock is None or not s.sm_clock_max_mhz:
        return "SM clock n/a"
    loss = 1 - clock / s.sm_clock_max_mhz
    return f"SM clock {clock:.0f} of {s.sm_clock_max_mhz:.0f} MHz max ({-loss:+.0%})"


def _power_text(s: WindowStats) -> str:
    if s.power_w is None:
        return "power n/a"
    text = f"power {s.power_w:.0f} W"
    if s.power_limit_w:
        text += f" of the {s.power_limit_w:.0f} W limit"
    if _limit_lowered(s):
        text += f" (default limit {s.power_default_limit_w:.0f} W)"
    return text


def _limit_lowered(s: WindowStats) -> bool:
    return bool(s.power_limit_w and s.power_default_limit_w and s.power_limit_w < 0.95 * s.power_default_limit_w)


def _launch_bound(s: WindowStats) -> bool:
    busy, sm = s.kernel_busy or 0.0, s.sm_active or 0.0
    if busy >= T["launch_busy_pct"] and sm < T["launch_sm_ratio"] * busy:
        return True  # "busy" nearly all the time, yet few SMs in use
    return busy >= T["launch_tiny_busy_pct"] and sm < T["launch_tiny_ratio"] * busy


LOAD_RULES: tuple[Rule, ...] = (
    Rule(
        id="gpu-idle",
        group="load",
        category="performance",
        layer="compute",
        needs=("kernel_busy", "context_share"),
        holds=lambda s: _context(s) and (s.kernel_busy or 0) < T["idle_busy_pct"],
        title=lambda s: f"GPU {s.gpu} idle while the job held it: kernel-busy {_pct(s.kernel_busy)} %",
        evidence=lambda s: [
            f"kernel-busy {_pct(s.kernel_busy)} % for {s.seconds:.0f} s with the job's CUDA context open",
            f"the job's processes used {s.job_cpu_pct:.0f} % CPU" if s.job_cpu_pct is not None else "job CPU n/a",
        ],
        explanation="The job holds the GPU but runs no kernels: it waits on I/O, on the CPU, on other ranks "
        "(a collective, a barrier), or it hangs.",
        fix="{profile} shows where the time goes; py-spy dump --pid PID shows where a hung job waits",
    ),
    Rule(
        id="launch-bound",
        group="load",
        category="performance",
        layer="compute",
        needs=("kernel_busy", "sm_active"),
        holds=lambda s: _launch_bound(s),
        title=lambda s: f"launch-bound: kernel-busy {_pct(s.kernel_busy)} %, SM active {_pct(s.sm_active)} %",
        evidence=lambda s: [
            f"kernel-busy (utilization.gpu) {_pct(s.kernel_busy)} %, SM active {_pct(s.sm_active)} % (GPM)",
            f"SM occupancy {_pct(s.sm_occupancy)} %, tensor pipes {_pct(s.tensor)} %",
            _power_text(s),
        ],
        explanation="utilization.gpu counts the time in which any kernel ran. Here the kernels fill few of the "
        "SMs: they are tiny, and the time goes to launching them (Python and framework overhead per op, "
        "CPU-bound). Kernels this small also make a job that waits on its DataLoader look like this.",
        fix="{profile} ranks the ops; CUDA graphs or torch.compile(mode='reduce-overhead') cut the launch cost, "
        "larger batches fill the SMs",
    ),
    Rule(
        id="input-bound",
        group="load",
        category="data-loading",
        layer="compute",
        needs=("kernel_busy", "context_share"),
        holds=lambda s: _context(s) and T["idle_busy_pct"] <= (s.kernel_busy or 0) < T["starved_busy_pct"],
        title=lambda s: (
            f"GPU {s.gpu} waits for work: idle {_pct(100 - (s.kernel_busy or 0))} % of the time between bursts"
        ),
        evidence=_busy_evidence,
        explanation="The GPU sits idle between bursts of work. Most often the input pipeline (DataLoader workers, "
        "decoding, augmentation, host-to-device copies) cannot keep up; also Python work between steps or "
        "synchronisation (.item(), logging).",
        fix="torchenv tune --loader (workers, pin_memory, prefetch) or {profile}",
    ),
    Rule(
        id="memory-bound",
        group="load",
        category="performance",
        layer="compute",
        needs=("dram", "tensor", "sm_active"),
        holds=lambda s: (
            (s.dram or 0) >= T["memory_dram_pct"]
            and (s.tensor or 0) < T["memory_tensor_pct"]
            and (s.sm_active or 0) >= T["memory_sm_pct"]
        ),
        title=lambda s: f"memory-bound: DRAM active {_pct(s.dram)} %, tensor pipes {_pct(s.tensor)} %",
        evidence=lambda s: [
            f"DRAM active {_pct(s.dram)} %, SM active {_pct(s.sm_active)} %, tensor pipes {_pct(s.tensor)} % (GPM)",
            f"FP32 pipe {_pct(s.fp32)} %",
        ],
        explanation="The kernels stream memory rather than compute: element-wise ops, normalisations, "
        "optimizer steps, attention without a fused kernel. Faster math would not help; less traffic would.",
        fix="{profile} names the kernels; torch.compile fuses element-wise chains, bf16 halves the bytes",
        severity=lambda s: Severity.INFO,
    ),
    Rule(
        id="tensor-cores-idle",
        group="load",
        category="performance",
        layer="compute",
        needs=("sm_active", "tensor", "fp32"),
        holds=lambda s: (
            (s.sm_active or 0) >= T["tensor_sm_pct"]
            and (s.tensor or 0) < T["tensor_idle_pct"]
            and (s.fp32 or 0) >= T["tensor_fp32_pct"]
        ),
        title=lambda s: (
            f"tensor cores idle on math-heavy work: FP32 pipe {_pct(s.fp32)} %, tensor pipes {_pct(s.tensor)} %"
        ),
        evidence=lambda s: [
            f"SM active {_pct(s.sm_active)} %, FP32 pipe {_pct(s.fp32)} %, tensor pipes {_pct(s.tensor)} % (GPM)",
            f"DRAM active {_pct(s.dram)} %",
        ],
        explanation="The SMs are busy with FP32 math on the CUDA cores while the tensor cores idle: matmuls "
        "and convolutions in full FP32 (TF32 off, no autocast).",
        fix="torch.backends.cuda.matmul.allow_tf32 = True or torch.autocast('cuda', dtype=torch.bfloat16); "
        "torchenv tune measures both with a numerics guard",
    ),
    Rule(
        id="compute-bound",
        group="load",
        category="performance",
        layer="compute",
        needs=("sm_active",),
        holds=lambda s: (s.sm_active or 0) >= T["compute_sm_pct"],
        title=lambda s: f"compute-bound: SM active {_pct(s.sm_active)} %, tensor pipes {_pct(s.tensor)} %",
        evidence=lambda s: [
            f"SM active {_pct(s.sm_active)} %, occupancy {_pct(s.sm_occupancy)} %, tensor pipes {_pct(s.tensor)} %, "
            f"DRAM {_pct(s.dram)} % (GPM)",
            f"kernel-busy {_pct(s.kernel_busy)} %",
        ],
        explanation="The GPU itself is the bottleneck, as it should be: speed now comes from doing less work "
        "or faster math (TF32/bf16, fused kernels, torch.compile).",
        fix="torchenv tune",
        severity=lambda s: Severity.INFO,
    ),
    Rule(
        id="gpu-busy",
        group="load",
        category="performance",
        layer="compute",
        needs=("kernel_busy",),
        holds=lambda s: s.sm_active is None and (s.kernel_busy or 0) >= T["busy_pct"],
        title=lambda s: f"GPU {s.gpu} kernel-busy {_pct(s.kernel_busy)} % (SM activity n/a on this GPU)",
        evidence=lambda s: [
            f"kernel-busy (utilization.gpu) {_pct(s.kernel_busy)} %",
            "SM active, tensor and DRAM activity n/a on this GPU (no GPM counters)",
            _power_text(s),
        ],
        explanation="utilization.gpu only says that some kernel was running. Without GPM counters a GPU doing "
        "full work and one kept 'busy' by tiny kernels look the same; power draw near the limit points to "
        "real work.",
        fix="{profile} tells them apart",
        severity=lambda s: Severity.INFO,
    ),
)


CLOCK_RULES: tuple[Rule, ...] = (
    Rule(
        id="power-capped",
        group="clocks",
        category="performance",
        layer="hardware",
        needs=("power_cap_share",),
        holds=lambda s: (s.power_cap_share or 0) >= T["capped_share"] and _clock_lost(s),
        title=lambda s: f"power-capped {s.power_cap_share:.0%} of the time: {_clock_text(s, s.capped_clock_mhz)}",
        evidence=lambda s: [
            f"clock event reason SW power cap (0x4) set in {s.power_cap_share:.0%} of the samples",
            _clock_text(s, s.capped_clock_mhz) + " while capped",
            _power_text(s),
        ],
        explanation="The GPU runs at its power limit and the driver lowers the SM clock to stay under it. For "
        "dense math on H100/H200-class GPUs this is normal and the lost clock is the price; a limit set below "
        "the default costs more.",
        fix="nvidia-smi -q -d PERFORMANCE,POWER shows the limit and the reasons (sudo nvidia-smi -pl W restores a "
        "lowered limit)",
        severity=lambda s: Severity.WARNING if _limit_lowered(s) else Severity.INFO,
    ),
    Rule(
        id="thermal-capped",
        group="clocks",
        category="performance",
        layer="hardware",
        needs=("slowdown_share",),
        holds=lambda s: (s.slowdown_share or 0) >= T["slowdown_share"],
        title=lambda s: f"clocks slowed {s.slowdown_share:.0%} of the time ({', '.join(s.slowdown_reasons)})",
        evidence=lambda s: [
            f"clock event reasons {', '.join(s.slowdown_reasons)} set in {s.slowdown_share:.0%} of the samples",
            _clock_text(s, s.capped_clock_mhz) + " while slowed",
            f"temperature up to {s.temperature_max_c:.0f} °C" if s.temperature_max_c is not None else "temperature n/a",
        ],
        explanation="Thermal or hardware slowdowns are not the normal power envelope: the GPU is too hot, or "
        "the board asks it to slow down (power brake from the power supply, hardware slowdown).",
        fix="nvidia-smi -q -d TEMPERATURE,PERFORMANCE; check the cooling and the airflow",
    ),
)

RULES = LOAD_RULES + CLOCK_RULES
RUN_RULE_IDS = ("memory-creep", "other-process", "gpu-unused")
FAULT_IDS = ("xid-error", "ecc-uncorrected", "ecc-corrected", "row-remap-pending", "row-remap-failed", "gpu-lost")


def missing(rule: Rule, s: WindowStats) -> str | None:
    """Why `rule` cannot be judged on `s`, or None."""
    for name in rule.needs:
        if getattr(s, name) is None:
            return {
                "sm_active": "needs SM active (GPM): n/a on this GPU",
                "tensor": "needs tensor-pipe activity (GPM): n/a on this GPU",
                "dram": "needs DRAM activity (GPM): n/a on this GPU",
                "fp32": "needs FP32-pipe activity (GPM): n/a on this GPU",
                "context_share": "the job's GPU processes cannot be told from the others on this GPU",
                "power_cap_share": "needs the clock event reasons: n/a on this GPU",
                "slowdown_share": "needs the clock event reasons: n/a on this GPU",
            }.get(name, f"needs {name}: not measured")
    return None


def judge_window(s: WindowStats) -> tuple[list[Rule], dict[str, str]]:
    """The rules that hold on one window (at most one load rule), and those skipped, with why."""
    fired: list[Rule] = []
    skipped: dict[str, str] = {}
    for rule in LOAD_RULES:
        why = missing(rule, s)
        if why:
            skipped[rule.id] = why
            continue
        if rule.holds(s):
            fired.append(rule)
            break
    for rule in CLOCK_RULES:
        why = missing(rule, s)
        if why:
            skipped[rule.id] = why
        elif rule.holds(s):
            fired.append(rule)
    return fired, skipped


def finding(rule: Rule, s: WindowStats, profile: str) -> Finding:
    return Finding(
        id=rule.id,
        category=rule.category,
        severity=rule.severity(s),
        layer=rule.layer,
        title=rule.title(s),
        evidence=tuple(e for e in rule.evidence(s) if e),
        explanation=rule.explanation,
        fix=rule.fix.format(profile=profile),
    )


# --- windows -------------------------------------------------------------------------------------


def windows(duration_s: float, window_s: float) -> list[tuple[float, float]]:
    """[start, end) windows covering the run; a short last one joins the one before."""
    if duration_s <= 0:
        return []
    count = max(1, math.floor(duration_s / window_s + 1e-9))
    edges = [i * window_s for i in range(count)] + [duration_s]
    return [(edges[i], edges[i + 1]) for i in range(len(edges) - 1)]


def _in(samples: Sequence[Sample], start: float, end: float, last: bool) -> list[Sample]:
    return [s for s in samples if start <= s.t_s < end or (last and s.t_s == end)]


def judge(
    samples: Sequence[Sample],
    infos: Sequence[GpuInfo],
    *,
    duration_s: float,
    window_s: float,
    used: set[int],
    ambiguous: frozenset[int] = frozenset(),
    profile: str = "torchenv profile -- COMMAND",
) -> tuple[list[Verdict], list[RuleSkipped]]:
    """Window verdicts on every GPU in `used` (the GPUs the job had processes on), merged into spans."""
    by_index = {i.index: i for i in infos}
    verdicts: list[Verdict] = []
    skipped: dict[tuple[str, int], str] = {}
    for gpu in sorted(used):
        first, last = _job_span(samples, gpu, duration_s, gpu in ambiguous)
        spans = [(first + a, first + b) for a, b in windows(last - first, window_s)]
        held: dict[str, list[tuple[float, float]]] = {}
        for k, (start, end) in enumerate(spans):
            chunk = _in(samples, start, end, k == len(spans) - 1)
            if sum(1 for s in chunk for g in s.gpus if g.index == gpu) < T["min_window_samples"]:
                continue
            stats = window_stats(chunk, gpu, by_index.get(gpu), start, end, ambiguous=gpu in ambiguous)
            fired, why = judge_window(stats)
            for rule_id, reason in why.items():
                skipped.setdefault((rule_id, gpu), reason)
            for rule in fired:
                held.setdefault(rule.id, []).append((start, end))
        for rule in RULES:
            if rule.id not in held:
                continue
            stretches = held[rule.id]
            chunk = [s for s in samples if any(a <= s.t_s < b or s.t_s == b == last for a, b in stretches)]
            stats = window_stats(
                chunk, gpu, by_index.get(gpu), stretches[0][0], stretches[-1][1], ambiguous=gpu in ambiguous
            )
            merged = merge(stretches)
            covered = sum(b - a for a, b in stretches)
            verdicts.append(
                Verdict(
                    finding=finding(rule, stats, profile),
                    gpu=gpu,
                    spans=tuple(Span(round(a, 3), round(b, 3)) for a, b in merged),
                    share=round(covered / duration_s, 4) if duration_s > 0 else 0.0,
                )
            )
    fired_ids = {(v.finding.id, v.gpu) for v in verdicts}
    skips = [RuleSkipped(r, g, why) for (r, g), why in skipped.items() if (r, g) not in fired_ids]
    return verdicts, skips


def _job_span(samples: Sequence[Sample], gpu: int, duration_s: float, ambiguous: bool) -> tuple[float, float]:
    """From the first to the last full sample in which the job had a process on `gpu` (the whole run
    when that cannot be told): the job's start-up before it touches the GPU (imports, data, model)
    and its teardown are not judged as an idle or starved GPU."""
    if ambiguous:
        return 0.0, duration_s
    times = [s.t_s for s in samples if s.full and any(p.own and p.gpu == gpu for p in s.processes)]
    if not times:
        return 0.0, duration_s
    later = [s.t_s for s in samples if s.t_s > times[-1]]
    return times[0], (later[0] if later else duration_s)


def merge(stretches: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(stretches):
        if out and a <= out[-1][1] + 1e-9:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


# --- run-level verdicts ----------------------------------------------------------------------------


def _fit(points: Sequence[tuple[float, float]]) -> tuple[float, float, float] | None:
    """Least squares: (slope, intercept, correlation)."""
    n = len(points)
    if n < 3:
        return None
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    syy = sum((y - my) ** 2 for _, y in points)
    sxy = sum((x - mx) * (y - my) for x, y in points)
    if sxx <= 0:
        return None
    slope = sxy / sxx
    r = sxy / math.sqrt(sxx * syy) if syy > 0 else 0.0
    return slope, my - slope * mx, r


def _gib(mib: float) -> str:
    return f"{mib / 1024:.2f} GiB" if mib >= 1024 else f"{mib:.0f} MiB"


def memory_series(samples: Sequence[Sample], gpu: int, own: bool) -> list[tuple[float, float]]:
    """(t, MiB): the job's processes' memory on `gpu` (own) or the GPU's used memory."""
    points = []
    for s in samples:
        if not s.full:
            continue
        if own:
            values = [p.memory_mib for p in s.processes if p.own and p.gpu == gpu and p.memory_mib is not None]
            if values:
                points.append((s.t_s, sum(values)))
        else:
            for g in s.gpus:
                if g.index == gpu and g.memory_used_mib is not None:
                    points.append((s.t_s, g.memory_used_mib))
    return points


def judge_memory_creep(samples: Sequence[Sample], info: GpuInfo, *, own: bool) -> Verdict | None:
    points = memory_series(samples, info.index, own)
    if len(points) < 10:
        return None
    start, end = points[0][0], points[-1][0]
    cut = start + (end - start) * T["creep_warmup_share"]
    kept = [p for p in points if p[0] >= cut]
    if len(kept) < 10 or kept[-1][0] - kept[0][0] < T["creep_min_s"]:
        return None
    fit = _fit(kept)
    if fit is None:
        return None
    slope, intercept, r = fit
    t0, t1 = kept[0][0], kept[-1][0]
    rise = slope * (t1 - t0)
    floor = max(T["creep_mib"], T["creep_total_share"] * (info.memory_total_mib or 0))
    if r < T["creep_r"] or rise < floor:
        return None
    first, last = intercept + slope * t0, intercept + slope * t1
    whose = "the job's memory" if own else "memory used"
    evidence = [
        f"{whose} on GPU {info.index}: {_gib(first)} → {_gib(last)} over {(t1 - t0) / 60:.1f} min "
        f"({_gib(slope * 60)}/min, correlation with time {r:.2f})",
        f"the first {T['creep_warmup_share']:.0%} of the run (allocator warm-up) left out",
    ]
    if info.memory_total_mib and slope > 0:
        left_s = (info.memory_total_mib - last) / slope
        evidence.append(f"at this rate the GPU's {_gib(info.memory_total_mib)} fill in {left_s / 3600:.1f} h")
    return Verdict(
        finding=Finding(
            id="memory-creep",
            category="out-of-memory",
            severity=Severity.WARNING,
            layer="compute",
            title=f"memory creeping up on GPU {info.index}: +{_gib(slope * 60)}/min",
            evidence=tuple(evidence),
            explanation="GPU memory rises steadily after the warm-up: a tensor kept across steps (a loss appended "
            "without .item(), a growing cache, graphs kept alive by a reference) until the job runs out of memory.",
            fix="torch.cuda.memory._record_memory_history() early in the job, torch.cuda.memory._dump_snapshot() "
            "later, then open the snapshot at pytorch.org/memory_viz",
        ),
        gpu=info.index,
        spans=(Span(round(t0, 3), round(t1, 3)),),
        share=1.0,
    )


def judge_other_processes(samples: Sequence[Sample], gpu: int, duration_s: float) -> Verdict | None:
    full = [s for s in samples if s.full]
    if not full:
        return None
    seen: dict[int, list] = {}
    for s in full:
        for p in s.processes:
            if p.gpu == gpu and not p.own:
                seen.setdefault(p.pid, []).append((s.t_s, p))
    evidence = []
    spans = []
    for pid, rows in sorted(seen.items()):
        share = len(rows) / len(full)
        if share < T["other_share"]:
            continue
        memory = [p.memory_mib for _, p in rows if p.memory_mib is not None]
        sm = [p.sm_pct for _, p in rows if p.sm_pct is not None]
        name = next((p.name for _, p in rows if p.name), None)
        text = f"PID {pid}" + (f" ({name})" if name else "") + f" in {share:.0%} of the samples"
        if memory:
            text += f", {_gib(max(memory))} of GPU memory"
        if sm:
            text += f", {sum(sm) / len(sm):.0f} % of the kernel time"
        evidence.append(text)
        spans.append((rows[0][0], rows[-1][0]))
    if not evidence:
        return None
    merged = merge(spans)
    return Verdict(
        finding=Finding(
            id="other-process",
            category="performance",
            severity=Severity.WARNING,
            layer="hardware",
            title=f"another process on GPU {gpu}: {len(evidence)} not of the job",
            evidence=tuple(evidence),
            explanation="Another compute process shares the GPU: its kernels take turns with the job's, its memory "
            "is not the job's to use, and every figure here is theirs together.",
            fix="nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv",
        ),
        gpu=gpu,
        spans=tuple(Span(round(a, 3), round(b, 3)) for a, b in merged),
        share=round(sum(b - a for a, b in merged) / duration_s, 4) if duration_s > 0 else 0.0,
    )


def judge_unused(samples: Sequence[Sample], infos: Sequence[GpuInfo], duration_s: float) -> Verdict:
    busy = _mean([g.kernel_busy_pct for s in samples for g in s.gpus])
    return Verdict(
        finding=Finding(
            id="gpu-unused",
            category="performance",
            severity=Severity.INFO,
            layer="compute",
            title="the job never used a GPU",
            evidence=(
                f"no process of the job appeared on GPU {', '.join(str(i.index) for i in infos)} in {duration_s:.0f} s",
                f"kernel-busy {_pct(busy)} % on average",
            ),
            explanation="The job created no CUDA context: it ran on the CPU (or failed before touching the GPU).",
            fix="torchenv doctor (is CUDA usable in the job's environment?)",
        ),
        gpu=None,
        spans=(Span(0.0, round(duration_s, 3)),),
        share=1.0,
    )


FAULTS = {
    # kind: (id, severity, title, explanation, fix)
    "xid": (
        "xid-error",
        Severity.ERROR,
        "XID error",
        "The driver reported a critical XID: a GPU fault (79: fallen off the bus, 48/63/64: memory errors, "
        "13/31/43: a kernel's fault, often the application's).",
        "sudo dmesg | grep -i xid; the XID catalogue: docs.nvidia.com/deploy/xid-errors",
    ),
    "ecc-uncorrected": (
        "ecc-uncorrected",
        Severity.ERROR,
        "uncorrected ECC errors",
        "Memory errors ECC could not correct: results may be wrong and the job may be killed.",
        "nvidia-smi -q -d ECC,ROW_REMAPPER; torchenv doctor",
    ),
    "ecc-corrected": (
        "ecc-corrected",
        Severity.INFO,
        "corrected ECC errors",
        "Memory errors ECC corrected; a rising count points to failing memory.",
        "nvidia-smi -q -d ECC",
    ),
    "row-remap-pending": (
        "row-remap-pending",
        Severity.WARNING,
        "row remap pending",
        "Rows of memory were remapped after errors; a pending remap takes effect at the next GPU reset.",
        "nvidia-smi -q -d ROW_REMAPPER; reset the GPU when it is idle",
    ),
    "row-remap-failed": (
        "row-remap-failed",
        Severity.ERROR,
        "row remapping failed",
        "The GPU ran out of spare rows: its memory is failing.",
        "nvidia-smi -q -d ROW_REMAPPER; the GPU needs service",
    ),
    "gpu-lost": (
        "gpu-lost",
        Severity.ERROR,
        "the GPU was lost",
        "NVML lost the GPU (XID 79, fallen off the bus): the job cannot continue on it.",
        "sudo dmesg | grep -i -e xid -e nvrm; the host needs attention",
    ),
}


def judge_events(events: Sequence[Event], duration_s: float) -> list[Verdict]:
    out = []
    by_key: dict[tuple[str, int], list[Event]] = {}
    for e in events:
        by_key.setdefault((e.kind, e.gpu), []).append(e)
    for (kind, gpu), rows in sorted(by_key.items()):
        if kind not in FAULTS:
            continue
        fid, severity, title, explanation, fix = FAULTS[kind]
        if kind == "xid":
            codes = sorted({e.value for e in rows})
            title = f"XID {', '.join(map(str, codes))} on GPU {gpu}"
        elif kind in ("row-remap-pending", "row-remap-failed", "gpu-lost"):
            rows_remapped = sum(e.value for e in rows)
            title = f"{title} on GPU {gpu}" + (f": {rows_remapped} rows" if rows_remapped else "")
        else:
            title = f"{title} on GPU {gpu}: {sum(e.value for e in rows)}"
        evidence = tuple(f"at {e.t_s:.1f} s: {e.detail or kind}" for e in rows[:10])
        out.append(
            Verdict(
                finding=Finding(fid, "compute-failure", severity, "hardware", title, evidence, explanation, fix),
                gpu=gpu if gpu >= 0 else None,
                spans=tuple(Span(round(e.t_s, 3), round(e.t_s, 3)) for e in rows[:50]),
                share=0.0,
            )
        )
    return out
