"""The NVML sampler on the fake NVML: every source, every 'n/a on this GPU', errors as data."""

from __future__ import annotations

import pytest

from torchenv.monitor.nvml import GPM_FIELDS, NvmlSampler, NvmlUnavailable

from .fake_nvml import NVML_ERROR_DRIVER_NOT_LOADED, FakeNvml
from .helpers import FakeClock, recording


def opened(name_or_data, **kwargs):
    data = recording(name_or_data) if isinstance(name_or_data, str) else name_or_data
    clock = FakeClock()
    nvml = FakeNvml(data, clock=clock, pids={"job": 4100}, **kwargs)
    sampler = NvmlSampler(nvml)
    infos = sampler.open(clock())
    return sampler, infos, clock, nvml


def at(sampler, clock, t, full=True):
    clock.now = 1000.0 + t
    return sampler.read(clock.now, full)


def test_static_information_of_an_h200():
    sampler, (info,), _, _ = opened("h200-gemm")
    assert info.name == "NVIDIA H200" and info.cc == (9, 0) and info.minor == 0
    assert info.gpm and info.sm_clock_max_mhz == 1980 and info.power_default_limit_w == 700
    assert info.memory_total_mib == pytest.approx(143771)
    assert sampler.driver == "580.95.05"
    assert not any(f in info.unsupported for f in GPM_FIELDS)


def test_gpm_needs_two_samples_then_gives_every_metric():
    sampler, _, clock, _ = opened("h200-gemm")
    (first,), _, _ = at(sampler, clock, 10)
    assert first.sm_active_pct is None  # one GPM sample: no interval yet
    (second,), processes, _ = at(sampler, clock, 11)
    assert 96 <= second.sm_active_pct <= 99.5 and 68 <= second.tensor_active_pct <= 76
    assert second.sm_occupancy_pct and second.dram_active_pct and second.fp32_active_pct is not None
    assert second.kernel_busy_pct == 100 and second.clock_reasons in (0, 4)
    assert 686 <= second.power_w <= 699 and second.power_limit_w == 700
    assert 1 <= second.pcie_rx_mbs <= 5.5  # GPM's MiB/s, given as MB/s
    assert second.memory_used_mib == pytest.approx(70_520) and second.memory_reserved_mib == pytest.approx(480)
    assert [p.pid for p in processes[0]] == [4100] and processes[0][0].sm_pct == 100


def test_energy_is_counted_from_the_start_and_gives_power_between_full_ticks():
    sampler, _, clock, _ = opened("h200-gemm")
    at(sampler, clock, 5.0)
    (fast,), processes, _ = at(sampler, clock, 5.5, full=False)
    assert processes == {} and fast.memory_used_mib is None and fast.temperature_c is None
    assert 686 <= fast.power_w <= 699  # from the energy counter over the half second
    (later,), _, _ = at(sampler, clock, 10.0)
    assert later.energy_j > fast.energy_j > 0


def test_a_gpu_without_gpm_says_why_and_falls_back_for_the_links():
    sampler, (info,), clock, nvml = opened("a100-no-gpm")
    assert not info.gpm
    for field in GPM_FIELDS:
        assert info.unsupported[field].startswith("n/a on this GPU")
    at(sampler, clock, 5)
    (g,), processes, _ = at(sampler, clock, 6)
    assert g.sm_active_pct is None and g.tensor_active_pct is None
    assert g.kernel_busy_pct == 100 and g.power_w is not None
    assert g.pcie_rx_mbs is not None  # nvmlDeviceGetPcieThroughput
    assert g.nvlink_rx_mbs == pytest.approx(0.0)  # the NVLink throughput counters
    assert {p.pid for p in processes[0]} == {4100, 4242}
    assert nvml.calls.get("nvmlGpmSampleGet", 0) == 0  # never asked again once NOT_SUPPORTED


def test_pcie_from_the_byte_counters():
    data = recording("a100-no-gpm")
    data["gpus"][0]["pcie"] = "counters"
    for tick in data["ticks"]:
        tick["gpus"][0]["pcie_rx_mbs"] = 250.0
    sampler, _, clock, _ = opened(data)
    at(sampler, clock, 5)
    (g,), _, _ = at(sampler, clock, 7)
    assert g.pcie_rx_mbs == pytest.approx(250.0, rel=0.01)


def test_missing_features_are_marked_once_and_never_asked_again():
    data = recording("h200-gemm")
    data["gpus"][0].update(
        clock_reasons=False,
        process_utilization=False,
        ecc=False,
        remapped_rows=False,
        events=False,
        energy=False,
        nvlink=False,
    )
    sampler, (_info,), clock, _ = opened(data)
    at(sampler, clock, 5)
    (g,), processes, _ = at(sampler, clock, 6)
    unsupported = sampler.unsupported()[0]
    assert g.clock_reasons is None and "clock_reasons" in unsupported
    assert g.energy_j is None and unsupported["energy"] == "n/a on this GPU"
    assert g.nvlink_rx_mbs is None and "nvlink_rx_mbs" in unsupported
    assert processes[0][0].sm_pct is None and "process_sm_pct" in unsupported
    assert "ecc_corrected" in unsupported and "remapped_rows" in unsupported
    assert sampler.events_note and "n/a on this GPU" in sampler.events_note


def test_an_xid_is_delivered_once_with_its_gpu_and_code():
    sampler, _, clock, _ = opened("h200-creep-thermal")
    seen = []
    for t in range(95, 110):
        seen += at(sampler, clock, t)[2]
    xids = [e for e in seen if e.kind == "xid"]
    assert [(e.gpu, e.value) for e in xids] == [(0, 94)]


def test_ecc_and_row_remap_counters_become_events():
    sampler, _, clock, _ = opened("h200-creep-thermal")
    kinds = []
    for t in range(110, 140):
        kinds += [(e.kind, e.value) for e in at(sampler, clock, t)[2]]
    assert ("ecc-corrected", 2) in kinds
    assert ("row-remap-pending", 0) in kinds
    assert kinds.count(("row-remap-pending", 0)) == 1  # reported once, not every second


def test_a_lost_gpu_is_an_event_and_stops_the_reads():
    data = recording("h200-gemm")
    for tick in data["ticks"][10:]:
        tick["gpus"][0] = {"lost": True}
    sampler, _, clock, _ = opened(data)
    (_g,), _, events = at(sampler, clock, 12)
    assert [e.kind for e in events] == ["gpu-lost"]
    (g2,), _, events2 = at(sampler, clock, 13)
    assert g2.kernel_busy_pct is None and events2 == []


def test_nvml_that_cannot_start_is_one_message():
    nvml = FakeNvml(recording("h200-gemm"), init_error=NVML_ERROR_DRIVER_NOT_LOADED)
    with pytest.raises(NvmlUnavailable, match="Driver Not Loaded"):
        NvmlSampler(nvml).open(0.0)


def test_asking_for_a_gpu_nvml_does_not_have():
    nvml = FakeNvml(recording("h200-gemm"))
    with pytest.raises(NvmlUnavailable, match="no GPU 3"):
        NvmlSampler(nvml, gpus=(0, 3)).open(0.0)


def test_close_frees_the_gpm_samples_and_the_event_set():
    sampler, _, clock, nvml = opened("h200-gemm")
    at(sampler, clock, 3)
    sampler.close()
    assert nvml.calls["nvmlGpmSampleFree"] == 2
    assert nvml.calls["nvmlEventSetFree"] == 1 and nvml.calls["nvmlShutdown"] == 1
    sampler.close()
    assert nvml.calls["nvmlShutdown"] == 1


def test_an_older_binding_without_a_function_is_not_an_error():
    class OldBinding(FakeNvml):
        def __getattribute__(self, name):
            if name in ("nvmlDeviceGetCurrentClocksEventReasons", "nvmlGpmQueryDeviceSupport"):
                raise AttributeError(name)
            return super().__getattribute__(name)

        def nvmlDeviceGetCurrentClocksThrottleReasons(self, handle):
            return 0x4

    clock = FakeClock()
    sampler = NvmlSampler(OldBinding(recording("h200-gemm"), clock=clock, pids={"job": 1}))
    (info,) = sampler.open(clock())
    assert not info.gpm and info.unsupported["gpm"] == "not in this nvidia-ml-py"
    (g,), _, _ = at(sampler, clock, 5)
    assert g.clock_reasons == 0x4  # the older name answered


def test_a_gpu_nvml_cannot_open_is_one_message_naming_it():
    class Lost(FakeNvml):
        def nvmlDeviceGetHandleByIndex(self, index):
            raise self.NVMLError(self.NVML_ERROR_GPU_IS_LOST)

    with pytest.raises(NvmlUnavailable, match="NVML cannot open GPU 0: GPU is lost"):
        NvmlSampler(Lost(recording("h200-gemm"))).open(0.0)
