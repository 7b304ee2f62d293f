"""Runs in torchenv's own interpreter, in a child process: a wedged driver can hang NVML calls,
and the parent kills this process at its deadline instead of hanging with it.

Prints one JSON object: {"driver", "cuda_driver", "gpus": [...], "error"}.
"""

import json
import sys


def safe(call, *args):
    try:
        return call(*args)
    except Exception:
        return None


def text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def gpu(nvml, index):
    handle = nvml.nvmlDeviceGetHandleByIndex(index)
    memory = safe(nvml.nvmlDeviceGetMemoryInfo, handle)
    cc = safe(nvml.nvmlDeviceGetCudaComputeCapability, handle)
    mig = safe(nvml.nvmlDeviceGetMigMode, handle)
    ecc = safe(nvml.nvmlDeviceGetEccMode, handle)
    processes = safe(nvml.nvmlDeviceGetComputeRunningProcesses, handle)
    utilization = safe(nvml.nvmlDeviceGetUtilizationRates, handle)
    persistence = safe(nvml.nvmlDeviceGetPersistenceMode, handle)
    ecc_errors = safe(
        nvml.nvmlDeviceGetTotalEccErrors, handle, nvml.NVML_MEMORY_ERROR_TYPE_UNCORRECTED, nvml.NVML_VOLATILE_ECC
    )
    mib = 1024 * 1024
    return {
        "index": index,
        "name": text(safe(nvml.nvmlDeviceGetName, handle)) or "unknown GPU",
        "uuid": text(safe(nvml.nvmlDeviceGetUUID, handle)),
        "cc": list(cc) if cc else None,
        "memory_total_mib": memory.total // mib if memory else None,
        "memory_used_mib": memory.used // mib if memory else None,
        "pcie_gen_current": safe(nvml.nvmlDeviceGetCurrPcieLinkGeneration, handle),
        "pcie_gen_max": safe(nvml.nvmlDeviceGetMaxPcieLinkGeneration, handle),
        "pcie_width_current": safe(nvml.nvmlDeviceGetCurrPcieLinkWidth, handle),
        "pcie_width_max": safe(nvml.nvmlDeviceGetMaxPcieLinkWidth, handle),
        # MIG queries fail with NotSupported on GPUs without MIG: that means "off".
        "mig_enabled": bool(mig[0]) if mig else False,
        "persistence_mode": bool(persistence) if persistence is not None else None,
        "ecc_enabled": bool(ecc[0]) if ecc else None,
        "ecc_uncorrected_errors": ecc_errors,
        "compute_processes": len(processes) if processes is not None else None,
        "processes_memory_mib": sum((p.usedGpuMemory or 0) for p in processes) // mib if processes else 0,
        "utilization_percent": utilization.gpu if utilization else None,
    }


def main():
    # Started with -S: the parent passes the folder holding pynvml.
    sys.path[:0] = sys.argv[1:]
    try:
        import pynvml as nvml
    except ImportError as exc:
        print(json.dumps({"error": "nvidia-ml-py is not installed (%s)" % exc, "kind": "no-binding"}))
        return
    try:
        nvml.nvmlInit()
    except Exception as exc:
        print(json.dumps({"error": str(exc), "kind": type(exc).__name__}))
        return
    try:
        result = {"driver": text(safe(nvml.nvmlSystemGetDriverVersion)), "gpus": [], "error": None}
        cuda = safe(nvml.nvmlSystemGetCudaDriverVersion)
        result["cuda_driver"] = "%d.%d" % (cuda // 1000, (cuda % 1000) // 10) if cuda else None
        for index in range(nvml.nvmlDeviceGetCount()):
            result["gpus"].append(gpu(nvml, index))
        print(json.dumps(result))
    except Exception as exc:
        print(json.dumps({"error": str(exc), "kind": type(exc).__name__}))
    finally:
        safe(nvml.nvmlShutdown)


if __name__ == "__main__":
    sys.exit(main())
