"""One writer per file format: requirements.txt, environment.yml, pixi.toml and the Dockerfile's shared
parts (base image, NVIDIA settings, driver line, run lines), for `torchenv plan` (planners/export.py)
and `torchenv export` (snapshots/export.py). Pure, standard library only.

Each exporter decides *what* goes in (a plan's pins, a snapshot's exact distributions); how a file of
that format is spelled, quoted and laid out, which conda platform a machine is and which image a
container starts from are decided here, once. Strings are quoted as JSON strings, which are valid TOML
basic strings and YAML double-quoted scalars (the tests read the files back with tomllib and PyYAML).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

# --- quoting ------------------------------------------------------------------------------------------

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def yaml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid YAML double-quoted scalar


def toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else toml_string(key)


def toml_string(text: str) -> str:
    # A JSON string is a valid TOML basic string once DEL is escaped too (TOML forbids it raw).
    # ensure_ascii=False keeps non-ASCII as UTF-8: TOML rejects the surrogate pairs JSON would write.
    encoded = json.dumps(text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), ensure_ascii=False)
    return encoded.replace("\x7f", "\\u007f")


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        items = [f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def comments(lines: Iterable[str]) -> list[str]:
    return [f"# {line}" if line else "#" for line in lines]


# --- platforms ----------------------------------------------------------------------------------------

# conda/pixi platform of (os, machine); a machine is named as platform.machine() or a user says it.
CONDA_PLATFORMS = {
    ("linux", "x86_64"): "linux-64",
    ("linux", "amd64"): "linux-64",
    ("linux", "aarch64"): "linux-aarch64",
    ("linux", "arm64"): "linux-aarch64",
    ("linux", "ppc64le"): "linux-ppc64le",
    ("wsl", "x86_64"): "linux-64",
    ("macos", "arm64"): "osx-arm64",
    ("macos", "x86_64"): "osx-64",
    ("windows", "amd64"): "win-64",
    ("windows", "x86_64"): "win-64",
}
DOCKER_PLATFORMS = {"x86_64": "linux/amd64", "amd64": "linux/amd64", "aarch64": "linux/arm64", "arm64": "linux/arm64"}


def conda_platform(os: str, arch: str) -> str | None:
    """None for a machine conda has no platform for (the exporter says so; never a guess)."""
    return CONDA_PLATFORMS.get((os.lower(), arch.lower()))


def cuda_requirement(cuda: str | None) -> str | None:
    """pixi's `[system-requirements] cuda`: the CUDA the driver must support, as major.minor (the key
    of the knowledge base's driver floors: cu128 needs a 12.8 driver, not any 12.x)."""
    return ".".join(cuda.split(".")[:2]) if cuda else None


# --- requirements.txt ---------------------------------------------------------------------------------


def requirements_txt(header: Sequence[str], options: Sequence[str], requirements: Sequence[str]) -> str:
    """`header`: comment lines (without '#'); `options`: `--index-url URL` lines; then one requirement a line."""
    return "\n".join([*comments(header), *options, *requirements]) + "\n"


# --- environment.yml ----------------------------------------------------------------------------------


def environment_yml(
    header: Sequence[str],
    name: str,
    channels: Sequence[str],
    dependencies: Sequence[str],
    pip: Sequence[str] = (),
) -> str:
    """A conda environment file. `pip` items are pip lines (`--extra-index-url URL` included); an item
    starting with '#' is kept as a comment in the pip list."""
    lines = [*comments(header), f"name: {yaml_string(name)}", "channels:"]
    lines += [f"  - {yaml_string(c)}" for c in channels]
    lines += ["dependencies:"] + [f"  - {yaml_string(s)}" for s in dependencies]
    if pip:
        if "pip" not in {re.split(r"[=<>!~ ]", s, maxsplit=1)[0] for s in dependencies}:
            lines.append(f"  - {yaml_string('pip')}")
        lines.append("  - pip:")
        lines += [f"    {item}" if item.startswith("#") else f"    - {yaml_string(item)}" for item in pip]
    return "\n".join(lines) + "\n"


# --- pixi.toml ----------------------------------------------------------------------------------------


def pixi_spec(version: str, build: str | None = None) -> str:
    """A pixi dependency value: `"==2.11.0"` or `{ version = "==2.11.0", build = "cuda*" }`."""
    return toml_value({"version": version, "build": build}) if build else toml_string(version)


def pixi_toml(
    header: Sequence[str],
    name: str,
    channels: Sequence[str],
    platform: str,
    cuda: str | None,
    dependencies: Sequence[tuple[str, str]],
    pypi_dependencies: Sequence[tuple[str, str]] = (),
) -> str:
    """A pixi workspace; dependency values are TOML values already (pixi_spec, or an inline table)."""
    lines = [*comments(header), "", "[workspace]", f"name = {toml_string(name)}"]
    lines += [f"channels = {toml_value(list(channels))}", f"platforms = {toml_value([platform])}"]
    requirement = cuda_requirement(cuda)
    if requirement:
        lines += ["", "[system-requirements]", f"cuda = {toml_string(requirement)}"]
    lines += ["", "[dependencies]"] + [f"{toml_key(k)} = {v}" for k, v in dependencies]
    if pypi_dependencies:
        lines += ["", "[pypi-dependencies]"] + [f"{toml_key(k)} = {v}" for k, v in pypi_dependencies]
    return "\n".join(lines) + "\n"


# --- Dockerfile -----------------------------------------------------------------------------------------

UV_IMAGE = "ghcr.io/astral-sh/uv:latest"
CONDA_IMAGE = "condaforge/miniforge3:latest"


def docker_base_image(*, python: str, cuda: str | None, cuda_full: str | None = None, conda: bool = False) -> tuple[str, str]:
    """(image, why): the one answer to "which image does this environment's container start from".

    conda: miniforge (conda brings Python, CUDA libraries and torch); a CUDA build: NVIDIA's CUDA
    runtime image of that CUDA (`cuda_full`: the release named by the knowledge base's driver-floor
    table, e.g. 13.0.2; X.Y.0 without it), Ubuntu 24.04 from CUDA 12.5 (22.04 before), with Python
    installed by uv; a CPU build: the slim Python image of that Python."""
    if conda:
        return CONDA_IMAGE, "a conda env: conda brings Python, CUDA libraries and torch itself"
    if cuda:
        ubuntu = "24.04" if tuple(int(x) for x in cuda.split(".")[:2]) >= (12, 5) else "22.04"
        image = f"nvidia/cuda:{cuda_full or cuda + '.0'}-cudnn-runtime-ubuntu{ubuntu}"
        return image, f"NVIDIA's CUDA {cuda} runtime image; Python {python} comes from uv, torch's wheels bring their own CUDA libraries"
    return f"python:{python}-slim", f"Python {python}; a CPU build of torch needs nothing else"


def nvidia_settings(cuda: str | None) -> list[str]:
    """ENV lines for the NVIDIA Container Toolkit: all GPUs, compute, and refuse a driver too old for `cuda`."""
    if not cuda:
        return []
    return [f'ENV NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility NVIDIA_REQUIRE_CUDA="cuda>={cuda}"']


def driver_line(image: str, cuda: str | None, min_driver: str | None) -> list[str]:
    """The host driver the image's CUDA needs (the planner's or the knowledge base's floor)."""
    if not cuda or not min_driver:
        return []
    return [f"# {image} runs CUDA {cuda}: the host needs an NVIDIA driver >= {min_driver} (and the NVIDIA Container Toolkit)."]


def uv_python_lines(python: str, venv: str = "/opt/venv") -> list[str]:
    """uv into the image, a venv of exactly `python` (uv fetches it when the image has none) on PATH."""
    import shlex

    return [
        f"COPY --from={UV_IMAGE} /uv /usr/local/bin/uv",
        "RUN " + shlex.join(["uv", "venv", "--python", python, venv]),
        f"ENV PATH={venv}/bin:$PATH",
    ]


def container_run_lines(image: str = "torch-env", *, gpus: bool = True) -> list[str]:
    """`docker run`, `podman run` and compose lines (as Dockerfile comments) that start an image the way
    PyTorch needs: the GPUs, the host's IPC namespace (DataLoader workers share batches through /dev/shm,
    64 MiB by default) and the user's own uid, so files written to the mounted folder stay theirs."""
    docker = ["docker", "run", "--rm", "-it"] + (["--gpus", "all"] if gpus else [])
    docker += ["--ipc=host", "--ulimit", "memlock=-1", "--ulimit", "stack=67108864"]
    docker += ["--user", "$(id -u):$(id -g)", "-e", "HOME=/tmp", "-v", "$PWD:/workspace", "-w", "/workspace", image]
    podman = ["podman", "run", "--rm", "-it"] + (["--device", "nvidia.com/gpu=all"] if gpus else [])
    podman += ["--ipc=host", "--userns=keep-id", "-v", "$PWD:/workspace:Z", "-w", "/workspace", image]
    lines = [
        "# Build and run it (GPUs, shared memory for DataLoader workers, your uid for files in the mounted folder):",
        f"#   docker build -t {image} .",
        "#   " + " ".join(docker).replace("$(id -u):$(id -g)", '"$(id -u):$(id -g)"').replace("$PWD:", '"$PWD":'),
        "#   " + " ".join(podman).replace("$PWD:", '"$PWD":'),
        "# compose.yaml (`UID=$(id -u) GID=$(id -g) docker compose run train`):",
        "#   services:",
        "#     train:",
        "#       build: .",
        "#       ipc: host",
        '#       user: "${UID:-1000}:${GID:-1000}"',
        "#       environment: [HOME=/tmp]",
        '#       volumes: [".:/workspace"]',
        "#       working_dir: /workspace",
    ]
    if gpus:
        lines += [
            "#       deploy:",
            "#         resources:",
            "#           reservations:",
            "#             devices: [{driver: nvidia, count: all, capabilities: [gpu]}]",
        ]
    return lines
