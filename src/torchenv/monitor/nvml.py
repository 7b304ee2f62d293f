"""The monitor's NVML reads: a thin layer over an injected `nvml` object (the pynvml module of
nvidia-ml-py, or a test fake with the same names). Nothing here imports pynvml at import time;
`load_nvml()` does, when the command runs.

Each metric is asked for until NVML says it never will (NOT_SUPPORTED, NO_PERMISSION, a function the
driver lacks): from then on it is None, and `GpuInfo.unsupported` says why ("n/a on this GPU").
A transient error gives None for that tick only. Sources, in order (the one used is recorded):

- SM active / occupancy / tensor / DRAM / FP32 / FP16: GPM (Hopper and newer), else n/a
- PCIe rx/tx: GPM, else the PCIe byte counters (field values), else nvmlDeviceGetPcieThroughput
  (a 20 ms window: noisy, and it blocks for those 20 ms)
- NVLink rx/tx: GPM, else the NVLink throughput counters (field values, all links), else n/a
- power: nvmlDeviceGetPowerUsage on full ticks (what nvidia-smi shows); between them (--fast),
  the energy counter's difference over the interval
- events: XID critical errors (an NVML event set); ECC errors and remapped rows as counters
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from ..model.errors import InputError
from .model import Event, GpuInfo, GpuSample

MIB = 1024 * 1024
ALL_LINKS = 0xFFFFFFFF  # field-value scope: summed over every NVLink

# NVML error names whose answer never changes while we run: stop asking, say why.
PERMANENT_ERRORS = {
    "NVML_ERROR_NOT_SUPPORTED": "n/a on this GPU",
    "NVML_ERROR_NO_PERMISSION": "not permitted for this user",
    "NVML_ERROR_FUNCTION_NOT_FOUND": "not in this driver's NVML",
    "NVML_ERROR_ARGUMENT_VERSION_MISMATCH": "not in this driver's NVML",
    "NVML_ERROR_DEPRECATED": "not in this driver's NVML",
}

# GPM metric -> GpuSample field. Utilisations are 0-100; the *_PER_SEC ones are MiB/s.
GPM_UTIL = {
    "NVML_GPM_METRIC_SM_UTIL": "sm_active_pct",
    "NVML_GPM_METRIC_SM_OCCUPANCY": "sm_occupancy_pct",
    "NVML_GPM_METRIC_ANY_TENSOR_UTIL": "tensor_active_pct",
    "NVML_GPM_METRIC_DRAM_BW_UTIL": "dram_active_pct",
    "NVML_GPM_METRIC_FP32_UTIL": "fp32_active_pct",
    "NVML_GPM_METRIC_FP16_UTIL": "fp16_active_pct",
}
GPM_RATES = {
    "NVML_GPM_METRIC_PCIE_RX_PER_SEC": "pcie_rx_mbs",
    "NVML_GPM_METRIC_PCIE_TX_PER_SEC": "pcie_tx_mbs",
    "NVML_GPM_METRIC_NVLINK_TOTAL_RX_PER_SEC": "nvlink_rx_mbs",
    "NVML_GPM_METRIC_NVLINK_TOTAL_TX_PER_SEC": "nvlink_tx_mbs",
}
GPM_FIELDS = tuple(GPM_UTIL.values())  # the metrics that exist only through GPM


class NvmlUnavailable(InputError):
    """NVML cannot be used at all (no binding, no driver, no GPU): one line for the user."""


def load_nvml():
    """The pynvml module, imported now (never at torchenv's import time)."""
    try:
        import pynvml
    except ImportError as exc:
        raise NvmlUnavailable(f"nvidia-ml-py is not installed ({exc}); pip install nvidia-ml-py") from None
    return pynvml


@dataclass(frozen=True, slots=True)
class RawProcess:
    """A compute process as NVML lists it on one GPU."""

    pid: int
    memory_mib: float | None
    sm_pct: float | None = None


def error_name(nvml, exc: BaseException) -> str | None:
    """The NVML_ERROR_* name of an NVMLError (None for anything else)."""
    return code_name(nvml, getattr(exc, "value", None))


def code_name(nvml, code) -> str | None:
    if code is None:
        return None
    for name in PERMANENT_ERRORS.keys() | {"NVML_ERROR_TIMEOUT", "NVML_ERROR_NOT_FOUND", "NVML_ERROR_GPU_IS_LOST"}:
        if getattr(nvml, name, object()) == code:
            return name
    return f"NVML error {code}"


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class _Device:
    """One GPU: its handle, what it cannot give, and the counters read at the start."""

    def __init__(self, nvml, index: int, handle, on_error: Callable[[str, BaseException], None]):
        self.nvml = nvml
        self.index = index
        self.handle = handle
        self.unsupported: dict[str, str] = {}
        self.on_error = on_error
        self.gpm = False
        self.gpm_samples: list = []
        self.gpm_have_previous = False
        self.energy0_mj: float | None = None
        self.last_energy: tuple[float, float] | None = None  # (seconds, mJ)
        self.pcie_source = "none"
        self.nvlink_source = "none"
        self.last_counters: dict[str, tuple[float, float]] = {}  # field -> (seconds, bytes)
        self.process_util_seen_us = 0
        self.ecc0: dict[str, int] = {}
        self.remapped0: tuple[int, int] | None = None
        self.remap_reported: set[str] = set()
        self.memory_v2 = True
        self.lost = False

    def call(self, metric: str, fn_name: str, *args):
        """fn(handle, *args), or None; a permanent error marks `metric` unsupported."""
        if metric in self.unsupported or self.lost:
            return None
        fn = getattr(self.nvml, fn_name, None)
        if fn is None:
            self.unsupported[metric] = "not in this nvidia-ml-py"
            return None
        try:
            return fn(self.handle, *args)
        except Exception as exc:
            name = error_name(self.nvml, exc)
            if name in PERMANENT_ERRORS:
                self.unsupported[metric] = PERMANENT_ERRORS[name]
            elif name == "NVML_ERROR_GPU_IS_LOST":
                self.lost = True
            self.on_error(metric, exc)
            return None


class NvmlSampler:
    """Opens NVML, reads static information once, then one tick at a time.

    `read(now, full)` returns the GPU samples and, on full ticks, the compute processes per GPU and
    the events since the last full tick. Not thread-safe: one thread reads."""

    def __init__(self, nvml, *, gpus: tuple[int, ...] | None = None):
        self.nvml = nvml
        self.wanted = gpus
        self.devices: list[_Device] = []
        self.infos: list[GpuInfo] = []
        self.errors: dict[str, int] = {}  # metric -> transient errors seen
        self.event_set = None
        self.events_note: str | None = None
        self.driver: str | None = None
        self.opened = False

    # --- opening -------------------------------------------------------------------------------

    def open(self, now: float) -> tuple[GpuInfo, ...]:
        nvml = self.nvml
        try:
            nvml.nvmlInit()
        except Exception as exc:
            raise NvmlUnavailable(f"NVML: {_text(exc) or type(exc).__name__}") from None
        self.opened = True
        try:
            count = nvml.nvmlDeviceGetCount()
        except Exception as exc:
            raise NvmlUnavailable(f"NVML could not count the GPUs: {exc}") from None
        if count == 0:
            raise NvmlUnavailable("NVML sees no GPU")
        try:
            self.driver = _text(nvml.nvmlSystemGetDriverVersion())
        except Exception:
            self.driver = None
        indexes = self.wanted if self.wanted is not None else tuple(range(count))
        missing = [i for i in indexes if not 0 <= i < count]
        if missing:
            raise NvmlUnavailable(f"no GPU {', '.join(map(str, missing))} (NVML sees {count})")
        for index in indexes:
            try:
                handle = nvml.nvmlDeviceGetHandleByIndex(index)
            except Exception as exc:
                raise NvmlUnavailable(f"NVML cannot open GPU {index}: {_text(exc)} (--gpus leaves it out)") from None
            device = _Device(nvml, index, handle, self._count_error)
            self.devices.append(device)
            self.infos.append(self._info(device, now))
        self._open_events()
        self.infos = [
            replace(info, unsupported=dict(d.unsupported)) for info, d in zip(self.infos, self.devices, strict=True)
        ]
        return tuple(self.infos)

    def _count_error(self, metric: str, exc: BaseException) -> None:
        self.errors[metric] = self.errors.get(metric, 0) + 1

    def _info(self, d: _Device, now: float) -> GpuInfo:
        nvml = self.nvml
        name = d.call("name", "nvmlDeviceGetName")
        uuid = d.call("uuid", "nvmlDeviceGetUUID")
        minor = d.call("minor", "nvmlDeviceGetMinorNumber")
        cc = d.call("cc", "nvmlDeviceGetCudaComputeCapability")
        memory = d.call("memory", "nvmlDeviceGetMemoryInfo")
        clock_max = d.call("sm_clock_max", "nvmlDeviceGetMaxClockInfo", nvml.NVML_CLOCK_SM)
        default_limit = d.call("power_default_limit", "nvmlDeviceGetPowerManagementDefaultLimit")
        energy = d.call("energy", "nvmlDeviceGetTotalEnergyConsumption")
        if energy is not None:
            d.energy0_mj = float(energy)
            d.last_energy = (now, float(energy))
        support = d.call("gpm", "nvmlGpmQueryDeviceSupport")
        d.gpm = bool(support is not None and getattr(support, "isSupportedDevice", 0))
        if d.gpm:
            try:
                d.gpm_samples = [nvml.nvmlGpmSampleAlloc(), nvml.nvmlGpmSampleAlloc()]
            except Exception as exc:
                d.gpm = False
                d.unsupported["gpm"] = f"GPM samples could not be allocated ({_text(exc)})"
        if not d.gpm:
            d.unsupported.setdefault("gpm", "n/a on this GPU")
            for metric in GPM_FIELDS:
                d.unsupported[metric] = "n/a on this GPU (no GPM counters: Hopper and newer have them)"
        for error_type in ("CORRECTED", "UNCORRECTED"):
            value = d.call(
                f"ecc_{error_type.lower()}",
                "nvmlDeviceGetTotalEccErrors",
                getattr(nvml, f"NVML_MEMORY_ERROR_TYPE_{error_type}"),
                nvml.NVML_VOLATILE_ECC,
            )
            if value is not None:
                d.ecc0[error_type] = int(value)
        rows = d.call("remapped_rows", "nvmlDeviceGetRemappedRows")
        if rows is not None:
            d.remapped0 = (int(rows[0]), int(rows[1]))
        self._choose_link_sources(d, now)
        return GpuInfo(
            index=d.index,
            name=_text(name) if name is not None else "unknown GPU",
            uuid=_text(uuid) if uuid is not None else None,
            minor=int(minor) if minor is not None else None,
            cc=(int(cc[0]), int(cc[1])) if cc else None,
            memory_total_mib=memory.total / MIB if memory is not None else None,
            sm_clock_max_mhz=float(clock_max) if clock_max else None,
            power_default_limit_w=default_limit / 1000 if default_limit else None,
            gpm=d.gpm,
        )

    def _choose_link_sources(self, d: _Device, now: float) -> None:
        """PCIe and NVLink: GPM when it has them, else cumulative counters, else the PCIe sampler."""
        if d.gpm:
            d.pcie_source = d.nvlink_source = "gpm"
            return
        nvml = self.nvml
        pcie = self._fields(d, ("NVML_FI_DEV_PCIE_COUNT_RX_BYTES", "NVML_FI_DEV_PCIE_COUNT_TX_BYTES"), None)
        if pcie is not None:
            d.pcie_source = "counters"
            for key, value in pcie.items():
                d.last_counters[key] = (now, value)
        elif hasattr(nvml, "nvmlDeviceGetPcieThroughput"):
            d.pcie_source = "throughput"
        else:
            d.unsupported["pcie_rx_mbs"] = d.unsupported["pcie_tx_mbs"] = "n/a on this GPU"
        nvlink = self._fields(
            d, ("NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX", "NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX"), ALL_LINKS
        )
        if nvlink is not None:
            d.nvlink_source = "counters"
            for key, value in nvlink.items():
                d.last_counters[key] = (now, value * 1024)  # KiB
        else:
            d.unsupported["nvlink_rx_mbs"] = d.unsupported["nvlink_tx_mbs"] = "n/a on this GPU (no NVLink)"

    def _fields(self, d: _Device, names: tuple[str, ...], scope: int | None) -> dict[str, float] | None:
        """Cumulative field values by name, or None when the GPU does not count them."""
        nvml = self.nvml
        ids = [getattr(nvml, n, None) for n in names]
        if None in ids or not hasattr(nvml, "nvmlDeviceGetFieldValues"):
            return None
        request = [(i, scope) for i in ids] if scope is not None else ids
        try:
            values = nvml.nvmlDeviceGetFieldValues(d.handle, request)
        except Exception:
            return None
        out = {}
        for name, value in zip(names, values, strict=False):
            if getattr(value, "nvmlReturn", 1) != nvml.NVML_SUCCESS:
                return None
            out[name] = float(value.value.ullVal)
        return out

    def _open_events(self) -> None:
        nvml = self.nvml
        wanted = getattr(nvml, "nvmlEventTypeXidCriticalError", None)
        if wanted is None:
            self.events_note = "XID events: not in this nvidia-ml-py"
            return
        try:
            self.event_set = nvml.nvmlEventSetCreate()
        except Exception as exc:
            self.events_note = f"XID events not available ({_text(exc)})"
            return
        registered = 0
        for d in self.devices:
            supported = d.call("events", "nvmlDeviceGetSupportedEventTypes")
            if supported is None or not supported & wanted:
                d.unsupported.setdefault("events", "n/a on this GPU")
                continue
            try:
                nvml.nvmlDeviceRegisterEvents(d.handle, wanted, self.event_set)
                registered += 1
            except Exception as exc:
                name = error_name(nvml, exc)
                d.unsupported["events"] = PERMANENT_ERRORS.get(name or "", _text(exc))
        if not registered:
            self.events_note = "XID events: " + (
                self.devices[0].unsupported.get("events", "none registered") if self.devices else "no GPU"
            )

    # --- one tick --------------------------------------------------------------------------------

    def read(self, now: float, full: bool = True):
        """(gpu samples, {gpu index: [RawProcess]} (full ticks only), [Event])."""
        samples, processes, events = [], {}, []
        for d in self.devices:
            samples.append(self._read_device(d, now, full, events))
            if full:
                processes[d.index] = self._processes(d)
        if full:
            events += self._poll_events(now)
        return samples, processes, events

    def _read_device(self, d: _Device, now: float, full: bool, events: list[Event]) -> GpuSample:
        nvml = self.nvml
        values: dict = {}
        if d.lost:
            return GpuSample(index=d.index)
        util = d.call("kernel_busy_pct", "nvmlDeviceGetUtilizationRates")
        if util is not None:
            values["kernel_busy_pct"] = float(util.gpu)
            values["memory_busy_pct"] = float(util.memory)
        clock = d.call("sm_clock_mhz", "nvmlDeviceGetClockInfo", nvml.NVML_CLOCK_SM)
        if clock is not None:
            values["sm_clock_mhz"] = float(clock)
        values["clock_reasons"] = self._reasons(d)
        energy = d.call("energy_j", "nvmlDeviceGetTotalEnergyConsumption")
        if energy is not None and d.energy0_mj is not None:
            values["energy_j"] = (float(energy) - d.energy0_mj) / 1000
            if d.last_energy is not None and now > d.last_energy[0] and not full:
                values["power_w"] = (float(energy) - d.last_energy[1]) / 1000 / (now - d.last_energy[0])
            d.last_energy = (now, float(energy))
        if d.gpm:
            values.update(self._gpm(d))
        if full:
            values.update(self._slow(d, now, events))
        if d.lost:
            events.append(Event(now, d.index, "gpu-lost", 0, "NVML: GPU is lost (fell off the bus?)"))
        return GpuSample(index=d.index, **{k: v for k, v in values.items() if v is not None})

    def _reasons(self, d: _Device) -> int | None:
        if "clock_reasons" not in d.unsupported and hasattr(self.nvml, "nvmlDeviceGetCurrentClocksEventReasons"):
            value = d.call("clock_reasons_v2", "nvmlDeviceGetCurrentClocksEventReasons")
            if value is not None:
                return int(value)
            if "clock_reasons_v2" not in d.unsupported:
                return None
        value = d.call("clock_reasons", "nvmlDeviceGetCurrentClocksThrottleReasons")
        return int(value) if value is not None else None

    def _gpm(self, d: _Device) -> dict:
        nvml = self.nvml
        previous, current = d.gpm_samples
        try:
            nvml.nvmlGpmSampleGet(d.handle, current)
        except Exception as exc:
            self._count_error("gpm", exc)
            d.gpm_have_previous = False
            return {}
        d.gpm_samples = [current, previous]
        if not d.gpm_have_previous:
            d.gpm_have_previous = True
            return {}
        wanted = {**GPM_UTIL, **GPM_RATES}
        ids = [(getattr(nvml, name, None), field) for name, field in wanted.items()]
        ids = [(i, f) for i, f in ids if i is not None and f not in d.unsupported]
        metrics = nvml.c_nvmlGpmMetricsGet_t()
        metrics.version = nvml.NVML_GPM_METRICS_GET_VERSION
        metrics.numMetrics = len(ids)
        metrics.sample1 = previous
        metrics.sample2 = current
        for slot, (metric_id, _) in enumerate(ids):
            metrics.metrics[slot].metricId = metric_id
        try:
            nvml.nvmlGpmMetricsGet(metrics)
        except Exception as exc:
            self._count_error("gpm", exc)
            return {}
        out = {}
        for slot, (_, field) in enumerate(ids):
            metric = metrics.metrics[slot]
            if metric.nvmlReturn != nvml.NVML_SUCCESS:
                name = code_name(nvml, metric.nvmlReturn)
                if name in PERMANENT_ERRORS:
                    d.unsupported[field] = PERMANENT_ERRORS[name]
                continue
            value = float(metric.value)
            out[field] = value * MIB / 1e6 if field.endswith("_mbs") else value
        return out

    def _slow(self, d: _Device, now: float, events: list[Event]) -> dict:
        nvml = self.nvml
        values: dict = {}
        memory = None
        if d.memory_v2 and hasattr(nvml, "nvmlMemory_v2"):
            memory = d.call("memory_v2", "nvmlDeviceGetMemoryInfo", nvml.nvmlMemory_v2)
            if memory is None and "memory_v2" in d.unsupported:
                d.memory_v2 = False
                d.unsupported.pop("memory_v2")
        if memory is None:
            memory = d.call("memory_used_mib", "nvmlDeviceGetMemoryInfo")
        if memory is not None:
            values["memory_used_mib"] = memory.used / MIB
            reserved = getattr(memory, "reserved", None)
            values["memory_reserved_mib"] = reserved / MIB if reserved is not None else None
        power = d.call("power_w", "nvmlDeviceGetPowerUsage")
        values["power_w"] = power / 1000 if power is not None else None
        limit = d.call("power_limit_w", "nvmlDeviceGetEnforcedPowerLimit")
        values["power_limit_w"] = limit / 1000 if limit is not None else None
        temperature = d.call("temperature_c", "nvmlDeviceGetTemperature", nvml.NVML_TEMPERATURE_GPU)
        values["temperature_c"] = float(temperature) if temperature is not None else None
        if d.pcie_source == "counters":
            values.update(self._rates(d, now, ("NVML_FI_DEV_PCIE_COUNT_RX_BYTES", "pcie_rx_mbs"), None))
            values.update(self._rates(d, now, ("NVML_FI_DEV_PCIE_COUNT_TX_BYTES", "pcie_tx_mbs"), None))
        elif d.pcie_source == "throughput":
            for counter, field in (
                ("NVML_PCIE_UTIL_RX_BYTES", "pcie_rx_mbs"),
                ("NVML_PCIE_UTIL_TX_BYTES", "pcie_tx_mbs"),
            ):
                kbs = d.call(field, "nvmlDeviceGetPcieThroughput", getattr(nvml, counter))
                values[field] = kbs * 1024 / 1e6 if kbs is not None else None
        if d.nvlink_source == "counters":
            for name, field in (
                ("NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX", "nvlink_rx_mbs"),
                ("NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX", "nvlink_tx_mbs"),
            ):
                values.update(self._rates(d, now, (name, field), ALL_LINKS, scale=1024))
        self._faults(d, now, events)
        return values

    def _rates(self, d: _Device, now: float, which: tuple[str, str], scope, scale: float = 1.0) -> dict:
        name, field = which
        current = self._fields(d, (name,), scope)
        if current is None:
            return {}
        value = current[name] * scale
        before = d.last_counters.get(name)
        d.last_counters[name] = (now, value)
        if before is None or now <= before[0] or value < before[1]:
            return {}
        return {field: (value - before[1]) / (now - before[0]) / 1e6}

    def _faults(self, d: _Device, now: float, events: list[Event]) -> None:
        nvml = self.nvml
        for error_type, kind in (("CORRECTED", "ecc-corrected"), ("UNCORRECTED", "ecc-uncorrected")):
            if error_type not in d.ecc0:
                continue
            value = d.call(
                f"ecc_{error_type.lower()}",
                "nvmlDeviceGetTotalEccErrors",
                getattr(nvml, f"NVML_MEMORY_ERROR_TYPE_{error_type}"),
                nvml.NVML_VOLATILE_ECC,
            )
            if value is not None and int(value) > d.ecc0[error_type]:
                events.append(Event(now, d.index, kind, int(value) - d.ecc0[error_type], "volatile ECC counter"))
                d.ecc0[error_type] = int(value)
        if d.remapped0 is None:
            return
        rows = d.call("remapped_rows", "nvmlDeviceGetRemappedRows")
        if rows is None:
            return
        corrected, uncorrected, pending, failure = (int(v) for v in rows)
        new = corrected + uncorrected - sum(d.remapped0)
        if pending and "pending" not in d.remap_reported:
            d.remap_reported.add("pending")
            events.append(Event(now, d.index, "row-remap-pending", max(new, 0), "a row remap waits for a GPU reset"))
        if failure and "failure" not in d.remap_reported:
            d.remap_reported.add("failure")
            events.append(Event(now, d.index, "row-remap-failed", max(new, 0), "row remapping failed"))
        if new > 0 and not pending:
            events.append(Event(now, d.index, "row-remap-pending", new, "rows remapped while the job ran"))
        d.remapped0 = (corrected, uncorrected)

    def _processes(self, d: _Device) -> list[RawProcess]:
        listed = d.call("processes", "nvmlDeviceGetComputeRunningProcesses")
        if listed is None:
            return []
        sm = self._process_utilization(d)
        out = []
        for proc in listed:
            used = getattr(proc, "usedGpuMemory", None)
            pid = int(proc.pid)
            out.append(RawProcess(pid, used / MIB if used is not None else None, sm.get(pid)))
        return out

    def _process_utilization(self, d: _Device) -> dict[int, float]:
        if "process_sm_pct" in d.unsupported or not hasattr(self.nvml, "nvmlDeviceGetProcessUtilization"):
            return {}
        try:
            rows = self.nvml.nvmlDeviceGetProcessUtilization(d.handle, d.process_util_seen_us)
        except Exception as exc:
            name = error_name(self.nvml, exc)
            if name in PERMANENT_ERRORS:
                d.unsupported["process_sm_pct"] = PERMANENT_ERRORS[name]
            return {}  # NOT_FOUND: no process ran a kernel since the last read
        out: dict[int, float] = {}
        for row in rows or ():
            stamp = int(getattr(row, "timeStamp", 0))
            d.process_util_seen_us = max(d.process_util_seen_us, stamp)
            out[int(row.pid)] = float(row.smUtil)
        return out

    def _poll_events(self, now: float) -> list[Event]:
        if self.event_set is None:
            return []
        nvml = self.nvml
        out = []
        for _ in range(32):  # a storm of events must not hold the tick
            try:
                data = nvml.nvmlEventSetWait_v2(self.event_set, 0)
            except Exception:
                break  # NVML_ERROR_TIMEOUT: nothing waiting
            try:
                index = int(nvml.nvmlDeviceGetIndex(data.device))
            except Exception:
                index = -1
            code = int(getattr(data, "eventData", 0))
            out.append(Event(now, index, "xid", code, f"XID {code}"))
        return out

    def processes_now(self) -> frozenset[tuple[int, int]]:
        """(gpu, pid) of the compute processes running now (before the job starts: the baseline)."""
        return frozenset((d.index, proc.pid) for d in self.devices for proc in self._processes(d))

    def unsupported(self) -> dict[int, dict[str, str]]:
        return {d.index: dict(d.unsupported) for d in self.devices}

    def close(self) -> None:
        if not self.opened:
            return
        nvml = self.nvml
        for d in self.devices:
            for sample in d.gpm_samples:
                try:
                    nvml.nvmlGpmSampleFree(sample)
                except Exception:
                    pass
            d.gpm_samples = []
        if self.event_set is not None:
            try:
                nvml.nvmlEventSetFree(self.event_set)
            except Exception:
                pass
            self.event_set = None
        try:
            nvml.nvmlShutdown()
        except Exception:
            pass
        self.opened = False
