"""End to end on CPU (CI): the CLI on a tiny factory workload, the Python API, and the import
boundary (`import torchenv` never imports torch). Render and JSON round trip."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from testsupport import cli_env, run_cli
from torchenv.render.json_tune import render_tune_json as render_json
from torchenv.render.perf_page import bench_report_from_page, embedded_reports, render_perf_page
from torchenv.tune.report import build_report, report_from_json

TINY = Path(__file__).parent / "fixtures" / "tiny_workload.py"


def test_import_torchenv_never_imports_torch():
    code = "import sys, torchenv; print(torchenv.__version__); import torchenv.cli.main; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), check=True)
    assert out.stdout.split() == ["0.1.0", "False"]


def test_help_lists_tune_and_usage_errors_exit_2():
    assert "tune" in run_cli("--help").stdout
    result = run_cli("tune", "nonsense")
    assert result.returncode == 2 and "unknown workload" in result.stderr and len(result.stderr.splitlines()) == 1
    result = run_cli("tune", "resnet50", "--skip", "warp-drive")
    assert result.returncode == 2 and "--skip" in result.stderr
    result = run_cli("tune", "missing.py:make")
    assert result.returncode == 2 and "no such file" in result.stderr


@pytest.mark.torch
@pytest.mark.slow
def test_cli_tunes_a_tiny_factory_workload_on_cpu(tmp_path):
    pytest.importorskip("torch")
    from perf.gpu_records import h100_records
    from perf.test_report import build

    html = tmp_path / "bench.html"
    old = tmp_path / "old.html"  # a bench page without its report embedded: refused, left alone
    old.write_text("<!DOCTYPE html><html><head><title>torchenv bench</title></head><body><h1>bench</h1></body></html>")
    before = old.read_text()
    refused = run_cli("tune", f"{TINY}:make_workload", "--device", "cpu", "--add-to-html", str(old))
    assert refused.returncode == 2 and "no bench report embedded" in refused.stderr and old.read_text() == before
    html.write_text(render_perf_page(bench=build(h100_records())))
    result = run_cli(
        "tune",
        f"{TINY}:make_workload",
        "--device",
        "cpu",
        "--budget",
        "60",
        "--no-compile",
        "--loader",
        "--loader-epoch-s",
        "0.3",
        "--json",
        "--add-to-html",
        str(html),
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kind"] == "torchenv.tune" and data["status"] == "ok"
    assert data["trials"][0]["label"] == "FP32 (reference)"
    assert data["recommended"] and "import torch" in data["snippet"]
    compile(data["snippet"], "snippet", "exec")
    assert data["loader"]["best"] and data["loader"]["trials"]
    assert "tune:" in result.stderr  # progress while it runs
    page = html.read_text()
    assert page.index("Matmul throughput") < page.index('id="torchenv-tune"')
    assert set(embedded_reports(page)) == {"bench", "tune"}
    assert report_from_json(result.stdout).recommended == data["recommended"]


@pytest.mark.torch
def test_python_api_leaves_the_model_and_settings_alone():
    torch = pytest.importorskip("torch")
    import torchenv

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.LazyLinear(4))
    x, y = torch.randn(8, 3, 16, 16), torch.randint(0, 4, (8,))
    model(x)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    benchmark = torch.backends.cudnn.benchmark
    report = torchenv.tune(
        model=model,
        sample=(x, y),
        loss_fn=torch.nn.functional.cross_entropy,
        optimizer=lambda p: torch.optim.SGD(p, lr=0.01),
        budget=30,
        compile=False,
        progress=False,
        show=False,
    )
    assert report.status == "ok" and report.recommended is not None
    assert report.by_id(report.reference).numerics == "reference"
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert torch.backends.cudnn.benchmark == benchmark and not torch.are_deterministic_algorithms_enabled()
    assert "optimizer = torch.optim.SGD(model.parameters(), lr=0.01" in report.snippet


@pytest.mark.torch
def test_python_api_with_a_plain_step():
    torch = pytest.importorskip("torch")
    import torchenv

    w = torch.nn.Parameter(torch.randn(64, 64))
    opt = torch.optim.SGD([w], lr=0.01)

    def step():
        opt.zero_grad()
        loss = (torch.randn(32, 64) @ w).pow(2).mean()
        loss.backward()
        opt.step()
        return loss

    report = torchenv.tune(step=step, items_per_step=32, budget=20, progress=False, show=False)
    assert report.status == "ok"
    stages = {s.name: s for s in report.stages}
    assert "plain step()" in stages["compile"].skip_reason
    assert all(t.numerics in ("reference", "unchecked", None) for t in report.trials)


def _records():
    samples = [0.1] * 6
    return [
        {
            "event": "env",
            "t": 0,
            "data": {"device": "cuda", "device_name": "NVIDIA H100 80GB HBM3", "torch": "2.11.0", "cc": [9, 0]},
        },
        {
            "event": "workload",
            "t": 1,
            "description": "ResNet-50",
            "items": 128,
            "unit": "images/s",
            "batch_size": 128,
            "caps": {"optimizer": "SGD", "optimizer_args": {"lr": 0.1}},
        },
        {"event": "begin", "t": 2, "section": "search"},
        {
            "event": "trial",
            "id": "t0",
            "stage": "reference",
            "label": "FP32 (reference)",
            "config": {},
            "change": {},
            "status": "ok",
            "decision": "reference",
            "samples_s": samples,
            "numerics": "reference",
            "losses": [6.9],
        },
        {
            "event": "trial",
            "id": "t1",
            "stage": "amp",
            "label": "AMP fp16+GradScaler",
            "config": {"amp": "fp16"},
            "change": {"amp": "fp16"},
            "status": "ok",
            "decision": "rejected-numerics",
            "samples_s": [0.05] * 6,
            "numerics": "beyond",
            "numerics_delta": 0.2,
        },
        {
            "event": "trial",
            "id": "t2",
            "stage": "compile",
            "label": "compile",
            "config": {"compile": "default"},
            "change": {"compile": "default"},
            "status": "ok",
            "decision": "faster",
            "samples_s": [0.08] * 6,
            "numerics": "ok",
            "numerics_delta": 0.001,
            "one_time_s": 50.0,
            "break_even_steps": 2500,
        },
        {"event": "result", "t": 3, "best": "t0", "best_config": {}, "provisional": True},
        {
            "event": "trial",
            "id": "t2",
            "stage": "compile",
            "label": "compile",
            "config": {"compile": "default"},
            "change": {"compile": "default"},
            "status": "ok",
            "decision": "adopted",
            "samples_s": [0.08] * 6,
            "numerics": "ok",
            "numerics_delta": 0.001,
            "one_time_s": 50.0,
            "break_even_steps": 2500,
            "update": True,
        },
        {
            "event": "result",
            "t": 4,
            "best": "t2",
            "best_config": {"compile": "default"},
            "tolerance": 0.05,
            "tolerance_applied": 0.05,
        },
        {"event": "end", "t": 10, "section": "search"},
        {"event": "done", "t": 10},
    ]


def test_report_from_records_ranks_and_flags():
    report = build_report(_records(), budget_s=300, tolerance=0.05, wall_s=12.0)
    assert report.status == "ok" and report.recommended == "t2" and report.search_s == 8
    ranked = report.ranked()
    assert [t.id for t in ranked] == ["t1", "t2", "t0"]  # fastest first, the rejected one included, flagged
    assert ranked[0].numerics == "beyond" and ranked[1].decision == "adopted"
    assert report.by_id("t2").speedup == pytest.approx(1.25) and report.by_id("t2").throughput == pytest.approx(1600)
    assert "torch.compile(model)" in report.snippet and "2500 steps" in report.snippet
    text = render_json(report)
    assert report_from_json(text) == report
    page = render_perf_page(tune=report)
    assert "changes results" in page and "torchenv-tune" in page
    assert bench_report_from_page(page) is None  # a tune-only page holds no bench report


def test_a_tune_report_joins_a_bench_page_by_rendering_both_reports_again():
    from perf.gpu_records import h100_records
    from perf.test_report import build

    bench = build(h100_records())
    page = render_perf_page(bench=bench)
    assert bench_report_from_page(page) == bench  # the page carries its report, decoded by the model codec
    tune = build_report(_records(), budget_s=300, tolerance=0.05, wall_s=12.0)
    joined = render_perf_page(bench=bench_report_from_page(page), tune=tune)
    assert joined.index("Matmul throughput") < joined.index('id="torchenv-tune"')
    again = render_perf_page(bench=bench_report_from_page(joined), tune=tune)
    assert again.count('id="torchenv-tune"') == 1 and set(embedded_reports(again)) == {"bench", "tune"}
    assert "</script>" not in embedded_reports(again)["tune"]["workload"]  # data can never close its tag


def test_terminal_render():
    from rich.console import Console

    from torchenv.render.tune_terminal import render_tune_terminal

    console = Console(record=True, width=160)
    render_tune_terminal(build_report(_records(), budget_s=300, tolerance=0.05, wall_s=12.0), console)
    text = console.export_text()
    assert "★ compile" in text and "changes results" in text and "pays back after 2,500 steps" in text
