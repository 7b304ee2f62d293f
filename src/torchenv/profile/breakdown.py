"""The per-step time breakdown of a trace: host time in ops, DataLoader time, the stall before the first op,
GPU busy, and GPU idle split the way Holistic Trace Analysis defines it (host wait / kernel wait / other).
A mixin of the per-rank analysis (`self` has the trace, its indexes and the rules), and the mean over steps.
Pure."""

from __future__ import annotations

from collections.abc import Callable

from ..model.profile import Breakdown, StepBreakdown
from .intervals import clip, covered, merge, total
from .shared import DATALOADER_PREFIX, _ms, _Window
from .trace import Annotation


class StepBreakdowns:
    """Breakdown of one ProfilerStep window."""

    def _breakdown(self, w: _Window) -> StepBreakdown:
        tid = w.tid
        host = [(o.ts, o.end) for o in self.ops_list.get(tid, []) if o.ts < w.end and o.end > w.start]
        host += [(a.ts, a.end) for a in self.annotations.get(tid, []) if a.ts < w.end and a.end > w.start]
        host_merged = clip(merge(host), w.start, w.end)
        loader = clip(merge((a.ts, a.end) for a in self._dataloader_spans(w)), w.start, w.end)
        first = min((a for a, _ in host_merged), default=w.end)
        stall = first - w.start
        if self.trace.has_gpu:
            stall -= covered(self.gpu_busy, w.start, first)
        gpu_busy = host_wait = kernel_wait = other = comm = None
        kernels = sum(1 for g in self.trace.gpu if g.kind == "kernel" and w.start <= g.ts < w.end)
        launches = sum(1 for r in self.trace.runtime if r.name in self.launch_names and w.start <= r.ts < w.end)
        if self.trace.has_gpu:
            gpu_busy = covered(self.gpu_busy, w.start, w.end)
            host_wait, kernel_wait, other = self._idle(w)
            comm = covered(self.nccl_busy, w.start, w.end)
        origin = self.windows[0].start if self.windows else w.start
        return StepBreakdown(
            name=w.name,
            number=w.number,
            rank=self.rank,
            start_ms=_ms(w.start - origin),
            wall_ms=_ms(w.dur),
            cpu_ops_ms=_ms(total(host_merged)),
            dataloader_ms=_ms(total(loader)),
            host_stall_ms=_ms(max(0.0, stall)),
            gpu_busy_ms=_ms(gpu_busy),
            host_wait_ms=_ms(host_wait),
            kernel_wait_ms=_ms(kernel_wait),
            other_idle_ms=_ms(other),
            communication_ms=_ms(comm),
            kernels=kernels,
            launches=launches,
        )

    def _idle(self, w: _Window) -> tuple[float, float, float]:
        """HTA's idle split over the union of streams: a gap whose next GPU event was launched after
        the previous one ended is host wait; a gap shorter than consecutive_kernel_delay is kernel
        wait; any other gap (a launch was pending, the GPU still waited) is other."""
        delay = self.rules["consecutive_kernel_delay_us"]
        events = sorted((g for g in self.trace.gpu if g.end > w.start and g.ts < w.end), key=lambda g: g.ts)
        host = kernel = other = 0.0
        cursor = w.start
        for g in events:
            if g.ts > cursor:
                gap = min(g.ts, w.end) - cursor
                launch = self.runtime_by_corr.get(g.correlation) if g.correlation is not None else None
                if launch is not None and launch.ts >= cursor:
                    host += gap
                elif gap < delay:
                    kernel += gap
                elif launch is None:
                    host += gap
                else:
                    other += gap
            cursor = max(cursor, g.end)
        if cursor < w.end:
            host += w.end - cursor
        return host, kernel, other

    def _dataloader_spans(self, w: _Window) -> list[Annotation]:
        return [
            a
            for a in self.annotations.get(w.tid, [])
            if a.name.startswith(DATALOADER_PREFIX) and a.ts < w.end and a.end > w.start
        ]


def mean_breakdown(steps: tuple[StepBreakdown, ...]) -> Breakdown | None:
    if not steps:
        return None
    n = len(steps)

    def avg(get: Callable[[StepBreakdown], float | None]) -> float | None:
        values = [get(s) for s in steps]
        if any(v is None for v in values):
            return None
        return round(sum(v for v in values if v is not None) / n, 4)

    return Breakdown(
        steps=n,
        wall_ms=avg(lambda s: s.wall_ms) or 0.0,
        cpu_ops_ms=avg(lambda s: s.cpu_ops_ms) or 0.0,
        dataloader_ms=avg(lambda s: s.dataloader_ms) or 0.0,
        host_stall_ms=avg(lambda s: s.host_stall_ms) or 0.0,
        gpu_busy_ms=avg(lambda s: s.gpu_busy_ms),
        host_wait_ms=avg(lambda s: s.host_wait_ms),
        kernel_wait_ms=avg(lambda s: s.kernel_wait_ms),
        other_idle_ms=avg(lambda s: s.other_idle_ms),
        communication_ms=avg(lambda s: s.communication_ms),
    )
