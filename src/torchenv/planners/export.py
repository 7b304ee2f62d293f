"""Exporters (pure): one Plan -> pip/uv/conda/pixi commands and files, a Dockerfile, the JSON payload,
and the commands its text shows (the text itself is render/plan_text.py's).

Every command is built as an argv list and shown with `shlex.join`, so what is printed is exactly
what `torchenv create` runs. Files are written as text with every string value JSON-escaped (a valid
TOML basic string and a valid YAML double-quoted scalar), and the tests read them back with tomllib
and PyYAML.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from packaging.version import Version

from ..formats import conda_platform as _conda_platform
from ..formats import (
    container_run_lines,
    docker_base_image,
    driver_line,
    environment_yml,
    nvidia_settings,
    pixi_spec,
    pixi_toml,
    requirements_txt,
    toml_string,
    uv_python_lines,
)
from ..model.codec import to_json
from ..model.errors import InputError
from ..model.plan import PYPI_INDEX, Plan

FORMATS = ("text", "pip", "uv", "conda", "pixi", "requirements", "environment.yml", "dockerfile")
DEFAULT_NAME = "torch-env"
# The pytorch conda channel stopped with torch 2.5 (PyTorch's announcement of 2024-10; 2.6 had no conda builds).
LAST_PYTORCH_CHANNEL_RELEASE = Version("2.5.1")


class ExportError(InputError, ValueError):
    """The plan cannot be expressed in that format (an impossible plan, a Dockerfile for macOS, ...)."""


def _q(text: str) -> str:
    return toml_string(text)


def _require(plan: Plan) -> None:
    if not plan.ok or not plan.torch:
        raise ExportError("the request cannot be met, so there is nothing to export: " + "; ".join(plan.unmet))


def _requirements(plan: Plan) -> list[str]:
    if plan.wheel_url:
        return [plan.wheel_url]  # one published wheel file (JetPack): pip installs it by URL
    return [f"{name}=={version}" for name, version in plan.packages]


def _index_args(plan: Plan) -> list[str]:
    return [] if plan.uses_default_index or plan.wheel_url else ["--index-url", plan.index_url]


# ---------------------------------------------------------------------- pip and uv commands
def pip_install_argv(plan: Plan, python: str = "python", extra: tuple[str, ...] = ()) -> list[str]:
    """The pip command of a plan; `extra` (e.g. --force-reinstall) goes right after `install`."""
    _require(plan)
    return [python, "-m", "pip", "install", *extra, *_requirements(plan), *_index_args(plan)]


def uv_pip_install_argv(plan: Plan, python: str, uv: str = "uv") -> list[str]:
    _require(plan)
    return [uv, "pip", "install", "--python", python, *_requirements(plan), *_index_args(plan)]


def export_pip(plan: Plan, python: str = "python") -> str:
    return shlex.join(pip_install_argv(plan, python)) + "\n"


def export_requirements(plan: Plan) -> str:
    _require(plan)
    options = []
    if not plan.uses_default_index and not plan.wheel_url:
        options.append(f"--index-url {shlex.quote(plan.index_url)}")  # pip splits option lines with shlex
    requirements = [f"torch @ {r}" if plan.wheel_url else r for r in _requirements(plan)]
    return requirements_txt([f"torchenv plan: {_summary(plan)}"], options, requirements)


def export_uv(plan: Plan, name: str = DEFAULT_NAME) -> str:
    """A pyproject.toml for `uv sync`: explicit PyTorch index for torch and its companions only."""
    _require(plan)
    env_marker = {
        "linux": "sys_platform == 'linux'",
        "windows": "sys_platform == 'win32'",
        "macos": "sys_platform == 'darwin'",
    }
    lines = [
        f"# torchenv plan: {_summary(plan)}",
        "[project]",
        f"name = {_q(name)}",
        'version = "0.1.0"',
        f"requires-python = {_q(f'=={plan.python}.*')}",
        "dependencies = [" + ", ".join(_q(r) for r in _requirements(plan)) + "]",
        "",
        "[tool.uv]",
        f"environments = [{_q(env_marker.get(plan.target.os, 'sys_platform == ' + repr(plan.target.os)))}]",
    ]
    if not plan.uses_default_index:
        index_name = f"pytorch-{plan.variant}"
        lines += ["", "[tool.uv.sources]"]
        for pkg, _ in plan.packages:
            lines.append(f"{pkg} = [{{ index = {_q(index_name)} }}]")
        lines += ["", "[[tool.uv.index]]", f"name = {_q(index_name)}", f"url = {_q(plan.index_url)}", "explicit = true"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- conda, environment.yml, pixi
def uses_pytorch_channel(plan: Plan) -> bool:
    """Releases up to 2.5 were published on the pytorch channel (with pytorch-cuda from nvidia)."""
    return plan.ok and Version(plan.torch) <= LAST_PYTORCH_CHANNEL_RELEASE


def conda_channels(plan: Plan) -> list[str]:
    return ["pytorch", "nvidia", "conda-forge"] if uses_pytorch_channel(plan) else ["conda-forge"]


def conda_specs(plan: Plan) -> list[str]:
    """Match specs: conda-forge `pytorch` with a cuda/cpu build and `cuda-version`, or the pytorch channel's."""
    _require(plan)
    specs = [f"python={plan.python}"]
    companions = [(n, v) for n, v in plan.packages if n != "torch"]
    if uses_pytorch_channel(plan):
        specs.append(f"pytorch=={plan.torch}")
        specs += [f"{n}=={v}" for n, v in companions]
        if plan.cuda:  # pytorch-cuda from torch 1.13 (CUDA 11.6+); cudatoolkit before that
            cuda = tuple(int(x) for x in plan.cuda.split("."))
            specs.append(
                f"pytorch-cuda={plan.cuda}"
                if Version(plan.torch) >= Version("1.13") and cuda >= (11, 6)
                else f"cudatoolkit={plan.cuda}"
            )
        elif plan.target.os != "macos":
            specs.append("cpuonly")
        return specs
    if plan.cuda:
        specs += [f"pytorch={plan.torch}=cuda*", f"cuda-version={plan.cuda}"]
    elif plan.variant == "cpu" and plan.target.os != "macos":
        specs.append(f"pytorch={plan.torch}=cpu*")
    else:
        specs.append(f"pytorch={plan.torch}")
    specs += [f"{n}={v}" for n, v in companions]
    return specs


def conda_create_argv(plan: Plan, prefix: str, conda: str = "conda") -> list[str]:
    argv = [conda, "create", "--yes", "--prefix", prefix, "--override-channels"]
    for channel in conda_channels(plan):
        argv += ["-c", channel]
    return argv + conda_specs(plan)


def export_conda(plan: Plan, name: str = DEFAULT_NAME) -> str:
    specs = conda_specs(plan)
    argv = ["conda", "create", "--name", name, "--override-channels"]
    for channel in conda_channels(plan):
        argv += ["-c", channel]
    lines = [f"# torchenv plan: {_summary(plan)}", shlex.join(argv + specs)]
    if uses_pytorch_channel(plan):
        lines.insert(1, f"# torch {plan.torch} still had builds on the pytorch channel (it stopped after 2.5)")
    elif plan.cuda:
        lines.insert(
            1, f"# conda-forge builds: pytorch with a CUDA build pinned to the CUDA {plan.cuda} runtime (cuda-version)"
        )
    return "\n".join(lines) + "\n"


def export_environment_yml(plan: Plan, name: str = DEFAULT_NAME) -> str:
    specs = conda_specs(plan)
    return environment_yml([f"torchenv plan: {_summary(plan)}"], name, conda_channels(plan), specs)


def export_pixi(plan: Plan, name: str = DEFAULT_NAME) -> str:
    """pixi.toml: conda-forge pytorch; `[system-requirements] cuda` declares the CUDA the driver must support."""
    _require(plan)
    platform = _conda_platform(plan.target.os, plan.target.arch)
    if platform is None:
        raise ExportError(f"no conda/pixi platform for {plan.target.os} {plan.target.arch}")
    dependencies = [("python", _q(plan.python + ".*"))]
    if plan.cuda:
        dependencies += [("pytorch", pixi_spec("==" + plan.torch, "cuda*")), ("cuda-version", _q(plan.cuda + ".*"))]
    elif plan.variant == "cpu" and plan.target.os != "macos":
        dependencies.append(("pytorch", pixi_spec("==" + plan.torch, "cpu*")))
    else:
        dependencies.append(("pytorch", pixi_spec("==" + plan.torch)))
    dependencies += [(pkg, pixi_spec("==" + version)) for pkg, version in plan.packages if pkg != "torch"]
    return pixi_toml([f"torchenv plan: {_summary(plan)}"], name, ["conda-forge"], platform, plan.cuda, dependencies)


# ---------------------------------------------------------------------- Dockerfile
def official_image(plan: Plan) -> str | None:
    """pytorch/pytorch:<torch>-cuda<X.Y>-cudnn<N>-runtime for a Linux x86_64 CUDA plan (torch >= 2.0)."""
    if not plan.ok or plan.cuda is None or plan.target.os != "linux" or plan.target.arch != "x86_64":
        return None
    version = Version(plan.torch)
    if version < Version("2.0"):
        return None
    cudnn = 9 if version >= Version("2.4") else 8
    return f"pytorch/pytorch:{plan.torch}-cuda{plan.cuda}-cudnn{cudnn}-runtime"


def cuda_image(plan: Plan, knowledge=None) -> str:
    """The base image of a plan's Dockerfile (formats.docker_base_image): NVIDIA's CUDA runtime image
    of the release the knowledge base names for the plan's CUDA, or a slim Python image for CPU."""
    full = None
    if plan.cuda and knowledge is not None and (floor := knowledge.cuda_driver_floor(f"{plan.cuda}.99")) is not None:
        full = floor.cuda
    return docker_base_image(python=plan.python, cuda=plan.cuda, cuda_full=full)[0]


def _driver_floor_line(plan: Plan, image: str) -> list[str]:
    """The host driver the image's CUDA needs: the plan's floor, which the planner took from the compat engine."""
    return driver_line(image, plan.cuda, plan.min_driver)


def export_dockerfile(plan: Plan, knowledge=None, base: str = "auto") -> str:
    _require(plan)
    if plan.target.os != "linux":
        raise ExportError(
            f"containers run Linux: plan for --os linux to get a Dockerfile (this plan is for {plan.target.os})"
        )
    lines = [f"# torchenv plan: {_summary(plan)}"]
    official = official_image(plan) if base in ("auto", "official") else None
    if base == "official" and official is None:
        raise ExportError("no official pytorch/pytorch image matches this plan (CUDA builds of torch >= 2.0 only)")
    if official:
        lines += [
            f"FROM {official}",
            "# The official image ships torch, torchvision and torchaudio for this CUDA build, in its own Python.",
            "RUN " + shlex.join(["python", "-c", "import torch; print(torch.__version__, torch.version.cuda)"]),
        ]
        lines += _driver_floor_line(plan, official) + container_run_lines(gpus=True)
        return "\n".join(lines) + "\n"
    image = cuda_image(plan, knowledge)
    if plan.cuda:
        lines.append("# NVIDIA's CUDA runtime image; the torch wheel brings its own CUDA libraries and cuDNN.")
    lines += [f"FROM {image}", *nvidia_settings(plan.cuda), *uv_python_lines(plan.python)]
    lines += [
        "RUN " + shlex.join(uv_pip_install_argv(plan, "/opt/venv/bin/python")),
        "RUN " + shlex.join(["python", "-c", "import torch; print(torch.__version__, torch.version.cuda)"]),
    ]
    lines += _driver_floor_line(plan, image) + container_run_lines(gpus=bool(plan.cuda))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- JSON and the text's commands
def plan_json(plan: Plan) -> dict:
    """The payload of `torchenv plan --json`; the envelope is render/json_commands.py's."""
    data = to_json(plan)
    if plan.ok:
        data["commands"] = {"pip": shlex.join(pip_install_argv(plan))}
    return data


def _option_argv(option) -> list[str]:
    if option.index_url.endswith(".whl"):  # a build published as one wheel file
        return ["python", "-m", "pip", "install", option.index_url]
    index = [] if option.index_url == PYPI_INDEX else ["--index-url", option.index_url]
    return ["python", "-m", "pip", "install", f"torch=={option.torch}", *index]


def build_label(torch: str, variant: str) -> str:
    """ "2.11.0+cu130"; a JetPack build keeps NVIDIA's own version: "2.8.0 (JetPack 6, jp6-cu126)"."""
    if variant == "mps":
        return f"{torch} (macOS, MPS)"
    if variant.startswith("jp"):
        return f"{torch} (JetPack {variant[2:].split('-')[0]}, {variant})"
    return f"{torch}+{variant}"


def _summary(plan: Plan) -> str:
    if not plan.ok:
        return "cannot be met"
    build = build_label(plan.torch, plan.variant)
    where = f"{plan.target.os}/{plan.target.arch}, Python {plan.python}"
    if plan.min_driver:
        where += f", driver >= {plan.min_driver}"
    return f"torch {build} for {where}"


@dataclass(frozen=True)
class PlanParts:
    """What the plan's text shows besides the plan's own fields, decided once here (the files'
    headers use the same summary) and formatted by render/plan_text.py: the one-line summary, the
    install argv (empty for a plan that cannot be met), one argv per nearest plan, one build label
    per alternative, the official image (or None)."""

    summary: str
    pip: list[str]
    nearest: list[list[str]]
    alternatives: list[str]
    image: str | None


def plan_parts(plan: Plan) -> PlanParts:
    return PlanParts(
        summary=_summary(plan),
        pip=pip_install_argv(plan) if plan.ok else [],
        nearest=[_option_argv(n) for n in plan.nearest],
        alternatives=[build_label(a.torch, a.variant) for a in plan.alternatives],
        image=official_image(plan),
    )


def export(plan: Plan, fmt: str, *, name: str = DEFAULT_NAME, knowledge=None, python: str = "python") -> str:
    if fmt == "text":
        raise ExportError("the text is rendered by render/plan_text.py from plan_parts (torchenv plan)")
    if fmt == "json":
        raise ExportError("JSON is written through the one envelope: render/json_commands.py (torchenv plan --json)")
    _require(plan)
    if plan.wheel_url and fmt not in ("pip", "requirements"):
        raise ExportError(
            f"this build is one wheel file ({plan.wheel_url}): export it with --format pip or requirements"
        )
    if fmt == "pip":
        return export_pip(plan, python)
    if fmt == "uv":
        return export_uv(plan, name)
    if fmt == "conda":
        return export_conda(plan, name)
    if fmt == "pixi":
        return export_pixi(plan, name)
    if fmt == "requirements":
        return export_requirements(plan)
    if fmt == "environment.yml":
        return export_environment_yml(plan, name)
    if fmt == "dockerfile":
        return export_dockerfile(plan, knowledge)
    raise ExportError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


__all__ = [
    "FORMATS",
    "ExportError",
    "PlanParts",
    "conda_create_argv",
    "conda_specs",
    "container_run_lines",
    "export",
    "export_conda",
    "export_dockerfile",
    "export_environment_yml",
    "export_pip",
    "export_pixi",
    "export_requirements",
    "export_uv",
    "official_image",
    "pip_install_argv",
    "plan_json",
    "plan_parts",
    "uv_pip_install_argv",
]
