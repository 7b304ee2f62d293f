"""Driver version and GPU inventory.

Driver version sources, in order (the first that answers wins, and is recorded):
/sys/module/nvidia/version -> /proc/driver/nvidia/version -> NVML -> nvidia-smi.
GPUs come from NVML (in a child process, see _scripts/nvml_probe.py), else from nvidia-smi.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..model import DriverFacts, GpuFacts, GpuInventory, Unknown
from ..reports.nvidia_smi import QUERY_FIELDS, parse_query_gpu_csv
from ..reports.proc_driver import parse_module_version, parse_proc_driver_version
from .runner import Runner
from .system import read_text

NVML_SCRIPT = Path(__file__).parent / "_scripts" / "nvml_probe.py"

# The kernel interfaces NVML talks through: the nvidia module (its sysfs and procfs entries, its
# device nodes) or, on WSL, /dev/dxg. With none of them NVML can only fail.
KERNEL_INTERFACES = ("sys/module/nvidia", "proc/driver/nvidia", "dev/nvidiactl", "dev/nvidia0", "dev/dxg")
NO_KERNEL_INTERFACE = (
    "not asked: no NVIDIA kernel interface (/sys/module/nvidia, /proc/driver/nvidia, /dev/nvidiactl, /dev/dxg)"
)


def nvidia_interface_present(root: Path) -> bool:
    """Whether NVML has anything to talk to (a precondition read from files, not a verdict)."""
    if any(os.path.exists(root / path) for path in KERNEL_INTERFACES):
        return True
    try:
        return any(n.startswith("nvidia") and n[6:].isdigit() for n in os.listdir(root / "dev"))
    except OSError:
        return False


@dataclass(frozen=True, slots=True)
class NvmlAnswer:
    driver: str | None
    cuda_driver: str | None
    gpus: list[dict] | None
    error: str | None
    hung: bool = False


def _nvml_binding_dir() -> str | None:
    """Where pynvml (nvidia-ml-py) lives, found without importing it."""
    try:
        spec = importlib.util.find_spec("pynvml")
    except (ImportError, ValueError):
        return None
    return os.path.dirname(spec.origin) if spec and spec.origin else None


def read_nvml(
    runner: Runner, timeout: float, python: str = sys.executable, env: Mapping[str, str] | None = None
) -> NvmlAnswer:
    # -S -E: skip site and .pth processing (most of a venv interpreter's start-up) and pass pynvml's
    # folder explicitly; the child process keeps a wedged or crashing NVML away from us.
    argv = [python, "-S", "-E", str(NVML_SCRIPT)]
    binding = _nvml_binding_dir()
    if binding:
        argv.append(binding)
    result = runner.run(argv, timeout, env=env)
    if not result.ok:
        return NvmlAnswer(None, None, None, f"NVML probe failed: {result.describe_failure()}", result.timed_out)
    try:
        data = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return NvmlAnswer(None, None, None, "NVML probe printed no JSON")
    return parse_nvml_answer(data)


def parse_nvml_answer(data: dict) -> NvmlAnswer:
    return NvmlAnswer(
        driver=data.get("driver"),
        cuda_driver=data.get("cuda_driver"),
        gpus=data.get("gpus") if isinstance(data.get("gpus"), list) else None,
        error=data.get("error"),
    )


def gpus_from_nvml(rows: list[dict]) -> tuple[GpuFacts, ...]:
    def value(row: dict, key: str):
        item = row.get(key)
        return item if item is not None else Unknown("NVML did not answer")

    gpus = []
    for row in rows:
        cc = row.get("cc")
        gpus.append(
            GpuFacts(
                index=int(row["index"]),
                name=str(row.get("name")),
                uuid=value(row, "uuid"),
                cc=(int(cc[0]), int(cc[1])) if cc else Unknown("NVML did not answer"),
                memory_total_mib=value(row, "memory_total_mib"),
                memory_used_mib=value(row, "memory_used_mib"),
                pcie_gen_current=value(row, "pcie_gen_current"),
                pcie_gen_max=value(row, "pcie_gen_max"),
                pcie_width_current=value(row, "pcie_width_current"),
                pcie_width_max=value(row, "pcie_width_max"),
                mig_enabled=value(row, "mig_enabled"),
                persistence_mode=value(row, "persistence_mode"),
                ecc_enabled=value(row, "ecc_enabled"),
                ecc_uncorrected_errors=value(row, "ecc_uncorrected_errors"),
                compute_processes=value(row, "compute_processes"),
                other_processes_memory_mib=value(row, "processes_memory_mib"),
                utilization_percent=value(row, "utilization_percent"),
            )
        )
    return tuple(gpus)


def read_nvidia_smi(
    runner: Runner, timeout: float, env: Mapping[str, str] | None = None
) -> tuple[tuple[GpuFacts, ...] | None, str | None, str | None]:
    """Returns (gpus, driver version, error)."""
    argv = ["nvidia-smi", "--query-gpu=" + ",".join(QUERY_FIELDS), "--format=csv,noheader"]
    result = runner.run(argv, timeout, env=env)
    if not result.ok:
        return None, None, result.describe_failure()
    gpus, driver = parse_query_gpu_csv(result.stdout)
    if not gpus:
        first = result.stdout.strip().splitlines()[:1]
        return None, None, f"nvidia-smi printed no GPUs: {first[0][:200] if first else 'nothing'}"
    return tuple(gpus), driver, None


def read_driver_and_gpus(
    root: Path,
    runner: Runner,
    *,
    timeout: float,
    nvml: NvmlAnswer | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[DriverFacts, GpuInventory]:
    version: str | Unknown = Unknown("no NVIDIA kernel module found")
    source = "none"
    flavour: str | Unknown = Unknown("no /proc/driver/nvidia/version")

    module = read_text(root, "/sys/module/nvidia/version")
    if module is not None:
        version = parse_module_version(module)
        source = "/sys/module/nvidia/version"
    proc = read_text(root, "/proc/driver/nvidia/version")
    if proc is not None:
        parsed = parse_proc_driver_version(proc)
        flavour = parsed.flavour
        if isinstance(version, Unknown):
            version, source = parsed.version, "/proc/driver/nvidia/version"

    nvml = nvml if nvml is not None else read_nvml(runner, timeout, env=env)
    smi_error = None
    gpus: tuple[GpuFacts, ...] | Unknown
    if nvml.gpus is not None:
        gpus, gpu_source = gpus_from_nvml(nvml.gpus), "nvml"
    elif nvml.hung:
        # nvidia-smi sits on the same wedged driver: asking it too would only double the wait.
        smi_error = "nvidia-smi not asked: NVML hung on the same driver"
        gpus, gpu_source = Unknown(f"NVML: {nvml.error}"), "none"
    else:
        smi_gpus, smi_driver, smi_error = read_nvidia_smi(runner, timeout, env=env)
        if smi_gpus is not None:
            gpus, gpu_source = smi_gpus, "nvidia-smi"
            if isinstance(version, Unknown) and smi_driver:
                version, source = smi_driver, "nvidia-smi"
        else:
            gpus = Unknown(f"NVML: {nvml.error}; nvidia-smi: {smi_error}")
            gpu_source = "none"
    if isinstance(version, Unknown) and nvml.driver:
        version, source = nvml.driver, "nvml"

    driver = DriverFacts(
        version=version,
        source=source,
        kernel_module=flavour,
        userspace_version=nvml.driver or Unknown(f"NVML: {nvml.error}"),
        cuda_driver_version=nvml.cuda_driver or Unknown(f"NVML: {nvml.error}"),
        nvml_error=nvml.error,
        smi_error=smi_error,
    )
    return driver, GpuInventory(source=gpu_source, gpus=gpus)
