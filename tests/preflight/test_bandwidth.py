"""Pure bandwidth logic: nccl-tests' bus-bandwidth formulas, sizes, the round-robin pairs, the fabric
and its expectation, and the verdict on recorded sweeps."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from preflight_helpers import cluster, gpu, ib, point, rank_data, recorded, topology

from torchenv.knowledge import load_knowledge
from torchenv.knowledge.fabrics import load_fabrics
from torchenv.model import Severity
from torchenv.model.preflight import NetInterface, NodeTopology, PairResult
from torchenv.preflight import bandwidth
from torchenv.preflight.judge import architecture_from
from torchenv.preflight.links import check_bandwidth, check_pairs

KNOWLEDGE = load_knowledge()
FABRICS = load_fabrics()
ARCH = architecture_from(KNOWLEDGE)
GiB = 1 << 30


@pytest.mark.parametrize(
    ("collective", "ranks", "factor"),
    [
        ("all_reduce", 1, 0.0),
        ("all_reduce", 2, 1.0),
        ("all_reduce", 4, 1.5),
        ("all_reduce", 8, 1.75),
        ("all_gather", 2, 0.5),
        ("all_gather", 8, 0.875),
        ("reduce_scatter", 8, 0.875),
        ("alltoall", 4, 0.75),
        ("broadcast", 8, 1.0),
        ("reduce", 8, 1.0),
        ("sendrecv", 2, 1.0),
    ],
)
def test_bus_factor_is_nccl_tests_formula(collective, ranks, factor):
    assert bandwidth.bus_factor(collective, ranks) == pytest.approx(factor)


@pytest.mark.parametrize(("collective", "ranks"), [("gather_everything", 2), ("all_reduce", 0)])
def test_bus_factor_refuses_what_it_does_not_know(collective, ranks):
    with pytest.raises(ValueError):
        bandwidth.bus_factor(collective, ranks)


def test_sweep_point_averages_ranks_like_nccl_tests_and_keeps_the_slowest():
    p = bandwidth.sweep_point("all_reduce", 4 * GiB, 20, [0.010, 0.012, 0.011, 0.011])
    assert p.seconds == pytest.approx(0.011)
    assert p.max_seconds == pytest.approx(0.012)
    assert p.algbw_gbs == pytest.approx(4 * GiB / 0.011 / 1e9)
    assert p.busbw_gbs == pytest.approx(p.algbw_gbs * 2 * 3 / 4)


@pytest.mark.parametrize("times", [[], [0.1, 0.0], [-1.0]])
def test_sweep_point_needs_a_positive_time_from_every_rank(times):
    with pytest.raises(ValueError):
        bandwidth.sweep_point("all_reduce", 1024, 1, times)


@pytest.mark.parametrize(
    ("text", "size"),
    [("1M", 1 << 20), ("256m", 256 << 20), ("4G", 4 << 30), ("4GiB", 4 << 30), ("512K", 512 << 10), ("1048576", 1 << 20), ("1.5M", 3 << 19)],
)
def test_parse_size(text, size):
    assert bandwidth.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "G", "1X", "-1M", "0", "0.5"])
def test_parse_size_refuses(text):
    with pytest.raises(ValueError):
        bandwidth.parse_size(text)


def test_parse_sizes_sorts_and_deduplicates():
    assert bandwidth.parse_sizes("4G,1M,1M, 64M") == (1 << 20, 64 << 20, 4 << 30)


@pytest.mark.parametrize(
    ("free", "cap", "expected"),
    [
        (None, None, bandwidth.GPU_SIZES),
        (80 * GiB, None, bandwidth.GPU_SIZES),  # 4 GiB ≤ 80/3
        (6 * GiB, None, bandwidth.GPU_SIZES[:-1]),  # 4 GiB would not fit beside the gather's input
        (6 * GiB, 64 << 20, bandwidth.GPU_SIZES[:4]),
    ],
)
def test_fit_sizes(free, cap, expected):
    assert bandwidth.fit_sizes(bandwidth.GPU_SIZES, free_bytes=free, max_bytes=cap) == expected


def test_iterations_depend_on_the_size_alone_so_every_rank_runs_the_same_collectives():
    assert bandwidth.iterations_for(1 << 20, "cuda") == (5, 20)  # nccl-tests' defaults
    assert bandwidth.iterations_for(4 * GiB, "cuda") == (2, 10)
    assert bandwidth.iterations_for(4 * GiB, "cpu") == (1, 4)


@pytest.mark.parametrize("n", range(2, 10))
def test_round_robin_meets_every_pair_once_in_disjoint_rounds(n):
    rounds = bandwidth.round_robin(n)
    assert len(rounds) == (n - 1 if n % 2 == 0 else n)
    met = [pair for r in rounds for pair in r]
    assert sorted(met) == sorted(itertools.combinations(range(n), 2))
    for r in rounds:
        ranks = [x for pair in r for x in pair]
        assert len(ranks) == len(set(ranks))


def test_round_robin_of_one_rank_is_empty():
    assert bandwidth.round_robin(1) == []


def _pairs(n: int, slow: dict[tuple[int, int], float], *, base: float = 150.0, cross=lambda a, b: False):
    return [PairResult(a, b, 256 << 20, 0.001, slow.get((a, b), base), cross(a, b)) for a, b in itertools.combinations(range(n), 2)]


@pytest.mark.parametrize(
    ("slow", "suspects"),
    [
        ({}, []),
        ({(2, 5): 40.0}, []),  # one bad link: no rank to blame
        ({(0, 5): 40.0, (1, 5): 40.0, (2, 5): 40.0, (3, 5): 40.0, (4, 5): 40.0, (5, 6): 40.0, (5, 7): 40.0}, [5]),
        ({(0, 5): 40.0, (1, 5): 40.0, (2, 5): 40.0, (3, 5): 40.0}, [5]),  # in 4 of its 7 pairs
        ({(0, 5): 40.0, (1, 5): 40.0}, []),  # 2 of 7: not enough
    ],
)
def test_slow_pairs_and_suspects(slow, suspects):
    pairs = _pairs(8, slow)
    found, counts = bandwidth.slow_pairs(pairs)
    assert sorted((p.a, p.b) for p, _ in found) == sorted(slow)
    assert sum(counts.values()) == 2 * len(slow)
    assert bandwidth.suspects(pairs) == suspects


def test_pairs_across_nodes_are_compared_with_pairs_across_nodes():
    # ranks 0-3 on node 0, 4-7 on node 1: cross-node pairs at 24 GB/s are normal, not slow
    cross = lambda a, b: (a < 4) != (b < 4)  # noqa: E731
    pairs = [replace(p, gbs=24.0 if p.cross_node else 150.0) for p in _pairs(8, {}, cross=cross)]
    assert bandwidth.slow_pairs(pairs)[0] == []
    pairs = [replace(p, gbs=5.0) if p.cross_node and 7 in (p.a, p.b) else p for p in pairs]
    assert bandwidth.suspects(pairs) == [7]


# --- the fabric -------------------------------------------------------------------------------------


def test_nvlink4_with_nvls_off_expects_370():
    fabric = bandwidth.fabric_of(cluster(1, 8), world_size=8, backend="nccl", fabrics=FABRICS, architecture_of=ARCH)
    assert (fabric.kind, fabric.expected_busbw_gbs, fabric.row) == ("nvlink", 370.0, "nvlink4-ring")
    assert "NVLink 4, 18 links per GPU, NVLS off, 8 GPUs" in fabric.detail
    assert "nccl-tests/issues/212" in fabric.source


def test_nvls_counts_only_when_asked_for():
    ranks = cluster(1, 8, environment={"NCCL_NVLS_ENABLE": "1"})
    fabric = bandwidth.fabric_of(ranks, world_size=8, backend="nccl", fabrics=FABRICS, architecture_of=ARCH)
    assert (fabric.expected_busbw_gbs, fabric.row) == (480.0, "nvlink4-nvls")
    four = cluster(1, 4, environment={"NCCL_NVLS_ENABLE": "1"})  # the NVLS figure is for 8 GPUs
    assert bandwidth.fabric_of(four, world_size=4, backend="nccl", fabrics=FABRICS, architecture_of=ARCH).row == "nvlink4-ring"


def test_fewer_active_nvlinks_scale_the_expectation_down():
    ranks = cluster(1, 2, topo=topology(2, nvlink_active=12))
    fabric = bandwidth.fabric_of(ranks, world_size=2, backend="nccl", fabrics=FABRICS, architecture_of=ARCH)
    assert fabric.expected_busbw_gbs == pytest.approx(370.0 * 12 / 18, abs=0.1)


@pytest.mark.parametrize(
    ("gpus", "gen", "expected", "row"),
    [(8, 5, 28.0, "pcie5-8gpu"), (4, 5, 35.0, "pcie5-4gpu"), (4, 4, 20.0, "pcie4"), (2, 3, 10.0, "pcie3")],
)
def test_pcie_fabric(gpus, gen, expected, row):
    topo = topology(gpus, link="SYS", name="NVIDIA GeForce RTX 5090", nvlink_active=None, nvlink_links=None, pcie_gen_max=gen)
    ranks = cluster(1, gpus, topo=topo, gpu_name="NVIDIA GeForce RTX 5090")
    fabric = bandwidth.fabric_of(ranks, world_size=gpus, backend="nccl", fabrics=FABRICS, architecture_of=ARCH)
    assert (fabric.kind, fabric.expected_busbw_gbs, fabric.row) == ("pcie", expected, row)


@pytest.mark.parametrize(
    ("ranks", "world", "backend", "kind", "why"),
    [
        (cluster(1, 1), 1, "nccl", "single", "one rank"),
        (cluster(1, 2, device="cpu"), 2, "gloo", "host", "gloo"),
        (cluster(1, 2, topo=NodeTopology((), (), (), 2, "NVML: Driver Not Loaded")), 2, "nccl", "unknown", "NVML"),
        (cluster(1, 2, topo=topology(2, link="NV", name="NVIDIA GeForce RTX 2080 Ti"), gpu_name="NVIDIA GeForce RTX 2080 Ti"), 2, "nccl", "nvlink", "no NVLink generation"),
    ],
)
def test_fabrics_that_are_not_judged_say_why(ranks, world, backend, kind, why):
    fabric = bandwidth.fabric_of(ranks, world_size=world, backend=backend, fabrics=FABRICS, architecture_of=ARCH)
    assert fabric.kind == kind
    assert fabric.expected_busbw_gbs is None
    assert why in fabric.why_unjudged


def test_a_mix_of_nvlink_and_pcie_pairs_is_not_judged():
    topo = topology(4)
    link = tuple(tuple("X" if i == j else ("NV" if i // 2 == j // 2 else "SYS") for j in range(4)) for i in range(4))
    ranks = cluster(1, 4, topo=replace(topo, link=link))
    fabric = bandwidth.fabric_of(ranks, world_size=4, backend="nccl", fabrics=FABRICS, architecture_of=ARCH)
    assert fabric.kind == "mixed" and fabric.expected_busbw_gbs is None


@pytest.mark.parametrize(
    ("ports", "interfaces", "expected", "row"),
    [
        (ib(200.0, 1), (), 24.0, "rdma-per-nic"),  # nccl#412: ~24 GB/s per 200 Gb/s HDR NIC
        (ib(400.0, 1), (), 48.0, "rdma-per-nic"),  # nccl-tests#290: 46-48 per NDR NIC
        (ib(400.0, 8), (), 370.0, "rdma-per-nic"),  # 8 NICs give more than NVLink inside: capped by it
        (ib(200.0, 2, state="DOWN"), (NetInterface("ens5", "up", 100000, False),), 9.0, "sockets-per-nic"),
    ],
)
def test_across_nodes_the_nics_decide(ports, interfaces, expected, row):
    ranks = cluster(2, 8, ib_ports=ports, interfaces=interfaces)
    fabric = bandwidth.fabric_of(ranks, world_size=16, backend="nccl", fabrics=FABRICS, architecture_of=ARCH)
    assert (fabric.kind, fabric.expected_busbw_gbs, fabric.row) == ("network", expected, row)


def test_across_nodes_without_a_nic_speed_is_not_judged():
    ranks = cluster(2, 8, ib_ports=(), interfaces=(NetInterface("ens5", "up", None, False),))
    fabric = bandwidth.fabric_of(ranks, world_size=16, backend="nccl", fabrics=FABRICS, architecture_of=ARCH)
    assert fabric.expected_busbw_gbs is None and "NIC speed" in fabric.why_unjudged


# --- the verdict on recorded and published sweeps ----------------------------------------------------------


def test_recorded_2x_h200_sweep_is_ready():
    meta, sweep = recorded("h200x2-nvlink-2026-11-22.json")
    assert sweep[-1].busbw_gbs == pytest.approx(343.8, abs=0.1)  # the formula gives back the published figure
    assert sweep[0].busbw_gbs == pytest.approx(43.9, abs=0.1)
    ranks = cluster(1, 2, topo=topology(2, name=meta["gpu"]), gpu_name=meta["gpu"], environment={"NCCL_NVLS_ENABLE": "0"})
    fabric = bandwidth.fabric_of(ranks, world_size=2, backend="nccl", fabrics=FABRICS, architecture_of=ARCH)
    [finding] = check_bandwidth(sweep, fabric)
    assert finding.id == "bus-bandwidth" and finding.severity is Severity.INFO
    assert "93% of the 370 GB/s expected" in finding.title


def test_recorded_gloo_sweep_is_reported_not_judged():
    meta, sweep = recorded("gloo-4-ranks-cpu.json")
    for p in sweep:
        assert p.busbw_gbs == pytest.approx(p.algbw_gbs * bandwidth.bus_factor(p.collective, meta["world_size"]))
    ranks = cluster(1, 4, device="cpu")
    fabric = bandwidth.fabric_of(ranks, world_size=4, backend="gloo", fabrics=FABRICS, architecture_of=ARCH)
    [finding] = check_bandwidth(sweep, fabric)
    assert finding.severity is Severity.INFO and "not judged" in finding.title


# Published peak all-reduce busbw figures (each row: where it was published) and the verdict they get.
PUBLISHED = [
    # 8× A100 80GB in an HPE Apollo 6500, ~200 GB/s (nccl-tests#149): 87% of 230
    ("A100 ~200", cluster(1, 8, topo=topology(8, name="NVIDIA A100-SXM4-80GB", nvlink_active=12, nvlink_links=12), gpu_name="NVIDIA A100-SXM4-80GB"), 200.0, Severity.INFO, "bus-bandwidth"),
    # 8× H100 at 250 GB/s "algbw" as asked about in nccl-tests#212 (busbw 437): fine
    ("H100 algbw 250", cluster(1, 8), 250.0 * 1.75, Severity.INFO, "bus-bandwidth"),
    # 8× RTX 5090 on PCIe 5: 28 GB/s (nccl#1639), the maintainer's "impressed": ready
    ("5090 28", cluster(1, 8, topo=topology(8, link="SYS", name="NVIDIA GeForce RTX 5090", nvlink_active=None, nvlink_links=None), gpu_name="NVIDIA GeForce RTX 5090"), 28.0, Severity.INFO, "bus-bandwidth"),
    # 8× H100 with traffic through host memory (NCCL_P2P_DISABLE=1): ~ 20 GB/s: broken
    ("H100 via SHM", cluster(1, 8), 20.0, Severity.ERROR, "bus-bandwidth-low"),
    # 8× H100 at half its figure (a rail of NVSwitch down): degraded
    ("H100 half", cluster(1, 8), 185.0, Severity.WARNING, "bus-bandwidth-low"),
    # 2 nodes with one 200 Gb/s HDR NIC each at 15 GB/s (nccl#412's question: NIC on the CPU): degraded
    ("2 nodes HDR 15", cluster(2, 8, ib_ports=ib(200.0, 1)), 15.3, Severity.WARNING, "bus-bandwidth-low"),
]


@pytest.mark.parametrize(("label", "ranks", "busbw", "severity", "id"), PUBLISHED, ids=[row[0] for row in PUBLISHED])
def test_verdict_on_published_figures(label, ranks, busbw, severity, id):
    world = len(ranks)
    sweep = [point("all_reduce", 1 << 20, busbw / 8, world), point("all_reduce", 4 * GiB, busbw, world)]
    fabric = bandwidth.fabric_of(ranks, world_size=world, backend="nccl", fabrics=FABRICS, architecture_of=ARCH)
    [finding] = check_bandwidth(sweep, fabric)
    assert (finding.id, finding.severity) == (id, severity)
    if severity is not Severity.INFO:
        assert "NCCL_DEBUG=INFO" in finding.fix


def test_a_sweep_that_stopped_short_of_the_peak_sizes_is_not_judged():
    sweep = [point("all_reduce", 256 << 20, 120.0, 8)]  # 256 MB is too small on NVLink 4 (nccl-tests#212)
    fabric = bandwidth.fabric_of(cluster(1, 8), world_size=8, backend="nccl", fabrics=FABRICS, architecture_of=ARCH)
    [finding] = check_bandwidth(sweep, fabric)
    assert finding.severity is Severity.INFO and "the sweep stopped at 256 MiB" in finding.title


def test_no_all_reduce_no_verdict():
    assert check_bandwidth([point("all_gather", GiB, 300.0, 8)], None) == []


def test_every_collective_shows_in_the_evidence():
    sweep = [point(c, 4 * GiB, 350.0, 8) for c in bandwidth.COLLECTIVES]
    fabric = bandwidth.fabric_of(cluster(1, 8), world_size=8, backend="nccl", fabrics=FABRICS, architecture_of=ARCH)
    [finding] = check_bandwidth(sweep, fabric)
    text = "\n".join(finding.evidence)
    assert "all_gather peak busbw 350.0" in text and "reduce_scatter peak busbw 350.0" in text


def test_slow_link_names_the_rank_and_host():
    ranks = cluster(1, 8)
    pairs = _pairs(8, {(0, 5): 40.0, (1, 5): 40.0, (2, 5): 40.0, (3, 5): 40.0, (4, 5): 40.0})
    fabric = bandwidth.fabric_of(ranks, world_size=8, backend="nccl", fabrics=FABRICS, architecture_of=ARCH)
    [finding] = check_pairs(pairs, fabric, ranks)
    assert finding.id == "slow-link" and finding.severity is Severity.WARNING
    assert finding.title.startswith("rank 5 (node0 cuda:5)")
    assert len(finding.evidence) == 5


def test_pairs_between_cpu_processes_are_not_judged():
    ranks = cluster(1, 4, device="cpu")
    fabric = bandwidth.fabric_of(ranks, world_size=4, backend="gloo", fabrics=FABRICS, architecture_of=ARCH)
    assert check_pairs(_pairs(4, {(0, 1): 0.01}), fabric, ranks) == []


def test_gpu_helper_rows_are_consistent():
    row = gpu(5)
    assert row.numa_node == 1 and row.numa_cpus == "48-95"
    assert rank_data(5).binding.gpu_uuid == row.uuid
