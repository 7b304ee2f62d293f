"""A fake NVML with pynvml's names, serving a recorded sample stream (tests/monitor/recordings/).

Only what `torchenv.monitor.nvml` calls exists, with pynvml's signatures, return shapes and error
behaviour (NVMLError with `.value`, NOT_SUPPORTED for what a GPU lacks). The tick served is the
last one whose "t" is not after `clock() - (time of nvmlInit)`. Counters (energy, PCIe and NVLink
bytes) are integrated from the recorded rates, so the counter code paths see real counters.

A recording (JSON):
    {"gpus": [{"name", "uuid", "minor", "cc", "memory_total_mib", "sm_clock_max_mhz",
               "power_default_limit_w", "gpm": bool, "nvlink": bool, "pcie": "gpm"|"counters"|"throughput",
               "process_utilization": bool, "events": bool, "ecc": bool, "remapped_rows": bool,
               "clock_reasons": bool}],
     "ticks": [{"t": seconds, "gpus": [{"util", "mem_util", "memory_used_mib", "memory_reserved_mib",
               "power_w", "power_limit_w", "sm_clock_mhz", "reasons", "temperature_c", "pcie_rx_mbs",
               "pcie_tx_mbs", "nvlink_rx_mbs", "nvlink_tx_mbs", "gpm": {metric: value},
               "processes": [{"pid": int | "job", "memory_mib", "sm_pct"}], "ecc": [corrected, uncorrected],
               "remapped": [corrected, uncorrected, pending, failure], "lost": bool}],
               "events": [{"gpu": i, "xid": code}]}]}
A "job" PID is resolved through `pids` (in-process tests) or to this process's first child (the
fake pynvml module used by the CLI tests, where the monitored command is our child).
"""

from __future__ import annotations

import json
import os
import time
from types import SimpleNamespace

MIB = 1024 * 1024

NVML_SUCCESS = 0
NVML_ERROR_UNINITIALIZED = 1
NVML_ERROR_INVALID_ARGUMENT = 2
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_NOT_FOUND = 6
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_TIMEOUT = 10
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_FUNCTION_NOT_FOUND = 13
NVML_ERROR_GPU_IS_LOST = 15
NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25
NVML_ERROR_DEPRECATED = 26

ERROR_TEXT = {
    NVML_ERROR_NOT_SUPPORTED: "Not Supported",
    NVML_ERROR_NO_PERMISSION: "Insufficient Permissions",
    NVML_ERROR_NOT_FOUND: "Not Found",
    NVML_ERROR_DRIVER_NOT_LOADED: "Driver Not Loaded",
    NVML_ERROR_TIMEOUT: "Timeout",
    NVML_ERROR_LIBRARY_NOT_FOUND: "NVML Shared Library Not Found",
    NVML_ERROR_GPU_IS_LOST: "GPU is lost",
}


class NVMLError(Exception):
    def __init__(self, value: int):
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        return ERROR_TEXT.get(self.value, f"NVML error {self.value}")


CONSTANTS = {
    "NVML_CLOCK_SM": 1,
    "NVML_TEMPERATURE_GPU": 0,
    "NVML_PCIE_UTIL_TX_BYTES": 0,
    "NVML_PCIE_UTIL_RX_BYTES": 1,
    "NVML_MEMORY_ERROR_TYPE_CORRECTED": 0,
    "NVML_MEMORY_ERROR_TYPE_UNCORRECTED": 1,
    "NVML_VOLATILE_ECC": 0,
    "nvmlMemory_v2": 0x02000028,
    "nvmlEventTypeXidCriticalError": 0x8,
    "nvmlEventTypeSingleBitEccError": 0x1,
    "nvmlEventTypeDoubleBitEccError": 0x2,
    "NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX": 138,
    "NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX": 139,
    "NVML_FI_DEV_PCIE_COUNT_TX_BYTES": 197,
    "NVML_FI_DEV_PCIE_COUNT_RX_BYTES": 198,
    "NVML_GPM_METRICS_GET_VERSION": 1,
    "NVML_GPM_METRIC_SM_UTIL": 2,
    "NVML_GPM_METRIC_SM_OCCUPANCY": 3,
    "NVML_GPM_METRIC_ANY_TENSOR_UTIL": 5,
    "NVML_GPM_METRIC_DRAM_BW_UTIL": 10,
    "NVML_GPM_METRIC_FP32_UTIL": 12,
    "NVML_GPM_METRIC_FP16_UTIL": 13,
    "NVML_GPM_METRIC_PCIE_TX_PER_SEC": 20,
    "NVML_GPM_METRIC_PCIE_RX_PER_SEC": 21,
    "NVML_GPM_METRIC_NVLINK_TOTAL_RX_PER_SEC": 60,
    "NVML_GPM_METRIC_NVLINK_TOTAL_TX_PER_SEC": 61,
}
GPM_KEYS = {
    2: "sm_active",
    3: "sm_occupancy",
    5: "tensor",
    10: "dram",
    12: "fp32",
    13: "fp16",
    20: "pcie_tx_mbs",
    21: "pcie_rx_mbs",
    60: "nvlink_rx_mbs",
    61: "nvlink_tx_mbs",
}


class _Metric:
    def __init__(self):
        self.metricId = 0
        self.nvmlReturn = NVML_SUCCESS
        self.value = 0.0


class GpmMetricsGet:
    """pynvml.c_nvmlGpmMetricsGet_t, as plain attributes."""

    def __init__(self):
        self.version = 0
        self.numMetrics = 0
        self.sample1 = None
        self.sample2 = None
        self.metrics = [_Metric() for _ in range(98)]


class FakeNvml:
    NVMLError = NVMLError
    c_nvmlGpmMetricsGet_t = GpmMetricsGet

    def __init__(
        self,
        recording: dict,
        *,
        clock=time.monotonic,
        pids: dict[str, int] | None = None,
        init_error: int | None = None,
        driver: str = "580.95.05",
    ):
        self.recording = recording
        self.gpus = recording["gpus"]
        self.ticks = sorted(recording["ticks"], key=lambda t: t["t"])
        self.clock = clock
        self.pids = pids
        self.init_error = init_error
        self.driver = driver
        self.t_init: float | None = None
        self.calls: dict[str, int] = {}
        self.delivered: set[tuple[int, int]] = set()  # (tick, event) handed out
        for name, value in CONSTANTS.items():
            setattr(self, name, value)
        for name, value in globals().items():
            if name.startswith("NVML_ERROR_") or name == "NVML_SUCCESS":
                setattr(self, name, value)

    # --- time ----------------------------------------------------------------------------------

    def _elapsed(self) -> float:
        if self.t_init is None:
            raise NVMLError(NVML_ERROR_UNINITIALIZED)
        return self.clock() - self.t_init

    def _tick_index(self, at: float | None = None) -> int:
        now = self._elapsed() if at is None else at
        index = 0
        for i, tick in enumerate(self.ticks):
            if tick["t"] <= now + 1e-9:
                index = i
        return index

    def _value(self, gpu: int, key: str, default=None):
        row = self.ticks[self._tick_index()]["gpus"][gpu]
        if row.get("lost"):
            raise NVMLError(NVML_ERROR_GPU_IS_LOST)
        return row.get(key, default)

    def _integral(self, gpu: int, key: str) -> float:
        """∫ rate dt from the first tick to now, the rate held constant from each tick to the next."""
        now = self._elapsed()
        total = 0.0
        for i, tick in enumerate(self.ticks):
            start = tick["t"]
            if start > now:
                break
            end = min(self.ticks[i + 1]["t"], now) if i + 1 < len(self.ticks) else now
            total += float(tick["gpus"][gpu].get(key) or 0.0) * max(end - start, 0.0)
        return total

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    def _handle(self, handle) -> int:
        return handle.index

    def _spec(self, handle) -> dict:
        return self.gpus[handle.index]

    def _resolve(self, pid) -> int:
        if isinstance(pid, int):
            return pid
        if self.pids is not None:
            return self.pids[pid]
        return _first_child()

    # --- pynvml API ----------------------------------------------------------------------------

    def nvmlInit(self):
        self._count("nvmlInit")
        if self.init_error is not None:
            raise NVMLError(self.init_error)
        self.t_init = self.clock()

    def nvmlShutdown(self):
        self._count("nvmlShutdown")

    def nvmlSystemGetDriverVersion(self):
        return self.driver

    def nvmlDeviceGetCount(self):
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index):
        return SimpleNamespace(index=index)

    def nvmlDeviceGetIndex(self, handle):
        return handle.index

    def nvmlDeviceGetName(self, handle):
        return self._spec(handle)["name"].encode()

    def nvmlDeviceGetUUID(self, handle):
        return self._spec(handle).get("uuid", f"GPU-fake-{handle.index}")

    def nvmlDeviceGetMinorNumber(self, handle):
        return self._spec(handle).get("minor", handle.index)

    def nvmlDeviceGetCudaComputeCapability(self, handle):
        return tuple(self._spec(handle).get("cc", (9, 0)))

    def nvmlDeviceGetMaxClockInfo(self, handle, clock):
        return self._spec(handle)["sm_clock_max_mhz"]

    def nvmlDeviceGetPowerManagementDefaultLimit(self, handle):
        return int(self._spec(handle)["power_default_limit_w"] * 1000)

    def nvmlDeviceGetEnforcedPowerLimit(self, handle):
        value = self._value(handle.index, "power_limit_w", self._spec(handle)["power_default_limit_w"])
        return int(value * 1000)

    def nvmlDeviceGetMemoryInfo(self, handle, version=None):
        spec = self._spec(handle)
        total = spec["memory_total_mib"] * MIB
        if handle.index is not None and self.t_init is not None and self.ticks:
            used = self._value(handle.index, "memory_used_mib", 0) * MIB
            reserved = self._value(handle.index, "memory_reserved_mib", 0) * MIB
        else:
            used = reserved = 0
        if version is not None:
            if not spec.get("memory_v2", True):
                raise NVMLError(NVML_ERROR_FUNCTION_NOT_FOUND)
            return SimpleNamespace(total=total, reserved=reserved, used=used, free=total - used - reserved)
        return SimpleNamespace(total=total, used=used + reserved, free=total - used - reserved)

    def nvmlDeviceGetUtilizationRates(self, handle):
        self._count("nvmlDeviceGetUtilizationRates")
        return SimpleNamespace(
            gpu=self._value(handle.index, "util", 0), memory=self._value(handle.index, "mem_util", 0)
        )

    def nvmlDeviceGetClockInfo(self, handle, clock):
        return self._value(handle.index, "sm_clock_mhz", 0)

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle):
        if not self._spec(handle).get("clock_reasons", True):
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        return self._value(handle.index, "reasons", 0)

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        if not self._spec(handle).get("energy", True):
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        return int(5_000_000 + self._integral(handle.index, "power_w") * 1000)

    def nvmlDeviceGetPowerUsage(self, handle):
        return int(self._value(handle.index, "power_w", 0) * 1000)

    def nvmlDeviceGetTemperature(self, handle, sensor):
        return self._value(handle.index, "temperature_c", 30)

    def nvmlDeviceGetPcieThroughput(self, handle, counter):
        if self._spec(handle).get("pcie", "gpm") != "throughput":
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        key = "pcie_rx_mbs" if counter == CONSTANTS["NVML_PCIE_UTIL_RX_BYTES"] else "pcie_tx_mbs"
        return int((self._value(handle.index, key, 0) or 0) * 1e6 / 1024)  # KB/s

    def nvmlDeviceGetFieldValues(self, handle, field_ids):
        spec = self._spec(handle)
        out = []
        for item in field_ids:
            field_id = item[0] if isinstance(item, tuple) else item
            value = SimpleNamespace(fieldId=field_id, nvmlReturn=NVML_SUCCESS, value=SimpleNamespace(ullVal=0))
            if field_id in (197, 198) and spec.get("pcie") == "counters":
                key = "pcie_rx_mbs" if field_id == 198 else "pcie_tx_mbs"
                value.value.ullVal = int(self._integral(handle.index, key) * 1e6)
            elif field_id in (138, 139) and spec.get("nvlink") and not spec.get("gpm"):
                key = "nvlink_rx_mbs" if field_id == 139 else "nvlink_tx_mbs"
                value.value.ullVal = int(self._integral(handle.index, key) * 1e6 / 1024)  # KiB
            else:
                value.nvmlReturn = NVML_ERROR_NOT_SUPPORTED
            out.append(value)
        return out

    def nvmlDeviceGetTotalEccErrors(self, handle, error_type, counter_type):
        if not self._spec(handle).get("ecc", True):
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        if self.t_init is None or not self.ticks:
            return 0
        return self._value(handle.index, "ecc", [0, 0])[error_type]

    def nvmlDeviceGetRemappedRows(self, handle):
        if not self._spec(handle).get("remapped_rows", True):
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        return tuple(self._value(handle.index, "remapped", [0, 0, 0, 0]))

    def nvmlDeviceGetComputeRunningProcesses(self, handle):
        self._count("nvmlDeviceGetComputeRunningProcesses")
        rows = self._value(handle.index, "processes", [])
        return [
            SimpleNamespace(
                pid=self._resolve(p["pid"]),
                usedGpuMemory=int(p["memory_mib"] * MIB) if p.get("memory_mib") is not None else None,
            )
            for p in rows
        ]

    def nvmlDeviceGetProcessUtilization(self, handle, last_seen):
        if not self._spec(handle).get("process_utilization", True):
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        rows = [p for p in self._value(handle.index, "processes", []) if p.get("sm_pct") is not None]
        stamp = int(self._elapsed() * 1e6) + 1
        if not rows or stamp <= last_seen:
            raise NVMLError(NVML_ERROR_NOT_FOUND)
        return [
            SimpleNamespace(pid=self._resolve(p["pid"]), timeStamp=stamp, smUtil=p["sm_pct"], memUtil=0) for p in rows
        ]

    # GPM
    def nvmlGpmQueryDeviceSupport(self, handle):
        if not self._spec(handle).get("gpm"):
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        return SimpleNamespace(version=1, isSupportedDevice=1)

    def nvmlGpmSampleAlloc(self):
        return SimpleNamespace(tick=None, gpu=None)

    def nvmlGpmSampleFree(self, sample):
        self._count("nvmlGpmSampleFree")

    def nvmlGpmSampleGet(self, handle, sample):
        self._count("nvmlGpmSampleGet")
        if not self._spec(handle).get("gpm"):
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        self._value(handle.index, "util")  # a lost GPU raises
        sample.tick, sample.gpu = self._tick_index(), handle.index
        return sample

    def nvmlGpmMetricsGet(self, metrics):
        sample = metrics.sample2
        row = self.ticks[sample.tick]["gpus"][sample.gpu]
        gpm = row.get("gpm", {})
        for slot in range(metrics.numMetrics):
            m = metrics.metrics[slot]
            key = GPM_KEYS.get(m.metricId)
            if key is None:
                m.nvmlReturn = NVML_ERROR_NOT_SUPPORTED
                continue
            if key.endswith("_mbs"):
                if key.startswith("nvlink") and not self.gpus[sample.gpu].get("nvlink"):
                    m.nvmlReturn = NVML_ERROR_NOT_SUPPORTED
                    continue
                m.value = float(row.get(key) or 0.0) * 1e6 / MIB  # GPM gives MiB/s
            else:
                m.value = float(gpm.get(key, 0.0))
            m.nvmlReturn = NVML_SUCCESS
        return metrics

    # events
    def nvmlEventSetCreate(self):
        return SimpleNamespace(devices=set())

    def nvmlEventSetFree(self, event_set):
        self._count("nvmlEventSetFree")

    def nvmlDeviceGetSupportedEventTypes(self, handle):
        if not self._spec(handle).get("events", True):
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        return 0x8 | 0x1 | 0x2

    def nvmlDeviceRegisterEvents(self, handle, types, event_set):
        event_set.devices.add(handle.index)

    def nvmlEventSetWait_v2(self, event_set, timeout_ms):
        now = self._elapsed()
        for i, tick in enumerate(self.ticks):
            if tick["t"] > now + 1e-9:
                break
            for k, event in enumerate(tick.get("events", [])):
                if (i, k) not in self.delivered and event["gpu"] in event_set.devices:
                    self.delivered.add((i, k))
                    return SimpleNamespace(
                        device=SimpleNamespace(index=event["gpu"]), eventType=0x8, eventData=event["xid"]
                    )
        raise NVMLError(NVML_ERROR_TIMEOUT)


def _first_child() -> int:
    """The monitored command, when this fake runs inside `torchenv monitor` (its only child)."""
    kids: list[int] = []
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/children") as handle:
                kids += [int(p) for p in handle.read().split()]
    except OSError:
        pass
    return min(kids) if kids else 999_999


def load(path, **kwargs) -> FakeNvml:
    with open(path) as handle:
        return FakeNvml(json.load(handle), **kwargs)
