"""Pure: Facts (+ conda-meta records and history) -> Snapshot, and what a snapshot says about itself."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from packaging.utils import canonicalize_name

from ..model import Facts, TorchFacts, Unknown, known
from ..model.snapshot import (
    SNAPSHOT_KIND,
    SNAPSHOT_SCHEMA_VERSION,
    CondaMeta,
    Snapshot,
    SnapshotCondaPackage,
    SnapshotDriver,
    SnapshotGpu,
    SnapshotHost,
    SnapshotLibrary,
    SnapshotPackage,
    SnapshotPython,
    SnapshotTorch,
)
from ..reports.conda_meta import pypi_name

PYTORCH_INDEX = "https://download.pytorch.org/whl/"

# The environment variables a snapshot records: they decide which GPUs torch sees, its numerics
# and its speed. (Paths such as LD_LIBRARY_PATH are left out: the loaded libraries say what counts.)
SNAPSHOT_VARIABLE = re.compile(
    r"^(CUDA_VISIBLE_DEVICES|CUDA_DEVICE_ORDER|CUDA_LAUNCH_BLOCKING|CUDA_MODULE_LOADING"
    r"|PYTORCH_CUDA_ALLOC_CONF|PYTORCH_ALLOC_CONF|PYTORCH_NVML_BASED_CUDA_CHECK|PYTORCH_NO_CUDA_MEMORY_CACHING"
    r"|NCCL_\w+|TORCH_NCCL_\w+|OMP_NUM_THREADS|MKL_NUM_THREADS|CUBLAS_WORKSPACE_CONFIG|CUBLASLT_\w+"
    r"|NVIDIA_TF32_OVERRIDE|TORCH_ALLOW_TF32_CUBLAS_OVERRIDE|TORCH_CUDNN_\w+)$"
)
LOCAL_TAG = re.compile(r"\+(cu\d+|cpu|rocm[\d.]+|xpu)$")
TORCH_FAMILY = ("torch", "torchvision", "torchaudio")


def variant_of(torch: TorchFacts) -> str | Unknown | None:
    """`cu130`, `cpu`, `rocm6.2`, from the local tag, else from torch.version.cuda."""
    if not known(torch.version):
        return None if torch.status == "missing" else Unknown("torch did not import")
    if "+" in torch.version:
        return torch.version.split("+", 1)[1]
    if known(torch.hip) and torch.hip:
        return "rocm"
    if known(torch.cuda):
        if torch.cuda is None:
            return "cpu"
        numbers = re.findall(r"\d+", torch.cuda)[:2]
        return "cu" + "".join(numbers)
    return Unknown("no local tag and torch.version.cuda unknown")


def package_source(name: str, version: str, direct_url: str | None) -> str | None:
    if direct_url:
        return direct_url
    tag = LOCAL_TAG.search(version)
    if tag and name in (*TORCH_FAMILY, "triton", "pytorch-triton"):
        return PYTORCH_INDEX + tag.group(1)
    return None


def snapshot_from_facts(
    facts: Facts,
    *,
    conda: CondaMeta | None = None,
    created: datetime | None = None,
    torchenv_version: str = "",
) -> Snapshot:
    created = created or datetime.now(timezone.utc)
    host = facts.host
    python = facts.python
    return Snapshot(
        kind=SNAPSHOT_KIND,
        schema_version=SNAPSHOT_SCHEMA_VERSION,
        created=created.astimezone(timezone.utc).isoformat(timespec="seconds"),
        torchenv_version=torchenv_version,
        origin=facts.origin,
        host=SnapshotHost(
            os=host.os,
            arch=host.arch,
            os_release=host.os_release,
            kernel=host.kernel,
            glibc=host.glibc,
            wsl=host.wsl,
            cpu_count=host.cpu_count,
            container=host.container,
        ),
        driver=SnapshotDriver(
            version=facts.driver.version,
            cuda_driver_version=facts.driver.cuda_driver_version,
            kernel_module=facts.driver.kernel_module,
            source=facts.driver.source,
        ),
        gpus=_gpus(facts),
        python=SnapshotPython(
            version=python.version,
            implementation=python.implementation,
            executable=python.executable,
            prefix=python.prefix,
            is_venv=python.is_venv,
            is_conda=python.conda_prefix is not None,
        )
        if known(python)
        else python,
        packages=_packages(facts),
        conda_packages=conda.packages if conda else _conda_from_facts(facts),
        conda_requested=conda.requested if conda else Unknown("not a conda environment"),
        torch=_torch(facts.torch),
        settings=_settings(facts.torch),
        environment={k: v for k, v in sorted(facts.environment.items()) if SNAPSHOT_VARIABLE.match(k)},
        probe_seconds=dict(facts.probe_seconds),
    )


def _gpus(facts: Facts) -> tuple[SnapshotGpu, ...] | Unknown:
    if known(facts.gpus.gpus):
        return tuple(SnapshotGpu(g.index, g.name, g.cc, g.memory_total_mib) for g in facts.gpus.gpus)
    if known(facts.torch) and facts.torch.devices:
        return tuple(SnapshotGpu(d.index, d.name, d.cc, d.total_memory_mib) for d in facts.torch.devices)
    no_device_nodes = not any(n.startswith(("/dev/nvidia", "/dev/dxg")) for n in facts.host.dev_nodes)
    if facts.origin == "this machine" and known(facts.host.pci_gpus) and not facts.host.pci_gpus and no_device_nodes:
        return ()  # nothing on the PCI bus, no device nodes: known to have no NVIDIA GPU
    return facts.gpus.gpus


def _packages(facts: Facts) -> tuple[SnapshotPackage, ...] | Unknown:
    if not known(facts.python):
        return Unknown(f"the interpreter was not probed: {facts.python.reason}")
    if not known(facts.python.distributions):
        return facts.python.distributions
    packages = []
    seen: set[tuple[str, str]] = set()
    for dist in facts.python.distributions:
        name = canonicalize_name(dist.name)
        key = (name, dist.version)
        if key in seen:  # the same dist-info reached through two sys.path entries
            continue
        seen.add(key)
        packages.append(
            SnapshotPackage(
                name=name,
                version=dist.version,
                installer=dist.installer,
                requires=dist.requires,
                source=package_source(name, dist.version, dist.direct_url),
            )
        )
    return tuple(sorted(packages, key=lambda p: (p.name, p.version)))


def _conda_from_facts(facts: Facts) -> tuple[SnapshotCondaPackage, ...] | Unknown:
    """Without conda-meta read in full (a doctor report), the probe's file-name records still tell a lot."""
    if not known(facts.python) or not known(facts.python.conda_packages):
        return Unknown("not a conda environment")
    return tuple(SnapshotCondaPackage(p.name, p.version, p.build, p.channel) for p in facts.python.conda_packages)


def _torch(torch: TorchFacts | Unknown) -> SnapshotTorch | Unknown:
    if not known(torch):
        return torch
    libraries: tuple[SnapshotLibrary, ...] | Unknown
    if known(torch.loaded_libraries):
        unique = {(lib.name, lib.owner, str(lib.version)): lib for lib in torch.loaded_libraries}
        libraries = tuple(SnapshotLibrary(lib.name, lib.owner, lib.version) for _, lib in sorted(unique.items()))
    else:
        libraries = torch.loaded_libraries
    return SnapshotTorch(
        status=torch.status,
        version=torch.version,
        variant=variant_of(torch),
        git_version=torch.git_version,
        debug=torch.debug,
        cuda_available=torch.cuda_available,
        device_count=torch.device_count,
        arch_list=torch.arch_list,
        loaded_libraries=libraries,
        cuda=torch.cuda,
        hip=torch.hip,
        cudnn_version=torch.cudnn_version,
        nccl_version=torch.nccl_version,
        error=torch.error,
    )


def _settings(torch: TorchFacts | Unknown) -> dict[str, str | bool | int] | Unknown:
    if not known(torch):
        return Unknown(f"torch was not probed: {torch.reason}")
    settings = getattr(torch, "settings", Unknown("not probed"))
    if not known(settings):
        return Unknown("torch did not import" if not known(torch.version) else settings.reason)
    return {k: v for k, v in sorted(settings.items()) if v is not None}


# --- what a snapshot says about itself -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DoubleInstall:
    name: str  # the Python distribution, e.g. "torch"
    how: str  # one line: "conda pytorch 2.0.1 (pytorch) and pip torch 2.0.1"


def conda_owned(snapshot: Snapshot) -> dict[str, SnapshotCondaPackage]:
    """Python distribution name -> the conda package that installed it."""
    if not known(snapshot.conda_packages):
        return {}
    owned = {}
    for package in snapshot.conda_packages:
        name = pypi_name(package.name)
        if name and name not in owned:
            owned[name] = package
    return owned


def installed_by(snapshot: Snapshot, package: SnapshotPackage) -> str:
    """`conda` or the pip-side installer (`pip`, `uv`, ...); `unknown` when nothing says."""
    installer = package.installer.strip().lower() if known(package.installer) else ""
    if installer in ("conda", "mamba", "micromamba", "pixi", "rattler"):
        return "conda"
    if installer:
        return installer
    return "conda" if package.name in conda_owned(snapshot) else "unknown"


def double_installs(snapshot: Snapshot) -> list[DoubleInstall]:
    """Distributions installed twice: by conda and by pip/uv, or as two dist-infos side by side."""
    if not known(snapshot.packages):
        return []
    found = []
    owned = conda_owned(snapshot)
    by_name: dict[str, list[SnapshotPackage]] = {}
    for package in snapshot.packages:
        by_name.setdefault(package.name, []).append(package)
    for name, packages in sorted(by_name.items()):
        pip_side = [p for p in packages if installed_by(snapshot, p) not in ("conda", "unknown")]
        conda_package = owned.get(name)
        if conda_package and pip_side:
            channel = conda_package.channel if known(conda_package.channel) else "unknown channel"
            others = ", ".join(f"{installed_by(snapshot, p)} {p.name} {p.version}" for p in pip_side)
            found.append(
                DoubleInstall(name, f"conda {conda_package.name} {conda_package.version} ({channel}) and {others}")
            )
        elif len(packages) > 1:
            found.append(
                DoubleInstall(name, " and ".join(f"{installed_by(snapshot, p)} {p.name} {p.version}" for p in packages))
            )
    return found


def describe(snapshot: Snapshot) -> str:
    """One line naming a snapshot: `torch 2.13.0+cpu, Python 3.11.7, no GPU, linux x86_64 (2026-11-22T…)`."""
    parts = []
    torch = snapshot.torch
    if known(torch):
        parts.append(f"torch {torch.version}" if known(torch.version) else f"torch {torch.status}")
    if known(snapshot.python):
        parts.append(f"Python {snapshot.python.version}")
    if known(snapshot.gpus) and snapshot.gpus:
        names = sorted({g.name for g in snapshot.gpus})
        parts.append(f"{len(snapshot.gpus)}× {', '.join(names)}")
    else:
        parts.append("no GPU")
    if known(snapshot.driver.version):
        parts.append(f"driver {snapshot.driver.version}")
    parts.append(f"{snapshot.host.os} {snapshot.host.arch}")
    return ", ".join(parts) + f" ({snapshot.created})"
