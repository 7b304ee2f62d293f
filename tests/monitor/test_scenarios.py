"""Whole sessions replayed from recorded sample streams: the right verdicts on each, the container
case, and the renderers (JSON contract, streams, HTML, terminal) on the results."""

from __future__ import annotations

import csv
import io
import json
import os
import re

import pytest
from rich.console import Console

from torchenv.monitor.model import MonitorReport
from torchenv.render.monitor_html import render_monitor_html
from torchenv.render.monitor_json import CSV_HEADER, csv_header, csv_lines, jsonl_line, monitor_to_dict
from torchenv.render.monitor_terminal import render_live, render_monitor_summary

from .helpers import HERE, JOB_PID, drive, verdict_ids, write_proc

# (recording, verdicts expected on GPU 0 (exactly), and run-level ones)
SCENARIOS = [
    ("h200-gemm", {"compute-bound", "power-capped"}, set()),
    ("h200-launch-bound", {"launch-bound"}, set()),
    ("h200-input-bound", {"input-bound"}, set()),
    ("h200-idle", set(), {"gpu-unused"}),
    ("a100-no-gpm", {"gpu-busy", "power-capped", "other-process"}, set()),
    (
        "h200-creep-thermal",
        {
            "compute-bound",
            "power-capped",
            "thermal-capped",
            "memory-creep",
            "xid-error",
            "ecc-corrected",
            "row-remap-pending",
        },
        set(),
    ),
]


@pytest.mark.parametrize(("name", "on_gpu", "run_level"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_each_planted_load_gets_its_verdicts(name, on_gpu, run_level, tmp_path):
    report, _samples, _monitor, _ = drive(name, tmp_path)
    assert verdict_ids(report, gpu=0) == on_gpu
    assert verdict_ids(report, gpu=None) - verdict_ids(report, gpu=0) == run_level
    assert report.attribution == ("none" if name == "h200-idle" else "pid")
    for v in report.verdicts:
        assert v.finding.evidence and v.finding.fix


def test_the_gemm_figures_match_the_issue(tmp_path):
    report, *_ = drive("h200-gemm", tmp_path)
    capped = next(v for v in report.verdicts if v.finding.id == "power-capped")
    assert re.search(r"SM clock 1[45]\d\d of 1980 MHz max \(-2[0-9]%\)", capped.finding.title)
    (gpu,) = report.gpus
    assert gpu.used_by_job and gpu.energy_j > 15_000
    assert gpu.reasons_share["software power cap"] > 0.7
    assert gpu.own_memory_max_mib == pytest.approx(70_000)


def test_without_gpm_the_gpm_rules_are_skipped_and_the_figures_are_na(tmp_path):
    report, *_ = drive("a100-no-gpm", tmp_path)
    skipped = {s.rule: s.reason for s in report.skipped}
    assert "n/a on this GPU" in skipped["launch-bound"] and "n/a on this GPU" in skipped["compute-bound"]
    (gpu,) = report.gpus
    assert "sm_active_pct" not in gpu.series
    assert gpu.info.unsupported["sm_active_pct"].startswith("n/a on this GPU")
    other = next(v for v in report.verdicts if v.finding.id == "other-process")
    assert "PID 4242" in other.finding.evidence[0]


def container_tree(root):
    """Inside a container: the job is PID 57 here; NVML calls it 3100421 (the host's PID)."""
    write_proc(root, 57, children=(58,), devices=("/dev/nvidiactl", "/dev/nvidia0", "/dev/nvidia-uvm"), cpu_ticks=900)
    write_proc(root, 58, ppid=57, name="pt_data_worker", cpu_ticks=300)
    write_proc(root, 1, name="bash")


def test_in_a_container_the_job_is_found_by_its_cuda_context(tmp_path):
    report, samples, _monitor, _ = drive("h200-container", tmp_path, root_pid=57, tree=container_tree)
    assert report.attribution == "context"
    assert any("PID namespace" in n for n in report.notes)
    gpu0, gpu1 = report.gpus
    assert gpu0.used_by_job and not gpu1.used_by_job
    assert gpu0.own_memory_max_mib == pytest.approx(50_000)
    assert verdict_ids(report, gpu=0) == {"compute-bound", "power-capped", "other-process"}
    assert verdict_ids(report, gpu=1) == set()  # another container's GPU: not judged
    other = next(v for v in report.verdicts if v.finding.id == "other-process")
    assert "PID 2900001" in other.finding.evidence[0] and len(other.finding.evidence) == 1
    own = {p.pid for s in samples for p in s.processes if p.own}
    assert own == {3100421}


def test_in_a_container_two_new_processes_for_one_holder_are_ambiguous(tmp_path):
    def two_new(data):
        for tick in data["ticks"][3:]:
            tick["gpus"][0]["processes"].append({"pid": 3100999, "memory_mib": 1024, "sm_pct": 5})

    report, *_ = drive("h200-container", tmp_path, root_pid=57, tree=container_tree, mutate=two_new)
    assert report.attribution == "ambiguous"
    assert "other-process" not in verdict_ids(report)
    skipped = {(s.rule, s.gpu): s.reason for s in report.skipped}
    assert "cannot be told" in skipped[("other-process", 0)]
    assert "cannot be told" in skipped[("input-bound", 0)]
    assert "compute-bound" in verdict_ids(report, gpu=0)  # what needs no split is still judged


def test_fast_mode_samples_gpm_at_10_hz_and_the_rest_at_1_hz(tmp_path):
    report, samples, monitor, nvml = drive("h200-launch-bound", tmp_path, fast=True)
    assert monitor.interval_s == pytest.approx(0.1)
    full = [s for s in samples if s.full]
    assert len(samples) == 320 and len(full) == 32
    assert all(s.processes == () for s in samples if not s.full)
    assert all(g.power_w is not None for s in samples[2:] for g in s.gpus)
    assert nvml.calls["nvmlGpmSampleGet"] == 320
    assert nvml.calls["nvmlDeviceGetComputeRunningProcesses"] == 32 + 1  # + the baseline
    assert "launch-bound" in verdict_ids(report)
    assert report.overhead.sampler_core_pct == pytest.approx(1.5)  # 1.5 ms per tick at 10 Hz


def test_the_overhead_is_reported_per_sample_and_as_a_share_of_a_core(tmp_path):
    report, *_ = drive("h200-gemm", tmp_path)
    assert report.overhead.samples == 32
    assert report.overhead.sampler_cpu_ms_per_sample == pytest.approx(1.5)
    assert report.overhead.sampler_core_pct == pytest.approx(0.15)


def test_steps_give_per_step_figures(tmp_path):
    marks = [5.0 + 0.25 * k for k in range(81)]  # 80 steps of 250 ms from 5 s to 25 s
    report, *_ = drive("h200-gemm", tmp_path, marks=marks)
    steps = report.steps
    assert steps.count == 81 and steps.step_s.p50 == pytest.approx(0.25)
    assert steps.steps_per_s == pytest.approx(4.0)
    assert steps.energy_per_step_j == pytest.approx(692 * 0.25, rel=0.05)
    assert steps.kernel_busy_pct == pytest.approx(100.0)


def test_attached_to_a_running_job(tmp_path):
    report, *_ = drive("h200-gemm", tmp_path, attach=True)
    assert report.attach_pid == JOB_PID and report.command == () and report.exit_code is None
    assert "compute-bound" in verdict_ids(report)


# --- renderers -------------------------------------------------------------------------------------


@pytest.fixture
def gemm(tmp_path):
    return drive("h200-gemm", tmp_path, marks=[5.0 + k for k in range(20)])


def test_json_summary_is_the_common_envelope_and_round_trips(gemm):
    report, *_ = gemm
    data = json.loads(json.dumps(monitor_to_dict(report)))
    assert data["schema_version"] == 1 and data["kind"] == "torchenv.monitor"
    assert data["exit_code"] == 0 and data["status"] == "ok" and data["command"] == ["python", "train.py"]
    verdict = next(v for v in data["verdicts"] if v["finding"]["id"] == "power-capped")
    assert (
        verdict["finding"]["severity"] == "info" and verdict["spans"][0]["start_s"] == 3.0
    )  # when the job first held the GPU
    assert data["gpus"][0]["series"]["kernel_busy_pct"]["maximum"] == 100
    assert data["overhead"]["sampler_cpu_ms_per_sample"] == pytest.approx(1.5)
    from torchenv.model.codec import from_json

    assert from_json(MonitorReport, {k: v for k, v in data.items() if k not in ("schema_version", "kind")}) == report


def test_streams_have_one_record_per_sample_and_gpu(gemm):
    _, samples, *_ = gemm
    text = csv_header() + "".join(csv_lines(s) for s in samples)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(samples) and tuple(rows[0]) == CSV_HEADER
    assert rows[10]["kernel_busy_pct"] == "100" and rows[10]["own_processes"] == "1"
    assert rows[10]["clock_reasons_decoded"] in ("software power cap", "")
    record = json.loads(jsonl_line(samples[10]))
    assert record["kind"] == "torchenv.monitor.sample" and record["gpus"][0]["kernel_busy_pct"] == 100
    assert "nvlink_rx_mbs" in record["gpus"][0]
    first = json.loads(jsonl_line(samples[0]))
    assert "sm_active_pct" not in first["gpus"][0]  # not measured yet: absent, not null


def test_html_is_self_contained_with_the_verdict_windows_shaded(gemm):
    report, samples, *_ = gemm
    html = render_monitor_html(report, samples)
    assert html.startswith("<!DOCTYPE html>") and html.endswith("</html>")
    assert "<script" not in html and not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert html.count("<svg") >= 5
    assert re.search(r'class="band" data-verdict="compute-bound"', html)
    assert re.search(r'class="band" data-verdict="power-capped"', html)
    assert 'data-series="sm_active_pct"' in html and 'data-series="tensor_active_pct"' in html
    assert html.count('class="step"') == 20
    assert "limit 700 W" in html and "max 1980 MHz" in html


def test_html_of_a_gpu_without_gpm_says_so(tmp_path):
    report, samples, *_ = drive("a100-no-gpm", tmp_path)
    html = render_monitor_html(report, samples)
    assert "n/a on this GPU" in html and 'data-series="sm_active_pct"' not in html


def test_html_of_faults_draws_the_events(tmp_path):
    report, samples, *_ = drive("h200-creep-thermal", tmp_path)
    html = render_monitor_html(report, samples)
    assert 'class="event"' in html and "xid 94" in html
    for verdict in ("memory-creep", "thermal-capped", "xid-error", "compute-bound"):
        assert f'class="lane" data-verdict="{verdict}"' in html  # every verdict has its lane
    memory_chart = html[html.index('aria-label="memory, GiB"') :].split("</svg>")[0]
    assert 'data-verdict="memory-creep"' in memory_chart and 'data-verdict="compute-bound"' not in memory_chart


def summary_text(report, verbose=False) -> str:
    console = Console(file=io.StringIO(), width=120, color_system=None)
    render_monitor_summary(report, console, verbose=verbose)
    return console.file.getvalue()


def test_terminal_summary_golden(gemm):
    """tests/monitor/golden/h200-gemm-summary.txt; MONITOR_REGENERATE=1 rewrites it."""
    report, *_ = gemm
    text = summary_text(report)
    golden = HERE / "golden" / "h200-gemm-summary.txt"
    if os.environ.get("MONITOR_REGENERATE"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text()


def test_terminal_summary_of_a_gpu_without_gpm_and_the_rules_not_judged(tmp_path):
    report, *_ = drive("a100-no-gpm", tmp_path)
    text = summary_text(report, verbose=True)
    assert "n/a on this GPU" in text and "rules not judged" in text
    assert "kernel-busy (utilization.gpu)" in text and "[other-process]" in text


def test_live_view_renders_sparklines_and_na(tmp_path):
    for name in ("h200-gemm", "a100-no-gpm"):
        _report, samples, monitor, _ = drive(name, tmp_path / name)
        console = Console(file=io.StringIO(), width=120, color_system=None)
        console.print(render_live(monitor.infos, samples[-60:], command="python train.py", elapsed_s=31.0))
        text = console.file.getvalue()
        assert ("kernel-busy" in text and "▇" in text) or "█" in text
        assert ("n/a" in text) == (name == "a100-no-gpm")


@pytest.mark.parametrize("name", ["h200-gemm", "h200-launch-bound", "h200-input-bound", "a100-no-gpm"])
def test_a_recorded_stream_converts_back_into_a_replayable_recording(name, tmp_path):
    """from_jsonl.py: a device's --jsonl stream and --json summary become a fixture with the same verdicts."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("from_jsonl", HERE / "recordings" / "from_jsonl.py")
    from_jsonl = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(from_jsonl)
    report, samples, *_ = drive(name, tmp_path / "first")
    stream = [json.loads(jsonl_line(s)) for s in samples]
    again, *_ = drive(from_jsonl.convert(stream, monitor_to_dict(report)), tmp_path / "again")
    assert verdict_ids(again) == verdict_ids(report)
