"""Reads of the host outside Python: /sys, /proc, /dev, /etc, the environment, the loader path.

Every function takes the filesystem `root` and the `environ` it should read, so tests point
them at a fake tree (a garbage /proc/driver/nvidia/version, a container without /dev/nvidia*).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from ..model import CudaToolkit, HostFacts, PciDevice, ShellTools, SystemLibrary, Unknown
from ..reports.ldconfig import WATCHED, library_stem, parse_ldconfig, version_from_file_name
from .runner import Runner

NVIDIA_VENDOR = "0x10de"

# Variables that change whether and how PyTorch sees and uses the GPU.
RELEVANT_VARIABLE = re.compile(
    r"^(CUDA_\w+|NVIDIA_\w+|NCCL_\w+|TORCH_\w+|PYTORCH_\w+|CUDNN_\w+|CUBLAS_\w+|TRITON_\w+|NV_\w+"
    r"|TORCHDYNAMO_\w+|TORCHINDUCTOR_\w+"
    r"|LD_LIBRARY_PATH|LD_PRELOAD|PATH|PYTHONPATH|PYTHONNOUSERSITE|PYTHONHOME|VIRTUAL_ENV|CONDA_PREFIX"
    r"|PYTHONDONTWRITEBYTECODE|PYTHONPYCACHEPREFIX"
    r"|CONDA_DEFAULT_ENV|OMP_NUM_THREADS|MKL_NUM_THREADS|HIP_VISIBLE_DEVICES|ROCR_VISIBLE_DEVICES"
    r"|JPY_PARENT_PID|WSL_DISTRO_NAME)$"
)


def read_text(root: Path, path: str, limit: int = 1 << 20) -> str | None:
    try:
        with open(root / path.lstrip("/"), "rb") as handle:
            return handle.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return None


def read_environment(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in sorted(environ.items()) if RELEVANT_VARIABLE.match(k)}


def read_host(root: Path, environ: Mapping[str, str]) -> HostFacts:
    system = platform.system().lower()
    os_name = {"darwin": "macos"}.get(system, system)
    kernel = read_text(root, "/proc/sys/kernel/osrelease")
    release = read_text(root, "/etc/os-release") or ""
    pretty = re.search(r'^PRETTY_NAME="?([^"\n]*)"?', release, re.M)
    glibc = ""
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError, AttributeError):
        pass
    return HostFacts(
        os=os_name,
        arch=platform.machine(),
        os_release=pretty.group(1) if pretty else Unknown("no /etc/os-release"),
        kernel=kernel.strip() if kernel else Unknown("no /proc/sys/kernel/osrelease"),
        glibc=glibc.replace("glibc ", "") if glibc else Unknown("not glibc"),
        container=read_container(root, environ),
        wsl=read_wsl(root, kernel),
        shm_bytes=read_shm_bytes(root),
        cpu_count=os.cpu_count() or Unknown("os.cpu_count() gave nothing"),
        pci_gpus=read_pci_gpus(root),
        dev_nodes=read_dev_nodes(root),
        source="/proc, /sys, /dev, /etc",
    )


def read_container(root: Path, environ: Mapping[str, str]) -> str | None:
    if (root / ".dockerenv").exists():
        return "docker"
    if (root / "run/.containerenv").exists():
        return "podman"
    if environ.get("KUBERNETES_SERVICE_HOST"):
        return "kubernetes"
    cgroup = read_text(root, "/proc/1/cgroup") or ""
    if re.search(r"docker|kubepods|containerd|libpod|lxc", cgroup):
        return "container"
    if environ.get("container"):
        return environ["container"]
    return None


def read_wsl(root: Path, kernel: str | None) -> bool | Unknown:
    if kernel is None:
        return Unknown("no /proc/sys/kernel/osrelease")
    return bool(re.search(r"microsoft|wsl", kernel, re.I)) or (root / "dev/dxg").exists()


def read_shm_bytes(root: Path) -> int | Unknown:
    try:
        stat = os.statvfs(root / "dev/shm")
    except OSError:
        return Unknown("/dev/shm is missing")
    return stat.f_blocks * stat.f_frsize


def read_pci_gpus(root: Path) -> tuple[PciDevice, ...] | Unknown:
    devices = root / "sys/bus/pci/devices"
    if not devices.is_dir():
        return Unknown("/sys/bus/pci/devices is not readable (a container or a VM without PCI?)")
    found = []
    for device in sorted(devices.iterdir()):
        vendor = read_text(root, f"/sys/bus/pci/devices/{device.name}/vendor") or ""
        klass = read_text(root, f"/sys/bus/pci/devices/{device.name}/class") or ""
        # 0x03xxxx: display controllers (VGA 0x0300, 3D 0x0302) - NVIDIA compute GPUs are 3D controllers.
        if vendor.strip().lower() != NVIDIA_VENDOR or not klass.strip().lower().startswith("0x03"):
            continue
        device_id = (read_text(root, f"/sys/bus/pci/devices/{device.name}/device") or "").strip()
        driver_link = device / "driver"
        driver = os.path.basename(os.readlink(driver_link)) if driver_link.is_symlink() else None
        found.append(PciDevice(address=device.name, device_id=device_id, driver=driver))
    return tuple(found)


def read_dev_nodes(root: Path) -> tuple[str, ...]:
    dev = root / "dev"
    try:
        names = sorted(p.name for p in dev.iterdir() if p.name.startswith("nvidia") or p.name == "dxg")
    except OSError:
        return ()
    return tuple("/dev/" + n for n in names)


def read_system_libraries(
    root: Path, environ: Mapping[str, str], runner: Runner, timeout: float = 5.0
) -> tuple[SystemLibrary, ...] | Unknown:
    """CUDA-family libraries on LD_LIBRARY_PATH (searched first by the loader) and in ldconfig's cache."""
    found: list[SystemLibrary] = []
    seen: set[str] = set()
    for directory in filter(None, environ.get("LD_LIBRARY_PATH", "").split(":")):
        try:
            entries = sorted(os.listdir(root / directory.lstrip("/")))
        except OSError:
            continue
        for name in entries:
            stem = library_stem(name)
            path = os.path.join(directory, name)
            if stem and path not in seen:
                seen.add(path)
                found.append(_system_library(root, stem, path, "LD_LIBRARY_PATH"))
    ldconfig = _ldconfig_binary(root, environ)
    if ldconfig is None:
        return tuple(found) if found else Unknown("ldconfig not found")
    result = runner.run([ldconfig, "-p"], timeout, env=dict(environ))
    if not result.ok:
        return tuple(found) if found else Unknown(result.describe_failure())
    for stem, path in parse_ldconfig(result.stdout):
        if path not in seen:
            seen.add(path)
            found.append(_system_library(root, stem, path, "ldconfig"))
    return tuple(found)


def _system_library(root: Path, stem: str, path: str, via: str) -> SystemLibrary:
    real = os.path.realpath(root / path.lstrip("/"))
    version = version_from_file_name(real) or version_from_file_name(path)
    # `libcudnn.so.9` alone says only the major version; keep it, marked as such.
    return SystemLibrary(
        name=stem,
        version=version if version else Unknown("no version in the file name"),
        path=path,
        via=via,
    )


def _ldconfig_binary(root: Path, environ: Mapping[str, str]) -> str | None:
    if root != Path("/"):
        return None  # an injected root has no loader cache of its own
    search = environ.get("PATH", "") + ":/sbin:/usr/sbin"
    return shutil.which("ldconfig", path=search)


def read_cuda_toolkits(root: Path, environ: Mapping[str, str]) -> tuple[CudaToolkit, ...]:
    candidates: list[str] = []
    for key in ("CUDA_HOME", "CUDA_PATH"):
        if environ.get(key):
            candidates.append(environ[key])
    for base in ("usr/local", "opt"):
        try:
            candidates += sorted(
                "/" + base + "/" + p.name for p in (root / base).iterdir() if p.name.startswith("cuda")
            )
        except OSError:
            pass
    toolkits = []
    seen: set[str] = set()
    for path in candidates:
        real = os.path.realpath(root / path.lstrip("/"))
        if real in seen or not os.path.isdir(real):
            continue
        seen.add(real)
        version = _toolkit_version(root, path)
        if version is not None:
            toolkits.append(version)
    return tuple(toolkits)


def _toolkit_version(root: Path, path: str) -> CudaToolkit | None:
    raw = read_text(root, path + "/version.json")
    if raw:
        try:
            return CudaToolkit(path, str(json.loads(raw)["cuda"]["version"]), "version.json")
        except (ValueError, KeyError, TypeError):
            return CudaToolkit(path, Unknown("unreadable version.json"), "version.json")
    raw = read_text(root, path + "/version.txt")
    if raw:
        match = re.search(r"CUDA Version (\d+\.\d+(?:\.\d+)?)", raw)
        return CudaToolkit(path, match.group(1) if match else Unknown("unreadable version.txt"), "version.txt")
    if (root / path.lstrip("/") / "bin" / "nvcc").exists():
        return CudaToolkit(path, Unknown("no version file; run nvcc --version"), "bin/nvcc")
    return None


def read_shell_tools(root: Path, environ: Mapping[str, str]) -> ShellTools:
    search = environ.get("PATH", "")
    python = shutil.which("python", path=search) or shutil.which("python3", path=search)
    pip = shutil.which("pip", path=search) or shutil.which("pip3", path=search)
    interpreter: str | Unknown = Unknown("no pip on PATH")
    if pip:
        # `which` searched the live PATH, so the path it returned is read as is, not under `root`.
        head = read_text(Path("/"), pip, 1024) or ""
        # Long paths make pip write a `#!/bin/sh` trampoline whose second line execs the interpreter.
        trampoline = re.search(r"^'''exec' \"?([^\"\s]+)", head, re.M)
        shebang = re.match(r"#!\s*(\S+)(?:[ \t]+(\S+))?", head)
        program = shebang and (shebang.group(2) if shebang.group(1).endswith("/env") else shebang.group(1))
        if trampoline:
            interpreter = trampoline.group(1)
        elif program and "python" in os.path.basename(program):
            interpreter = program
        else:
            interpreter = Unknown(f"{pip} names no interpreter")
    return ShellTools(python_on_path=python, pip_on_path=pip, pip_interpreter=interpreter)


__all__ = [
    "WATCHED",
    "read_cuda_toolkits",
    "read_environment",
    "read_host",
    "read_shell_tools",
    "read_system_libraries",
]
