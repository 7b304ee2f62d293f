"""Images: `plan --format dockerfile` and `snapshot export --format dockerfile` come with the run lines
(GPUs, IPC for DataLoader workers, the user's uid) and the driver floor the planner got from compat."""

from __future__ import annotations

import shlex
from dataclasses import replace

import pytest
import yaml

from testsupport import load_h100_facts
from torchenv.compat.driver import driver_support
from torchenv.planners import describe_target, plan_for
from torchenv.planners.export import container_run_lines, export_dockerfile, official_image, plan_parts
from torchenv.render.plan_text import render_plan_text
from torchenv.snapshots.build import snapshot_from_facts
from torchenv.snapshots.export import export_dockerfile as export_snapshot_dockerfile


def comment_block(text: str, start: str) -> list[str]:
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(start))
    return [line[4:] for line in lines[first + 1 :] if line.startswith("#   ")]


def commands(text: str) -> dict[str, list[str]]:
    found = {}
    for line in text.splitlines():
        for tool in ("docker run", "podman run", "docker build"):
            if line.startswith("#   " + tool):
                found[tool] = shlex.split(line[4:])
    return found


def compose(text: str) -> dict:
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("# compose.yaml"))
    return yaml.safe_load("\n".join(line[4:] for line in lines[first + 1 :] if line.startswith("#   ")))


@pytest.mark.parametrize(
    "gpu, driver",
    [("H100", "580.95.05"), ("RTX 4090", "550.54.14"), ("A100", "535.104.05")],
)
def test_plan_dockerfile_matches_the_host_driver_and_says_how_to_run_it(gpu, driver, knowledge):
    plan = plan_for(describe_target(knowledge, gpus=[gpu], driver=driver, python="3.12", os="linux"), knowledge)
    text = export_dockerfile(plan, knowledge)
    image = official_image(plan)
    assert text.splitlines()[1] == f"FROM {image}"
    # The floor the image's CUDA needs is the plan's, the compat engine's answer for this driver.
    support = driver_support(knowledge, plan.cuda, driver)
    assert support.runs
    assert plan.min_driver == support.needed
    assert f"runs CUDA {plan.cuda}: the host needs an NVIDIA driver >= {plan.min_driver}" in text
    run = commands(text)
    docker = run["docker run"]
    assert docker[docker.index("--gpus") + 1] == "all" and "--ipc=host" in docker
    assert docker[docker.index("--user") + 1] == "$(id -u):$(id -g)"
    assert docker[-1] == "torch-env" and run["docker build"][-2:] == ["torch-env", "."]
    podman = run["podman run"]
    assert podman[podman.index("--device") + 1] == "nvidia.com/gpu=all" and "--userns=keep-id" in podman
    service = compose(text)["services"]["train"]
    assert service["ipc"] == "host" and service["user"] == "${UID:-1000}:${GID:-1000}"
    device = service["deploy"]["resources"]["reservations"]["devices"][0]
    assert device == {"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}


def test_plan_text_names_the_official_image_with_its_floor(knowledge):
    plan = plan_for(describe_target(knowledge, gpus=["RTX 4090"], driver="550.54.14", python="3.12"), knowledge)
    line = next(line for line in render_plan_text(plan, plan_parts(plan)).splitlines() if line.startswith("Image: "))
    assert line.startswith(f"Image: {official_image(plan)} (needs driver >= {plan.min_driver})")
    assert official_image(plan).startswith(f"pytorch/pytorch:{plan.torch}-cuda{plan.cuda}-cudnn")


def test_cpu_plan_runs_without_gpus(knowledge):
    plan = plan_for(describe_target(knowledge, no_gpu=True, python="3.12", os="linux"), knowledge)
    text = export_dockerfile(plan, knowledge)
    assert "--gpus" not in text and "nvidia.com/gpu" not in text and "deploy:" not in text
    assert "--ipc=host" in commands(text)["docker run"]
    assert not any(line.startswith("Image: ") for line in render_plan_text(plan, plan_parts(plan)).splitlines())


def test_snapshot_dockerfile_has_the_same_run_lines():
    facts = load_h100_facts()
    gpu = export_snapshot_dockerfile(snapshot_from_facts(facts, torchenv_version="test"))
    assert "--gpus" in commands(gpu)["docker run"]
    assert compose(gpu)["services"]["train"]["deploy"]["resources"]["reservations"]["devices"][0]["driver"] == "nvidia"
    cpu_torch = replace(facts.torch, version="2.11.0+cpu", cuda=None, loaded_libraries=())
    cpu = export_snapshot_dockerfile(snapshot_from_facts(replace(facts, torch=cpu_torch), torchenv_version="test"))
    assert "--gpus" not in commands(cpu)["docker run"]


def test_run_lines_are_comments_after_the_instructions():
    lines = container_run_lines("myimage")
    assert all(line.startswith("#") for line in lines)
    assert comment_block("\n".join(lines), "# Build and run")[0] == "docker build -t myimage ."
