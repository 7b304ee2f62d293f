"""Which of the compute processes NVML lists are the monitored job's. Pure.

1. By PID: NVML's PID is in the job's process tree. This is the answer on a host.
2. By CUDA context, when no PID matches: in a container NVML reports the host's PIDs, which are
   not ours (nvitop#134, nvtop#149). A CUDA context holds its GPU's /dev/nvidiaN open, so if the
   job's processes hold GPU g's device file, the processes on g that are not visible here and did
   not run before the job started (the baseline) are the job's, as long as there are no more of
   them than job processes holding g. More than that is "ambiguous": none is claimed, and the
   verdicts that need the split (another process on the GPU) are skipped with that reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Attribution:
    own: frozenset[tuple[int, int]]  # (gpu index, NVML pid)
    mode: str  # "pid" | "context" | "ambiguous" | "none"
    note: str | None = None
    ambiguous_gpus: frozenset[int] = frozenset()


def attribute(
    listed: Mapping[int, list[int]],
    tree: frozenset[int],
    *,
    visible: frozenset[int],
    held: Mapping[int, int],
    baseline: frozenset[tuple[int, int]] | None,
) -> Attribution:
    """`listed`: gpu index -> NVML PIDs on it. `tree`: the job's PIDs here. `visible`: those of
    NVML's PIDs that exist in this PID namespace. `held`: gpu index -> how many of the job's
    processes hold its device file open. `baseline`: (gpu, pid) running before the job started
    (None when attached to a running job: nothing is known to predate it)."""
    by_pid = frozenset((gpu, pid) for gpu, pids in listed.items() for pid in pids if pid in tree)
    if by_pid:
        return Attribution(by_pid, "pid")
    own: set[tuple[int, int]] = set()
    ambiguous: set[int] = set()
    for gpu, holders in held.items():
        if holders <= 0:
            continue
        candidates = [
            pid
            for pid in listed.get(gpu, ())
            if pid not in visible and (baseline is None or (gpu, pid) not in baseline)
        ]
        if not candidates:
            continue
        if len(candidates) <= holders:
            own.update((gpu, pid) for pid in candidates)
        else:
            ambiguous.add(gpu)
    if ambiguous:
        gpus = ", ".join(str(g) for g in sorted(ambiguous))
        return Attribution(
            frozenset(own),
            "ambiguous",
            f"NVML reports PIDs of another PID namespace; on GPU {gpus} more new processes than the job's "
            "processes holding the device: the job's own cannot be told from the others",
            frozenset(ambiguous),
        )
    if own:
        return Attribution(
            frozenset(own),
            "context",
            "NVML reports PIDs of another PID namespace (a container): the job's GPU processes were found by "
            "the device files their CUDA contexts hold and the time they appeared",
        )
    return Attribution(frozenset(), "none")
