"""Pure: the preflight's Finding constructor and wording helpers, and the findings of the launch
itself: ranks that never joined or stopped answering, a process group or collective that failed, a
run past its time. Finding ids are documented in docs/preflight.md."""

from __future__ import annotations

from collections.abc import Sequence

from ..model import Finding, Severity
from ..model.preflight import (
    SECTION_OF,
    MissingRank,
    RankData,
)

NCCL_DEBUG_ADVICE = (
    "rerun with NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=INIT,NET and TORCH_DISTRIBUTED_DEBUG=DETAIL, "
    "and read the first WARN line of each rank"
)
TRUE_WORDS = ("1", "true", "yes", "on", "y")


def finding(
    id: str,
    severity: Severity,
    title: str,
    evidence: Sequence[str],
    explanation: str,
    fix: str | None,
    *,
    category: str = "distributed",
    layer: str = "environment",
) -> Finding:
    """A preflight finding; its id must be one of model.preflight.SECTION_OF's (documented in docs/preflight.md)."""
    if id not in SECTION_OF:
        raise ValueError(f"undocumented preflight finding id {id!r}")
    return Finding(id, category, severity, layer, title, tuple(evidence), explanation, fix)


def ranks_text(ranks: Sequence[int]) -> str:
    """[0, 1, 2, 5, 7, 8] -> `0-2, 5, 7-8`."""
    ordered = sorted(set(ranks))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ", ".join(parts)


def rank_word(ranks: Sequence[int]) -> str:
    return f"rank{'s' if len(set(ranks)) != 1 else ''} {ranks_text(ranks)}"


def hosts_of(datas: Sequence[RankData]) -> str:
    return ", ".join(sorted({d.place.host for d in datas}))


def is_true(value: str | None) -> bool:
    return value is not None and value.strip().lower() in TRUE_WORDS


# --- launch ---------------------------------------------------------------------------------------------


def check_missing(missing: Sequence[MissingRank], *, timeout: float) -> list[Finding]:
    """Ranks that never joined, and ranks that joined but stopped answering, by phase."""
    findings = []
    by_phase: dict[str, list[MissingRank]] = {}
    for m in missing:
        by_phase.setdefault(m.phase, []).append(m)
    for phase, ms in by_phase.items():
        ranks = [m.rank for m in ms]
        where = [
            f"rank {m.rank}: node {m.node if m.node is not None else '?'}"
            + (f" (host {m.host})" if m.host else " (no rank of that node arrived)")
            + (f", last reported phase '{m.last_seen}'" if m.last_seen else "")
            for m in ms
        ]
        if phase == "join":
            findings.append(
                finding(
                    "rank-missing",
                    Severity.ERROR,
                    f"{rank_word(ranks)} did not join within {timeout:g} s",
                    where,
                    "Every rank registers with the rendezvous store before anything else; these never did, so "
                    "init_process_group would have waited for them (10 to 30 minutes by default) and the job would hang.",
                    "check that rank's node: is torchrun running there, with the same --rdzv-endpoint (or MASTER_ADDR/"
                    "MASTER_PORT), --nnodes and --nproc-per-node? Its own log says why it did not start; " + NCCL_DEBUG_ADVICE,
                )
            )
        else:
            findings.append(
                finding(
                    "rank-no-answer",
                    Severity.ERROR,
                    f"{rank_word(ranks)} joined but did not finish '{phase}' within {timeout:g} s",
                    where,
                    "The rank arrived, then stopped answering: it hung or died in that phase (a GPU that does not "
                    "respond, a collective that never completes, a crash the launcher reports).",
                    f"read that rank's output; {NCCL_DEBUG_ADVICE}",
                )
            )
    return findings


FAILURES = {
    "process-group": (
        "process-group-failed",
        "init_process_group failed",
        "The ranks met, but the communicator could not be built: NCCL (or gloo) could not reach a peer, found no "
        "usable network interface, or a GPU failed to initialise.",
    ),
    "collective": (
        "collective-failed",
        "a collective failed or did not finish in time",
        "Every collective of the preflight is bounded; this one raised or ran past its bound, which in a training "
        "job is a hang (and after TORCH_NCCL's timeout, a crash).",
    ),
    "timeout": (
        "preflight-timeout",
        "the preflight did not finish within its time",
        "The whole run is bounded (--timeout); a phase was still running when it ran out, which in a training job "
        "is a hang.",
    ),
    "launch": (
        "launch-failed",
        "the ranks could not be started",
        "torchrun (or a rank before it could report) failed: nothing about the GPUs was learned, and a training job "
        "launched the same way would fail the same way.",
    ),
    "interrupted": (
        "preflight-interrupted",
        "the preflight was stopped before it finished",
        "The launcher (or a user) stopped the rank: torchrun stops every rank when one of them exits with an error.",
    ),
}


def failure_finding(kind: str, detail: str, evidence: Sequence[str] = ()) -> Finding:
    id, title, explanation = FAILURES[kind]
    return finding(id, Severity.ERROR, f"{title}: {detail}", evidence, explanation, NCCL_DEBUG_ADVICE)


def check_rank_errors(ranks: Sequence[RankData]) -> list[Finding]:
    failed = [d for d in ranks if d.errors]
    if not failed:
        return []
    return [
        finding(
            "rank-check-failed",
            Severity.WARNING,
            f"a check could not run on {rank_word([d.place.rank for d in failed])}",
            [f"rank {d.place.rank}: {e}" for d in failed for e in d.errors][:20],
            "Part of what the rank reads about itself raised; what it depends on is left unjudged for that rank.",
            "rerun with TORCHENV_DEBUG=1 for the traceback and report it",
            category="other",
        )
    ]
