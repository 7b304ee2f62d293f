"""Drives a monitor session on a recording with a fake clock, a fake /proc and no threads."""

from __future__ import annotations

import json
import os
from pathlib import Path

from torchenv.monitor.nvml import NvmlSampler
from torchenv.monitor.procs import ProcReader
from torchenv.monitor.session import Monitor
from torchenv.monitor.summary import build_report, overhead_from

from .fake_nvml import FakeNvml

HERE = Path(__file__).parent
RECORDINGS = HERE / "recordings"
FAKE_PYNVML = HERE / "fake_pynvml"
JOB_PID = 4100


def recording(name: str) -> dict:
    return json.loads((RECORDINGS / f"{name}.json").read_text())


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class TickingClock:
    """A CPU clock that advances by `step` at every reading: each tick costs exactly `step`."""

    def __init__(self, step: float):
        self.step = step
        self.now = 0.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def write_proc(
    root: Path,
    pid: int,
    *,
    ppid: int = 1,
    name: str = "python",
    cpu_ticks: int = 0,
    children: tuple[int, ...] = (),
    devices: tuple[str, ...] = (),
    threads: tuple[int, ...] = (),
) -> None:
    """One process of a fake /proc tree: stat, comm, task/*/children and fd symlinks."""
    folder = root / "proc" / str(pid)
    (folder / "fd").mkdir(parents=True, exist_ok=True)
    utime, stime = cpu_ticks // 2, cpu_ticks - cpu_ticks // 2
    fields = ["S", str(ppid)] + ["0"] * 9 + [str(utime), str(stime)] + ["0"] * 20
    (folder / "stat").write_text(f"{pid} ({name}) {' '.join(fields)}\n")
    (folder / "comm").write_text(name + "\n")
    for tid in (pid, *threads):
        task = folder / "task" / str(tid)
        task.mkdir(parents=True, exist_ok=True)
        (task / "children").write_text(" ".join(map(str, children if tid == pid else ())) + (" " if children else ""))
    for fd, target in enumerate(devices, start=3):
        link = folder / "fd" / str(fd)
        if not link.is_symlink():
            os.symlink(target, link)


def job_tree(root: Path, *, devices: tuple[str, ...] = ("/dev/nvidiactl", "/dev/nvidia0", "/dev/nvidia-uvm")) -> int:
    """The job (JOB_PID) with one DataLoader worker; both hold the GPU's device files."""
    write_proc(root, JOB_PID, children=(JOB_PID + 1,), devices=devices, cpu_ticks=500)
    write_proc(root, JOB_PID + 1, ppid=JOB_PID, name="pt_data_worker", devices=devices, cpu_ticks=100)
    return JOB_PID


def drive(
    name_or_data,
    tmp_path: Path,
    *,
    root_pid: int | None = JOB_PID,
    pids=None,
    fast: bool = False,
    window_s: float = 10.0,
    tree=job_tree,
    marks=(),
    mutate=None,
    attach: bool = False,
):
    """Replays a recording tick by tick; returns (report, samples, monitor, nvml)."""
    data = recording(name_or_data) if isinstance(name_or_data, str) else name_or_data
    if mutate is not None:
        mutate(data)
    clock = FakeClock()
    nvml = FakeNvml(data, clock=clock, pids=pids if pids is not None else {"job": JOB_PID})
    if tree is not None:
        tree(tmp_path)
    procs = ProcReader(tmp_path)
    sampler = NvmlSampler(nvml)
    infos = sampler.open(clock())
    cpu = TickingClock(0.0015)
    monitor = Monitor(sampler, procs, infos, fast=fast, clock=clock, thread_clock=cpu)
    if not attach:
        monitor.take_baseline()
    monitor.begin(root_pid, clock())
    interval = monitor.interval_s
    end = data["ticks"][-1]["t"] + 1.0
    steps = round(end / interval)
    for k in range(steps):
        clock.now = 1000.0 + k * interval
        monitor.tick(clock.now)
    samples, events = monitor.kept()
    report = build_report(
        torchenv_version="test",
        infos=[i for i in monitor.infos],
        samples=samples,
        events=events,
        marks_s=list(marks),
        duration_s=end,
        interval_s=interval,
        fast=fast,
        window_s=window_s,
        command=() if attach else ("python", "train.py"),
        attach_pid=root_pid if attach else None,
        exit_code=None if attach else 0,
        status="ok",
        started_at="2026-12-03T10:00:00+00:00",
        overhead=overhead_from(monitor.cpu_costs, interval, 0.2, end, monitor.late_ticks),
        attribution=monitor.attribution,
        ambiguous=frozenset(monitor.ambiguous),
        notes=[monitor.attribution_note] if monitor.attribution_note else [],
    )
    sampler.close()
    return report, samples, monitor, nvml


def verdict_ids(report, gpu=None) -> set[str]:
    return {v.finding.id for v in report.verdicts if gpu is None or v.gpu == gpu}
