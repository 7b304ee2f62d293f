"""Pure: what every rank reported (and the sweep rank 0 timed) -> findings, the fabric and a verdict.

One function per question, each in its own module and table-driven-tested without torch:
findings (launch), inventory (skew across ranks, GPUs per node), binding (one GPU per rank, NUMA,
the environment that breaks NCCL), health (GEMM against a reference, the datasheet and the other
ranks; ECC, links) and links (the bandwidth verdict, slow pairs). This module runs them in order
and turns them into a PreflightReport.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..model import Finding, Severity
from ..model.preflight import (
    PREFLIGHT_KIND,
    PREFLIGHT_SCHEMA_VERSION,
    SECTION_OF,
    SECTIONS,
    Fabric,
    MissingRank,
    PairResult,
    PreflightReport,
    RankData,
    SweepPoint,
)
from . import bandwidth
from .binding import check_numa, check_shared_gpus, check_shm, check_socket_ifname, check_threads, check_transports
from .findings import check_missing, check_rank_errors, failure_finding, ranks_text
from .health import check_gemm, check_gpu_health
from .inventory import check_gpu_count, check_skew
from .links import check_bandwidth, check_pairs

# --- the verdict ---------------------------------------------------------------------------------------------


def verdict_of(findings: Sequence[Finding]) -> str:
    severities = {f.severity for f in findings}
    if Severity.ERROR in severities:
        return "not-ready"
    if Severity.WARNING in severities:
        return "degraded"
    return "ready"


def order(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=lambda f: (f.severity.rank, SECTIONS.index(SECTION_OF[f.id]))))


def summary_of(verdict: str, findings: Sequence[Finding], *, world_size: int, nodes: int, backend: str) -> str:
    where = f"{world_size} rank{'s' if world_size != 1 else ''} on {nodes} node{'s' if nodes != 1 else ''} ({backend})"
    if verdict == "ready":
        bandwidth_line = next((f.title for f in findings if f.id == "bus-bandwidth"), None)
        return f"Ready: {where}" + (f"; {bandwidth_line}" if bandwidth_line else "")
    severity = Severity.ERROR if verdict == "not-ready" else Severity.WARNING
    problems = [f for f in findings if f.severity is severity]
    more = f"; {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''}" if len(problems) > 1 else ""
    word = "Not ready" if verdict == "not-ready" else "Degraded"
    return f"{word}: {where}: {problems[0].title}{more}"


def architecture_from(knowledge):
    def architecture_of(name: str | None) -> str | None:
        if knowledge is None or not name:
            return None
        archs = {m.architecture for m in knowledge.resolve_gpu(name).models if m.architecture}
        return next(iter(archs)) if len(archs) == 1 else None

    return architecture_of


def judge(
    ranks: Sequence[RankData],
    *,
    world_size: int,
    backend: str,
    sweep: Sequence[SweepPoint] = (),
    pairs: Sequence[PairResult] = (),
    missing: Sequence[MissingRank] = (),
    failures: Sequence[Finding] = (),
    missing_timeout: float = 0.0,
    knowledge=None,
    fabrics=None,
) -> tuple[tuple[Finding, ...], Fabric | None]:
    """Every finding of a preflight, ordered, and the fabric the bandwidth was judged against."""
    findings: list[Finding] = [*check_missing(missing, timeout=missing_timeout), *failures]
    findings += check_rank_errors(ranks)
    findings += check_skew(ranks)
    findings += check_gpu_count(ranks)
    findings += check_shared_gpus(ranks)
    findings += check_numa(ranks)
    findings += check_socket_ifname(ranks)
    findings += check_transports(ranks, backend=backend)
    findings += check_shm(ranks, backend=backend)
    findings += check_threads(ranks)
    findings += check_gemm(ranks, knowledge)
    findings += check_gpu_health(ranks, backend=backend)
    fabric = None
    if ranks and fabrics is not None:
        fabric = bandwidth.fabric_of(
            ranks, world_size=world_size, backend=backend, fabrics=fabrics, architecture_of=architecture_from(knowledge)
        )
    findings += check_bandwidth(sweep, fabric)
    findings += check_pairs(pairs, fabric, ranks)
    return order(findings), fabric


def build_report(
    ranks: Sequence[RankData],
    *,
    world_size: int,
    backend: str,
    sweep: Sequence[SweepPoint] = (),
    pairs: Sequence[PairResult] = (),
    missing: Sequence[MissingRank] = (),
    failures: Sequence[Finding] = (),
    missing_timeout: float = 0.0,
    knowledge=None,
    fabrics=None,
    phases: dict[str, float] | None = None,
    failure: str | None = None,
    test_hooks: bool = False,
    torchenv_version: str = "",
) -> PreflightReport:
    findings, fabric = judge(
        ranks,
        world_size=world_size,
        backend=backend,
        sweep=sweep,
        pairs=pairs,
        missing=missing,
        failures=failures,
        missing_timeout=missing_timeout,
        knowledge=knowledge,
        fabrics=fabrics,
    )
    verdict = verdict_of(findings)
    nodes = len({d.place.node for d in ranks} | {m.node for m in missing if m.node is not None}) or 1
    versions = [v for v in (getattr(knowledge, "version", None), getattr(fabrics, "version", None)) if v]
    return PreflightReport(
        kind=PREFLIGHT_KIND,
        schema_version=PREFLIGHT_SCHEMA_VERSION,
        torchenv_version=torchenv_version,
        knowledge_version=max(versions) if versions else "",
        verdict=verdict,
        summary=summary_of(verdict, findings, world_size=world_size, nodes=nodes, backend=backend),
        world_size=world_size,
        nodes=nodes,
        backend=backend,
        findings=findings,
        ranks=tuple(sorted(ranks, key=lambda d: d.place.rank)),
        missing=tuple(missing),
        sweep=tuple(sweep),
        pairs=tuple(pairs),
        fabric=fabric,
        phases=dict(phases or {}),
        failure=failure,
        test_hooks=test_hooks,
    )


__all__ = ["build_report", "failure_finding", "judge", "ranks_text", "verdict_of"]
