"""Pure: the inventory across ranks: skew between their snapshots (the snapshot diff's ranking,
NCCL differences first), unreadable ranks, ranks per node against the GPUs there."""

from __future__ import annotations

from collections.abc import Sequence

from ..model import Finding, Severity, known
from ..model.preflight import (
    RankData,
)
from ..model.snapshot import Difference
from ..snapshots.diff import diff_snapshots
from .bandwidth import nodes_of
from .findings import finding, hosts_of, rank_word

SKEW_IGNORED = frozenset({"env CUDA_VISIBLE_DEVICES"})  # one GPU per rank is the point: judged by binding


# --- inventory -----------------------------------------------------------------------------------------------


def skew_severity(d: Difference) -> Severity:
    """A difference between ranks, as a severity: the diff's own (from its level), but NCCL version skew
    hangs collectives (nccl#1267, #354), so any NCCL difference is an error."""
    id = d.finding.id
    if id == "nccl-version-differs" or (id == "loaded-library-differs" and d.subject.startswith("libnccl")):
        return Severity.ERROR
    if id in ("package-version-differs", "package-presence-differs") and d.subject.startswith("package nvidia-nccl"):
        return Severity.ERROR
    return d.finding.severity


def _skew_differences(a, b) -> list[Difference]:
    return [d for d in diff_snapshots(a, b).differences if d.subject not in SKEW_IGNORED]


def skew_groups(ranks: Sequence[RankData]) -> list[list[RankData]]:
    """Ranks whose snapshots have no difference that matters, grouped; the largest group first (the
    one holding rank 0 on a tie), so it is the reference the others are told against."""
    groups: list[list[RankData]] = []
    for data in sorted(ranks, key=lambda d: d.place.rank):
        if not known(data.snapshot):
            continue
        for group in groups:
            if not _skew_differences(group[0].snapshot, data.snapshot):
                group.append(data)
                break
        else:
            groups.append([data])
    return sorted(groups, key=lambda g: (-len(g), g[0].place.rank))


def check_skew(ranks: Sequence[RankData]) -> list[Finding]:
    findings = []
    unreadable = [d for d in ranks if not known(d.snapshot)]
    if unreadable:
        findings.append(
            finding(
                "rank-facts-unreadable",
                Severity.WARNING,
                f"the environment of {rank_word([d.place.rank for d in unreadable])} could not be read",
                [f"rank {d.place.rank}: {d.snapshot.reason}" for d in unreadable][:10],
                "Without its snapshot, that rank cannot be compared with the others (fail closed: it is not assumed equal).",
                "run `torchenv doctor` on that node",
            )
        )
    groups = skew_groups(ranks)
    if len(groups) < 2:
        return findings
    reference = groups[0]
    ref_ranks = [d.place.rank for d in reference]
    for group in groups[1:]:
        differences = _skew_differences(reference[0].snapshot, group[0].snapshot)
        members = [d.place.rank for d in group]
        severity = min((skew_severity(d) for d in differences), key=lambda s: s.rank)
        evidence = [
            f"{d.subject}: {d.a if d.a is not None else 'absent'} on {rank_word(ref_ranks)}, "
            f"{d.b if d.b is not None else 'absent'} on {rank_word(members)} — {d.finding.explanation}"
            for d in differences[:12]
        ]
        if len(differences) > 12:
            evidence.append(f"… and {len(differences) - 12} more (torchenv diff on two ranks' snapshots lists all)")
        first = differences[0]
        more = f" (+{len(differences) - 1} more)" if len(differences) > 1 else ""
        findings.append(
            finding(
                "rank-skew",
                severity,
                f"{rank_word(members)} ({hosts_of(group)}) differ{'s' if len(members) == 1 else ''} from "
                f"{rank_word(ref_ranks)}: {first.subject}{more}",
                evidence,
                "Every rank should run the same software stack: a different NCCL makes collectives hang or fail "
                "(nccl#1267, nccl#354), a different torch, CUDA or cuBLAS gives ranks different kernels and numerics, "
                "different NCCL_* variables give them different transports and algorithms.",
                "install the same image/environment on every node (torchenv snapshot on a good node, torchenv verify "
                "on the others) and launch every rank with the same environment variables",
                layer="torch",
            )
        )
    return findings


def check_gpu_count(ranks: Sequence[RankData]) -> list[Finding]:
    findings = []
    for node, members in nodes_of(ranks).items():
        if all(d.binding.device == "cpu" for d in members):
            continue
        gpus = next((len(d.snapshot.gpus) for d in members if known(d.snapshot) and known(d.snapshot.gpus)), None)
        if gpus is None:
            continue
        local = max(len(members), members[0].place.local_world_size)
        host = members[0].place.host
        if local > gpus:
            findings.append(
                finding(
                    "more-ranks-than-gpus",
                    Severity.ERROR,
                    f"{local} ranks on {host} but {gpus} GPU(s)",
                    [f"node {node} ({host}): --nproc-per-node {local}, NVML lists {gpus} GPU(s)"],
                    "Ranks beyond the GPU count share a GPU: NCCL refuses two ranks on one device ('Duplicate GPU "
                    "detected') and memory runs out.",
                    f"launch with --nproc-per-node {gpus} (or fewer) on {host}",
                    layer="hardware",
                )
            )
        elif local < gpus:
            findings.append(
                finding(
                    "gpus-left-idle",
                    Severity.INFO,
                    f"{local} of {gpus} GPUs used on {host}",
                    [f"node {node} ({host}): --nproc-per-node {local}, NVML lists {gpus} GPU(s)"],
                    "Some GPUs of the node have no rank (intended when CUDA_VISIBLE_DEVICES or the scheduler reserves them).",
                    None,
                    layer="hardware",
                )
            )
    return findings
