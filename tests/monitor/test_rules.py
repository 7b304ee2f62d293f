"""The verdict rules, table-driven on WindowStats (pure: no NVML, no samples)."""

from __future__ import annotations

import pytest

from torchenv.model import Severity
from torchenv.monitor.model import Event, GpuInfo, GpuSample, ProcessSample, Sample
from torchenv.monitor.verdicts import (
    CLOCK_RULES,
    LOAD_RULES,
    THRESHOLDS,
    WindowStats,
    finding,
    judge,
    judge_events,
    judge_memory_creep,
    judge_other_processes,
    judge_window,
    merge,
    window_stats,
    windows,
)

GPM_GEMM = dict(kernel_busy=100.0, sm_active=97.0, sm_occupancy=27.0, tensor=72.0, dram=34.0, fp32=2.0)
BASE = dict(gpu=0, start_s=0.0, end_s=10.0, n=10, context_share=1.0, power_cap_share=0.0, slowdown_share=0.0)


def stats(**values) -> WindowStats:
    return WindowStats(**{**BASE, **values})


# (case, WindowStats fields, the load verdict expected or None)
LOAD_CASES = [
    ("idle GPU the job holds", dict(kernel_busy=0.5, sm_active=0.1), "gpu-idle"),
    ("idle without GPM", dict(kernel_busy=0.0), "gpu-idle"),
    (
        "the issue's spinning launch loop",
        dict(kernel_busy=100.0, sm_active=0.8, tensor=0.0, dram=0.3, fp32=0.2),
        "launch-bound",
    ),
    ("busy 60 %, SM active 15 %: small kernels", dict(kernel_busy=60.0, sm_active=15.0), "launch-bound"),
    ("launch-bound needs GPM: without it, busy is all we know", dict(kernel_busy=100.0), "gpu-busy"),
    ("starved between bursts", dict(kernel_busy=20.0, sm_active=18.0, tensor=12.0, dram=6.0, fp32=1.0), "input-bound"),
    ("busy 30 %, SM active 1 %: launching is the work", dict(kernel_busy=30.0, sm_active=1.0), "launch-bound"),
    ("busy 15 % with tiny kernels: mostly idle, starved", dict(kernel_busy=15.0, sm_active=1.0), "input-bound"),
    ("starved, no GPM", dict(kernel_busy=25.0), "input-bound"),
    ("low busy but the job has no context here: not ours to judge", dict(kernel_busy=20.0, context_share=0.0), None),
    ("context unknown (ambiguous attribution): no starved/idle guess", dict(kernel_busy=1.0, context_share=None), None),
    ("streaming memory", dict(kernel_busy=100.0, sm_active=80.0, tensor=3.0, dram=78.0, fp32=10.0), "memory-bound"),
    (
        "FP32 matmul on CUDA cores",
        dict(kernel_busy=100.0, sm_active=90.0, tensor=1.0, dram=30.0, fp32=64.0),
        "tensor-cores-idle",
    ),
    ("a bf16 GEMM loop", GPM_GEMM, "compute-bound"),
    (
        "busy 80 %, SM active 30 %: neither tiny nor full",
        dict(kernel_busy=80.0, sm_active=30.0, tensor=10.0, dram=10.0, fp32=5.0),
        None,
    ),
]


@pytest.mark.parametrize(("case", "values", "expected"), LOAD_CASES, ids=[c[0] for c in LOAD_CASES])
def test_load_rules(case, values, expected):
    fired, _ = judge_window(stats(**values))
    load = [r.id for r in fired if r.group == "load"]
    assert load == ([expected] if expected else [])


CLOCK_CASES = [
    ("never capped", dict(power_cap_share=0.0, slowdown_share=0.0), set()),
    ("power cap most of the time", dict(power_cap_share=0.9, slowdown_share=0.0), {"power-capped"}),
    ("power cap a quarter of the time is not enough", dict(power_cap_share=0.25, slowdown_share=0.0), set()),
    (
        "power cap bit at full clock is no cap (H200, input-bound load: 1969 of 1980 MHz)",
        dict(power_cap_share=1.0, slowdown_share=0.0, capped_clock_mhz=1969.0, sm_clock_max_mhz=1980.0),
        set(),
    ),
    (
        "power cap that costs the clock (H200 GEMM: 1522 of 1980 MHz)",
        dict(power_cap_share=1.0, slowdown_share=0.0, capped_clock_mhz=1522.0, sm_clock_max_mhz=1980.0),
        {"power-capped"},
    ),
    (
        "thermal slowdown a tenth of the time is",
        dict(power_cap_share=0.0, slowdown_share=0.1, slowdown_reasons=("software thermal slowdown",)),
        {"thermal-capped"},
    ),
    (
        "both",
        dict(power_cap_share=0.5, slowdown_share=0.5, slowdown_reasons=("hardware slowdown",)),
        {"power-capped", "thermal-capped"},
    ),
    ("reasons unknown", dict(power_cap_share=None, slowdown_share=None), set()),
]


@pytest.mark.parametrize(("case", "values", "expected"), CLOCK_CASES, ids=[c[0] for c in CLOCK_CASES])
def test_clock_rules(case, values, expected):
    fired, _ = judge_window(stats(**GPM_GEMM, **values))
    assert {r.id for r in fired if r.group == "clocks"} == expected


SKIP_CASES = [
    ("no GPM", dict(kernel_busy=100.0), {"launch-bound": "GPM", "memory-bound": "GPM", "compute-bound": "GPM"}),
    (
        "no clock reasons",
        dict(**GPM_GEMM, power_cap_share=None, slowdown_share=None),
        {"power-capped": "clock event reasons", "thermal-capped": "clock event reasons"},
    ),
    ("attribution ambiguous", dict(kernel_busy=1.0, context_share=None), {"gpu-idle": "cannot be told"}),
]


@pytest.mark.parametrize(("case", "values", "expected"), SKIP_CASES, ids=[c[0] for c in SKIP_CASES])
def test_a_rule_whose_input_is_unknown_is_skipped_with_the_reason(case, values, expected):
    _, skipped = judge_window(stats(**values))
    for rule, words in expected.items():
        assert words in skipped[rule]
    if "GPM" in str(expected):
        assert "n/a on this GPU" in skipped["launch-bound"]


def test_power_capped_is_info_at_the_default_limit_and_a_warning_below_it():
    rule = next(r for r in CLOCK_RULES if r.id == "power-capped")
    capped = dict(
        GPM_GEMM,
        power_cap_share=0.9,
        sm_clock_mhz=1500.0,
        capped_clock_mhz=1500.0,
        sm_clock_max_mhz=1980.0,
        power_w=691.0,
        power_limit_w=700.0,
        power_default_limit_w=700.0,
    )
    at_default = finding(rule, stats(**capped), "p")
    lowered = finding(rule, stats(**{**capped, "power_limit_w": 450.0, "power_w": 445.0}), "p")
    assert at_default.severity is Severity.INFO
    assert lowered.severity is Severity.WARNING
    assert "1500 of 1980 MHz" in at_default.title and "-24%" in at_default.title
    assert any("691 W of the 700 W limit" in e for e in at_default.evidence)
    assert any("default limit 700 W" in e for e in lowered.evidence)


def test_launch_bound_evidence_quotes_both_figures_and_points_further():
    rule = next(r for r in LOAD_RULES if r.id == "launch-bound")
    f = finding(
        rule,
        stats(kernel_busy=100.0, sm_active=0.8, sm_occupancy=0.4, tensor=0.0, power_w=121.0, power_limit_w=700.0),
        "torchenv profile -- COMMAND",
    )
    assert f.title == "launch-bound: kernel-busy 100 %, SM active 0.8 %"
    assert "torchenv profile -- COMMAND" in f.fix
    assert f.category == "performance" and f.layer == "compute"


def test_every_rule_builds_a_valid_finding_with_a_next_step():
    full = stats(
        **GPM_GEMM,
        sm_clock_mhz=1500.0,
        capped_clock_mhz=1500.0,
        sm_clock_max_mhz=1980.0,
        power_w=690.0,
        power_limit_w=700.0,
        power_default_limit_w=700.0,
        power_cap_share=1.0,
        slowdown_share=1.0,
        slowdown_reasons=("hardware slowdown",),
        temperature_max_c=88.0,
        busy_low_share=0.5,
        busy_high_share=0.3,
        burst_lead=(3, 4),
        job_cpu_pct=180.0,
    )
    for rule in LOAD_RULES + CLOCK_RULES:
        f = finding(rule, full, "the profiler")
        assert f.id == rule.id and f.title and f.evidence and f.fix and "{" not in f.fix


def test_input_bound_evidence_names_the_bursts_and_the_pcie_lead():
    rule = next(r for r in LOAD_RULES if r.id == "input-bound")
    f = finding(
        rule,
        stats(
            kernel_busy=20.0,
            sm_active=18.0,
            busy_low_share=0.6,
            busy_high_share=0.3,
            burst_lead=(4, 5),
            job_cpu_pct=95.0,
        ),
        "p",
    )
    text = " ".join(f.evidence)
    assert "idle 80 %" in text
    assert "over 50 % busy in 30% of the samples, under 10 % in 60%" in text
    assert "PCIe rx rose with or just before 4 of 5 bursts" in text
    assert f.category == "data-loading" and "torchenv tune --loader" in f.fix


@pytest.mark.parametrize(
    ("duration", "window", "expected"),
    [
        (32.0, 10.0, [(0, 10), (10, 20), (20, 32)]),  # a short last window joins the one before
        (9.0, 10.0, [(0, 9)]),
        (30.0, 10.0, [(0, 10), (10, 20), (20, 30)]),
        (0.0, 10.0, []),
    ],
)
def test_windows(duration, window, expected):
    assert windows(duration, window) == [(float(a), float(b)) for a, b in expected]


def test_merge_joins_touching_windows_only():
    assert merge([(20, 30), (0, 10), (10, 20), (40, 50)]) == [(0, 30), (40, 50)]


# --- over samples --------------------------------------------------------------------------------


def sample(t, *, busy=100.0, sm=None, reasons=0, rx=None, own_memory=None, others=(), full=True, used=None):
    processes = []
    if own_memory is not None:
        processes.append(ProcessSample(gpu=0, pid=10, own=True, memory_mib=own_memory))
    processes += [ProcessSample(gpu=0, pid=p, own=False, memory_mib=m, sm_pct=s) for p, m, s in others]
    return Sample(
        t_s=t,
        gpus=(
            GpuSample(
                index=0,
                kernel_busy_pct=busy,
                sm_active_pct=sm,
                clock_reasons=reasons,
                pcie_rx_mbs=rx,
                memory_used_mib=used,
                sm_clock_mhz=1500.0,
            ),
        ),
        processes=tuple(processes),
        full=full,
    )


INFO = GpuInfo(
    index=0,
    name="NVIDIA H200",
    memory_total_mib=143771.0,
    sm_clock_max_mhz=1980.0,
    power_default_limit_w=700.0,
    gpm=True,
)


def test_window_stats_from_samples():
    rows = [
        sample(
            float(t),
            busy=b,
            sm=b * 0.9,
            reasons=0x4 if t % 2 else 0x20,
            rx=1000.0 if b < 10 else 5.0,
            own_memory=1000.0,
        )
        for t, b in enumerate([3, 60, 2, 70, 4, 80])
    ]
    s = window_stats(rows, 0, INFO, 0.0, 6.0)
    assert s.n == 6 and s.context_share == 1.0
    assert s.kernel_busy == pytest.approx(36.5)
    assert s.power_cap_share == pytest.approx(0.5) and s.slowdown_share == pytest.approx(0.5)
    assert s.slowdown_reasons == ("software thermal slowdown",)
    assert s.burst_lead == (3, 3)
    assert s.busy_low_share == pytest.approx(0.5) and s.busy_high_share == pytest.approx(0.5)


def test_verdicts_become_spans_and_shares():
    rows = [sample(float(t), busy=100.0, sm=0.8 if t < 20 else 97.0, own_memory=500.0) for t in range(40)]
    verdicts, _ = judge(rows, [INFO], duration_s=40.0, window_s=10.0, used={0})
    spans = {v.finding.id: [(s.start_s, s.end_s) for s in v.spans] for v in verdicts}
    shares = {v.finding.id: v.share for v in verdicts}
    assert spans == {"launch-bound": [(0.0, 20.0)], "compute-bound": [(20.0, 40.0)]}
    assert shares == {"launch-bound": 0.5, "compute-bound": 0.5}


def test_gpus_the_job_never_used_are_not_judged():
    rows = [sample(float(t), busy=100.0, sm=0.8) for t in range(20)]
    verdicts, _ = judge(rows, [INFO], duration_s=20.0, window_s=10.0, used=set())
    assert verdicts == []


def creep_rows(slope_mib_s, seconds=150, noise=0.0):
    return [
        sample(float(t), own_memory=10_000 + slope_mib_s * t + (noise if t % 2 else -noise)) for t in range(seconds)
    ]


CREEP_CASES = [
    ("steady 40 MiB/s for 150 s", creep_rows(40.0), True),
    ("flat", creep_rows(0.0), False),
    ("rising but only by 300 MiB in all", creep_rows(2.5), False),
    ("noisy, no trend", creep_rows(0.0, noise=4000.0), False),
    ("too short to tell", creep_rows(40.0, seconds=40), False),
    (
        "warm-up growth then flat",
        [sample(float(t), own_memory=min(10_000 + 400 * t, 20_000)) for t in range(150)],
        False,
    ),
]


@pytest.mark.parametrize(("case", "rows", "expected"), CREEP_CASES, ids=[c[0] for c in CREEP_CASES])
def test_memory_creep(case, rows, expected):
    verdict = judge_memory_creep(rows, INFO, own=True)
    assert (verdict is not None) == expected
    if verdict is not None:
        assert verdict.finding.id == "memory-creep"
        assert "GiB/min" in verdict.finding.title
        assert any("fill in" in e for e in verdict.finding.evidence)


OTHER_CASES = [
    ("another process all along", [(4242, 10_240.0, 30.0)] * 20, 1),
    ("a process seen once in 20 samples is noise", [(4242, 10.0, None)] + [None] * 19, 0),
    ("nobody else", [None] * 20, 0),
]


@pytest.mark.parametrize(("case", "others", "expected"), OTHER_CASES, ids=[c[0] for c in OTHER_CASES])
def test_other_process(case, others, expected):
    rows = [sample(float(t), own_memory=100.0, others=[o] if o else ()) for t, o in enumerate(others)]
    verdict = judge_other_processes(rows, 0, 20.0)
    assert (0 if verdict is None else len(verdict.finding.evidence)) == expected
    if verdict is not None:
        assert "PID 4242" in verdict.finding.evidence[0] and "10.00 GiB" in verdict.finding.evidence[0]
        assert "30 % of the kernel time" in verdict.finding.evidence[0]


FAULT_CASES = [
    (Event(5.0, 0, "xid", 79, "XID 79"), "xid-error", Severity.ERROR, "XID 79 on GPU 0"),
    (Event(5.0, 0, "ecc-uncorrected", 2), "ecc-uncorrected", Severity.ERROR, "uncorrected ECC errors on GPU 0: 2"),
    (Event(5.0, 0, "ecc-corrected", 7), "ecc-corrected", Severity.INFO, "corrected ECC errors on GPU 0: 7"),
    (Event(5.0, 1, "row-remap-pending", 0), "row-remap-pending", Severity.WARNING, "row remap pending on GPU 1"),
    (Event(5.0, 1, "row-remap-failed", 3), "row-remap-failed", Severity.ERROR, "row remapping failed on GPU 1: 3 rows"),
    (Event(5.0, 0, "gpu-lost"), "gpu-lost", Severity.ERROR, "the GPU was lost on GPU 0"),
]


@pytest.mark.parametrize(("event", "fid", "severity", "title"), FAULT_CASES, ids=[c[1] for c in FAULT_CASES])
def test_fault_events_become_verdicts(event, fid, severity, title):
    (verdict,) = judge_events([event], 10.0)
    assert verdict.finding.id == fid
    assert verdict.finding.severity is severity
    assert verdict.finding.title == title
    assert verdict.finding.evidence == (f"at 5.0 s: {event.detail or event.kind}",) and verdict.finding.fix
    assert verdict.spans[0].start_s == 5.0


def test_thresholds_are_all_used():
    import inspect

    from torchenv.monitor import verdicts

    source = inspect.getsource(verdicts)
    for name in THRESHOLDS:
        assert source.count(f'"{name}"') >= 2, f"threshold {name} is never read"
