"""Helpers for the preflight tests: ranks, nodes and sweeps built from real facts (the H100 capture in
tests/fixtures/h100-torchenv) and from recorded sweeps (tests/preflight/fixtures)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from torchenv.model import Facts, Unknown
from torchenv.model.codec import from_json
from torchenv.model.preflight import (
    Binding,
    GemmResult,
    GpuTopology,
    IbPort,
    NetInterface,
    NodeTopology,
    RankData,
    RankPlace,
    SweepPoint,
)
from torchenv.preflight import bandwidth
from torchenv.snapshots.build import snapshot_from_facts

TESTS = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
WHEN = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
H100 = "NVIDIA H100 80GB HBM3"


def h100_facts() -> Facts:
    data = json.loads((TESTS / "fixtures" / "h100-torchenv" / "doctor.json").read_text())
    return from_json(Facts, data["facts"])


def h100_snapshot():
    return snapshot_from_facts(h100_facts(), created=WHEN, torchenv_version="0.1.0")


def snapshot_with_gpus(n: int):
    """The H100 capture's snapshot on a machine with `n` of its GPUs."""
    snapshot = h100_snapshot()
    return replace(snapshot, gpus=tuple(replace(snapshot.gpus[0], index=i) for i in range(n)))


def uuid(node: int, index: int) -> str:
    return f"GPU-{node:04x}{index:04x}-0000-0000-0000-000000000000"


def gpu(index: int, *, node: int = 0, name: str = H100, numa_node: int | None = None, **fields) -> GpuTopology:
    numa = numa_node if numa_node is not None else index // 4
    values = dict(
        index=index,
        name=name,
        uuid=uuid(node, index),
        pci_bus_id=f"0000:{0x18 + index:02x}:00.0",
        numa_node=numa,
        numa_cpus="0-47" if numa == 0 else "48-95",
        nvlink_active=18,
        nvlink_links=18,
        nvlink_version=6,
        pcie_gen_current=5,
        pcie_gen_max=5,
        pcie_width_current=16,
        pcie_width_max=16,
        ecc_uncorrected_volatile=0,
        remapped_rows_pending=False,
        remapped_rows_failure=False,
        retired_pages_pending=False,
    )
    values.update(fields)
    return GpuTopology(**values)


def topology(gpus: int = 8, *, node: int = 0, link: str = "NV", p2p: str = "ok", numa_nodes: int = 2, **fields) -> NodeTopology:
    rows = tuple(gpu(i, node=node, **fields) for i in range(gpus))
    words = lambda same, other: tuple(tuple(same if i == j else other for j in range(gpus)) for i in range(gpus))  # noqa: E731
    return NodeTopology(gpus=rows, p2p=words("self", p2p), link=words("X", link), numa_nodes=numa_nodes)


ETH = (NetInterface("lo", "unknown", None, True), NetInterface("ens5", "up", 100000, False))


def rank_data(
    rank: int,
    *,
    node: int = 0,
    per_node: int = 8,
    host: str | None = None,
    snapshot=None,
    environment: dict[str, str] | None = None,
    shm: int = 16 << 30,
    interfaces=ETH,
    ib_ports=(),
    node_topology: NodeTopology | None = None,
    gemm: tuple[GemmResult, ...] = (),
    device: str | None = None,
    gpu_uuid: str | None = "auto",
    gpu_name: str | None = H100,
    affinity: str | None = None,
    cpu_count: int = 96,
) -> RankData:
    local = rank % per_node
    cpu = device == "cpu"
    return RankData(
        place=RankPlace(rank, local, node, host or f"node{node}", 1000 + rank, per_node),
        snapshot=snapshot if snapshot is not None else h100_snapshot(),
        binding=Binding(
            device=device or f"cuda:{local}",
            gpu_index=None if cpu else local,
            gpu_uuid=None if cpu else (uuid(node, local) if gpu_uuid == "auto" else gpu_uuid),
            gpu_name=None if cpu else gpu_name,
            gpu_count=None if cpu else per_node,
            cpu_affinity=affinity or ("0-47" if local < 4 else "48-95"),
            cpu_count=cpu_count,
        ),
        shm_bytes=shm,
        environment=dict(environment or {"OMP_NUM_THREADS": "1"}),
        interfaces=interfaces,
        ib_ports=ib_ports,
        topology=node_topology if local == 0 else None,
        gemm=gemm,
    )


def cluster(nodes: int = 1, per_node: int = 8, *, topo=None, **kwargs) -> list[RankData]:
    """Ranks of `nodes` nodes with `per_node` GPUs each; each node's local rank 0 carries its topology."""
    ranks = []
    for node in range(nodes):
        node_topo = topo(node) if callable(topo) else (topo if topo is not None else topology(per_node, node=node))
        kwargs.setdefault("snapshot", snapshot_with_gpus(per_node))
        for local in range(per_node):
            ranks.append(rank_data(node * per_node + local, node=node, per_node=per_node, node_topology=node_topo, **kwargs))
    return ranks


def ib(rate: float, count: int = 1, state: str = "ACTIVE") -> tuple[IbPort, ...]:
    return tuple(IbPort(f"mlx5_{i}", 1, state, rate, "InfiniBand") for i in range(count))


def point(collective: str, size: int, busbw: float, ranks: int) -> SweepPoint:
    """A sweep point with the busbw given (time derived back through nccl-tests' formula)."""
    factor = bandwidth.bus_factor(collective, ranks)
    seconds = size / (busbw / factor) / 1e9
    return bandwidth.sweep_point(collective, size, 20, [seconds] * ranks)


def recorded(name: str) -> tuple[dict, list[SweepPoint]]:
    """A recorded sweep: (its metadata, its points as the worker's rank 0 combines them)."""
    data = json.loads((FIXTURES / name).read_text())
    points = [
        replace(
            bandwidth.sweep_point(c, int(size), int(iters), [float(seconds)] * data["world_size"]),
            max_seconds=float(slowest),
        )
        for c, size, iters, seconds, slowest in data["points"]
    ]
    return data, points


def gemm_ok(dtype: str = "bf16", tflops: float = 700.0, **fields) -> GemmResult:
    values = dict(
        dtype=dtype,
        n=8192,
        status="ok",
        tflops=tflops,
        samples=20,
        seconds=2.0,
        check_n=1024,
        rel_error=2e-3 if dtype == "bf16" else 1e-6,
        tolerance=2e-2 if dtype == "bf16" else 1e-4,
        checksum="00000000deadbeef",
        repeat_equal=True,
        observed={"sm_clock_mhz": 1980, "max_sm_clock_mhz": 1980, "clock_reasons": 0, "pcie_gen": 5, "pcie_gen_max": 5},
    )
    values.update(fields)
    return GemmResult(**values)


__all__ = ["Unknown"]
