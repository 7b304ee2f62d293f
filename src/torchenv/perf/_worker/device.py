# ruff: noqa: UP031  (runs inside the target interpreter: conservative syntax)
"""The device a worker measures on, what it reports about the torch build and that device (the
`env` record, the same for bench, tune and profile), and NVML readings of the GPU under load.
Part of the perf worker runtime. Python 3.8+ syntax.
"""

import os
import sys
import time

from .protocol import emit


def select(torch, wanted, index=0):
    """The torch.device to measure on ("auto" prefers CUDA), or None after a `fatal` record. The CUDA
    context is created here, outside any measurement, and its cost reported."""
    if wanted == "cpu" or (wanted == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        emit("fatal", stage="cuda-init", error="--device cuda asked for, but torch.cuda.is_available() is False")
        return None
    device = torch.device("cuda", index)
    emit("begin", section="cuda-init")
    began = time.perf_counter()
    torch.cuda.set_device(device)
    torch.zeros(1, device=device)
    emit("end", section="cuda-init", seconds=round(time.perf_counter() - began, 3))
    return device


def cpu_bf16(torch):
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:
        return False


def environment(torch, device, nvml=None):
    """The `env` record's data: the torch build, the device, and (CUDA) NVML's idle reading."""
    info = {
        "torch": str(torch.__version__),
        "cuda": getattr(torch.version, "cuda", None),
        "debug": bool(getattr(torch.version, "debug", False)),
        "device": device.type,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "python": "%d.%d.%d" % sys.version_info[:3],
        "cuda_available": bool(torch.cuda.is_available()),
        "cuda_built": getattr(torch.version, "cuda", None) is not None,
    }
    try:
        info["cudnn"] = torch.backends.cudnn.version()
    except Exception:
        info["cudnn"] = None
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(
            device_name=props.name,
            cc=list(torch.cuda.get_device_capability(device)),
            sm_count=props.multi_processor_count,
            memory_mib=props.total_memory // (1024 * 1024),
            nvml_idle=nvml.snapshot() if nvml else None,
        )
    else:
        info.update(device_name=cpu_name(), cpu_bf16=cpu_bf16(torch))
    return info


def cpu_name():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "CPU"


class Nvml:
    """Optional clock/throttle/PCIe readings of the GPU under load (nvidia-ml-py, if installed)."""

    def __init__(self, torch, index):
        self.nvml = None
        self.handle = None
        try:
            import pynvml

            pynvml.nvmlInit()
            handle = None
            uuid = getattr(torch.cuda.get_device_properties(index), "uuid", None)
            if uuid is not None:
                try:
                    handle = pynvml.nvmlDeviceGetHandleByUUID("GPU-%s" % uuid)
                except Exception:
                    handle = None
            if handle is None and not os.environ.get("CUDA_VISIBLE_DEVICES"):
                handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            self.nvml, self.handle = pynvml, handle
        except Exception:
            self.nvml = None

    def _get(self, name, *args):
        try:
            return getattr(self.nvml, name)(self.handle, *args)
        except Exception:
            return None

    def snapshot(self):
        if self.nvml is None or self.handle is None:
            return None
        n = self.nvml
        reasons = self._get("nvmlDeviceGetCurrentClocksEventReasons")
        if reasons is None:
            reasons = self._get("nvmlDeviceGetCurrentClocksThrottleReasons")
        power = self._get("nvmlDeviceGetPowerUsage")
        limit = self._get("nvmlDeviceGetEnforcedPowerLimit")
        default_limit = self._get("nvmlDeviceGetPowerManagementDefaultLimit")
        processes = self._get("nvmlDeviceGetComputeRunningProcesses") or []
        others = [p for p in processes if p.pid != os.getpid()]
        return {
            "sm_clock_mhz": self._get("nvmlDeviceGetClockInfo", n.NVML_CLOCK_SM),
            "max_sm_clock_mhz": self._get("nvmlDeviceGetMaxClockInfo", n.NVML_CLOCK_SM),
            "clock_reasons": reasons,
            "power_w": power / 1000.0 if power is not None else None,
            "power_limit_w": limit / 1000.0 if limit is not None else None,
            "default_power_limit_w": default_limit / 1000.0 if default_limit is not None else None,
            "temperature_c": self._get("nvmlDeviceGetTemperature", n.NVML_TEMPERATURE_GPU),
            "pcie_gen": self._get("nvmlDeviceGetCurrPcieLinkGeneration"),
            "pcie_width": self._get("nvmlDeviceGetCurrPcieLinkWidth"),
            "pcie_gen_max": self._get("nvmlDeviceGetMaxPcieLinkGeneration"),
            "pcie_width_max": self._get("nvmlDeviceGetMaxPcieLinkWidth"),
            "other_processes": len(others),
            "other_processes_memory_mib": sum((p.usedGpuMemory or 0) for p in others) // (1024 * 1024),
        }
