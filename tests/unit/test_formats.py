"""One writer per file format (torchenv/formats.py): `plan` and `snapshot export` give one answer to
"which conda platform", "which CUDA requirement" and "which base image" for the same machine."""

from __future__ import annotations

import pytest
import tomllib
import yaml

from testsupport import load_h100_facts
from torchenv import formats
from torchenv.knowledge import load_knowledge
from torchenv.model.plan import PlanRequest
from torchenv.planners import describe_target, plan_for, target_from_facts
from torchenv.planners.export import ExportError, export, export_dockerfile
from torchenv.snapshots.build import snapshot_from_facts
from torchenv.snapshots.export import export_snapshot


@pytest.fixture(scope="module")
def knowledge():
    return load_knowledge()


@pytest.fixture(scope="module")
def h100_pair(knowledge):
    """The H100's plan (torch 2.11.0 pinned, as installed there) and its snapshot."""
    facts = load_h100_facts()
    plan = plan_for(target_from_facts(facts, knowledge), knowledge, PlanRequest(torch="2.11.0", variant="cu130"))
    assert plan.ok and plan.cuda == "13.0"
    return plan, snapshot_from_facts(facts)


def test_pixi_platform_and_cuda_requirement_agree(h100_pair, knowledge):
    plan, snapshot = h100_pair
    planned = tomllib.loads(export(plan, "pixi", knowledge=knowledge))
    exported = tomllib.loads(export_snapshot(snapshot, "pixi.toml", knowledge=knowledge))
    assert planned["workspace"]["platforms"] == exported["workspace"]["platforms"] == ["linux-64"]
    assert planned["system-requirements"] == exported["system-requirements"] == {"cuda": "13.0"}


def test_dockerfile_base_image_agrees(h100_pair, knowledge):
    plan, snapshot = h100_pair
    # base="cuda": not the official pytorch/pytorch image, which only a plan (torch from its index) can name
    planned = export_dockerfile(plan, knowledge, base="cuda")
    exported = export_snapshot(snapshot, "dockerfile", knowledge=knowledge)
    image = next(line.split()[-1] for line in planned.splitlines() if line.startswith("FROM "))
    assert image == "nvidia/cuda:13.0.2-cudnn-runtime-ubuntu24.04"
    assert f"FROM --platform=linux/amd64 {image}" in exported
    assert formats.nvidia_settings("13.0")[0] in planned and formats.nvidia_settings("13.0")[0] in exported


def test_environment_yml_is_spelled_alike(h100_pair, knowledge):
    plan, snapshot = h100_pair
    for text in (export(plan, "environment.yml"), export_snapshot(snapshot, "environment.yml")):
        data = yaml.safe_load(text)
        assert set(data) == {"name", "channels", "dependencies"}
        assert all(isinstance(d, (str, dict)) for d in data["dependencies"])


@pytest.mark.parametrize(
    ("os", "arch", "platform"),
    [("linux", "x86_64", "linux-64"), ("linux", "arm64", "linux-aarch64"), ("linux", "aarch64", "linux-aarch64"),
     ("windows", "x86_64", "win-64"), ("windows", "AMD64", "win-64"), ("macos", "arm64", "osx-arm64"),
     ("linux", "riscv64", None)],
)
def test_one_platform_table(os, arch, platform):
    assert formats.conda_platform(os, arch) == platform


def test_a_linux_arm64_plan_is_linux_aarch64_not_linux_64(knowledge):
    # planners/export.py had its own table without ("linux", "arm64") and fell back to linux-64
    plan = plan_for(describe_target(knowledge, no_gpu=True, os="linux", arch="arm64"), knowledge)
    assert tomllib.loads(export(plan, "pixi"))["workspace"]["platforms"] == ["linux-aarch64"]


def test_no_platform_is_an_export_error_not_a_guess(knowledge):
    import dataclasses

    plan = plan_for(describe_target(knowledge, no_gpu=True, os="linux", arch="x86_64"), knowledge)
    odd = dataclasses.replace(plan, target=dataclasses.replace(plan.target, arch="riscv64"))
    with pytest.raises(ExportError, match="no conda/pixi platform"):
        export(odd, "pixi")


def test_quoting_reads_back():
    nasty = 'a "quoted" name\\with\x7f'
    assert tomllib.loads(f"k = {formats.toml_string(nasty)}")["k"] == nasty
    assert yaml.safe_load(f"k: {formats.yaml_string(nasty)}")["k"] == nasty
