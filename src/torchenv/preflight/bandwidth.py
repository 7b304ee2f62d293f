"""Pure: collective timings -> bus bandwidth (nccl-tests' formulas), the fabric the ranks talk over
and what it should give (knowledge/data/fabrics.toml), and the round-robin pairs that isolate a bad
link. Unit-tested without torch; the worker only measures seconds.

Bus bandwidth (NVIDIA/nccl-tests doc/PERFORMANCE.md): algbw = size / time, and
  all_reduce      busbw = algbw × 2(n-1)/n
  all_gather      busbw = algbw × (n-1)/n   (size: the gathered output, n × each rank's part)
  reduce_scatter  busbw = algbw × (n-1)/n   (size: the input, n × each rank's part)
  broadcast/reduce/sendrecv busbw = algbw;  alltoall busbw = algbw × (n-1)/n
so that busbw compares with the hardware's link bandwidth whatever the number of ranks.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence

from ..model.preflight import Fabric, PairResult, RankData, SweepPoint

GB = 1e9  # nccl-tests' GB/s are 10^9 bytes per second

COLLECTIVES = ("all_reduce", "all_gather", "reduce_scatter")


def bus_factor(collective: str, ranks: int) -> float:
    """nccl-tests' correction from algorithm to bus bandwidth for `ranks` ranks."""
    if ranks < 1:
        raise ValueError("ranks must be >= 1")
    n = ranks
    factors = {
        "all_reduce": 2 * (n - 1) / n,
        "all_gather": (n - 1) / n,
        "reduce_scatter": (n - 1) / n,
        "alltoall": (n - 1) / n,
        "broadcast": 1.0,
        "reduce": 1.0,
        "sendrecv": 1.0,
    }
    if collective not in factors:
        raise ValueError(f"unknown collective {collective!r}")
    return factors[collective]


def algbw_gbs(size_bytes: int, seconds: float) -> float:
    if seconds <= 0:
        raise ValueError("seconds must be positive")
    return size_bytes / seconds / GB


def sweep_point(collective: str, size_bytes: int, iterations: int, per_rank_seconds: Sequence[float]) -> SweepPoint:
    """One size of one collective from each rank's seconds per iteration. The time is the ranks'
    average (nccl-tests' default `-a 1`); the slowest rank's is kept beside it."""
    times = [float(s) for s in per_rank_seconds]
    if not times or any(t <= 0 for t in times):
        raise ValueError("every rank needs a positive time")
    mean = sum(times) / len(times)
    algbw = algbw_gbs(size_bytes, mean)
    return SweepPoint(
        collective=collective,
        size_bytes=size_bytes,
        iterations=iterations,
        seconds=mean,
        max_seconds=max(times),
        algbw_gbs=algbw,
        busbw_gbs=algbw * bus_factor(collective, len(times)),
    )


# --- sizes ---------------------------------------------------------------------------------------

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.I)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}

GPU_SIZES = tuple(s << 20 for s in (1, 4, 16, 64, 256, 1024, 4096))  # 1 MiB .. 4 GiB, ×4
GPU_QUICK_SIZES = tuple(s << 20 for s in (1, 64, 1024))
CPU_SIZES = tuple(s << 20 for s in (1, 4, 16))  # gloo on CPUs: enough to see the trend, cheap on 2 cores
CPU_QUICK_SIZES = tuple(s << 20 for s in (1, 4))

# The peak busbw needs large buffers: 256 MB is too small on NVLink 4 (nccl-tests#212).
JUDGE_MIN_BYTES = 1 << 30


def parse_size(text: str) -> int:
    """`4G`, `256M`, `1MiB`, `512k`, `1048576` -> bytes (binary units, as nccl-tests' -b/-e)."""
    match = _SIZE.match(text or "")
    if not match:
        raise ValueError(f"not a size: {text!r} (use e.g. 1M, 256M, 4G)")
    value = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if value < 1 or value != int(value):
        raise ValueError(f"not a whole number of bytes: {text!r}")
    return int(value)


def parse_sizes(text: str) -> tuple[int, ...]:
    sizes = tuple(parse_size(part) for part in text.split(",") if part.strip())
    if not sizes:
        raise ValueError("no sizes given")
    return tuple(sorted(set(sizes)))


def default_sizes(device_type: str, *, quick: bool) -> tuple[int, ...]:
    if device_type == "cuda":
        return GPU_QUICK_SIZES if quick else GPU_SIZES
    return CPU_QUICK_SIZES if quick else CPU_SIZES


def fit_sizes(sizes: Iterable[int], *, free_bytes: int | None, max_bytes: int | None = None) -> tuple[int, ...]:
    """The sizes that fit: all_gather holds the output and the input at once, so a size may use at
    most a third of the free memory."""
    cap = max_bytes
    if free_bytes is not None:
        cap = min(cap, free_bytes // 3) if cap is not None else free_bytes // 3
    return tuple(s for s in sorted(set(sizes)) if cap is None or s <= cap)


def iterations_for(size_bytes: int, device_type: str) -> tuple[int, int]:
    """(warm-up, timed) iterations: nccl-tests' 5 and 20 on GPUs (10 above 1 GiB); few on CPUs.
    Fixed by the size alone, so every rank runs the same number of collectives."""
    if device_type != "cuda":
        return 1, 4
    return (5, 20) if size_bytes <= (1 << 30) else (2, 10)


def peak(points: Sequence[SweepPoint], collective: str = "all_reduce") -> SweepPoint | None:
    """The point with the highest busbw of one collective (nccl-tests' peak)."""
    chosen = [p for p in points if p.collective == collective]
    return max(chosen, key=lambda p: p.busbw_gbs, default=None)


# --- the fabric ----------------------------------------------------------------------------------


def nodes_of(ranks: Sequence[RankData]) -> dict[int, list[RankData]]:
    nodes: dict[int, list[RankData]] = {}
    for data in sorted(ranks, key=lambda d: d.place.rank):
        nodes.setdefault(data.place.node, []).append(data)
    return nodes


def _used_gpus(node_ranks: Sequence[RankData]):
    """The node's topology rows of the GPUs its ranks compute on (by UUID), and the topology."""
    topology = next((d.topology for d in node_ranks if d.topology is not None), None)
    if topology is None or not topology.gpus:
        return [], topology
    uuids = [d.binding.gpu_uuid for d in node_ranks if d.binding.gpu_uuid]
    used = [g for g in topology.gpus if g.uuid in uuids]
    if not used and len(topology.gpus) == len(node_ranks):
        used = list(topology.gpus)
    return used, topology


def _nvls(ranks: Sequence[RankData]) -> bool:
    """NVLink SHARP counts only when asked for explicitly (NCCL falls back to rings without it)."""
    return any(d.environment.get("NCCL_NVLS_ENABLE", "").strip() == "1" for d in ranks)


def intra_node_fabric(node_ranks: Sequence[RankData], fabrics, architecture_of) -> Fabric:
    """What the GPUs of one node talk over. `architecture_of(gpu name)` -> "Hopper" or None."""
    used, topology = _used_gpus(node_ranks)
    if topology is None:
        return Fabric("unknown", "no topology was read on this node", None, None, None, "the node's topology is unknown")
    if topology.error and not topology.gpus:
        return Fabric("unknown", f"NVML: {topology.error}", None, None, None, f"NVML did not answer: {topology.error}")
    if len(used) < 2:
        return Fabric("single", "one GPU on this node", None, None, None, "one GPU per node: nothing crosses a link inside it")
    index = {g.index: i for i, g in enumerate(topology.gpus)}
    pairs = [(a, b) for i, a in enumerate(used) for b in used[i + 1 :]]
    words = []
    for a, b in pairs:
        try:
            words.append(topology.link[index[a.index]][index[b.index]])
        except (IndexError, KeyError):
            words.append("?")
    gpus = len(used)
    if all(w == "NV" for w in words):
        arch = architecture_of(used[0].name)
        generation = fabrics.nvlink_generation(arch)
        links = min((g.nvlink_active for g in used if g.nvlink_active is not None), default=None)
        nvls = _nvls(node_ranks)
        where = f"NVLink{' ' + str(generation.generation) if generation else ''}, {links if links is not None else '?'} links per GPU, NVLS {'on' if nvls else 'off'}, {gpus} GPUs"
        if generation is None:
            return Fabric("nvlink", where, None, None, None, f"no NVLink generation recorded for {used[0].name} ({arch or 'unknown architecture'})")
        row = fabrics.expected_nvlink(generation.generation, nvls=nvls, gpus=gpus)
        if row is None:
            return Fabric("nvlink", where, None, None, None, f"no expectation recorded for NVLink {generation.generation}")
        expected = row.busbw_gbs
        if row.per_links and links is not None and 0 < links < row.per_links:
            expected = expected * links / row.per_links
        return Fabric("nvlink", where, round(expected, 1), row.source, row.id)
    if any(w == "NV" for w in words):
        return Fabric("mixed", "some GPU pairs on NVLink, others on PCIe", None, None, None, "a mix of NVLink and PCIe pairs: the slowest pair decides, no single expectation")
    gens = [g.pcie_gen_max for g in used if g.pcie_gen_max]
    if not gens:
        return Fabric("pcie", f"PCIe, {gpus} GPUs", None, None, None, "the PCIe generation was not read")
    gen = min(gens)
    row = fabrics.expected_pcie(gen, gpus=gpus)
    where = f"PCIe gen {gen}, {gpus} GPUs ({', '.join(sorted(set(words)))})"
    if row is None:
        return Fabric("pcie", where, None, None, None, f"no expectation recorded for PCIe gen {gen}")
    return Fabric("pcie", where, row.busbw_gbs, row.source, row.id)


def node_network(node_ranks: Sequence[RankData]) -> tuple[float | None, bool, str]:
    """(active NIC line rate of a node in Gb/s, RDMA?, words). InfiniBand/RoCE ports that are ACTIVE
    count (NCCL's IB transport); without any, the fastest physical interface that is up (sockets)."""
    data = node_ranks[0]
    ports = data.ib_ports if isinstance(data.ib_ports, tuple) else ()
    active = [p for p in ports if p.state.upper() == "ACTIVE" and p.rate_gbits]
    if active:
        total = sum(p.rate_gbits or 0.0 for p in active)
        rates = sorted({p.rate_gbits for p in active})
        return total, True, f"{len(active)}× {'/'.join(f'{r:g}' for r in rates)} Gb/s RDMA ports"
    interfaces = data.interfaces if isinstance(data.interfaces, tuple) else ()
    up = [i for i in interfaces if not i.virtual and i.state == "up" and i.speed_mbps and i.speed_mbps > 0]
    if up:
        best = max(up, key=lambda i: i.speed_mbps or 0)
        return (best.speed_mbps or 0) / 1000.0, False, f"sockets over {best.name} ({(best.speed_mbps or 0) / 1000:g} Gb/s)"
    return None, False, "no active network port was read"


def fabric_of(ranks: Sequence[RankData], *, world_size: int, backend: str, fabrics, architecture_of) -> Fabric:
    """The fabric of the whole run and its expected all-reduce busbw: the node's own fabric inside one
    node; across nodes the smaller of that and what the slowest node's NICs give."""
    if world_size <= 1:
        return Fabric("single", "one rank", None, None, None, "one rank: all-reduce moves nothing between ranks (bus factor 0)")
    if backend != "nccl" or all(d.binding.device == "cpu" for d in ranks):
        return Fabric("host", f"CPU processes over {backend}", None, None, None, f"no expectation for {backend} between CPU processes: figures are reported, not judged")
    nodes = nodes_of(ranks)
    intra = [intra_node_fabric(node, fabrics, architecture_of) for node in nodes.values()]
    if len(nodes) == 1:
        return intra[0]
    rates = [node_network(node) for node in nodes.values()]
    known_rates = [r for r in rates if r[0]]
    if len(known_rates) < len(rates):
        return Fabric("network", f"{len(nodes)} nodes", None, None, None, "the NIC speed of a node was not read")
    slowest = min(known_rates, key=lambda r: r[0] or 0.0)
    row = fabrics.network(rdma=slowest[1])
    if row is None:
        return Fabric("network", f"{len(nodes)} nodes, {slowest[2]}", None, None, None, "no network expectation recorded")
    expected = row.busbw_gbs_per_100gbits * (slowest[0] or 0.0) / 100.0
    inside = [f.expected_busbw_gbs for f in intra if f.expected_busbw_gbs is not None]
    cap = min(inside) if inside and len(inside) == len(intra) and all(f.kind != "single" for f in intra) else None
    source = row.source
    if cap is not None and cap < expected:
        expected = cap
        source = next(f.source for f in intra if f.expected_busbw_gbs == cap) or source
    detail = f"{len(nodes)} nodes; slowest node: {slowest[2]}; inside a node: {intra[0].detail}"
    return Fabric("network", detail, round(expected, 1), source, row.id)


# --- pairs -------------------------------------------------------------------------------------------------


def round_robin(ranks: int) -> list[list[tuple[int, int]]]:
    """Rounds of disjoint pairs in which every two ranks meet once (the circle method): n-1 rounds for
    even n, n for odd n (one rank rests each round)."""
    if ranks < 2:
        return []
    players: list[int | None] = list(range(ranks)) + ([None] if ranks % 2 else [])
    n = len(players)
    rounds = []
    for _ in range(n - 1):
        pairs = []
        for i in range(n // 2):
            a, b = players[i], players[n - 1 - i]
            if a is not None and b is not None:
                pairs.append((min(a, b), max(a, b)))
        rounds.append(sorted(pairs))
        players = [players[0], players[-1], *players[1:-1]]
    return rounds


SLOW_PAIR = 0.5  # a pair below half the median of its kind (inside a node / across nodes) is slow


def slow_pairs(pairs: Sequence[PairResult]) -> tuple[list[tuple[PairResult, float]], dict[int, int]]:
    """The slow pairs with the median they fall short of, and how many slow pairs each rank is in."""
    slow: list[tuple[PairResult, float]] = []
    for cross in (False, True):
        kind = [p for p in pairs if p.cross_node == cross]
        if len(kind) < 3:  # a median of two says nothing
            continue
        median = statistics.median(p.gbs for p in kind)
        slow += [(p, median) for p in kind if p.gbs < SLOW_PAIR * median]
    count: dict[int, int] = {}
    for p, _ in slow:
        count[p.a] = count.get(p.a, 0) + 1
        count[p.b] = count.get(p.b, 0) + 1
    return slow, count


def suspects(pairs: Sequence[PairResult]) -> list[int]:
    """Ranks in most of their slow pairs: in at least half of the pairs they are in, and more than
    any partner they share them with (a bad GPU or node, not one bad link)."""
    slow, count = slow_pairs(pairs)
    if not slow:
        return []
    total: dict[int, int] = {}
    for p in pairs:
        total[p.a] = total.get(p.a, 0) + 1
        total[p.b] = total.get(p.b, 0) + 1
    found = [r for r, c in count.items() if c >= 2 and c * 2 >= total[r]]
    return sorted(found)


__all__ = [
    "COLLECTIVES",
    "algbw_gbs",
    "bus_factor",
    "default_sizes",
    "fabric_of",
    "parse_size",
    "parse_sizes",
    "peak",
    "round_robin",
    "slow_pairs",
    "suspects",
    "sweep_point",
]
