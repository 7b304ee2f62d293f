"""A node's GPU topology and what a rank is bound to, for `torchenv preflight`.

Sources: NVML in a child process (_scripts/topology_probe.py, killed at its deadline) for UUIDs,
PCI bus ids, NVLink, the P2P/link matrices, PCIe links, ECC and row remapping; /sys for each GPU's
NUMA node and that node's CPUs (/sys/bus/pci/devices/<bus id>/numa_node,
/sys/devices/system/node/node<N>/cpulist), network interfaces (/sys/class/net) and InfiniBand/RoCE
ports (/sys/class/infiniband); sched_getaffinity for the rank's own CPUs. Every read takes the
filesystem `root`, so tests point it at a fake tree.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from ..model.preflight import GpuTopology, IbPort, NetInterface, NodeTopology, format_cpulist
from .gpu import _nvml_binding_dir
from .runner import Runner
from .system import read_text

TOPOLOGY_SCRIPT = Path(__file__).parent / "_scripts" / "topology_probe.py"


def sysfs_bus_id(nvml_bus_id: str | None) -> str | None:
    """NVML's `00000000:1B:00.0` -> /sys's `0000:1b:00.0`."""
    if not nvml_bus_id:
        return None
    match = re.match(r"^([0-9a-fA-F]+):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$", nvml_bus_id.strip())
    if not match:
        return None
    domain, bus, device, function = match.groups()
    return f"{int(domain, 16):04x}:{bus.lower()}:{device.lower()}.{function}"


def read_numa(root: Path, bus_id: str | None) -> tuple[int | None, str | None]:
    """(NUMA node, its cpulist) of a PCI device; (None, None) when /sys does not say (-1: no NUMA)."""
    if not bus_id:
        return None, None
    raw = read_text(root, f"/sys/bus/pci/devices/{bus_id}/numa_node")
    try:
        node = int(raw.strip()) if raw else -1
    except ValueError:
        node = -1
    if node < 0:
        return None, None
    cpus = read_text(root, f"/sys/devices/system/node/node{node}/cpulist")
    return node, cpus.strip() if cpus else None


def count_numa_nodes(root: Path) -> int | None:
    try:
        names = os.listdir(root / "sys/devices/system/node")
    except OSError:
        return None
    return len([n for n in names if re.fullmatch(r"node\d+", n)]) or None


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _bool(value) -> bool | None:
    return value if isinstance(value, bool) else None


def parse_topology_answer(data: dict, root: Path = Path("/")) -> NodeTopology:
    """The probe's JSON plus /sys's NUMA facts -> NodeTopology (pure but for the /sys reads under root)."""
    gpus = []
    for row in data.get("gpus") or ():
        bus = sysfs_bus_id(row.get("pci_bus_id"))
        node, cpus = read_numa(root, bus)
        gpus.append(
            GpuTopology(
                index=int(row.get("index", len(gpus))),
                name=str(row.get("name") or "unknown GPU"),
                uuid=row.get("uuid"),
                pci_bus_id=bus or row.get("pci_bus_id"),
                numa_node=node,
                numa_cpus=cpus,
                nvlink_active=_int(row.get("nvlink_active")),
                nvlink_links=_int(row.get("nvlink_links")),
                nvlink_version=_int(row.get("nvlink_version")),
                pcie_gen_current=_int(row.get("pcie_gen_current")),
                pcie_gen_max=_int(row.get("pcie_gen_max")),
                pcie_width_current=_int(row.get("pcie_width_current")),
                pcie_width_max=_int(row.get("pcie_width_max")),
                ecc_uncorrected_volatile=_int(row.get("ecc_uncorrected_volatile")),
                ecc_uncorrected_aggregate=_int(row.get("ecc_uncorrected_aggregate")),
                remapped_rows_uncorrectable=_int(row.get("remapped_rows_uncorrectable")),
                remapped_rows_pending=_bool(row.get("remapped_rows_pending")),
                remapped_rows_failure=_bool(row.get("remapped_rows_failure")),
                retired_pages_pending=_bool(row.get("retired_pages_pending")),
                power_limit_w=_float(row.get("power_limit_w")),
                default_power_limit_w=_float(row.get("default_power_limit_w")),
                max_sm_clock_mhz=_int(row.get("max_sm_clock_mhz")),
            )
        )
    matrix = lambda key: tuple(tuple(str(w) for w in row) for row in data.get(key) or ())  # noqa: E731
    return NodeTopology(
        gpus=tuple(gpus),
        p2p=matrix("p2p"),
        link=matrix("link"),
        numa_nodes=count_numa_nodes(root),
        error=data.get("error"),
    )


def read_topology(
    runner: Runner,
    timeout: float,
    *,
    root: Path = Path("/"),
    python: str = sys.executable,
    env: Mapping[str, str] | None = None,
    nvml_dir: str | None = None,
) -> NodeTopology:
    """`nvml_dir`: the folder holding pynvml (default: where this interpreter finds nvidia-ml-py)."""
    argv = [python, "-S", "-E", str(TOPOLOGY_SCRIPT)]
    binding = nvml_dir or _nvml_binding_dir()
    if binding:
        argv.append(binding)
    result = runner.run(argv, timeout, env=env)
    if not result.ok:
        return NodeTopology((), (), (), count_numa_nodes(root), f"topology probe failed: {result.describe_failure()}")
    try:
        data = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return NodeTopology((), (), (), count_numa_nodes(root), "topology probe printed no JSON")
    if not isinstance(data, dict):
        return NodeTopology((), (), (), count_numa_nodes(root), "topology probe printed no JSON object")
    return parse_topology_answer(data, root)


# --- network -----------------------------------------------------------------------------------------------


def read_interfaces(root: Path = Path("/")) -> tuple[NetInterface, ...] | None:
    base = root / "sys/class/net"
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return None
    found = []
    for name in names:
        state = (read_text(root, f"/sys/class/net/{name}/operstate") or "unknown").strip() or "unknown"
        speed_text = read_text(root, f"/sys/class/net/{name}/speed")  # EINVAL on a down or virtual link
        try:
            speed = int(speed_text.strip()) if speed_text else None
        except ValueError:
            speed = None
        try:
            virtual = "/devices/virtual/" in os.path.realpath(base / name)
        except OSError:
            virtual = False
        found.append(NetInterface(name, state, speed if speed and speed > 0 else None, virtual or name == "lo"))
    return tuple(found)


def parse_ib_rate(text: str | None) -> float | None:
    """`200 Gb/sec (4X HDR)` -> 200.0."""
    match = re.match(r"^\s*(\d+(?:\.\d+)?)\s*Gb/sec", text or "")
    return float(match.group(1)) if match else None


def read_ib_ports(root: Path = Path("/")) -> tuple[IbPort, ...]:
    base = root / "sys/class/infiniband"
    try:
        devices = sorted(os.listdir(base))
    except OSError:
        return ()
    ports = []
    for device in devices:
        try:
            numbers = sorted(os.listdir(base / device / "ports"), key=lambda p: int(p) if p.isdigit() else 0)
        except OSError:
            continue
        for number in numbers:
            prefix = f"/sys/class/infiniband/{device}/ports/{number}"
            state = (read_text(root, prefix + "/state") or "").strip()
            ports.append(
                IbPort(
                    device=device,
                    port=int(number) if number.isdigit() else 0,
                    state=state.split(":", 1)[-1].strip() if state else "unknown",
                    rate_gbits=parse_ib_rate(read_text(root, prefix + "/rate")),
                    link_layer=(read_text(root, prefix + "/link_layer") or "unknown").strip(),
                )
            )
    return tuple(ports)


def read_cpu_affinity() -> str:
    """The CPUs this process may run on, as a cpulist."""
    try:
        return format_cpulist(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
        return format_cpulist(range(count))


__all__ = [
    "parse_ib_rate",
    "parse_topology_answer",
    "read_cpu_affinity",
    "read_ib_ports",
    "read_interfaces",
    "read_topology",
    "sysfs_bus_id",
]
