"""End to end on this machine: `torchenv bench` runs the CPU path of the suite in a worker process of
the test interpreter (torch CPU build), small enough for CI. The CLI process never imports torch."""

import json
import subprocess
import sys

import pytest

from testsupport import cli_env, run_cli

torch_missing = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode != 0


def test_bench_help_never_imports_torch():
    code = (
        "import sys; from torchenv.cli.main import main; rc = main(['bench', '--help'])\n"
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout and "--html" in done.stdout


def test_unknown_section_is_a_usage_error():
    done = run_cli("bench", "--sections", "matmul,nope")
    assert done.returncode == 2 and "unknown nope" in done.stderr


@pytest.mark.slow
@pytest.mark.torch
@pytest.mark.skipif(torch_missing, reason="torch is not installed in the test interpreter")
def test_cpu_path_quick_json_and_html(tmp_path):
    html = tmp_path / "bench.html"
    done = run_cli(
        "bench",
        "--quick",
        "--device",
        "cpu",
        "--json",
        "--html",
        str(html),
        "--sections",
        "matmul,memory,transfer,conv,ladder-gpt",
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["kind"] == "torchenv.bench" and report["status"] == "ok", report.get("error")
    assert report["environment"]["device"] == "cpu"
    by_id = {m["id"]: m for m in report["measurements"]}
    assert by_id["matmul.fp32"]["status"] == "ok" and by_id["matmul.fp32"]["unit"] == "TFLOP/s"
    assert by_id["memory.copy"]["value"] > 0 and by_id["memory.copy"]["unit"] == "GB/s"
    assert by_id["transfer.h2d.pinned"]["status"] == "skipped"
    assert by_id["ladder-gpt.fp32"]["unit"] == "tokens/s" and by_id["ladder-gpt.fp32"]["time"]["n"] >= 3
    assert by_id["ladder-gpt.tf32"]["reason"] == "CUDA-only setting (cuDNN / TF32)"
    assert "<svg" in html.read_text()


@pytest.mark.slow
@pytest.mark.torch
@pytest.mark.skipif(torch_missing, reason="torch is not installed in the test interpreter")
def test_cpu_path_terminal_table():
    done = run_cli("bench", "--quick", "--device", "cpu", "--sections", "matmul", timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Matmul throughput" in done.stdout and "fp32 matmul 512³" in done.stdout
    assert "suite " in done.stdout and "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.torch
@pytest.mark.skipif(torch_missing, reason="torch is not installed in the test interpreter")
def test_an_unwritable_html_path_is_one_line_and_exit_2_before_the_run(tmp_path):
    target = tmp_path / "no-such-folder" / "bench.html"
    done = run_cli("bench", "--quick", "--device", "cpu", "--sections", "memory", "--html", str(target))
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0
    assert f"--html {target}" in done.stderr and "does not exist" in done.stderr
    assert not done.stdout  # refused before the worker ran: no report
