"""One monitoring session: the sampler (a thread, so a slow NVML never holds Ctrl-C), the job's
process tree and its attribution, the streams, the kept samples.

`Monitor.tick(now)` takes one sample and is what the tests drive, with a fake NVML, a fake /proc
and a fake clock; `Monitor.run(stop)` calls it on schedule (t0 + k * interval: no drift; a tick
that overran its slot makes the next ones late rather than doubling up, and is counted).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from .attribution import attribute
from .model import Event, GpuInfo, ProcessSample, Sample
from .nvml import NvmlSampler
from .procs import ProcReader

FAST_INTERVAL_S = 0.1
FULL_EVERY_S = 1.0  # with --fast, the full set (memory, processes, PCIe, temperature, faults) at 1 Hz
MAX_KEPT = 20_000  # samples kept for the summary and the plot; beyond, every other one is dropped
MAX_EVENTS = 1_000


class SampleStore:
    """The samples kept for the end: all of them up to MAX_KEPT, then every 2nd, 4th, ... (the
    streams get every one)."""

    def __init__(self, limit: int = MAX_KEPT):
        self.limit = limit
        self.samples: list[Sample] = []
        self.stride = 1
        self.seen = 0

    def add(self, sample: Sample) -> None:
        if self.seen % self.stride == 0:
            self.samples.append(sample)
            if len(self.samples) > self.limit:
                self.samples = self.samples[::2]
                self.stride *= 2
        self.seen += 1


class Monitor:
    def __init__(
        self,
        sampler: NvmlSampler,
        procs: ProcReader,
        infos: Sequence[GpuInfo],
        *,
        interval_s: float = 1.0,
        fast: bool = False,
        clock: Callable[[], float] = time.monotonic,
        thread_clock: Callable[[], float] = time.thread_time,
        sinks: Sequence[Callable[[Sample], None]] = (),
    ):
        self.sampler = sampler
        self.procs = procs
        self.infos = list(infos)
        self.gpu_by_minor = {i.minor: i.index for i in infos if i.minor is not None}
        self.interval_s = FAST_INTERVAL_S if fast else interval_s
        self.full_every = max(1, round(FULL_EVERY_S / self.interval_s)) if fast else 1
        self.fast = fast
        self.clock = clock
        self.thread_clock = thread_clock
        self.sinks = list(sinks)
        self.root: int | None = None
        self.baseline: frozenset[tuple[int, int]] | None = None
        self.t0: float | None = None
        self.ticks = 0
        self.late_ticks = 0
        self.store = SampleStore()
        self.events: list[Event] = []
        self.cpu_costs: list[float] = []
        self.attribution = "none"
        self.attribution_note: str | None = None
        self.ambiguous: set[int] = set()
        self.names: dict[int, str | None] = {}
        self.last_cpu: tuple[float, float] | None = None  # (t, CPU seconds of the tree)
        self.latest: Sample | None = None
        self.lock = threading.Lock()
        self.new_sample = threading.Event()
        self.error: str | None = None

    # --- set-up --------------------------------------------------------------------------------

    def take_baseline(self) -> None:
        """The compute processes that run before the job starts: never the job's."""
        self.baseline = self.sampler.processes_now()

    def begin(self, root: int | None, now: float) -> None:
        self.root = root
        self.t0 = now

    # --- one tick --------------------------------------------------------------------------------

    def tick(self, now: float) -> Sample:
        assert self.t0 is not None, "begin() first"
        started = self.thread_clock()
        full = self.ticks % self.full_every == 0
        gpus, listed, events = self.sampler.read(now, full)
        t = now - self.t0
        processes: tuple[ProcessSample, ...] = ()
        cpu_pct = None
        tree_size = None
        if full:
            tree = self.procs.tree(self.root) if self.root is not None else frozenset()
            tree_size = len(tree)
            processes = self._processes(listed, tree)
            cpu_pct = self._cpu(tree, t)
        cost = self.thread_clock() - started
        sample = Sample(
            t_s=round(t, 4),
            gpus=tuple(gpus),
            processes=processes,
            full=full,
            own_cpu_pct=cpu_pct,
            own_pids=tree_size,
            attribution=self.attribution,
            sampler_cpu_s=round(cost, 6),
        )
        self.ticks += 1
        self.cpu_costs.append(cost)
        with self.lock:
            self.store.add(sample)
            for e in events:
                if len(self.events) < MAX_EVENTS:
                    self.events.append(Event(round(t, 3), e.gpu, e.kind, e.value, e.detail))
            self.latest = sample
        for sink in self.sinks:
            sink(sample)
        self.new_sample.set()
        return sample

    def _processes(self, listed, tree: frozenset[int]) -> tuple[ProcessSample, ...]:
        pids = {p.pid for rows in listed.values() for p in rows}
        visible = frozenset(p for p in pids if p in tree or self.procs.exists(p))
        held: dict[int, int] = {}
        if tree and not pids & tree:  # no PID matches: which GPUs do the job's processes hold open?
            for pid in tree:
                for minor in self.procs.nvidia_minors(pid):
                    gpu = self.gpu_by_minor.get(minor)
                    if gpu is not None:
                        held[gpu] = held.get(gpu, 0) + 1
        result = attribute(
            {gpu: [p.pid for p in rows] for gpu, rows in listed.items()},
            tree,
            visible=visible,
            held=held,
            baseline=self.baseline,
        )
        if result.mode != "none" and (self.attribution in ("none", "pid") or result.mode == "ambiguous"):
            self.attribution = result.mode
            self.attribution_note = result.note
        self.ambiguous |= result.ambiguous_gpus
        out = []
        for gpu, rows in sorted(listed.items()):
            for p in rows:
                if p.pid not in self.names:
                    self.names[p.pid] = self.procs.name(p.pid) if p.pid in visible else None
                out.append(
                    ProcessSample(
                        gpu=gpu,
                        pid=p.pid,
                        own=(gpu, p.pid) in result.own,
                        memory_mib=round(p.memory_mib, 1) if p.memory_mib is not None else None,
                        sm_pct=p.sm_pct,
                        name=self.names[p.pid],
                    )
                )
        return tuple(out)

    def _cpu(self, tree: frozenset[int], t: float) -> float | None:
        if not tree:
            self.last_cpu = None
            return None
        seconds = self.procs.cpu_seconds(tree)
        before, self.last_cpu = self.last_cpu, (t, seconds)
        if before is None or t <= before[0]:
            return None
        return round(max(seconds - before[1], 0.0) / (t - before[0]) * 100, 1)

    # --- the loop --------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Samples on schedule until `stop` is set (in a thread of its own)."""
        assert self.t0 is not None
        k = 0
        try:
            while not stop.is_set():
                self.tick(self.clock())
                k += 1
                due = self.t0 + k * self.interval_s
                now = self.clock()
                if now > due:  # the tick overran its slot: skip to the next free one
                    skipped = int((now - due) / self.interval_s) + 1
                    self.late_ticks += skipped
                    k += skipped
                    due = self.t0 + k * self.interval_s
                stop.wait(max(0.0, due - self.clock()))
        except Exception as exc:  # the sampler must never take the job down with it
            self.error = f"sampling stopped: {type(exc).__name__}: {exc}"
            self.new_sample.set()

    def kept(self) -> tuple[list[Sample], list[Event]]:
        with self.lock:
            return list(self.store.samples), list(self.events)
