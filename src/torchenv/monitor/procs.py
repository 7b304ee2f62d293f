"""The monitored job's process tree, read from /proc (root injectable: tests pass a fake tree).

The tree is the launched command (or the attached PID) and its descendants, walked through
/proc/PID/task/TID/children (one read per process), or, where the kernel lacks those files, one
scan of every /proc/PID/stat. For each process: its CPU time and which /dev/nvidiaN it holds open
(a CUDA context holds its GPU's device file; this is how the job's GPU processes are found when
NVML reports PIDs of another PID namespace, as in a container).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

NVIDIA_DEVICE = re.compile(r"^/dev/nvidia(\d+)$")


@dataclass(frozen=True, slots=True)
class ProcStat:
    pid: int
    ppid: int
    name: str
    cpu_ticks: int  # utime + stime, in clock ticks
    state: str = "R"  # "Z": exited, not yet reaped by its parent


def parse_stat(pid: int, text: str) -> ProcStat | None:
    """/proc/PID/stat: the name is in parentheses and may itself hold spaces and parentheses."""
    start, end = text.find("("), text.rfind(")")
    if start < 0 or end < start:
        return None
    fields = text[end + 2 :].split()
    try:
        return ProcStat(pid, int(fields[1]), text[start + 1 : end], int(fields[11]) + int(fields[12]), fields[0])
    except (IndexError, ValueError):
        return None


class ProcReader:
    def __init__(self, root: str | os.PathLike = "/"):
        self.proc = Path(root) / "proc"
        try:
            self.ticks_per_s = os.sysconf("SC_CLK_TCK")
        except (ValueError, OSError, AttributeError):
            self.ticks_per_s = 100
        self.children_files = True  # False once the kernel has shown it lacks them

    def _read(self, *parts: str) -> str | None:
        try:
            return self.proc.joinpath(*parts).read_text(errors="replace")
        except OSError:
            return None

    def stat(self, pid: int) -> ProcStat | None:
        text = self._read(str(pid), "stat")
        return parse_stat(pid, text) if text is not None else None

    def exists(self, pid: int) -> bool:
        return self.proc.joinpath(str(pid)).is_dir()

    def alive(self, pid: int) -> bool:
        """Running (a zombie has exited: its /proc entry stays until its parent reaps it)."""
        st = self.stat(pid)
        return st is not None and st.state not in ("Z", "X", "x")

    def _children(self, pid: int) -> list[int] | None:
        try:
            tasks = os.listdir(self.proc / str(pid) / "task")
        except OSError:
            return []
        out: list[int] = []
        found = False
        for tid in tasks:
            text = self._read(str(pid), "task", tid, "children")
            if text is None:
                continue
            found = True
            out += [int(p) for p in text.split() if p.isdigit()]
        if tasks and not found:
            return None  # the kernel has no children files
        return out

    def tree(self, root: int) -> frozenset[int]:
        """`root` and its descendants that are alive now (empty when root is gone)."""
        if not self.exists(root):
            return frozenset()
        if self.children_files:
            seen, todo = {root}, [root]
            while todo:
                kids = self._children(todo.pop())
                if kids is None:
                    self.children_files = False
                    break
                for kid in kids:
                    if kid not in seen:
                        seen.add(kid)
                        todo.append(kid)
            else:
                return frozenset(seen)
        return self._tree_by_scan(root)

    def _tree_by_scan(self, root: int) -> frozenset[int]:
        parents: dict[int, list[int]] = {}
        try:
            names = os.listdir(self.proc)
        except OSError:
            return frozenset({root})
        for name in names:
            if name.isdigit():
                st = self.stat(int(name))
                if st is not None:
                    parents.setdefault(st.ppid, []).append(st.pid)
        seen, todo = {root}, [root]
        while todo:
            for kid in parents.get(todo.pop(), ()):
                if kid not in seen:
                    seen.add(kid)
                    todo.append(kid)
        return frozenset(seen)

    def cpu_seconds(self, pids) -> float:
        total = 0
        for pid in pids:
            st = self.stat(pid)
            if st is not None:
                total += st.cpu_ticks
        return total / self.ticks_per_s

    def name(self, pid: int) -> str | None:
        text = self._read(str(pid), "comm")
        return text.strip() if text is not None else None

    def nvidia_minors(self, pid: int) -> frozenset[int]:
        """The N of every /dev/nvidiaN the process holds open (not /dev/nvidiactl or -uvm)."""
        folder = self.proc / str(pid) / "fd"
        try:
            fds = os.listdir(folder)
        except OSError:
            return frozenset()
        out = set()
        for fd in fds:
            try:
                target = os.readlink(folder / fd)
            except OSError:
                continue
            match = NVIDIA_DEVICE.match(target)
            if match:
                out.add(int(match.group(1)))
        return frozenset(out)
