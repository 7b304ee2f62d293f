"""Step marks: `torchenv.step()` in the monitored job, read back by the monitor.

`torchenv monitor` sets TORCHENV_MONITOR_STEPS to a file in its own temporary folder; each call of
`torchenv.step()` appends one line, "<CLOCK_MONOTONIC seconds> <pid>", to it (one write of a few
bytes, O_APPEND: safe from several processes). Outside the monitor the variable is unset and
step() returns at once. CLOCK_MONOTONIC is one clock for every process of a Linux host (and of its
containers), so the marks line up with the samples without any exchange.

This module imports only the standard library: it runs inside the user's training job.
"""

from __future__ import annotations

import os
import time

ENV = "TORCHENV_MONITOR_STEPS"
_state = {"pid": None, "fd": None, "path": None}


def step() -> None:
    """Marks the end of one training step (no-op unless run under `torchenv monitor`)."""
    path = os.environ.get(ENV)
    if not path:
        return
    pid = os.getpid()
    if _state["pid"] != pid or _state["path"] != path:  # first call, or a forked DataLoader worker
        try:
            _state["fd"] = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError:
            _state["fd"] = None
        _state["pid"], _state["path"] = pid, path
    if _state["fd"] is None:
        return
    try:
        os.write(_state["fd"], f"{time.monotonic():.6f} {pid}\n".encode())
    except OSError:
        pass


def parse_marks(text: str) -> list[tuple[float, int]]:
    """(monotonic seconds, pid) per well-formed line; torn or foreign lines are skipped."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 2:
            continue
        try:
            out.append((float(parts[0]), int(parts[1])))
        except ValueError:
            continue
    return out


def main_marks(marks: list[tuple[float, int]], origin: float) -> list[float]:
    """The marks of the process that made the most (rank 0 of a DDP job launched with one command
    marks as often as the others; one series is the step clock), as seconds since `origin`."""
    counts: dict[int, int] = {}
    for _, pid in marks:
        counts[pid] = counts.get(pid, 0) + 1
    if not counts:
        return []
    pid = max(counts, key=lambda p: (counts[p], -p))
    return sorted(t - origin for t, p in marks if p == pid)
