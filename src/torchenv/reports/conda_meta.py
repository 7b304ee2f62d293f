"""Pure parsers for conda's on-disk formats: `conda-meta/<name>-<version>-<build>.json` records,
`conda-meta/history`, and `environment.yml` (the file `conda env export` writes and `conda env
create` reads). Also the name mapping between conda packages and the Python distributions they
install, which tells conda-installed packages from pip-installed ones.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name

from ..model import Unknown
from ..model.snapshot import SnapshotCondaPackage

# Conda package -> the Python distribution it installs, where the names differ.
CONDA_TO_PYPI = {
    "pytorch": "torch",
    "pytorch-lightning": "pytorch-lightning",
    "torchtriton": "triton",
    "py-opencv": "opencv-python",
    "pyyaml": "pyyaml",
    "msgpack-python": "msgpack",
    "matplotlib-base": "matplotlib",
    "numpy-base": "numpy",
}
# Conda packages that are no Python distribution at all (metapackages and libraries).
NOT_PYTHON = re.compile(
    r"^(_|lib|cuda-|cudatoolkit|cudnn|nccl|mkl|intel-|pytorch-cuda|pytorch-mutex|pytorch-gpu$|pytorch-cpu$|cpuonly|python$)"
)

_KNOWN_HOSTS = ("https://conda.anaconda.org/", "http://conda.anaconda.org/", "https://repo.anaconda.com/pkgs/")
_SUBDIR = re.compile(r"/(noarch|linux-64|linux-aarch64|linux-ppc64le|osx-64|osx-arm64|win-64|win-arm64|win-32)/?$")


def pypi_name(conda_name: str) -> str | None:
    """The canonical Python distribution name a conda package installs; None for non-Python ones."""
    if conda_name in CONDA_TO_PYPI:
        return CONDA_TO_PYPI[conda_name]
    if NOT_PYTHON.match(conda_name):
        return None
    return canonicalize_name(conda_name)


def channel_name(channel: str) -> str:
    """`https://conda.anaconda.org/conda-forge/linux-64` -> `conda-forge`; `pkgs/main` -> `defaults`."""
    text = channel.strip().rstrip("/")
    text = _SUBDIR.sub("", text + "/").rstrip("/")
    for host in _KNOWN_HOSTS:
        if text.startswith(host):
            text = text[len(host) :]
            if host.endswith("/pkgs/"):
                return "defaults"
            break
    if text.startswith("pkgs/") or text == "defaults":
        return "defaults"
    return text


def parse_conda_meta_record(record: dict[str, Any], filename: str = "") -> SnapshotCondaPackage:
    """A conda-meta JSON record (conda, mamba, micromamba and pixi/rattler all write this shape)."""
    name, version, build = record.get("name"), record.get("version"), record.get("build")
    if not (isinstance(name, str) and isinstance(version, str) and isinstance(build, str)) and filename:
        parts = filename.removesuffix(".json").rsplit("-", 2)
        if len(parts) == 3:
            name, version, build = parts
    if not (isinstance(name, str) and isinstance(version, str) and isinstance(build, str)):
        raise ValueError(f"{filename or 'record'}: no name/version/build")
    channel: str | Unknown = Unknown("no channel in the record")
    raw = record.get("channel") or record.get("schannel")
    if isinstance(raw, dict):  # some writers store the channel as an object
        raw = raw.get("canonical_name") or raw.get("name") or raw.get("base_url")
    if isinstance(raw, str) and raw:
        channel = channel_name(raw)
    elif isinstance(record.get("url"), str) and record["url"]:
        channel = channel_name(record["url"].rsplit("/", 1)[0])
    subdir = record.get("subdir") if isinstance(record.get("subdir"), str) else None
    return SnapshotCondaPackage(name=name, version=version, build=build, channel=channel, subdir=subdir)


def parse_conda_history(text: str) -> tuple[str, ...]:
    """What the user asked conda for, oldest first, with later requests and removals applied.

    Reads `# update specs: ['numpy', 'pytorch=2.1']` (conda >= 4.4), `# remove specs: [...]`, the old
    `# install specs: a, b >=1,<2` form, and micromamba's equivalents.
    """
    specs: dict[str, str] = {}
    for line in text.splitlines():
        match = re.match(r"^#\s*(update|install|create|remove|uninstall|neutered) specs:\s*(.*)$", line.strip())
        if not match:
            continue
        action, rest = match.groups()
        items = _spec_list(rest)
        for spec in items:
            name = spec_name(spec)
            if not name:
                continue
            if action in ("remove", "uninstall"):
                specs.pop(name, None)
            elif action != "neutered":
                specs.pop(name, None)  # re-insert: a later request moves it to the end
                specs[name] = spec
    return tuple(specs.values())


def _spec_list(text: str) -> list[str]:
    text = text.strip()
    if text.startswith("["):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return []
        return [str(v) for v in value] if isinstance(value, (list, tuple)) else []
    # conda < 4.4: "a, b >=1,<2": a comma followed by a letter starts a new spec
    return [s.strip() for s in re.split(r",(?=\s*[A-Za-z_])", text) if s.strip()]


def spec_name(spec: str) -> str:
    """`conda-forge::pytorch[version='>=2']` -> `pytorch`; `numpy >=1.24` -> `numpy`."""
    text = spec.strip().split("::")[-1]
    match = re.match(r"^([A-Za-z0-9_.\-]+)", text)
    return match.group(1).lower() if match else ""


# --- environment.yml ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EnvironmentYml:
    name: str | None
    channels: tuple[str, ...]
    conda: tuple[str, ...]  # conda specs: "pytorch=2.0.1=py3.10_cuda11.7_cudnn8.5.0_0", "python=3.10"
    pip: tuple[str, ...]  # pip requirement lines, options ("--extra-index-url ...") included


def parse_environment_yml(data: Any) -> EnvironmentYml:
    """The YAML already loaded (by the caller's YAML parser) into plain data."""
    if not isinstance(data, dict) or not isinstance(data.get("dependencies", []), list):
        raise ValueError("not an environment.yml: expected a mapping with a `dependencies` list")
    conda: list[str] = []
    pip: list[str] = []
    for item in data.get("dependencies") or ():
        if isinstance(item, dict) and isinstance(item.get("pip"), list):
            pip += [str(p) for p in item["pip"]]
        elif isinstance(item, (str, int, float)):
            conda.append(str(item))
    name = data.get("name")
    return EnvironmentYml(
        name=str(name) if name is not None else None,
        channels=tuple(str(c) for c in data.get("channels") or ()),
        conda=tuple(conda),
        pip=tuple(pip),
    )


def conda_spec_parts(spec: str) -> tuple[str, str | None, str | None]:
    """`pytorch=2.0.1=py3.10_cuda11.7_0` -> (pytorch, 2.0.1, py3.10_cuda11.7_0); `pip` -> (pip, None, None)."""
    text = spec.strip().split("::")[-1]
    if re.search(r"[<>!~\s\[]", text) or "==" in text:
        return spec_name(text), None, None
    parts = text.split("=")
    return parts[0].lower(), (parts[1] if len(parts) > 1 else None), (parts[2] if len(parts) > 2 else None)
