"""The likely-cause logic, table-driven, without torch."""

import dataclasses

import pytest

from perf.gpu_records import h100_records
from torchenv.model.bench import Measurement
from torchenv.model.perf_records import WorkerEnvironment
from torchenv.perf.causes import Context, context_from, decode_reasons, measurement_causes, pcie_rate_gbs, report_causes
from torchenv.perf.report import Hardware, build_report

H100 = Hardware(
    "H100 SXM5", {"fp32": 67.0, "tf32": 494.7, "bf16": 989.4, "fp16": 989.4, "fp8": 1978.9}, 3350.0, "datasheet"
)


def build(records, ctx=None):
    return build_report(
        records,
        mode="full",
        hardware=H100,
        context=ctx or Context(),
        wall_s=100.0,
        worker_error=None,
        knowledge_version="test",
        torchenv_version="0",
    )


def matmul(ratio, observed=None):
    return Measurement(
        "matmul.bf16",
        "matmul",
        "bf16",
        "ok",
        value=989.4 * ratio,
        unit="TFLOP/s",
        peak=989.4,
        ratio=ratio,
        params={"dtype": "bf16"},
        observed=observed,
    )


def ids(causes):
    return [c.id for c in causes]


def test_healthy_h100_has_no_causes():
    report = build(h100_records())
    assert report.causes == ()
    for m in report.measurements:
        if m.id != "transfer.h2d.pageable":
            assert m.causes == (), m.id
    bf16 = report.by_id("matmul.bf16")
    assert bf16.ratio == pytest.approx(793.3 / 989.4, rel=1e-3) and not bf16.short
    assert report.by_id("memory.copy").ratio == pytest.approx(3014.4 / 3350, rel=1e-3)
    pinned = report.by_id("transfer.h2d.pinned")
    assert pinned.peak == 63.0 and pinned.peak_source == "PCIe gen 5 x16 link rate"


def test_pageable_copies_point_at_pinning():
    pageable = build(h100_records()).by_id("transfer.h2d.pageable")
    assert pageable.short
    assert ids(pageable.causes) == ["pageable-host-memory"]
    assert "7.1× slower than pinned" in pageable.causes[0].title


def test_pcie_link_below_max_under_load():
    report = build(h100_records(pcie={"pcie_gen": 3, "pcie_width": 16, "pcie_gen_max": 5, "pcie_width_max": 16}))
    pinned = dataclasses.replace(report.by_id("transfer.h2d.pinned"), ratio=0.2)
    causes = measurement_causes(pinned, Context())
    assert ids(causes) == ["pcie-link-degraded"]
    assert "gen 3 x16, below its gen 5 x16" in causes[0].title and "under load" in causes[0].evidence[0]


def test_pcie_link_read_at_rest_says_so():
    pinned = Measurement(
        "transfer.h2d.pinned", "transfer", "h2d", "ok", value=10.0, ratio=0.16, params={"memory": "pinned"}
    )
    causes = measurement_causes(pinned, Context(pcie_gen=5, pcie_gen_max=5, pcie_width=8, pcie_width_max=16))
    assert ids(causes) == ["pcie-link-degraded"] and "at rest" in causes[0].evidence[0]


@pytest.mark.parametrize(
    ("observed", "ctx", "expected"),
    [
        ({"clock_reasons": 0x40, "sm_clock_mhz": 1100, "max_sm_clock_mhz": 1980}, Context(), ["gpu-clocks-throttled"]),
        (
            {
                "clock_reasons": 0x4,
                "sm_clock_mhz": 1200,
                "max_sm_clock_mhz": 1980,
                "power_limit_w": 400.0,
                "default_power_limit_w": 700.0,
            },
            Context(),
            ["gpu-power-capped"],
        ),
        ({"other_processes": 2}, Context(), ["gpu-memory-held-by-others"]),
        (None, Context(other_processes=1, other_processes_memory_mib=30000), ["gpu-memory-held-by-others"]),
        (None, Context(utilization_percent=95), ["gpu-busy-before-run"]),
        (None, Context(mig_enabled=True), ["mig-enabled"]),
        (None, Context(debug_build=True), ["torch-debug-build"]),
        ({"clock_reasons": 0x4, "sm_clock_mhz": 1900, "max_sm_clock_mhz": 1980}, Context(), ["unexplained-shortfall"]),
        ({"error": "NVMLError"}, Context(), ["unexplained-shortfall"]),
    ],
)
def test_matmul_shortfall_causes(observed, ctx, expected):
    assert ids(measurement_causes(matmul(0.3, observed), ctx)) == expected


def test_power_cap_names_a_lowered_limit():
    observed = {
        "clock_reasons": 0x4,
        "sm_clock_mhz": 1200,
        "max_sm_clock_mhz": 1980,
        "power_limit_w": 400.0,
        "default_power_limit_w": 700.0,
    }
    cause = measurement_causes(matmul(0.3, observed), Context())[0]
    assert "lowered" in cause.title and "nvidia-smi -pl" in cause.fix


def test_a_figure_that_is_fine_gets_no_cause_even_when_throttled():
    observed = {"clock_reasons": 0x40, "sm_clock_mhz": 1100, "max_sm_clock_mhz": 1980}
    assert measurement_causes(matmul(0.8, observed), Context(other_processes=3)) == ()


def test_skipped_and_unrated_figures_are_never_short():
    assert measurement_causes(Measurement("x", "matmul", "x", "skipped"), Context(debug_build=True)) == ()
    assert measurement_causes(Measurement("x", "ladder-gpt", "x", "ok", value=1.0), Context()) == ()


@pytest.mark.parametrize(
    ("ctx", "expected"),
    [
        (Context(device="cpu", nvidia_gpus=1, cuda_build=False), ["cpu-only-build"]),
        (Context(device="cpu", nvidia_gpus=2, cuda_build=True, cuda_available=False), ["cuda-unavailable"]),
        (Context(device="cpu", nvidia_gpus=0, cuda_build=False), []),
        (Context(device="cuda", debug_build=True), ["torch-debug-build"]),
        (Context(device="cuda", other_processes=1), ["gpu-memory-held-by-others"]),
        (Context(device="cpu", threads=1, cpu_count=32), ["cpu-threads-limited"]),
        (Context(device="cpu", threads=16, cpu_count=32), []),
    ],
)
def test_report_causes(ctx, expected):
    assert ids(report_causes(ctx)) == expected


def test_decode_reasons_and_link_rates():
    assert decode_reasons(0x4 | 0x40) == ["software power cap", "hardware thermal slowdown"]
    assert decode_reasons(None) == []
    assert pcie_rate_gbs(5, 16) == 63.0
    assert pcie_rate_gbs(4, 8) == 15.75
    assert pcie_rate_gbs(None, 16) is None and pcie_rate_gbs(9, 16) is None


def test_context_from_the_h100_facts(h100_facts):
    ctx = context_from(h100_facts, WorkerEnvironment(device="cuda", debug=False, cuda_built=True))
    assert (ctx.pcie_gen, ctx.pcie_gen_max, ctx.pcie_width, ctx.pcie_width_max) == (5, 5, 16, 16)
    assert ctx.other_processes == 0 and ctx.mig_enabled is False and ctx.nvidia_gpus == 1


def test_cpu_only_build_on_the_h100_machine(h100_facts):
    ctx = context_from(h100_facts, WorkerEnvironment(device="cpu", cuda_built=False, cuda_available=False))
    assert ids(report_causes(ctx)) == ["cpu-only-build"]


def test_every_bench_cause_is_a_finding_with_a_shipped_page():
    from torchenv.cli.findings import read_page
    from torchenv.model.finding import CATEGORIES, LAYERS
    from torchenv.perf.causes import KINDS

    for finding_id, (category, layer, _severity) in KINDS.items():
        assert category in CATEGORIES and layer in LAYERS
        assert read_page(finding_id), f"no page for {finding_id}"
