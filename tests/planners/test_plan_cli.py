"""`torchenv plan` end to end: described targets, formats, exit codes."""

from __future__ import annotations

import json

import tomllib
import yaml

from testsupport import run_cli


def test_plan_json_for_a_described_target():
    proc = run_cli("plan", "--gpu", "RTX 4090", "--driver", "560.35.03", "--python", "3.12", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["torch"], data["variant"], data["index_url"]) == (
        "2.14.1",
        "cu126",
        "https://download.pytorch.org/whl/cu126",
    )


def test_unknown_gpu_is_one_line_usage_error():
    proc = run_cli("plan", "--gpu", "RTX 409")
    assert proc.returncode == 2 and "did you mean" in proc.stderr and "RTX 4090" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_impossible_exits_1_with_explanation():
    proc = run_cli("plan", "--gpu", "RTX 5090", "--driver", "470.82.01", "--format", "pip")
    assert proc.returncode == 1 and "Cannot be met" in proc.stdout and "Nearest plans" in proc.stdout


def test_formats_parse():
    base = ("plan", "--gpu", "H100 80GB HBM3", "--driver", "580.95.05", "--python", "3.12")
    assert tomllib.loads(run_cli(*base, "--format", "uv").stdout)["tool"]["uv"]["index"][0]["explicit"] is True
    assert tomllib.loads(run_cli(*base, "--format", "pixi").stdout)["system-requirements"]["cuda"] == "13.0"
    assert "cuda-version=13.0" in yaml.safe_load(run_cli(*base, "--format", "environment.yml").stdout)["dependencies"]
    assert (
        run_cli(*base, "--format", "dockerfile")
        .stdout.splitlines()[1]
        .startswith("FROM pytorch/pytorch:2.15.0-cuda13.0")
    )


def test_dockerfile_for_macos_is_a_usage_error():
    proc = run_cli("plan", "--os", "macos", "--format", "dockerfile")
    assert proc.returncode == 2 and "containers run Linux" in proc.stderr


def test_this_machine_plan_runs():
    proc = run_cli("plan", "--json")
    assert proc.returncode in (0, 1) and json.loads(proc.stdout)["target"]["origin"] == "this machine"
