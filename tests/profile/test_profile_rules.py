"""Each rule fires on its planted trace, in the right source function, with ms/step, and not on the
fixed twin: synthetic CUDA traces (real Kineto event shapes) and the committed CPU captures."""

from __future__ import annotations

from pathlib import Path

import pytest
from profile_synth import PROBLEMS, RULE_OF, SOURCES, gpu_trace

from torchenv.model.codec import from_json
from torchenv.model.profile import ProfileReport
from torchenv.profile import analyse
from torchenv.profile.analysis import analyse_traces
from torchenv.profile.rules import load_rules
from torchenv.profile.trace import TraceSet, parse_trace
from torchenv.render.profile_json import profile_to_dict

FIXTURES = Path(__file__).parent.parent / "fixtures" / "profile"


def _report(builder, **kwargs):
    return analyse_traces(TraceSet("synthetic", (parse_trace(builder.doc()),)), **kwargs)


def _ids(report):
    return [f.finding.id for f in report.findings]


@pytest.mark.parametrize("problem", PROBLEMS)
def test_each_planted_problem_fires_alone_with_its_source(problem):
    rule = RULE_OF[problem]
    report = _report(gpu_trace({problem}))
    hits = [f for f in report.findings if f.finding.id == rule]
    assert hits, f"{rule} did not fire: {_ids(report)}"
    top = hits[0]
    assert top.source == SOURCES[rule]
    assert top.ms_per_step >= 0 and top.estimate
    assert top.finding.fix and top.finding.evidence and top.finding.layer == "compute"
    if problem != "peak":
        assert top.ms_per_step > 0.1
    # the .item() copy is a DtoH pageable copy too; a per-parameter optimizer's 60 tiny kernels are launch-bound
    assert set(_ids(report)) <= {rule, "profile-pageable-copy", "profile-launch-bound"}
    if problem not in ("sync", "optimizer"):
        assert set(_ids(report)) == {rule}


def test_the_fixed_twin_has_no_findings():
    report = _report(gpu_trace(set()))
    assert report.findings == ()
    assert report.skipped == ()


def test_all_planted_together_are_ranked_by_ms_per_step():
    report = _report(gpu_trace(set(PROBLEMS)))
    ms = [f.ms_per_step for f in report.findings]
    assert ms == sorted(ms, reverse=True)
    assert set(RULE_OF.values()) <= set(_ids(report))


def test_breakdown_splits_gpu_idle_like_hta():
    report = _report(gpu_trace({"stall"}))
    b = report.breakdown
    assert b.steps == 3 and b.gpu_busy_ms > 0
    assert b.host_stall_ms == pytest.approx(3.03, abs=0.05)
    idle = b.host_wait_ms + b.kernel_wait_ms + b.other_idle_ms
    assert b.gpu_busy_ms + idle == pytest.approx(b.wall_ms, abs=0.01)
    assert b.host_wait_ms >= 3.0  # the GPU waited on the stalled host


def test_fp32_rule_needs_tensor_cores_and_no_tf32():
    assert "profile-fp32-no-tensor-cores" not in _ids(_report(gpu_trace({"fp32"}, cc=(6, 1))))
    assert "profile-fp32-no-tensor-cores" not in _ids(_report(gpu_trace({"fp32"}), tf32=True))
    volta = _report(gpu_trace({"fp32"}, cc=(7, 0)))
    fix = next(f.finding.fix for f in volta.findings if f.finding.id == "profile-fp32-no-tensor-cores")
    assert "float16" in fix and "GradScaler" in fix
    ampere = _report(gpu_trace({"fp32"}, cc=(8, 0)))
    assert "allow_tf32 = True" in next(f.finding.fix for f in ampere.findings)


def test_peak_memory_needs_the_device_memory():
    doc = gpu_trace({"peak"}).doc()
    doc.pop("deviceProperties")
    trace = parse_trace(doc)
    report = analyse_traces(TraceSet("x", (trace,)))
    assert "profile-peak-memory" not in _ids(report)
    assert any(s.check == "profile-peak-memory" for s in report.skipped)
    report = analyse_traces(TraceSet("x", (trace,)), device_memory_bytes=80 * 2**30)
    assert "profile-peak-memory" in _ids(report)


def test_thresholds_come_from_the_table_with_a_source():
    rules = load_rules()
    assert rules["dataloader_share"] == 0.05 and rules["short_kernel_us"] == 50 and rules["launch_delay_us"] == 100
    assert all(t.source for t in rules.thresholds.values())
    stricter = rules.with_values(dataloader_share=0.99)
    assert "profile-dataloader-wait" not in _ids(_report(gpu_trace({"dataloader"}), rules=stricter))


def test_multi_rank_findings_are_merged_with_their_ranks():
    a, b = (parse_trace(gpu_trace({"sync"}, rank=r, world_size=2).doc()) for r in (0, 1))
    report = analyse_traces(TraceSet("dir", (a, b)))
    sync = next(f for f in report.findings if f.finding.id == "profile-host-sync")
    assert sync.ranks == (0, 1) and report.ranks == (0, 1)
    assert len(report.steps) == 6


# --------------------------------------------------------------------------- the CPU captures


def test_cpu_planted_capture_names_its_problems_in_planted_py():
    # planted.py sits beside the trace: the exact lines of the calls (next(loader), time.sleep,
    # optimizer.step(), loss.item()), not the functions' def lines (61, 65) Kineto records
    report = analyse(FIXTURES / "planted_cpu.pt.trace.json.gz")
    found = {f.finding.id: f for f in report.findings}
    assert found["profile-dataloader-wait"].source == "next_batch() at planted.py:63"
    assert found["profile-host-stall"].source == "next_batch() at planted.py:62"
    assert "sleep" in " ".join(found["profile-host-stall"].finding.evidence)
    assert found["profile-unfused-optimizer"].source == "step() at planted.py:75"
    assert found["profile-host-sync"].source == "step() at planted.py:76"
    assert found["profile-host-stall"].ms_per_step > 3.0  # STALL_S = 4 ms
    skipped = {s.check for s in report.skipped}
    assert {"profile-launch-bound", "profile-fp32-no-tensor-cores", "profile-pageable-copy"} <= skipped


def test_cpu_fixed_twin_capture_has_no_findings():
    assert analyse(FIXTURES / "fixed_cpu.pt.trace.json.gz").findings == ()


def test_no_rank_and_two_rank_captures_analyse():
    norank = analyse(FIXTURES / "planted_norank.pt.trace.json.gz")
    assert norank.ranks == () and norank.findings
    two = analyse(FIXTURES / "two_ranks")
    assert two.ranks == (0, 1)
    assert any(f.ranks == (0, 1) for f in two.findings)


def test_report_json_round_trips_through_the_codec():
    report = analyse(FIXTURES / "planted_cpu.pt.trace.json.gz")
    data = profile_to_dict(report)
    assert data["kind"] == "torchenv.profile" and data["schema_version"] == 1
    body = {k: v for k, v in data.items() if k not in ("kind", "schema_version", "ms_lost_per_step")}
    assert from_json(ProfileReport, body) == report


def test_a_trace_without_steps_is_one_window():
    doc = gpu_trace({"sync"}).doc()
    doc["traceEvents"] = [e for e in doc["traceEvents"] if not str(e.get("name", "")).startswith("ProfilerStep#")]
    report = analyse_traces(TraceSet("x", (parse_trace(doc),)))
    assert report.status == "no-steps" and len(report.steps) == 1
    assert any("no ProfilerStep" in n for n in report.notes)
