"""Every export parsed back with a real parser (tomllib, PyYAML) and every command with shlex round trips."""

from __future__ import annotations

import json
import shlex

import pytest
import tomllib
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from testsupport import load_h100_facts
from torchenv.model.plan import PlanRequest
from torchenv.planners import describe_target, plan_for
from torchenv.planners.export import (
    ExportError,
    conda_create_argv,
    export,
    export_dockerfile,
    official_image,
    pip_install_argv,
    plan_json,
    plan_parts,
    uv_pip_install_argv,
)
from torchenv.render.plan_text import render_plan_text

CASES = {
    "h100": lambda k: plan_for(load_h100_facts(), k),
    "5090-pin27": lambda k: plan_for(
        describe_target(k, gpus=["RTX 5090"], driver="570.26", python="3.12"), k, PlanRequest(torch="2.7")
    ),
    "3090-torch25": lambda k: plan_for(
        describe_target(k, gpus=["RTX 3090"], driver="550.54.15", python="3.11"), k, PlanRequest(torch="2.5")
    ),
    "cpu-linux": lambda k: plan_for(describe_target(k, python="3.12"), k),
    "cpu-torch24-py38": lambda k: plan_for(describe_target(k, python="3.8"), k),
    "macos": lambda k: plan_for(describe_target(k, os="macos", python="3.12"), k),
    "windows-cuda": lambda k: plan_for(
        describe_target(k, os="windows", gpus=["RTX 4090"], driver="566.03", python="3.12"), k
    ),
    "mirror": lambda k: plan_for(
        describe_target(k, python="3.11"), k, PlanRequest(torch="2.13.0", index_url="https://mirror.example/a b/simple")
    ),
}


@pytest.fixture(params=sorted(CASES))
def plan(request, knowledge):
    return CASES[request.param](knowledge)


def test_pip_command_round_trips(plan):
    text = export(plan, "pip")
    argv = shlex.split(text)
    assert argv == pip_install_argv(plan)
    assert argv[:4] == ["python", "-m", "pip", "install"]
    assert f"torch=={plan.torch}" in argv
    if plan.uses_default_index:
        assert "--index-url" not in argv
    else:
        assert argv[argv.index("--index-url") + 1] == plan.index_url


def test_requirements_parse(plan):
    lines = [line for line in export(plan, "requirements").splitlines() if line and not line.startswith("#")]
    reqs = [Requirement(line) for line in lines if not line.startswith("--")]
    assert {r.name: str(r.specifier) for r in reqs} == {n: f"=={v}" for n, v in plan.packages}
    options = [shlex.split(line) for line in lines if line.startswith("--")]
    assert options == ([] if plan.uses_default_index else [["--index-url", plan.index_url]])


def test_uv_pyproject_parses(plan):
    doc = tomllib.loads(export(plan, "uv"))
    assert doc["project"]["dependencies"] == [f"{n}=={v}" for n, v in plan.packages]
    assert doc["project"]["requires-python"] == f"=={plan.python}.*"
    if plan.uses_default_index:
        assert "sources" not in doc["tool"]["uv"]
        return
    (index,) = doc["tool"]["uv"]["index"]
    assert index == {"name": f"pytorch-{plan.variant}", "url": plan.index_url, "explicit": True}
    assert doc["tool"]["uv"]["sources"]["torch"] == [{"index": index["name"]}]
    assert set(doc["tool"]["uv"]["sources"]) == {n for n, _ in plan.packages}


def test_pixi_toml_parses(plan):
    doc = tomllib.loads(export(plan, "pixi"))
    assert doc["workspace"]["channels"] == ["conda-forge"]
    deps = doc["dependencies"]
    assert deps["python"] == f"{plan.python}.*"
    if plan.cuda:
        # major.minor, as snapshot export writes it (torchenv/formats.py: the driver floor's key)
        assert doc["system-requirements"]["cuda"] == ".".join(plan.cuda.split(".")[:2])
        assert deps["pytorch"] == {"version": f"=={plan.torch}", "build": "cuda*"}
        assert deps["cuda-version"] == f"{plan.cuda}.*"
    else:
        assert "system-requirements" not in doc


def test_environment_yml_parses(plan):
    doc = yaml.safe_load(export(plan, "environment.yml"))
    assert doc["name"] == "torch-env"
    assert f"python={plan.python}" in doc["dependencies"]
    if Version(plan.torch) <= Version("2.5.1"):
        assert doc["channels"][:2] == ["pytorch", "nvidia"]
        assert f"pytorch=={plan.torch}" in doc["dependencies"]
    else:
        assert doc["channels"] == ["conda-forge"]
    if plan.cuda and doc["channels"] == ["conda-forge"]:
        assert f"cuda-version={plan.cuda}" in doc["dependencies"]
        assert f"pytorch={plan.torch}=cuda*" in doc["dependencies"]


def test_conda_command_round_trips(plan):
    lines = [line for line in export(plan, "conda").splitlines() if not line.startswith("#")]
    (command,) = lines
    argv = shlex.split(command)
    assert argv[:2] == ["conda", "create"]
    assert shlex.join(argv) == command
    create = conda_create_argv(plan, "/tmp/some env", "micromamba")
    assert shlex.split(shlex.join(create)) == create and "/tmp/some env" in create


def plan_document(plan) -> dict:
    """`torchenv plan --json`: the planner's payload in the one envelope."""
    from torchenv.render.json_commands import PLAN_KIND, render_command_json

    return json.loads(
        render_command_json(PLAN_KIND, plan_json(plan), torchenv_version="t", knowledge_version=plan.knowledge_version)
    )


def test_json_has_the_contract_fields(plan):
    data = plan_document(plan)
    for key in ("torch", "torchvision", "torchaudio", "variant", "index_url", "python", "reasons", "alternatives"):
        assert key in data
    assert data["kind"] == "torchenv.plan" and data["schema_version"] == 1
    assert shlex.split(data["commands"]["pip"]) == pip_install_argv(plan)


def test_dockerfile_lines(plan, knowledge):
    if plan.target.os != "linux":
        with pytest.raises(ExportError, match="containers run Linux"):
            export_dockerfile(plan, knowledge)
        return
    text = export_dockerfile(plan, knowledge)
    instructions = [line.split(" ", 1) for line in text.splitlines() if line and not line.startswith("#")]
    assert instructions[0][0] == "FROM"
    assert {i for i, _ in instructions} <= {"FROM", "RUN", "COPY", "ENV"}
    for op, rest in instructions:
        if op == "RUN":
            assert shlex.split(rest)  # each RUN is one well-quoted command
    base = instructions[0][1]
    if official_image(plan):
        assert (
            base
            == f"pytorch/pytorch:{plan.torch}-cuda{plan.cuda}-cudnn{9 if Version(plan.torch) >= Version('2.4') else 8}-runtime"
        )
    elif plan.cuda:
        assert base.startswith("nvidia/cuda:") and base.endswith("-cudnn-runtime-ubuntu24.04")
    else:
        assert base == f"python:{plan.python}-slim"


def test_dockerfile_cuda_base_when_asked(knowledge):
    plan = CASES["h100"](knowledge)
    text = export_dockerfile(plan, knowledge, base="cuda")
    assert "FROM nvidia/cuda:13.0.2-cudnn-runtime-ubuntu24.04" in text
    run = next(line[4:] for line in text.splitlines() if line.startswith("RUN uv pip"))
    assert shlex.split(run) == uv_pip_install_argv(plan, "/opt/venv/bin/python")


def test_pytorch_channel_only_up_to_25(knowledge):
    old = CASES["3090-torch25"](knowledge)
    assert "pytorch-cuda=12.4" in export(old, "conda") and "-c pytorch -c nvidia" in export(old, "conda")
    new = CASES["h100"](knowledge)
    assert "-c pytorch" not in export(new, "conda") and "cuda-version=13.0" in export(new, "conda")


def test_impossible_plan_does_not_export(knowledge):
    plan = plan_for(describe_target(knowledge, gpus=["RTX 5090"], driver="470.82.01"), knowledge)
    with pytest.raises(ExportError, match="cannot be met"):
        export(plan, "pip")
    assert "Cannot be met" in render_plan_text(plan, plan_parts(plan))
    assert plan_document(plan)["ok"] is False
    with pytest.raises(ExportError, match="one envelope"):
        export(plan, "json")
    assert plan_json(plan)["unmet"]


def test_text_explains(knowledge):
    plan = CASES["h100"](knowledge)
    text = render_plan_text(plan, plan_parts(plan))
    assert "Why:" in text and "sm_90" in text and "Alternatives:" in text and "A driver >= 595.45.04" in text
