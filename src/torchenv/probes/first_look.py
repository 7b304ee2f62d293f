"""The doctor's first look: what files say about the stack before any process answers.

Standard library only and no torchenv import beyond this package's light modules, because it runs in
the command line's first milliseconds (cli/doctor_early.py), while the torch probe is importing torch:
torch's version file (`torch/version.py`, found without importing torch), the driver's version file
(/sys/module/nvidia/version, else /proc/driver/nvidia/version), the NVIDIA device nodes and the PCI
bus. What it returns is provisional by construction; `checks/provisional.py` turns it into the first
verdict and the full report replaces it.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

NVIDIA_VENDOR = "0x10de"
VERSION_FIELD = re.compile(r"^(__version__|cuda|hip)\s*(?::[^=]*)?=\s*(?:'([^']*)'|\"([^\"]*)\"|None)", re.M)
MODULE_VERSION = re.compile(r"(\d+\.\d+(?:\.\d+)?)")
PROC_VERSION = re.compile(r"Kernel Module(?: for [^ ]+)?\s+(\d+\.\d+(?:\.\d+)?)")


@dataclass(frozen=True, slots=True)
class FirstLook:
    python: str
    torch_version: str | None  # None: no torch/version.py found (see torch_where)
    torch_cuda: str | None
    torch_hip: str | None
    torch_where: str  # the version file read, or why none was
    driver_version: str | None
    driver_source: str | None
    pci_gpus: int | None  # None: /sys/bus/pci/devices not readable
    dev_nodes: tuple[str, ...]
    seconds: float


def is_nvidia_gpu(vendor: str, klass: str) -> bool:
    """0x03xxxx: display controllers (VGA 0x0300, 3D 0x0302); NVIDIA compute GPUs are 3D controllers."""
    return vendor.strip().lower() == NVIDIA_VENDOR and klass.strip().lower().startswith("0x03")


def nvidia_dev_nodes(root: Path) -> tuple[str, ...]:
    try:
        names = sorted(n for n in os.listdir(root / "dev") if n.startswith("nvidia") or n == "dxg")
    except OSError:
        return ()
    return tuple("/dev/" + n for n in names)


def _read(path: Path, limit: int = 65536) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(limit).decode("utf-8", "replace")
    except OSError:
        return None


def count_pci_gpus(root: Path) -> int | None:
    devices = root / "sys/bus/pci/devices"
    try:
        names = os.listdir(devices)
    except OSError:
        return None
    return sum(
        1 for name in names if is_nvidia_gpu(_read(devices / name / "vendor", 64) or "", _read(devices / name / "class", 64) or "")
    )


def torch_version_file(python: str) -> Path | str:
    """torch/version.py of the interpreter `python`, found without running it: this interpreter's
    import path when it is the one diagnosed, else the site-packages beside the executable (a venv's or
    a conda env's layout). A string says why none was found."""
    if os.path.realpath(python) == os.path.realpath(sys.executable) and os.path.abspath(python) == os.path.abspath(
        sys.executable
    ):
        try:
            spec = importlib.util.find_spec("torch")
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            return "torch is not on this interpreter's import path"
        return Path(next(iter(spec.submodule_search_locations))) / "version.py"
    prefix = os.path.dirname(os.path.dirname(os.path.abspath(python)))
    found = sorted(glob.glob(os.path.join(prefix, "lib", "python*", "site-packages", "torch", "version.py")))
    return Path(found[-1]) if found else f"no torch/version.py under {prefix}/lib/python*/site-packages"


def read_first_look(python: str, root: Path = Path("/")) -> FirstLook:
    began = time.perf_counter()
    where = torch_version_file(python)
    fields: dict[str, str | None] = {}
    if isinstance(where, Path):
        text = _read(where)
        if text is None:
            where = f"{where} is not readable"
        else:
            for match in VERSION_FIELD.finditer(text):
                fields[match.group(1)] = match.group(2) if match.group(2) is not None else match.group(3)
    driver, source = None, None
    module = _read(root / "sys/module/nvidia/version", 256)
    if module and MODULE_VERSION.search(module):
        driver, source = MODULE_VERSION.search(module).group(1), "/sys/module/nvidia/version"
    else:
        proc = _read(root / "proc/driver/nvidia/version", 4096)
        found = PROC_VERSION.search(proc or "")
        if found:
            driver, source = found.group(1), "/proc/driver/nvidia/version"
    return FirstLook(
        python=python,
        torch_version=fields.get("__version__"),
        torch_cuda=fields.get("cuda"),
        torch_hip=fields.get("hip"),
        torch_where=str(where),
        driver_version=driver,
        driver_source=source,
        pci_gpus=count_pci_gpus(root),
        dev_nodes=nvidia_dev_nodes(root),
        seconds=round(time.perf_counter() - began, 4),
    )
