"""Pure: the bandwidth verdict: the sweep's peak all-reduce busbw against what the fabric should
give (knowledge fabrics.toml, through bandwidth.fabric_of), and the round-robin pairs that point at
a bad link, GPU or node."""

from __future__ import annotations

from collections.abc import Sequence

from ..model import Finding, Severity
from ..model.preflight import (
    Fabric,
    PairResult,
    RankData,
    SweepPoint,
    size_text,
)
from . import bandwidth
from .bandwidth import JUDGE_MIN_BYTES
from .findings import finding

BANDWIDTH_OK = 0.75  # peak busbw at or above this share of the fabric's expectation is ready
BANDWIDTH_BROKEN = 0.25  # below this share something is broken (a link down, traffic through the host)


# --- bandwidth ----------------------------------------------------------------------------------------------


def check_bandwidth(sweep: Sequence[SweepPoint], fabric: Fabric | None) -> list[Finding]:
    point = bandwidth.peak(sweep)
    if point is None:
        return []
    largest = max(p.size_bytes for p in sweep if p.collective == "all_reduce")
    evidence = [f"all_reduce peak busbw {point.busbw_gbs:.1f} GB/s (algbw {point.algbw_gbs:.1f}) at {size_text(point.size_bytes)}"]
    for collective in bandwidth.COLLECTIVES[1:]:
        other = bandwidth.peak(sweep, collective)
        if other is not None:
            evidence.append(f"{collective} peak busbw {other.busbw_gbs:.1f} GB/s at {size_text(other.size_bytes)}")
    smallest = min((p for p in sweep if p.collective == "all_reduce"), key=lambda p: p.size_bytes)
    if smallest is not point:
        evidence.append(f"all_reduce at {size_text(smallest.size_bytes)}: {smallest.busbw_gbs:.1f} GB/s busbw ({smallest.seconds * 1e6:.0f} µs)")
    if fabric is not None:
        evidence.append(f"fabric: {fabric.detail}")
    title = f"all-reduce bus bandwidth {point.busbw_gbs:.1f} GB/s"
    explanation = "busbw by nccl-tests' formulas (all_reduce: algbw × 2(n-1)/n), comparable with the link's bandwidth whatever the rank count."
    if fabric is None or fabric.expected_busbw_gbs is None:
        reason = fabric.why_unjudged if fabric is not None else "the fabric is unknown"
        return [finding("bus-bandwidth", Severity.INFO, f"{title} (not judged: {reason})", evidence, explanation, None, category="performance", layer="hardware")]
    expected = fabric.expected_busbw_gbs
    evidence.append(f"expected ≈ {expected:g} GB/s ({fabric.row}: {fabric.source})")
    if largest < JUDGE_MIN_BYTES:
        return [
            finding(
                "bus-bandwidth",
                Severity.INFO,
                f"{title} (not judged: the sweep stopped at {size_text(largest)}; the peak needs ≥ {size_text(JUDGE_MIN_BYTES)})",
                evidence,
                explanation,
                None,
                category="performance",
                layer="hardware",
            )
        ]
    ratio = point.busbw_gbs / expected
    if ratio >= BANDWIDTH_OK:
        return [
            finding("bus-bandwidth", Severity.INFO, f"{title}, {ratio:.0%} of the {expected:g} GB/s expected", evidence, explanation, None, category="performance", layer="hardware")
        ]
    severity = Severity.WARNING if ratio >= BANDWIDTH_BROKEN else Severity.ERROR
    return [
        finding(
            "bus-bandwidth-low",
            severity,
            f"{title}: {ratio:.0%} of the {expected:g} GB/s {fabric.kind} should give",
            evidence,
            explanation
            + " Below three quarters of the expectation, collectives take a visibly larger share of every step; below a "
            "quarter, traffic is not using the fabric at all (P2P off, SHM or sockets instead of NVLink/IB, a link down).",
            "NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=INIT,GRAPH,NET shows the transport of each channel (P2P/NVLink, SHM, NET/IB, "
            "NET/Socket); compare with nvidia-smi topo -m and nvidia-smi nvlink -s",
            category="performance",
            layer="hardware",
        )
    ]


def check_pairs(pairs: Sequence[PairResult], fabric: Fabric | None, ranks: Sequence[RankData]) -> list[Finding]:
    if not pairs or fabric is None or fabric.kind in ("host", "single"):
        return []
    slow, _ = bandwidth.slow_pairs(pairs)
    if not slow:
        return []
    places = {d.place.rank: d for d in ranks}
    bad = bandwidth.suspects(pairs)

    def label(rank: int) -> str:
        d = places.get(rank)
        return f"rank {rank}" + (f" ({d.place.host} {d.binding.device})" if d else "")

    title = (
        f"{', '.join(label(r) for r in bad)}: in most of the slow pairs (a bad GPU, link or node)"
        if bad
        else f"{len(slow)} slow pair(s) of ranks: a bad link"
    )
    return [
        finding(
            "slow-link",
            Severity.WARNING,
            title,
            [
                f"{label(p.a)} ↔ {label(p.b)}: {p.gbs:.1f} GB/s per direction at {size_text(p.size_bytes)}, "
                f"median {median:.1f} of pairs {'across' if p.cross_node else 'inside'} nodes"
                for p, median in slow
            ][:12],
            "Every two ranks exchanged a buffer both ways, in rounds of disjoint pairs; a pair below half the median of "
            "its kind has a slow link on its path, and a rank in most slow pairs is the likely culprit.",
            "nvidia-smi nvlink -s and -e on that node; across nodes, ibstat and the port counters of that node's NICs",
            category="performance",
            layer="hardware",
        )
    ]
