"""The edges the preflight reads through, on fakes: the topology probe script with a fake nvidia-ml-py,
/sys trees (NUMA, network interfaces, InfiniBand ports), CPU lists, torchrun's variables and the
test-only hooks."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from torchenv.model.preflight import format_cpulist, parse_cpulist, size_text
from torchenv.preflight.hooks import TestHooks, choose_gpu, node_of, parse_hooks, read_launch
from torchenv.probes.runner import Runner
from torchenv.probes.topology import (
    parse_ib_rate,
    read_cpu_affinity,
    read_ib_ports,
    read_interfaces,
    read_topology,
    sysfs_bus_id,
)

FAKE_NVML = textwrap.dedent(
    """
    NVML_NVLINK_MAX_LINKS = 4
    NVML_P2P_CAPS_INDEX_READ = (0,)  # as some nvidia-ml-py releases define it
    NVML_P2P_CAPS_INDEX_NVLINK = 2
    NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1
    NVML_VOLATILE_ECC = 0
    NVML_AGGREGATE_ECC = 1
    NVML_CLOCK_SM = 1

    class Pci:
        def __init__(self, bus):
            self.busId = bus

    def nvmlInit(): pass
    def nvmlShutdown(): pass
    def nvmlDeviceGetCount(): return 3
    def nvmlDeviceGetHandleByIndex(i): return i
    def nvmlDeviceGetName(h): return b"NVIDIA H100 80GB HBM3"
    def nvmlDeviceGetUUID(h): return "GPU-%d" % h
    def nvmlDeviceGetPciInfo(h): return Pci(("00000000:%02X:00.0" % (0x1B + h)).encode())
    def nvmlDeviceGetNvLinkState(h, link):
        if h == 2:
            raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")  # a GPU without NVLink
        return 0 if (h == 1 and link == 3) else 1
    def nvmlDeviceGetNvLinkVersion(h, link): return 6
    def nvmlDeviceGetCurrPcieLinkGeneration(h): return 5
    def nvmlDeviceGetMaxPcieLinkGeneration(h): return 5
    def nvmlDeviceGetCurrPcieLinkWidth(h): return 8 if h == 2 else 16
    def nvmlDeviceGetMaxPcieLinkWidth(h): return 16
    def nvmlDeviceGetRemappedRows(h): return (0, 2, 1, 0) if h == 1 else (0, 0, 0, 0)
    def nvmlDeviceGetTotalEccErrors(h, kind, counter): return 4 if (h == 1 and counter == 1) else 0
    def nvmlDeviceGetRetiredPagesPendingStatus(h): raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")
    def nvmlDeviceGetEnforcedPowerLimit(h): return 700000
    def nvmlDeviceGetPowerManagementDefaultLimit(h): return 700000
    def nvmlDeviceGetMaxClockInfo(h, clock): return 1980
    def nvmlDeviceGetP2PStatus(a, b, index):
        if index == 2:
            return 0 if 2 not in (a, b) else 5
        return 0 if 2 not in (a, b) else 1
    def nvmlDeviceGetTopologyCommonAncestor(a, b): return 50
    """
)


def _sys_tree(root: Path) -> None:
    for name, numa in (("0000:1b:00.0", "0"), ("0000:1c:00.0", "1"), ("0000:1d:00.0", "-1")):
        folder = root / "sys/bus/pci/devices" / name
        folder.mkdir(parents=True)
        (folder / "numa_node").write_text(numa + "\n")
    for node, cpus in (("node0", "0-47,96-143"), ("node1", "48-95,144-191")):
        folder = root / "sys/devices/system/node" / node
        folder.mkdir(parents=True)
        (folder / "cpulist").write_text(cpus + "\n")


def test_topology_probe_with_a_fake_nvml(tmp_path):
    (tmp_path / "nvml").mkdir()
    (tmp_path / "nvml" / "pynvml.py").write_text(FAKE_NVML)
    _sys_tree(tmp_path / "root")
    topo = read_topology(Runner(), 20.0, root=tmp_path / "root", nvml_dir=str(tmp_path / "nvml"))
    assert topo.error is None and topo.numa_nodes == 2
    a, b, c = topo.gpus
    assert (a.uuid, a.pci_bus_id, a.numa_node, a.numa_cpus) == ("GPU-0", "0000:1b:00.0", 0, "0-47,96-143")
    assert (b.numa_node, b.numa_cpus, c.numa_node, c.numa_cpus) == (1, "48-95,144-191", None, None)
    assert (a.nvlink_active, a.nvlink_links, a.nvlink_version) == (4, 4, 6)
    assert (b.nvlink_active, c.nvlink_active, c.nvlink_links) == (3, None, None)
    assert (b.remapped_rows_uncorrectable, b.remapped_rows_pending, b.ecc_uncorrected_aggregate) == (2, True, 4)
    assert (c.pcie_width_current, c.retired_pages_pending, a.power_limit_w, a.max_sm_clock_mhz) == (8, None, 700.0, 1980)
    assert topo.link == (("X", "NV", "SYS"), ("NV", "X", "SYS"), ("SYS", "SYS", "X"))
    assert topo.p2p[0] == ("self", "ok", "chipset not supported")


@pytest.mark.parametrize(
    ("module", "error"),
    [
        ("raise ImportError(\"No module named 'pynvml'\", name='pynvml')\n", "nvidia-ml-py is not installed"),
        ("class NVMLError(Exception): pass\ndef nvmlInit():\n    raise NVMLError('Driver Not Loaded')\n", "Driver Not Loaded"),
        ("import time\ndef nvmlInit():\n    time.sleep(60)\n", "did not answer within"),
    ],
)
def test_topology_probe_failures_come_back_as_data(tmp_path, module, error):
    (tmp_path / "pynvml.py").write_text(module)
    topo = read_topology(Runner(), 2.0, root=tmp_path, nvml_dir=str(tmp_path))
    assert topo.gpus == () and error in topo.error


@pytest.mark.parametrize(
    ("nvml", "sysfs"),
    [("00000000:1B:00.0", "0000:1b:00.0"), ("0000:AF:00.0", "0000:af:00.0"), ("00000001:03:00.1", "0001:03:00.1"), ("bogus", None), (None, None)],
)
def test_sysfs_bus_id(nvml, sysfs):
    assert sysfs_bus_id(nvml) == sysfs


def test_network_interfaces_and_infiniband_ports_from_sys(tmp_path):
    net = tmp_path / "sys/class/net"
    virtual = tmp_path / "sys/devices/virtual/net/docker0"
    physical = tmp_path / "sys/devices/pci0000:00/net/ens5"
    for folder, state, speed in ((virtual, "down", None), (physical, "up", "100000")):
        folder.mkdir(parents=True)
        (folder / "operstate").write_text(state + "\n")
        if speed:
            (folder / "speed").write_text(speed + "\n")
    net.mkdir(parents=True)
    os.symlink(virtual, net / "docker0")
    os.symlink(physical, net / "ens5")
    port = tmp_path / "sys/class/infiniband/mlx5_0/ports/1"
    port.mkdir(parents=True)
    (port / "state").write_text("4: ACTIVE\n")
    (port / "rate").write_text("400 Gb/sec (4X NDR)\n")
    (port / "link_layer").write_text("InfiniBand\n")
    interfaces = read_interfaces(tmp_path)
    assert [(i.name, i.state, i.speed_mbps, i.virtual) for i in interfaces] == [("docker0", "down", None, True), ("ens5", "up", 100000, False)]
    [ib] = read_ib_ports(tmp_path)
    assert (ib.device, ib.port, ib.state, ib.rate_gbits, ib.link_layer) == ("mlx5_0", 1, "ACTIVE", 400.0, "InfiniBand")
    assert read_interfaces(tmp_path / "nothing") is None and read_ib_ports(tmp_path / "nothing") == ()


@pytest.mark.parametrize(("text", "rate"), [("200 Gb/sec (4X HDR)", 200.0), ("25 Gb/sec (1X EDR)", 25.0), ("", None), (None, None)])
def test_parse_ib_rate(text, rate):
    assert parse_ib_rate(text) == rate


@pytest.mark.parametrize(
    ("text", "cpus"),
    [("0-3", {0, 1, 2, 3}), ("0-3,8,10-11", {0, 1, 2, 3, 8, 10, 11}), ("5", {5}), ("", set()), ("0-47,96-143\n", set(range(48)) | set(range(96, 144)))],
)
def test_cpulists_round_trip(text, cpus):
    assert parse_cpulist(text) == cpus
    assert parse_cpulist(format_cpulist(cpus)) == cpus


@pytest.mark.parametrize("text", ["a-b", "3-1", "x"])
def test_bad_cpulists_are_refused(text):
    with pytest.raises(ValueError):
        parse_cpulist(text)


def test_this_process_affinity_is_a_cpulist():
    assert parse_cpulist(read_cpu_affinity()) == set(os.sched_getaffinity(0))


@pytest.mark.parametrize(("size", "text"), [(1 << 20, "1 MiB"), (4 << 30, "4 GiB"), (3 << 19, "1.5 MiB"), (512, "512 B")])
def test_size_text(size, text):
    assert size_text(size) == text


# --- torchrun's variables and the hooks --------------------------------------------------------------------


TORCHRUN = {"RANK": "5", "WORLD_SIZE": "16", "LOCAL_RANK": "5", "LOCAL_WORLD_SIZE": "8", "GROUP_RANK": "0", "MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "29500", "TORCHELASTIC_USE_AGENT_STORE": "True", "TORCHELASTIC_RUN_ID": "abc", "TORCHELASTIC_RESTART_COUNT": "2"}


def test_read_launch_under_torchrun():
    launch = read_launch(TORCHRUN, pid=42, host="h")
    assert (launch.place.rank, launch.place.local_rank, launch.place.node, launch.place.local_world_size) == (5, 5, 0, 8)
    assert (launch.world_size, launch.master_addr, launch.master_port, launch.agent_store, launch.run_id, launch.restart) == (16, "10.0.0.1", 29500, True, "abc", 2)


def test_read_launch_alone_is_a_world_of_one():
    launch = read_launch({}, pid=42, host="h")
    assert (launch.world_size, launch.place.rank, launch.master_addr) == (1, 0, None)


@pytest.mark.parametrize(
    "changes",
    [{"RANK": "x"}, {"RANK": "16"}, {"LOCAL_RANK": "9"}, {"MASTER_ADDR": ""}, {"WORLD_SIZE": "0"}],
)
def test_read_launch_refuses_malformed_variables(changes):
    with pytest.raises(ValueError):
        read_launch({**TORCHRUN, **changes}, pid=1, host="h")


@pytest.mark.parametrize(
    ("local_rank", "visible", "index", "problem"),
    [(3, 8, 3, False), (0, 1, 0, False), (5, 1, 0, False), (9, 8, 1, True), (0, 0, None, False)],
)
def test_choose_gpu(local_rank, visible, index, problem):
    chosen, why = choose_gpu(local_rank, visible)
    assert chosen == index and bool(why) == problem


@pytest.mark.parametrize(("rank", "local", "node"), [(0, 8, 0), (7, 8, 0), (8, 8, 1), (13, 4, 3), (3, 0, None)])
def test_node_of(rank, local, node):
    assert node_of(rank, local) == node


def test_hooks_are_off_without_the_variable():
    assert parse_hooks({}) == TestHooks()
    assert not parse_hooks({}).active


def test_hooks_parse():
    hooks = parse_hooks(
        {"TORCHENV_PREFLIGHT_TEST": '{"absent": [1], "env": {"1": {"NCCL_ALGO": "Tree"}}, "nccl_version": {"1": "2.99.9"}, "shm_bytes": {"0": 67108864}, "gemm_corrupt": [3], "absent_seconds": 5}'}
    )
    assert hooks.active and hooks.absent == {1} and hooks.absent_seconds == 5.0
    assert hooks.env == {1: {"NCCL_ALGO": "Tree"}} and hooks.nccl_version == {1: "2.99.9"}
    assert hooks.shm_bytes == {0: 64 << 20} and hooks.gemm_corrupt == {3}


@pytest.mark.parametrize("text", ["not json", "[1]", '{"absent": [1], "typo": 1}', '{"env": [1]}'])
def test_malformed_hooks_are_refused(text):
    with pytest.raises(ValueError):
        parse_hooks({"TORCHENV_PREFLIGHT_TEST": text})
