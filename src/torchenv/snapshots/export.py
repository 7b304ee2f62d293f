"""Pure: a snapshot -> the files that rebuild its environment elsewhere.

`requirements` (pip), `environment.yml` (conda), `pixi.toml` and a `dockerfile`. Each comes in the
full pinned form (every distribution, exact versions and conda builds) and, with `minimal`, the
"from history" form: what the user asked for. For pip that is every distribution no other
installed distribution requires (from the Requires-Dist lines in their METADATA, markers evaluated
for the snapshot's platform); for conda it is the `# update specs:` lines of conda-meta/history.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..formats import (
    DOCKER_PLATFORMS,
    conda_platform,
    container_run_lines,
    docker_base_image,
    driver_line,
    environment_yml,
    nvidia_settings,
    pixi_spec,
    pixi_toml,
    requirements_txt,
    toml_string,
    toml_value,
    uv_python_lines,
    yaml_string,
)
from ..model import known
from ..model.errors import InputError
from ..model.snapshot import Snapshot, SnapshotPackage
from ..reports.conda_meta import conda_spec_parts, spec_name
from .build import LOCAL_TAG, PYTORCH_INDEX, describe, installed_by

EXPORT_FORMATS = ("requirements", "environment.yml", "pixi.toml", "dockerfile")
TOOLING = frozenset({"pip", "setuptools", "wheel", "distribute"})


class ExportError(InputError, ValueError):
    """The snapshot lacks what this export needs (one line)."""


@dataclass(frozen=True, slots=True)
class PipLine:
    requirement: str  # "torch==2.13.0+cpu", "pkg @ git+https://…@abc", "-e /home/me/project"
    index: str | None  # an extra index this line needs
    note: str | None = None  # a comment to keep next to it
    package: SnapshotPackage | None = None
    local: str | None = None  # the local path it installs from (an editable checkout, a wheel, a folder)
    editable: bool = False


# --- choosing what to list ----------------------------------------------------------------------------


def pip_packages(snapshot: Snapshot) -> list[SnapshotPackage]:
    """The distributions pip/uv installed (conda's are exported as conda packages)."""
    if not known(snapshot.packages):
        raise ExportError(f"the snapshot has no package list ({snapshot.packages.reason})")
    return [p for p in snapshot.packages if installed_by(snapshot, p) != "conda" and p.name not in TOOLING]


def marker_environment(snapshot: Snapshot) -> dict[str, str]:
    python = snapshot.python.version if known(snapshot.python) else "3"
    os_name = snapshot.host.os
    return {
        "python_version": ".".join(python.split(".")[:2]),
        "python_full_version": python,
        "implementation_name": snapshot.python.implementation if known(snapshot.python) else "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": {"linux": "linux", "windows": "win32", "macos": "darwin"}.get(os_name, os_name),
        "platform_system": {"linux": "Linux", "windows": "Windows", "macos": "Darwin"}.get(os_name, os_name),
        "platform_machine": snapshot.host.arch,
        "os_name": "nt" if os_name == "windows" else "posix",
        "extra": "",
    }


def required_names(snapshot: Snapshot) -> set[str]:
    """Every distribution some installed distribution requires (extras-only requirements excluded)."""
    environment = marker_environment(snapshot)
    required: set[str] = set()
    for package in snapshot.packages if known(snapshot.packages) else ():
        if not known(package.requires):
            continue
        for line in package.requires:
            try:
                requirement = Requirement(line)
                if requirement.marker is not None and not requirement.marker.evaluate(environment):
                    continue
            except (InvalidRequirement, InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
                continue
            required.add(canonicalize_name(requirement.name))
    return required


def requested_pip_packages(snapshot: Snapshot) -> list[SnapshotPackage]:
    """The pip side of "from history": distributions that nothing else installed requires."""
    packages = pip_packages(snapshot)
    if not any(known(p.requires) for p in snapshot.packages):
        raise ExportError(
            "the snapshot has no Requires-Dist data (taken from an older probe); export without --minimal"
        )
    required = required_names(snapshot)
    return [p for p in packages if p.name not in required]


def file_url_path(url: str) -> str | None:
    """file:///home/me/pkg -> /home/me/pkg (percent-decoded); None for any other URL."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    return unquote(parts.path) or None


def pip_line(package: SnapshotPackage, torch_index: str | None) -> PipLine:
    """One distribution as what it is: an index pin, a PEP 610 direct URL (VCS commit, archive,
    local wheel or folder as `name @ file:///…`) or an editable checkout as `-e PATH`; never an index
    pin for something that did not come from an index (that would install someone else's package)."""
    source = package.source or ""
    pin = f"{package.name}=={package.version}"
    if source.startswith("editable:"):
        url = source[len("editable:") :]
        path = file_url_path(url)
        if path is None:  # an editable VCS checkout or another URL: pip takes it as given
            return PipLine(f"-e {url}", None, f"editable install of {package.name} {package.version}", package)
        return PipLine(
            f"-e {path}",
            None,
            f"editable install of {package.name} {package.version}",
            package,
            local=path,
            editable=True,
        )
    if re.match(r"^(git|hg|svn|bzr)\+", source):
        vcs, _, rest = source.partition("+")
        url, _, commit = rest.rpartition("@")
        return PipLine(
            f"{package.name} @ {vcs}+{url}@{commit}" if url else f"{package.name} @ {source}", None, None, package
        )
    if source.startswith(("http://", "https://")) and not source.startswith(PYTORCH_INDEX):
        return PipLine(f"{package.name} @ {source}", None, None, package)
    if source.startswith("file://"):
        return PipLine(
            f"{package.name} @ {source}",
            None,
            f"{package.version}, installed from a local file",
            package,
            local=file_url_path(source) or source,
        )
    tag = LOCAL_TAG.search(package.version)
    if tag and source.startswith(PYTORCH_INDEX):
        index = (torch_index.rstrip("/") + "/" + tag.group(1)) if torch_index else None
        return PipLine(pin, index, None, package)
    return PipLine(pin, None, None, package)


def pip_lines(snapshot: Snapshot, *, minimal: bool, torch_index: str | None) -> list[PipLine]:
    packages = requested_pip_packages(snapshot) if minimal else pip_packages(snapshot)
    return [pip_line(p, torch_index) for p in sorted(packages, key=lambda p: p.name)]


def _requirement_lines(lines: list[PipLine], *, local_paths: bool) -> list[str]:
    """requirements.txt lines; without `local_paths` (an image that has none of this machine's files)
    the local ones are left out with a comment saying what to do."""
    out = []
    for line in lines:
        if line.local and not local_paths:
            how = "an editable install" if line.editable else "installed from a local file"
            package = line.package
            name = f"{package.name} {package.version}" if package else line.requirement
            out.append(f"# left out: {name} was {how} ({line.local}): COPY it into the image and pip install it")
            continue
        out.append(line.requirement + (f"  # {line.note}" if line.note else ""))
    return out


def _indexes(lines: list[PipLine]) -> list[str]:
    return sorted({line.index for line in lines if line.index})


def _header(snapshot: Snapshot, what: str, minimal: bool) -> list[str]:
    form = (
        "minimal form: what was asked for (pip: distributions nothing else requires; conda: conda-meta/history)"
        if minimal
        else "full pinned form: every distribution at its exact version"
    )
    version = f" {snapshot.torchenv_version}" if snapshot.torchenv_version else ""
    return [
        f"{what}, generated by torchenv{version} from a snapshot of",
        f"  {describe(snapshot)}",
        f"{form}.",
    ]


# --- requirements ------------------------------------------------------------------------------------


def export_requirements(
    snapshot: Snapshot, *, minimal: bool = False, torch_index: str | None = PYTORCH_INDEX, local_paths: bool = True
) -> str:
    lines = pip_lines(snapshot, minimal=minimal, torch_index=torch_index)
    python = snapshot.python.version if known(snapshot.python) else None
    header = _header(snapshot, "pip requirements", minimal)
    if python:
        header.append(f"Install with Python {'.'.join(python.split('.')[:2])}: python -m pip install -r requirements.txt")
    if known(snapshot.conda_packages) and snapshot.conda_packages:
        header.append("conda-installed packages are not listed here: export --format environment.yml for them.")
    header += _torch_note(snapshot, lines)
    if local_paths and any(line.local for line in lines):
        header.append("Local paths (-e PATH, name @ file:///…) install from this machine's files: they must exist.")
    options = [f"--extra-index-url {index}" for index in _indexes(lines)]
    return requirements_txt(header, options, _requirement_lines(lines, local_paths=local_paths))


def _torch_note(snapshot: Snapshot, lines: list[PipLine]) -> list[str]:
    """A torch pinned without a local tag comes from PyPI: say which build that was in the snapshot."""
    torch = snapshot.torch
    for line in lines:
        if (
            line.package
            and line.package.name == "torch"
            and not line.index
            and not LOCAL_TAG.search(line.package.version)
            and known(torch)
            and known(torch.variant)
            and torch.variant
        ):
            return [f"torch=={line.package.version} came from PyPI, whose wheel was the {torch.variant} build here."]
    return []


# --- environment.yml ---------------------------------------------------------------------------------


_yaml = yaml_string


def conda_channels(snapshot: Snapshot) -> list[str]:
    counts: dict[str, int] = {}
    if known(snapshot.conda_packages):
        for package in snapshot.conda_packages:
            if known(package.channel) and package.channel not in ("pypi", "<develop>"):
                counts[package.channel] = counts.get(package.channel, 0) + 1
    if not counts:
        return ["conda-forge"]
    # Specialised channels (pytorch, nvidia) before the general ones, as their docs ask.
    general = ("conda-forge", "defaults")
    return sorted(counts, key=lambda c: (c in general, -counts[c], c))


def conda_specs(snapshot: Snapshot, *, minimal: bool) -> list[str]:
    conda = list(snapshot.conda_packages) if known(snapshot.conda_packages) else []
    python = snapshot.python.version if known(snapshot.python) else None
    if minimal and conda and known(snapshot.conda_requested) and snapshot.conda_requested:
        specs = list(snapshot.conda_requested)
    elif conda:
        specs = [f"{p.name}={p.version}={p.build}" for p in sorted(conda, key=lambda p: p.name)]
    else:
        specs = []
    names = {spec_name(s) for s in specs}
    if "python" not in names and python:
        specs.insert(0, f"python={python}" if not minimal else f"python={'.'.join(python.split('.')[:2])}")
    return specs


def export_environment_yml(
    snapshot: Snapshot,
    *,
    minimal: bool = False,
    torch_index: str | None = PYTORCH_INDEX,
    name: str | None = None,
    local_paths: bool = True,
) -> str:
    lines = pip_lines(snapshot, minimal=minimal, torch_index=torch_index)
    header = _header(snapshot, "conda environment", minimal)
    if (
        minimal
        and known(snapshot.conda_packages)
        and snapshot.conda_packages
        and not (known(snapshot.conda_requested) and snapshot.conda_requested)
    ):
        header.append("conda-meta/history was missing or empty: the conda part is the full pinned list.")
    pip = ["--extra-index-url " + index for index in _indexes(lines)] if lines else []
    for line in lines:
        if line.local and not local_paths:
            pip += _requirement_lines([line], local_paths=False)  # a comment: left out
        else:
            pip.append(line.requirement)
    specs = conda_specs(snapshot, minimal=minimal)
    return environment_yml(header, name or _env_name(snapshot), conda_channels(snapshot), specs, pip)


def _env_name(snapshot: Snapshot) -> str:
    if known(snapshot.python):
        base = re.split(r"[\\/]", snapshot.python.prefix.rstrip("/\\"))[-1]
        if base and base not in (".venv", "venv", "env", "usr", "local"):
            return re.sub(r"[^A-Za-z0-9_.-]+", "-", base)
    return "torchenv-env"


# --- pixi.toml -----------------------------------------------------------------------------------------


def _pixi_version(spec: str) -> tuple[str, str]:
    """A conda spec from history -> (name, pixi version string)."""
    name, version, build = conda_spec_parts(spec)
    if version is None and build is None:
        text = spec.strip().split("::")[-1]
        rest = text[len(spec_name(text)) :].strip()
        match = re.search(r"version=['\"]([^'\"]+)['\"]", rest)
        if match:
            rest = match.group(1)
        return name, rest or "*"
    if version and not build:
        return name, version if version.endswith("*") else f"{version}.*"
    return name, f"=={version}"


def export_pixi_toml(
    snapshot: Snapshot, *, minimal: bool = False, torch_index: str | None = PYTORCH_INDEX, name: str | None = None
) -> str:
    lines = pip_lines(snapshot, minimal=minimal, torch_index=torch_index)
    platform = conda_platform(snapshot.host.os, snapshot.host.arch)
    if platform is None:
        raise ExportError(f"no pixi platform for {snapshot.host.os} {snapshot.host.arch}")
    conda = list(snapshot.conda_packages) if known(snapshot.conda_packages) else []
    dependencies: list[tuple[str, str]]
    if minimal and conda and known(snapshot.conda_requested) and snapshot.conda_requested:
        dependencies = [(n, toml_string(v)) for n, v in (_pixi_version(s) for s in snapshot.conda_requested)]
    elif conda:
        dependencies = [(p.name, pixi_spec("==" + p.version, p.build)) for p in sorted(conda, key=lambda p: p.name)]
    else:
        dependencies = []
    if "python" not in {n for n, _ in dependencies} and known(snapshot.python):
        version = snapshot.python.version
        pin = ("==" + version) if not minimal else ".".join(version.split(".")[:2]) + ".*"
        dependencies.insert(0, ("python", toml_string(pin)))
    pypi = [_pixi_pypi(line) for line in lines]
    return pixi_toml(
        _header(snapshot, "pixi workspace", minimal),
        name or _env_name(snapshot),
        conda_channels(snapshot),
        platform,
        _cuda_requirement(snapshot),
        dependencies,
        pypi,
    )


def _pixi_pypi(line: PipLine) -> tuple[str, str]:
    package = line.package
    assert package is not None
    key = package.name
    source = package.source or ""
    if line.local and line.editable:
        return key, toml_value({"path": line.local, "editable": True})
    if line.local and source.startswith("file://"):
        return key, toml_value({"path": line.local})
    if line.index:
        return key, toml_value({"version": "==" + package.version, "index": line.index})
    if re.match(r"^git\+", source):
        url, _, commit = source[len("git+") :].rpartition("@")
        return key, toml_value({"git": url, "rev": commit})
    if " @ " in line.requirement:
        return key, toml_value({"url": line.requirement.split(" @ ", 1)[1]})
    return key, toml_string("==" + package.version)


def _cuda_requirement(snapshot: Snapshot) -> str | None:
    torch = snapshot.torch
    if known(torch) and known(torch.cuda) and torch.cuda:
        return ".".join(torch.cuda.split(".")[:2])
    if known(snapshot.conda_packages):
        for package in snapshot.conda_packages:
            if package.name == "cuda-version":
                return package.version
    return None


# --- Dockerfile -----------------------------------------------------------------------------------------


def base_image(snapshot: Snapshot, knowledge=None) -> tuple[str, str]:
    """(image, why), from the one table of base images (formats.docker_base_image): miniforge for a
    conda env, NVIDIA's CUDA runtime image for a CUDA build (its release from the knowledge base's
    driver floors when given), the slim image of the snapshot's exact Python for a CPU build."""
    conda = known(snapshot.conda_packages) and bool(snapshot.conda_packages)
    if not conda and not known(snapshot.python):
        raise ExportError("the snapshot does not say which Python it used")
    python = snapshot.python.version if known(snapshot.python) else "3"
    cuda = _cuda_requirement(snapshot)
    return docker_base_image(python=python, cuda=cuda, cuda_full=_cuda_release(cuda, knowledge), conda=conda)


def _cuda_release(cuda: str | None, knowledge) -> str | None:
    floor = knowledge.cuda_driver_floor(f"{cuda}.99") if cuda and knowledge is not None else None
    return floor.cuda if floor is not None else None


def _min_driver(cuda: str | None, knowledge) -> str | None:
    floor = knowledge.cuda_driver_floor(cuda) if cuda and knowledge is not None else None
    return (floor.minor_compat or floor.full_support) if floor is not None else None


def export_dockerfile(
    snapshot: Snapshot, *, minimal: bool = False, torch_index: str | None = PYTORCH_INDEX, knowledge=None
) -> str:
    image, why = base_image(snapshot, knowledge)
    platform = DOCKER_PLATFORMS.get(snapshot.host.arch.lower())
    cuda = _cuda_requirement(snapshot)
    out = ["# syntax=docker/dockerfile:1"]
    out += [f"# {line}" for line in _header(snapshot, "Dockerfile", minimal)]
    out.append(f"# Base: {image}: {why}.")
    if cuda:
        driver = snapshot.driver.version if known(snapshot.driver.version) else "unknown"
        out.append(f"# Runs torch's CUDA {cuda}; the snapshot's host had driver {driver}. Run lines at the end.")
        out += driver_line(image, cuda, _min_driver(cuda, knowledge))
    out.append(f"FROM {'--platform=' + platform + ' ' if platform else ''}{image}")
    out += nvidia_settings(cuda)
    out.append("ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1")
    if image.startswith("condaforge/"):
        environment = export_environment_yml(
            snapshot, minimal=minimal, torch_index=torch_index, name="env", local_paths=False
        )
        out += ["COPY <<'EOF' /tmp/environment.yml", environment.rstrip("\n"), "EOF"]
        out += [
            "RUN conda env create -f /tmp/environment.yml && conda clean -afy",
            'ENV PATH="/opt/conda/envs/env/bin:${PATH}"',
        ]
    else:
        requirements = export_requirements(snapshot, minimal=minimal, torch_index=torch_index, local_paths=False)
        out += ["COPY <<'EOF' /tmp/requirements.txt", requirements.rstrip("\n"), "EOF"]
        if cuda:  # NVIDIA's image has no Python: uv brings exactly the snapshot's
            out += uv_python_lines(snapshot.python.version)
            out.append("RUN " + shlex.join(["uv", "pip", "install", "--python", "/opt/venv/bin/python", "-r", "/tmp/requirements.txt"]))
        else:
            out.append("RUN python -m pip install -r /tmp/requirements.txt")
    settings = {k: v for k, v in snapshot.environment.items() if k != "CUDA_VISIBLE_DEVICES"}
    if settings:
        out.append("# The snapshot's numerics/speed settings:")
        out.append("ENV " + " ".join(f"{k}={json.dumps(v)}" for k, v in sorted(settings.items())))
    if "CUDA_VISIBLE_DEVICES" in snapshot.environment:
        out.append(
            f"# The snapshot had CUDA_VISIBLE_DEVICES={snapshot.environment['CUDA_VISIBLE_DEVICES']} (host-specific: not set here)"
        )
    if known(snapshot.settings) and snapshot.settings:
        described = ", ".join(f"{k}={v}" for k, v in sorted(snapshot.settings.items()))
        out.append(f"# torch defaults in the snapshot (set in code, not by the image): {described}")
    out.append('CMD ["python", "-c", "import torch; print(torch.__version__, torch.cuda.is_available())"]')
    out += container_run_lines(_env_name(snapshot).lower(), gpus=bool(cuda))
    return "\n".join(out) + "\n"


def export_snapshot(
    snapshot: Snapshot,
    fmt: str,
    *,
    minimal: bool = False,
    torch_index: str | None = PYTORCH_INDEX,
    name: str | None = None,
    knowledge=None,
) -> str:
    """`knowledge`: the knowledge base (the Dockerfile's CUDA image release and driver floor)."""
    if fmt == "requirements":
        return export_requirements(snapshot, minimal=minimal, torch_index=torch_index)
    if fmt == "environment.yml":
        return export_environment_yml(snapshot, minimal=minimal, torch_index=torch_index, name=name)
    if fmt == "pixi.toml":
        return export_pixi_toml(snapshot, minimal=minimal, torch_index=torch_index, name=name)
    if fmt == "dockerfile":
        return export_dockerfile(snapshot, minimal=minimal, torch_index=torch_index, knowledge=knowledge)
    raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
