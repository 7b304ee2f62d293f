"""Report assembly from worker records (recorded CPU output and synthetic H100 records), without torch."""

import json
import re
from pathlib import Path

import pytest

from perf.gpu_records import h100_records
from torchenv.model.bench import BenchReport
from torchenv.model.codec import from_json
from torchenv.perf.causes import Context
from torchenv.perf.report import Hardware, build_report
from torchenv.perf.run import MARK, records_of, run_worker, worker_argv
from torchenv.probes.runner import RunResult
from torchenv.render.html_bench import LADDER_COLOUR, RATIO_COLOUR, render_html
from torchenv.render.json_bench import bench_from_dict, bench_to_dict
from torchenv.render.terminal_bench import render_bench_terminal

CPU_QUICK = Path(__file__).parent / "fixtures" / "cpu-quick.jsonl"
H100 = Hardware("H100 SXM5", {"fp32": 67.0, "tf32": 494.7, "bf16": 989.4, "fp16": 989.4}, 3350.0, "datasheet")


def build(records, **kw):
    args = dict(
        mode="full",
        hardware=H100,
        context=Context(),
        wall_s=120.0,
        worker_error=None,
        knowledge_version="test",
        torchenv_version="0",
    )
    args.update(kw)
    return build_report(records, **args)


def cpu_records():
    return records_of(CPU_QUICK.read_text())


def test_ladder_speedups_and_one_time_costs():
    report = build(h100_records())
    compiled = report.by_id("ladder-resnet50.torch-compile")
    assert compiled.unit == "images/s" and compiled.value == pytest.approx(5146.6, rel=1e-3)
    assert compiled.speedup == pytest.approx(5146.6 / 833.8, rel=1e-3)
    assert compiled.step_gain == pytest.approx(5146.6 / 3706.1, rel=1e-3)
    assert report.compile_s == pytest.approx(53.1 - 128 / 5146.6, abs=0.01)
    assert report.autotune_s == pytest.approx(
        0.2 + 19.6 + 15.9 + 14.3 - 128 * (1 / 833.6 + 1 / 1800.7 + 1 / 2140.9 + 1 / 3706.1), abs=0.01
    )
    assert report.suite_s == pytest.approx(120.0 - report.compile_s)
    assert report.status == "ok"


def test_cpu_path_report_from_recorded_worker_output():
    report = build(cpu_records(), mode="quick", hardware=Hardware())
    assert report.environment.device == "cpu"
    ok = {m.id for m in report.measurements if m.status == "ok"}
    assert {"matmul.fp32", "memory.copy", "conv.fwd.bench0.det0", "ladder-resnet50.fp32", "ladder-gpt.fp32"} <= ok
    assert all(m.ratio is None and not m.short for m in report.measurements)  # no datasheet for a CPU
    assert report.by_id("transfer.h2d.pinned").status == "skipped"
    assert report.by_id("ladder-resnet50.tf32").reason == "CUDA-only setting (cuDNN / TF32)"


def test_a_worker_that_died_mid_run_keeps_what_arrived():
    records = [r for r in cpu_records() if r.get("event") != "done"][:12]
    report = build(records, worker_error="python died of SIGSEGV")
    assert report.status == "partial" and report.error == "python died of SIGSEGV"
    assert report.by_id("matmul.fp32").status == "ok"


def test_a_failed_import_is_a_failed_report():
    report = build([{"event": "fatal", "stage": "import", "error": "ModuleNotFoundError: No module named 'torch'"}])
    assert report.status == "failed" and "No module named 'torch'" in report.error
    assert report.environment is None and report.measurements == ()


def test_json_round_trips_through_the_model():
    report = build(h100_records())
    data = json.loads(json.dumps(bench_to_dict(report)))
    assert data["kind"] == "torchenv.bench" and data["schema_version"] == 2
    assert data["suite_s"] == pytest.approx(report.suite_s, abs=1e-3)
    body = {k: v for k, v in data.items() if k not in ("schema_version", "kind", "suite_s")}  # envelope fields that are report fields stay
    for m in body["measurements"]:
        if m.get("time"):
            m["time"].pop("spread")
    assert from_json(BenchReport, body) == report
    assert bench_from_dict(data) == report  # the one decoder of bench JSON says the same


def test_terminal_table_shows_ratios_ladder_and_causes():
    from rich.console import Console

    console = Console(width=140, record=True, color_system=None)
    render_bench_terminal(build(h100_records()), console)
    text = console.export_text()
    assert "NVIDIA H100 80GB HBM3 (H100 SXM5)" in text
    assert "793 TFLOP/s" in text and "80%" in text
    assert "6.17×" in text  # torch.compile rung against fp32
    assert "[pageable-host-memory]" in text
    assert "torch.compile first compile 53.1 s, reported apart" in text


def test_html_is_self_contained_with_both_charts():
    html = render_html(build(h100_records()))
    assert "<svg" in html and 'id="ratio-chart"' in html and 'id="ladder-resnet50-chart"' in html
    assert RATIO_COLOUR in html and LADDER_COLOUR in html
    # the report's own data rides along as JSON (type application/json: never run); nothing else may
    data = re.sub(r'<script type="application/json" id="torchenv-[a-z]+-report">.*?</script>', "", html, flags=re.S)
    assert data != html
    for external in ("http://", "https://", "<script", "<link", "@import", "src="):
        assert external not in data.replace('xmlns="http://www.w3.org/2000/svg"', "")


class FakeRunner:
    def __init__(self, stdout, returncode=0, timed_out=False):
        self.stdout, self.returncode, self.timed_out = stdout, returncode, timed_out
        self.argv = None

    def run(self, argv, timeout, *, env=None, cwd=None, on_line=None, **kw):
        self.argv = argv
        for line in self.stdout.splitlines(keepends=True):
            on_line(line)
        return RunResult(
            tuple(argv), None if self.timed_out else self.returncode, self.stdout, "", 1.5, timed_out=self.timed_out
        )


def test_run_worker_streams_records_and_reports_a_timeout():
    seen = []
    text = CPU_QUICK.read_text()
    run = run_worker(FakeRunner(text), worker_argv("py", quick=True), timeout=10, on_record=seen.append)
    assert run.error is None and len(run.records) == len(seen) == len(text.splitlines())
    partial = "\n".join(text.splitlines()[:5]) + "\nnoise\n"
    run = run_worker(FakeRunner(partial, timed_out=True), ["py"], timeout=10)
    assert len(run.records) == 5 and "did not answer" in run.error


def test_worker_argv():
    assert worker_argv("py", quick=True, device="cpu", sections=["matmul", "conv"], compile=False)[2:] == [
        "bench",
        "--device",
        "cpu",
        "--quick",
        "--sections",
        "matmul,conv",
        "--no-compile",
    ]
    assert MARK.endswith(" ")
