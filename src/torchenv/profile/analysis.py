"""The analysis of a decoded trace: per-step time breakdown (GPU busy, idle split into host wait /
kernel wait / other the way Holistic Trace Analysis defines it) and the rules that turn it into
findings ranked by milliseconds lost per step. Pure: no torch, no file reading beyond trace.py.

Each rule looks at every ProfilerStep window of every rank, groups what it sees by the user's source
function (the innermost python frame outside torch and the standard library), and states its
estimate of the time lost per step together with how it was computed. Thresholds come from one
table (profile_rules.toml via torchenv.profile.rules), each row with its source.
"""

from __future__ import annotations

import os
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..model.finding import Finding, Severity, Skipped
from ..model.profile import (
    Breakdown,
    ProfileDevice,
    ProfileFinding,
    ProfileReport,
    StepBreakdown,
    TimelineSegment,
)
from .intervals import Containment, clip, covered, merge, subtract, total
from .rules import Rules, load_rules
from .trace import Annotation, CpuOp, GpuEvent, PythonFrame, Trace, TraceSet, read_trace

LAYER = "compute"
DATALOADER_PREFIX = "enumerate(DataLoader)#"
OPTIMIZER_PREFIX = "Optimizer.step#"
LIBRARY_ROOTS = frozenset(
    {
        "torch",
        "torchvision",
        "torchaudio",
        "torchtext",
        "functorch",
        "triton",
        "transformers",
        "accelerate",
        "lightning",
        "pytorch_lightning",
        "lightning_fabric",
        "timm",
        "deepspeed",
        "apex",
        "numpy",
        "diffusers",
        "datasets",
        "torchenv",
        "peft",
        "xformers",
        "flash_attn",
    }
)
STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"threading", "contextlib", "runpy", "functools"}


# --------------------------------------------------------------------------- public entry points


def analyse(
    trace_path: str | os.PathLike,
    device_memory_bytes: int | None = None,
    cc: str | None = None,
    *,
    tf32: bool | None = None,
    rules: Rules | None = None,
    torchenv_version: str = "",
) -> ProfileReport:
    """Read `trace_path` (a trace file or a folder of per-rank traces) and analyse it.

    `device_memory_bytes` and `cc` ("8.0") stand in for the trace's deviceProperties when it has none
    (a capture on a machine torchenv probed); `tf32` is the capture's
    torch.backends.cuda.matmul.allow_tf32 when known. Raises torchenv.profile.trace.TraceError."""
    traces = read_trace(trace_path)
    return analyse_traces(
        traces,
        device_memory_bytes=device_memory_bytes,
        cc=cc,
        tf32=tf32,
        rules=rules,
        torchenv_version=torchenv_version,
    )


def analyse_traces(
    traces: TraceSet,
    *,
    device_memory_bytes: int | None = None,
    cc: str | None = None,
    tf32: bool | None = None,
    rules: Rules | None = None,
    torchenv_version: str = "",
) -> ProfileReport:
    rules = rules or load_rules()
    per_rank = [_RankAnalysis(t, rules, device_memory_bytes, cc, tf32) for t in traces.traces]
    steps = tuple(s for r in per_rank for s in r.steps)
    findings = _merge_findings([f for r in per_rank for f in r.findings])
    skipped: dict[str, Skipped] = {}
    fired = {f.finding.id for f in findings}
    for r in per_rank:
        for s in r.skipped:
            if s.check not in fired:
                skipped.setdefault(s.check, s)
    first = per_rank[0]
    ranks = tuple(t.rank for t in traces.traces if t.rank is not None)
    notes = list(traces.notes)
    for r in per_rank:
        notes.extend(n for n in r.notes if n not in notes)
    return ProfileReport(
        status="ok" if all(t.steps for t in traces.traces) else "no-steps",
        trace=traces.path,
        files=tuple(t.path for t in traces.traces),
        ranks=ranks if len(ranks) == len(traces.traces) else (),
        has_gpu=any(t.has_gpu for t in traces.traces),
        device=first.device,
        steps=steps,
        breakdown=_mean(steps),
        findings=findings,
        skipped=tuple(skipped.values()),
        timeline=first.timeline,
        notes=tuple(notes),
        rules_version=rules.version,
        torchenv_version=torchenv_version,
    )


# --------------------------------------------------------------------------- per rank


@dataclass
class _Site:
    """What one rule saw at one place (op and source function), summed over the steps."""

    what: str
    source: str | None
    us: float = 0.0
    count: int = 0
    extra: dict = field(default_factory=dict)


@dataclass
class _Window:
    name: str
    number: int
    start: float
    end: float
    tid: int | str | None

    @property
    def dur(self) -> float:
        return self.end - self.start


def _user_path(file: str | None) -> bool:
    if not file or file.startswith("<"):
        return False
    path = file.replace("\\", "/")
    if any(part in path for part in ("site-packages/", "dist-packages/", "/lib/python", "<frozen")):
        return False
    root = path.lstrip("./").split("/")[0]
    root = root[:-3] if root.endswith(".py") else root
    return root not in LIBRARY_ROOTS and root not in STDLIB


class _RankAnalysis:
    def __init__(self, trace: Trace, rules: Rules, memory: int | None, cc: str | None, tf32: bool | None):
        self.trace = trace
        self.rules = rules
        self.rank = trace.rank
        self.tf32 = tf32
        self.notes: list[str] = []
        self.skipped: list[Skipped] = []
        self.findings: list[ProfileFinding] = []
        self.device = self._device(memory, cc)
        self._index()
        self.windows = self._windows()
        self.steps = tuple(self._breakdown(w) for w in self.windows)
        self.mean_wall_us = sum(w.dur for w in self.windows) / max(1, len(self.windows))
        self.timeline = self._timeline()
        for rule in (
            self.rule_host_sync,
            self.rule_pageable_copy,
            self.rule_dataloader,
            self.rule_host_stall,
            self.rule_launch_bound,
            self.rule_fp32,
            self.rule_optimizer,
            self.rule_allocator,
            self.rule_peak_memory,
            self.rule_communication,
            self.rule_data_parallel,
            self.rule_ddp_backend,
        ):
            rule()

    # ------------------------------------------------------------------ setup
    def _device(self, memory: int | None, cc: str | None) -> ProfileDevice | None:
        props = self.trace.devices
        used = {g.device for g in self.trace.gpu if g.device is not None}
        chosen = next((d for d in props if d.index in used), props[0] if props else None)
        if chosen is None and memory is None and cc is None:
            return None
        return ProfileDevice(
            index=chosen.index if chosen else None,
            name=chosen.name if chosen else None,
            cc=cc or (chosen.cc if chosen else None),
            total_memory_bytes=memory or (chosen.total_memory_bytes if chosen else None),
        )

    def _index(self) -> None:
        t = self.trace
        by_tid: dict = defaultdict(list)
        for f in t.python:
            by_tid[f.tid].append(f)
        self.frames = {tid: Containment(v) for tid, v in by_tid.items()}
        self.frame_by_id = {f.id: f for f in t.python if f.id is not None}
        ops: dict = defaultdict(list)
        for o in t.cpu_ops:
            ops[o.tid].append(o)
        self.ops = {tid: Containment(v) for tid, v in ops.items()}
        self.ops_list = ops
        annotations: dict = defaultdict(list)
        for a in t.annotations:
            annotations[a.tid].append(a)
        self.annotations = annotations
        self.runtime_by_corr = {r.correlation: r for r in t.runtime if r.correlation is not None}
        self.gpu_by_corr: dict = defaultdict(list)
        for g in t.gpu:
            if g.correlation is not None:
                self.gpu_by_corr[g.correlation].append(g)
        self.gpu_busy = merge((g.ts, g.end) for g in t.gpu)
        self.compute_busy = merge((g.ts, g.end) for g in t.gpu if g.kind == "kernel" and not g.nccl)
        self.nccl_busy = merge((g.ts, g.end) for g in t.gpu if g.nccl)
        self.launch_names = set(self.rules.names("launch_calls"))
        self.own = self._own_spans()
        if not t.python and t.cpu_ops:
            self.notes.append(
                "the trace has no python stacks (captured without with_stack=True): findings name ops, not source lines"
            )

    def _own_spans(self) -> dict:
        """Per thread, the spans of torchenv's own capture instrumentation (its per-step
        torch.cuda.synchronize(), marked `torchenv.capture.sync`, or its python frame in older
        traces): a sync inside one is ours, not the user's problem."""
        names = set(self.rules.names("own_annotations"))
        frames = [tuple(p.rsplit(":", 1)) for p in self.rules.names("own_frames")]
        spans: dict = defaultdict(list)
        for a in self.trace.annotations:
            if a.name in names:
                spans[a.tid].append((a.ts, a.end))
        for f in self.trace.python:
            file = (f.file or "").replace("\\", "/")
            if any(file.endswith(path) and f.function == function for path, function in frames):
                spans[f.tid].append((f.ts, f.end))
        return {tid: merge(v) for tid, v in spans.items()}

    def ours(self, tid, ts: float) -> bool:
        """Whether `ts` on thread `tid` falls inside torchenv's own capture instrumentation."""
        return any(a <= ts <= b for a, b in self.own.get(tid, ()))

    def _windows(self) -> list[_Window]:
        t = self.trace
        if t.steps:
            return [_Window(s.name, s.number, s.ts, s.end, s.tid) for s in t.steps]
        starts = [e.ts for e in (*t.cpu_ops, *t.annotations, *t.runtime, *t.gpu)]
        ends = [e.end for e in (*t.cpu_ops, *t.annotations, *t.runtime, *t.gpu)]
        tid = t.cpu_ops[0].tid if t.cpu_ops else None
        self.notes.append(
            "no ProfilerStep#N markers (prof.step() was not called): the whole trace is taken as one step"
        )
        return [_Window("trace", 0, min(starts), max(ends), tid)]

    # ------------------------------------------------------------------ lookups
    def user_frame(self, tid, t: float, end: float | None = None) -> PythonFrame | None:
        frames = self.frames.get(tid)
        if frames is None:
            return None
        frame = frames.innermost(t, end)
        seen = 0
        while frame is not None and seen < 512:
            if _user_path(frame.file):
                return frame
            frame = (
                self.frame_by_id.get(frame.parent)
                if frame.parent is not None
                else frames.innermost(frame.ts - 1e-6, frame.end + 1e-6)
            )
            seen += 1
        return None

    def source(self, tid, t: float, end: float | None = None) -> str | None:
        frame = self.user_frame(tid, t, end)
        return frame.where if frame is not None else None

    def top_ops(self, tid) -> list[CpuOp]:
        """Ops of a thread that no other op of that thread contains."""
        out: list[CpuOp] = []
        end = -1.0
        for op in self.ops.get(tid, Containment(())).records:
            if op.ts >= end or op.end > end:
                out.append(op)
                end = op.end
        return out

    def enclosing_op(self, tid, t: float, names: Iterable[str] | None = None) -> CpuOp | None:
        ops = self.ops.get(tid)
        if ops is None:
            return None
        op = ops.innermost(t)
        if names is None:
            return op
        wanted = set(names)
        while op is not None and op.name not in wanted:
            op = ops.innermost(op.ts - 1e-6, op.end) if op.ts > 0 else None
            if op is not None and op.name in wanted:
                return op
        return op

    # ------------------------------------------------------------------ breakdown
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

    # ------------------------------------------------------------------ findings
    def _severity(self, ms: float) -> Severity:
        return Severity.WARNING if ms >= 0.01 * _ms(self.mean_wall_us) and ms > 0 else Severity.INFO

    def _emit(
        self,
        id: str,
        category: str,
        title: str,
        ms: float,
        estimate: str,
        evidence: list[str],
        explanation: str,
        fix: str | None,
        source: str | None,
        severity: Severity | None = None,
    ) -> None:
        finding = Finding(
            id=id,
            category=category,
            severity=severity or self._severity(ms),
            layer=LAYER,
            title=title,
            evidence=tuple(evidence),
            explanation=explanation,
            fix=fix,
        )
        ranks = (self.rank,) if self.rank is not None else ()
        self.findings.append(ProfileFinding(finding, round(ms, 4), estimate, source, ranks))

    def _skip(self, id: str, reason: str) -> None:
        self.skipped.append(Skipped(id, reason))

    def _per_step(self, us: float) -> float:
        return us / 1000.0 / max(1, len(self.windows))

    def _in_steps(self, ts: float) -> bool:
        return any(w.start <= ts < w.end for w in self.windows)

    def _step_tids(self) -> set:
        return {w.tid for w in self.windows}

    # rule: host <-> device syncs ------------------------------------------------------------
    def rule_host_sync(self) -> None:
        sync_ops = set(self.rules.names("sync_ops"))
        sync_calls = set(self.rules.names("sync_calls"))
        sites: dict[tuple, _Site] = {}
        counted_calls: set[int] = set()
        gpu = self.trace.has_gpu
        for tid in self._step_tids():
            ops = [
                o
                for o in self.ops_list.get(tid, [])
                if o.name in sync_ops and self._in_steps(o.ts) and not self.ours(tid, o.ts)
            ]
            outer: list[CpuOp] = []
            end = -1.0
            for op in sorted(ops, key=lambda o: (o.ts, -o.dur)):
                if op.ts >= end:
                    outer.append(op)
                    end = op.end
            for op in outer:
                calls = [
                    r for r in self.trace.runtime if r.tid == tid and op.ts <= r.ts <= op.end and r.name in sync_calls
                ]
                counted_calls.update(id(r) for r in calls)
                blocked = sum(r.dur for r in calls) if calls else op.dur
                what = _sync_label(op.name)
                key = (what, self.source(tid, op.ts, op.end))
                site = sites.setdefault(key, _Site(what, key[1]))
                site.us += blocked
                site.count += 1
            for r in self.trace.runtime:
                if r.tid != tid or r.name not in sync_calls or id(r) in counted_calls or not self._in_steps(r.ts):
                    continue
                if self.ours(tid, r.ts):  # the capture's own per-step synchronize
                    continue
                op = self.ops[tid].innermost(r.ts) if tid in self.ops else None
                outermost = op
                while outermost is not None:
                    parent = self.ops[tid].innermost(outermost.ts - 1e-6, outermost.end + 1e-6)
                    if parent is None or parent is outermost:
                        break
                    outermost = parent
                if outermost is None:
                    what = "torch.cuda.synchronize()" if "Device" in r.name or "Ctx" in r.name else r.name
                elif any(g.direction == "DtoH" for g in self._copies_inside(tid, outermost)):
                    what = f".cpu() / .to('cpu') ({outermost.name} → {r.name})"
                else:
                    what = f"{outermost.name} → {r.name}"
                anchor = outermost or r
                key = (what, self.source(tid, anchor.ts, anchor.end))
                site = sites.setdefault(key, _Site(what, key[1]))
                site.us += r.dur
                site.count += 1
        if not sites:
            return
        steps = max(1, len(self.windows))
        for site in sorted(sites.values(), key=lambda s: -s.us):
            ms = self._per_step(site.us)
            if gpu:
                estimate = (
                    f"{ms:.3f} ms/step = host time blocked in the sync ({site.count} calls over {steps} steps): "
                    "an upper bound, the time the host could run ahead of the GPU without it"
                )
                severity = None if ms >= self.rules["sync_min_us"] / 1000 else Severity.INFO
            else:
                estimate = (
                    f"{ms:.3f} ms/step = the op's own time on this CPU trace ({site.count} calls over {steps} steps); "
                    "on a GPU it also waits for every queued kernel"
                )
                severity = Severity.INFO
            where = f" in {site.source}" if site.source else ""
            self._emit(
                "profile-host-sync",
                "performance",
                f"host↔device sync every step: {site.what}{where}",
                ms,
                estimate,
                [
                    f"{site.what}: {site.count / steps:g} per step, {ms:.3f} ms/step blocked",
                    f"source: {site.source}" if site.source else "source: not in the trace (no python stack)",
                ],
                "A sync makes the host wait until the GPU has finished everything queued, so it cannot run ahead and "
                "launch the next work; the GPU then idles while the host catches up. Typical causes: .item() or "
                "float(tensor) for logging, `if tensor:` (aten::is_nonzero), .cpu()/.tolist()/.numpy(), nonzero() "
                "and boolean-mask indexing (data-dependent output size).",
                _sync_fix(site.what, site.source),
                site.source,
                severity,
            )

    def _copies_inside(self, tid, op: CpuOp) -> list[GpuEvent]:
        out = []
        for r in self.trace.runtime:
            if r.tid == tid and op.ts <= r.ts <= op.end and r.correlation is not None:
                out.extend(g for g in self.gpu_by_corr.get(r.correlation, ()) if g.kind == "memcpy")
        return out

    # rule: pageable / blocking copies --------------------------------------------------------
    def rule_pageable_copy(self) -> None:
        if not self.trace.has_gpu:
            self._skip("profile-pageable-copy", "no GPU copies in the trace (a CPU-only capture)")
            return
        sites: dict[tuple, _Site] = {}
        for g in self.trace.gpu:
            if not g.pageable:
                continue
            launch = self.runtime_by_corr.get(g.correlation) if g.correlation is not None else None
            ts = launch.ts if launch else g.ts
            if not self._in_steps(ts):
                continue
            blocked = launch.dur if launch else g.dur
            tid = launch.tid if launch else None
            source = self.source(tid, launch.ts, launch.end) if launch else None
            what = f"{g.direction or 'copy'} from pageable memory ({g.name})"
            site = sites.setdefault((what, source), _Site(what, source, extra={"bytes": 0, "direction": g.direction}))
            site.us += blocked
            site.count += 1
            site.extra["bytes"] += g.bytes or 0
        for r in self.trace.runtime:  # synchronous cudaMemcpy: blocking whatever the memory
            if r.name == "cudaMemcpy" and self._in_steps(r.ts):
                source = self.source(r.tid, r.ts, r.end)
                what = "synchronous cudaMemcpy"
                site = sites.setdefault((what, source), _Site(what, source, extra={"bytes": 0, "direction": None}))
                site.us += r.dur
                site.count += 1
        steps = max(1, len(self.windows))
        for site in sorted(sites.values(), key=lambda s: -s.us):
            ms = self._per_step(site.us)
            where = f" in {site.source}" if site.source else ""
            mib = site.extra["bytes"] / steps / 2**20
            self._emit(
                "profile-pageable-copy",
                "data-loading" if site.extra["direction"] == "HtoD" else "performance",
                f"blocking copy every step: {site.what.split(' (')[0]}{where}",
                ms,
                f"{ms:.3f} ms/step = host time inside the copy call ({site.count} copies over {steps} steps); "
                "a pinned, non_blocking copy returns at once and overlaps with compute",
                [
                    f"{site.what}: {site.count / steps:g} per step, {mib:.2f} MiB/step, {ms:.3f} ms/step blocked",
                    f"source: {site.source}" if site.source else "source: not in the trace (no python stack)",
                ],
                "A copy from pageable (not pinned) host memory is staged through a driver buffer: the host blocks "
                "until it is done and the copy cannot overlap with kernels (nsys analyze: cuda_memcpy_async).",
                _copy_fix(site.extra["direction"], site.source),
                site.source,
            )

    # rule: DataLoader waits -----------------------------------------------------------------
    def rule_dataloader(self) -> None:
        spans = [(w, a) for w in self.windows for a in self._dataloader_spans(w)]
        if not spans:
            return
        total_us = sum(min(a.end, w.end) - max(a.ts, w.start) for w, a in spans)
        hidden = sum(covered(self.gpu_busy, max(a.ts, w.start), min(a.end, w.end)) for w, a in spans)
        wall = sum(w.dur for w in self.windows)
        share = total_us / wall if wall else 0.0
        ms = self._per_step(total_us - hidden)
        if share <= self.rules["dataloader_share"] or ms < self.rules["dataloader_min_ms"]:
            return
        iterators = sorted({a.name[len(DATALOADER_PREFIX) :].split(".")[0] for _, a in spans})
        single = any("SingleProcess" in i for i in iterators)
        _, a0 = spans[0]
        source = self.source(a0.tid, a0.ts, a0.end)
        inner = self._heaviest_user_frames(a0.tid, [(max(a.ts, w.start), min(a.end, w.end)) for w, a in spans], source)
        evidence = [
            f"DataLoader {', '.join(iterators)}: {self._per_step(total_us):.2f} ms/step, {share:.0%} of the step "
            f"(threshold {self.rules['dataloader_share']:.0%}, TensorBoard profiler plugin)",
        ]
        if hidden:
            evidence.append(f"{self._per_step(hidden):.2f} ms/step of it overlapped with GPU work")
        if inner:
            evidence.append(f"inside it: {inner}")
        if source:
            evidence.append(f"source: {source}")
        self._emit(
            "profile-dataloader-wait",
            "data-loading",
            f"the step waits {ms:.1f} ms for the DataLoader" + (" (num_workers=0)" if single else ""),
            ms,
            f"{ms:.3f} ms/step = time inside DataLoader __next__ minus the GPU work that overlapped it",
            evidence,
            "The training loop blocks in the DataLoader iterator: batches are made in the main process "
            "(num_workers=0) or the workers cannot keep up."
            if single
            else "The training loop blocks in the DataLoader iterator: the worker processes cannot keep up.",
            "DataLoader(..., num_workers=min(8, os.cpu_count()), pin_memory=True, persistent_workers=True, "
            "prefetch_factor=4); or `torchenv tune WORKLOAD --loader` to measure the best setting"
            if single
            else "raise num_workers and prefetch_factor, set persistent_workers=True, and move heavy transforms to "
            "the GPU or precompute them; `torchenv tune WORKLOAD --loader` measures the settings",
            source,
        )

    def _heaviest_user_frames(self, tid, spans: list[tuple[float, float]], exclude: str | None) -> str | None:
        frames = self.frames.get(tid)
        if frames is None:
            return None
        cost: dict[str, list] = defaultdict(lambda: [0.0, 0])
        for start, end in spans:
            for f in frames.within(start, end):
                if _user_path(f.file) and f.where != exclude:
                    cost[f.where][0] += min(f.end, end) - f.ts
                    cost[f.where][1] += 1
        if not cost:
            return None
        where, (us, n) = max(cost.items(), key=lambda kv: kv[1][0])
        return f"{where}: {n / max(1, len(self.windows)):g} calls/step, {self._per_step(us):.2f} ms/step"

    # rule: host-side stall before each batch ------------------------------------------------
    def rule_host_stall(self) -> None:
        stalls = [(w, s) for w, s in zip(self.windows, self.steps, strict=True) if s.host_stall_ms > 0]
        if not stalls:
            return
        mean_ms = sum(s.host_stall_ms for _, s in stalls) / max(1, len(self.windows))
        mean_wall = _ms(self.mean_wall_us)
        if mean_ms < self.rules["host_stall_min_ms"] or mean_ms < self.rules["host_stall_share"] * mean_wall:
            return
        culprits: dict[tuple, list] = defaultdict(lambda: [0.0, 0])
        for w, s in stalls:
            end = w.start + s.host_stall_ms * 1000
            frame = self._stall_frame(w.tid, w.start, end)
            if frame is None:
                continue
            source = self.source(w.tid, frame.ts, frame.end) if not _user_path(frame.file) else frame.where
            culprits[(frame.name if not _user_path(frame.file) else frame.where, source)][0] += covered(
                [(frame.ts, frame.end)], w.start, end
            )
            culprits[(frame.name if not _user_path(frame.file) else frame.where, source)][1] += 1
        (what, source), _ = max(culprits.items(), key=lambda kv: kv[1][0]) if culprits else ((None, None), None)
        gpu_note = ", GPU idle meanwhile" if self.trace.has_gpu else ""
        evidence = [
            f"{mean_ms:.2f} ms at the start of each step before the first torch op{gpu_note} ({mean_ms / mean_wall:.0%} of the step)"
        ]
        if what:
            evidence.append(f"busy in: {what}" + (f", called from {source}" if source and source != what else ""))
        busy = [s.gpu_busy_ms / s.wall_ms for s in self.steps if s.gpu_busy_ms is not None and s.wall_ms]
        if busy and sum(busy) / len(busy) < self.rules["gpu_busy_low"]:
            evidence.append(
                f"GPU busy {sum(busy) / len(busy):.0%} of the step (below {self.rules['gpu_busy_low']:.0%}: TensorBoard profiler plugin)"
            )
        where = f" in {source}" if source else ""
        self._emit(
            "profile-host-stall",
            "performance",
            f"host-side stall of {mean_ms:.1f} ms before each batch{where}",
            mean_ms,
            f"{mean_ms:.3f} ms/step = mean host time from ProfilerStep start to the first torch op"
            + (" with the GPU idle" if self.trace.has_gpu else ""),
            evidence,
            "Each step starts with host work outside torch (Python, I/O, sleeping, logging) while the GPU has "
            "nothing queued; the whole stall adds to the step time.",
            f"remove or move {what or 'the work at the step start'}"
            + (f" (called from {source})" if source and source != what else "")
            + " off the step's critical path: into DataLoader workers (num_workers>0), a background thread that "
            "prefetches the next batch, or do it every N steps",
            source,
        )

    def _stall_frame(self, tid, start: float, end: float) -> PythonFrame | None:
        frames = self.frames.get(tid)
        if frames is None or end <= start:
            return None
        candidates = [(covered([(f.ts, f.end)], start, end), f) for f in frames.overlapping(start, end)]
        if not candidates:
            return None
        best = max(c for c, _ in candidates)
        close = [f for c, f in candidates if c >= 0.8 * best]
        return max(close, key=lambda f: f.ts)

    # rule: launch-bound phases --------------------------------------------------------------
    def rule_launch_bound(self) -> None:
        if not self.trace.has_gpu:
            self._skip("profile-launch-bound", "no GPU kernels in the trace (a CPU-only capture)")
            return
        tiny = self.rules["tiny_kernel_us"]
        short_total = 0
        kernels_total = 0
        lost = 0.0
        by_op: dict[tuple, list] = defaultdict(lambda: [0, 0.0])
        outliers = delay_outliers = 0
        for w in self.windows:
            for g in self.trace.gpu:
                if g.kind != "kernel" or g.nccl:
                    continue
                launch = self.runtime_by_corr.get(g.correlation) if g.correlation is not None else None
                ts = launch.ts if launch else g.ts
                if not (w.start <= ts < w.end):
                    continue
                kernels_total += 1
                if launch is not None:
                    if launch.dur > self.rules["short_kernel_us"]:
                        outliers += 1
                    if g.ts - launch.end > self.rules["launch_delay_us"]:
                        delay_outliers += 1
                short = (launch is not None and g.dur < launch.dur) or g.dur < tiny
                if not short:
                    continue
                short_total += 1
                gap = max(0.0, (launch.dur if launch else tiny) - g.dur)
                lost += gap
                op = self.enclosing_op(launch.tid, launch.ts) if launch else None
                key = (op.name if op else g.name[:60], self.source(launch.tid, launch.ts) if launch else None)
                by_op[key][0] += 1
                by_op[key][1] += g.dur
        steps = max(1, len(self.windows))
        per_step = short_total / steps
        share = short_total / kernels_total if kernels_total else 0.0
        if per_step < self.rules["launch_bound_min_kernels"] or share < self.rules["launch_bound_share"]:
            return
        idle = sum((s.host_wait_ms or 0) + (s.other_idle_ms or 0) + (s.kernel_wait_ms or 0) for s in self.steps)
        ms = min(self._per_step(lost), idle / steps)
        top = sorted(by_op.items(), key=lambda kv: -kv[1][0])[:4]
        evidence = [
            f"{per_step:.0f} of {kernels_total / steps:.0f} kernels per step ({share:.0%}) are shorter than their launch "
            f"call or than {tiny:g} µs (HTA: a launch costs 5-20 µs on the CPU)",
        ]
        evidence += [
            f"{name}: {n / steps:.0f} short kernels/step" + (f" from {src}" if src else "")
            for (name, src), (n, _) in top
        ]
        if outliers:
            evidence.append(
                f"{outliers / steps:.0f} launch calls/step longer than {self.rules['short_kernel_us']:g} µs (HTA runtime_cutoff)"
            )
        if delay_outliers:
            evidence.append(
                f"{delay_outliers / steps:.0f} kernels/step started > {self.rules['launch_delay_us']:g} µs after their launch (HTA launch_delay_cutoff)"
            )
        source = top[0][0][1] if top else None
        self._emit(
            "profile-launch-bound",
            "performance",
            f"launch-bound: {per_step:.0f} tiny kernels per step" + (f" in {source}" if source else ""),
            ms,
            f"{ms:.3f} ms/step = Σ(launch call − kernel time) over the short kernels, capped by the step's GPU idle time",
            evidence,
            "The GPU finishes each kernel faster than the host can launch the next one, so it waits on the CPU "
            "(HTA 'host wait'). Many tiny elementwise kernels are the usual cause.",
            'fuse the small ops: `step = torch.compile(step)` (mode="reduce-overhead" adds CUDA graphs), or use '
            "torch._foreach_* / fused ops, larger tensors (batch) instead of loops over small ones",
            source,
        )

    # rule: FP32 matmul/conv without tensor cores ----------------------------------------------
    def rule_fp32(self) -> None:
        rid = "profile-fp32-no-tensor-cores"
        if not self.trace.has_gpu:
            self._skip(rid, "no GPU kernels in the trace (a CPU-only capture)")
            return
        cc = self.device.cc if self.device else None
        major = _cc_major(cc)
        if major is None:
            self._skip(rid, "compute capability unknown (no deviceProperties in the trace; pass cc=)")
            return
        if major < self.rules["tensor_core_min_cc_major"]:
            self._skip(rid, f"compute capability {cc} has no tensor cores")
            return
        eligible = set(self.rules.names("eligible_ops"))
        tc = tuple(p.lower() for p in self.rules.names("tensor_core"))
        simt = tuple(p.lower() for p in self.rules.names("fp32_simt"))
        non_tc_us = 0.0
        tf32_seen = False
        sites: dict[tuple, _Site] = {}
        ops_cache: dict = {}
        for g in self.trace.gpu:
            if g.kind != "kernel":
                continue
            launch = self.runtime_by_corr.get(g.correlation) if g.correlation is not None else None
            if launch is None or not self._in_steps(launch.ts):
                continue
            op = self._eligible_op(launch, eligible, ops_cache)
            if op is None or "float" not in op.input_types:
                continue
            name = g.name.lower()
            if "tf32" in name:
                tf32_seen = True
            uses_tc = any(p in name for p in tc) and not any(p in name for p in simt)
            if uses_tc:
                continue
            non_tc_us += g.dur
            source = self.source(launch.tid, op.ts, op.end)
            site = sites.setdefault((op.name, source), _Site(op.name, source, extra={"kernels": set()}))
            site.us += g.dur
            site.count += 1
            site.extra["kernels"].add(g.name[:70])
        busy = sum(s.gpu_busy_ms or 0 for s in self.steps) * 1000
        if not sites or busy <= 0 or non_tc_us / busy < self.rules["fp32_matmul_share"]:
            return
        if self.tf32 is True:
            self.notes.append(
                "FP32 matmul kernels without tensor cores, though TF32 was enabled: shapes may not suit them"
            )
            return
        ms = self._per_step(non_tc_us) * self.rules["tf32_speedup"]
        top = sorted(sites.values(), key=lambda s: -s.us)
        source = top[0].source
        tf32_ok = major >= self.rules["tf32_min_cc_major"]
        evidence = [
            f"{self._per_step(non_tc_us):.2f} ms/step ({non_tc_us / busy:.0%} of GPU busy) in FP32 matmul/conv kernels "
            f"without tensor cores on cc {cc}"
        ]
        evidence += [
            f"{s.what} (float inputs): {s.count / max(1, len(self.windows)):g}/step, kernels "
            f"{', '.join(sorted(s.extra['kernels'])[:2])}" + (f", from {s.source}" if s.source else "")
            for s in top[:3]
        ]
        if tf32_seen:
            evidence.append("some matmuls already use TF32 kernels: the rest run without it")
        fix = (
            "torch.backends.cuda.matmul.allow_tf32 = True; torch.backends.cudnn.allow_tf32 = True "
            '(or torch.set_float32_matmul_precision("high")), or run the forward pass under '
            '`with torch.autocast("cuda", dtype=torch.bfloat16):`'
            if tf32_ok
            else 'run the forward pass under `with torch.autocast("cuda", dtype=torch.float16):` with a '
            'torch.amp.GradScaler("cuda") (TF32 needs cc 8.0)'
        )
        self._emit(
            rid,
            "performance",
            f"FP32 matmuls without tensor cores ({self._per_step(non_tc_us):.1f} ms/step)"
            + (f" in {source}" if source else ""),
            ms,
            f"{ms:.3f} ms/step = {self._per_step(non_tc_us):.3f} ms/step of FP32 SIMT matmul/conv kernels × "
            f"{self.rules['tf32_speedup']:g} (TF32/AMP estimated at least 2× faster)",
            evidence,
            "Tensor-core-eligible ops (matmul, linear, convolution) run in full FP32 on the SIMT pipes: TF32 or "
            "AMP would run them on tensor cores (the TensorBoard profiler plugin's tensor-core rule).",
            fix,
            source,
        )

    def _eligible_op(self, launch, eligible: set, cache: dict) -> CpuOp | None:
        ops = self.ops.get(launch.tid)
        if ops is None:
            return None
        op = ops.innermost(launch.ts)
        depth = 0
        while op is not None and depth < 64:
            if op.name in eligible:
                return op
            key = (op.ts, op.dur, op.name)
            if key in cache:
                return cache[key]
            parent = ops.innermost(op.ts - 1e-6, op.end + 1e-6)
            op = parent
            depth += 1
        return None

    # rule: per-parameter optimizer ------------------------------------------------------------
    def rule_optimizer(self) -> None:
        per_param = set(self.rules.names("optimizer_ops"))
        markers = self.rules.names("foreach_markers")
        spans = [
            a
            for tid in self._step_tids()
            for a in self.annotations.get(tid, [])
            if a.name.startswith(OPTIMIZER_PREFIX) and self._in_steps(a.ts)
        ]
        if not spans:
            return
        ops_count = 0
        fused = 0
        span_us = 0.0
        for a in spans:
            span_us += a.dur
            for op in self.ops.get(a.tid, Containment(())).within(a.ts, a.end):
                if op.end > a.end:
                    continue
                if op.name.startswith(markers):
                    fused += 1
                elif op.name in per_param:
                    ops_count += 1
        steps = max(1, len(self.windows))
        if fused or ops_count / steps < self.rules["optimizer_min_ops"]:
            return
        name = spans[0].name[len(OPTIMIZER_PREFIX) :].split(".")[0] or "the optimizer"
        saving = self.rules["foreach_saving" if self.trace.has_gpu else "foreach_saving_cpu"]
        ms = self._per_step(span_us) * saving
        source = self.source(spans[0].tid, spans[0].ts, spans[0].end)
        fused_ok = name in ("Adam", "AdamW", "SGD", "Adagrad")
        self._emit(
            "profile-unfused-optimizer",
            "performance",
            f"{name}.step runs per parameter ({ops_count / steps:.0f} ops per step)"
            + (f" in {source}" if source else ""),
            ms,
            f"{ms:.3f} ms/step = {self._per_step(span_us):.3f} ms/step in {name}.step × {saving:g} "
            "(share saved by the multi-tensor implementation)",
            [
                f"Optimizer.step#{name}.step: {self._per_step(span_us):.2f} ms/step, {ops_count / steps:.0f} per-parameter "
                "add_/mul_/... ops per step, no _foreach_/_fused_ ops",
                f"source: {source}" if source else "source: not in the trace (no python stack)",
            ],
            "The optimizer updates one parameter at a time (foreach=False, or a custom loop): every parameter costs "
            "its own ops and kernel launches. The foreach (multi-tensor) and fused implementations do all parameters "
            "in a few launches.",
            f"torch.optim.{name}(params, ..., fused=True) on CUDA (or foreach=True)"
            if fused_ok
            else f"torch.optim.{name}(params, ..., foreach=True)",
            source,
        )

    # rule: allocator churn --------------------------------------------------------------------
    def rule_allocator(self) -> None:
        names = set(self.rules.names("allocator_calls"))
        calls = [r for r in self.trace.runtime if r.name in names and self._in_steps(r.ts)]
        steps = max(1, len(self.windows))
        if len(calls) / steps <= self.rules["allocator_calls_per_step"]:
            if not self.trace.has_gpu:
                self._skip("profile-allocator-churn", "no CUDA runtime calls in the trace (a CPU-only capture)")
            return
        us = sum(r.dur for r in calls)
        ms = self._per_step(us)
        counts: dict[str, int] = defaultdict(int)
        for r in calls:
            counts[r.name] += 1
        first = calls[0]
        source = self.source(first.tid, first.ts, first.end)
        self._emit(
            "profile-allocator-churn",
            "out-of-memory",
            f"allocator churn: {len(calls) / steps:.0f} cudaMalloc/cudaFree calls per step",
            ms,
            f"{ms:.3f} ms/step = host time inside the allocation calls (cudaFree also synchronizes the device)",
            [", ".join(f"{n}: {c / steps:.0f}/step" for n, c in sorted(counts.items()))]
            + ([f"first from {source}"] if source else []),
            "After warm-up the caching allocator should serve every step from its pool. Calls every step mean "
            "changing shapes, torch.cuda.empty_cache() in the loop, or a pool that keeps hitting the memory limit "
            "(it frees and retries).",
            "do not call torch.cuda.empty_cache() in the loop; keep shapes static (pad to buckets); "
            "set PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True",
            source,
        )

    # rule: peak memory ------------------------------------------------------------------------
    def rule_peak_memory(self) -> None:
        rid = "profile-peak-memory"
        cuda = [m for m in self.trace.memory if m.device_type == 1]
        if not cuda:
            self._skip(rid, "no CUDA memory events in the trace (captured without profile_memory=True, or on CPU)")
            return
        total_mem = self.device.total_memory_bytes if self.device else None
        if not total_mem:
            self._skip(rid, "device memory unknown (no deviceProperties in the trace; pass device_memory_bytes=)")
            return
        peak = max((m.total_allocated or 0) for m in cuda)
        reserved = max((m.total_reserved or 0) for m in cuda)
        share = peak / total_mem
        if share <= self.rules["peak_memory_share"]:
            return
        gib = 2**30
        self._emit(
            rid,
            "out-of-memory",
            f"peak memory {share:.0%} of the GPU ({peak / gib:.1f} of {total_mem / gib:.1f} GiB)",
            0.0,
            "0 ms/step: not a time cost today, a risk (the next larger batch or sequence is an OOM; the allocator "
            "retries with cudaFree near the limit)",
            [
                f"peak allocated {peak / gib:.2f} GiB, peak reserved {reserved / gib:.2f} GiB, device {total_mem / gib:.2f} GiB "
                f"(threshold {self.rules['peak_memory_share']:.0%}, TensorBoard profiler plugin)"
            ],
            "The step uses nearly all device memory.",
            "activation checkpointing (torch.utils.checkpoint), AMP (bf16 activations), a smaller batch with gradient "
            "accumulation; `torchenv tune WORKLOAD --max-batch` finds the largest batch that fits",
            None,
            Severity.WARNING,
        )

    # rule: communication share ----------------------------------------------------------------
    def rule_communication(self) -> None:
        rid = "profile-communication-share"
        if not self.nccl_busy:
            if not self.trace.has_gpu:
                self._skip(rid, "no GPU kernels in the trace (a CPU-only capture)")
            return
        exposed = 0.0
        comm = 0.0
        for w in self.windows:
            nccl = clip(self.nccl_busy, w.start, w.end)
            comm += total(nccl)
            exposed += total(subtract(nccl, self.compute_busy))
        wall = sum(w.dur for w in self.windows)
        share = exposed / wall if wall else 0.0
        if share <= self.rules["communication_share"]:
            return
        ms = self._per_step(exposed)
        names: dict[str, int] = defaultdict(int)
        for g in self.trace.gpu:
            if g.nccl and self._in_steps(g.ts):
                names[re.split(r"[(<]", g.name)[0]] += 1
        steps = max(1, len(self.windows))
        self._emit(
            rid,
            "distributed",
            f"communication not hidden: {share:.0%} of the step in NCCL kernels with no compute beside them",
            ms,
            f"{ms:.3f} ms/step = NCCL kernel time not overlapped by compute kernels (what perfect overlap would save)",
            [
                f"NCCL {self._per_step(comm):.2f} ms/step, of which {ms:.2f} ms exposed ({share:.0%} of the step; threshold "
                f"{self.rules['communication_share']:.0%}, TensorBoard profiler plugin)"
            ]
            + [f"{n}: {c / steps:.0f}/step" for n, c in sorted(names.items(), key=lambda kv: -kv[1])[:3]],
            "Gradient communication is not overlapped with the backward pass, or the interconnect is slow.",
            "DDP: keep the default overlap (no manual all_reduce after backward), tune bucket_cap_mb, use "
            "gradient_as_bucket_view=True and no_sync() for gradient accumulation; check the fabric with "
            "`torchenv preflight`",
            None,
        )

    # rule: nn.DataParallel instead of DDP ----------------------------------------------------
    def _host_events(self) -> list:
        """cpu_ops and annotations of every thread that start inside a step."""
        return [e for e in (*self.trace.cpu_ops, *self.trace.annotations) if self._in_steps(e.ts)]

    def rule_data_parallel(self) -> None:
        rid = "profile-data-parallel"
        host = self._host_events()
        markers = set(self.rules.names("dataparallel_markers"))
        forwards = [e for e in host if e.name in markers]
        if not forwards:
            return
        devices = {g.device for g in self.trace.gpu if g.device is not None}
        if not self.trace.has_gpu:
            self._skip(rid, "no GPU kernels in the trace: how many GPUs DataParallel spreads over is unknown")
            return
        if len(devices) < self.rules["dataparallel_min_devices"]:
            return  # DataParallel on one GPU calls the module directly
        tids = {e.tid for e in forwards}
        ops = set(self.rules.names("dataparallel_ops"))
        files = self.rules.names("dataparallel_frames")
        spans = [(e.ts, e.end) for e in host if e.tid in tids and e.name in ops]
        spans += [
            (f.ts, f.end)
            for f in self.trace.python
            if f.tid in tids and self._in_steps(f.ts) and (f.file or "").replace("\\", "/").endswith(files)
        ]
        overhead = sum(total(clip(merge(spans), w.start, w.end)) for w in self.windows)
        ms = self._per_step(overhead)
        first = forwards[0]
        source = self.source(first.tid, first.ts, first.end)
        steps = max(1, len(self.windows))
        where = f" in {source}" if source else ""
        self._emit(
            rid,
            "distributed",
            f"nn.DataParallel over {len(devices)} GPUs{where}: use DistributedDataParallel",
            ms,
            f"{ms:.3f} ms/step = host time in DataParallel's replicate / scatter / gather / gradient reduce on the "
            "step's thread (a lower bound: its GIL-bound threads also stretch the forward, and GPU 0 does the "
            "extra work of the loss and the gather)",
            [
                f"DataParallel.forward: {len(forwards) / steps:g} per step, kernels on GPUs "
                f"{', '.join(map(str, sorted(devices)))} (threshold {self.rules['dataparallel_min_devices']:g} GPUs, "
                "TensorBoard profiler plugin)",
                f"replicate/scatter/gather/reduce: {ms:.3f} ms/step on the host",
                f"source: {source}" if source else "source: not in the trace (no python stack)",
            ],
            "nn.DataParallel runs one process with a thread per GPU: every step it copies the parameters from "
            "GPU 0 to the others, scatters the batch, gathers the outputs back to GPU 0 and reduces the gradients "
            "there, under one GIL. DistributedDataParallel runs a process per GPU and overlaps an all-reduce "
            "with the backward pass; PyTorch recommends it even on a single machine.",
            "launch one process per GPU: `torchrun --nproc_per_node=N train.py`, with "
            "`torch.distributed.init_process_group('nccl')` and `model = DistributedDataParallel(model.to(rank), "
            "device_ids=[rank])` in place of `nn.DataParallel(model)`, and a DistributedSampler for the data",
            source,
        )

    # rule: DDP without NCCL ------------------------------------------------------------------
    def rule_ddp_backend(self) -> None:
        rid = "profile-ddp-without-nccl"
        host = self._host_events()
        markers = set(self.rules.names("ddp_markers"))
        forwards = [e for e in host if e.name in markers]
        if not forwards:
            return
        nccl = tuple(self.rules.names("nccl_op_prefixes"))
        gloo = tuple(self.rules.names("gloo_op_prefixes"))
        backend = (self.trace.backend or "").lower()
        if self.nccl_busy or backend == "nccl" or any(e.name.startswith(nccl) for e in host):
            return
        gloo_ops = [e for e in host if e.name.startswith(gloo)]
        if not gloo_ops and backend != "gloo":
            return
        if not self.trace.has_gpu:
            return  # CPU tensors: gloo is the right backend
        cc = self.device.cc if self.device else None
        if cc is None:
            self._skip(rid, "the device's compute capability is unknown (no deviceProperties)")
            return
        if float(cc) < self.rules["nccl_min_cc"]:
            return
        spans = merge((e.ts, e.end) for e in gloo_ops)
        in_gloo = sum(total(clip(spans, w.start, w.end)) for w in self.windows)
        ms = self._per_step(in_gloo)
        first = forwards[0]
        source = self.source(first.tid, first.ts, first.end)
        steps = max(1, len(self.windows))
        names: dict[str, int] = defaultdict(int)
        for e in gloo_ops:
            names[e.name] += 1
        self._emit(
            rid,
            "distributed",
            "DistributedDataParallel over gloo with CUDA tensors: use the NCCL backend",
            ms,
            f"{ms:.3f} ms/step = time inside gloo collectives (any thread) per step: an upper bound of what NCCL "
            "saves (it moves the same gradients GPU to GPU, usually several times faster)",
            [
                f"DDP with backend {backend or 'gloo (from its ops)'}, no nccl: ops or NCCL kernels, CUDA work on "
                f"cc {cc} (≥ {self.rules['nccl_min_cc']:g}: TensorBoard profiler plugin)",
            ]
            + [f"{n}: {c / steps:g}/step" for n, c in sorted(names.items(), key=lambda kv: -kv[1])[:3]]
            + [f"source: {source}" if source else "source: not in the trace (no python stack)"],
            "gloo is the CPU backend: with CUDA tensors every gradient bucket is copied to host memory, reduced "
            "over TCP and copied back, and the all-reduce cannot overlap the backward pass the way NCCL's does.",
            "torch.distributed.init_process_group(backend='nccl') (or 'cuda:nccl,cpu:gloo' when CPU tensors are "
            "reduced too); check NCCL on the machine with `torchenv preflight`",
            source,
        )

    # ------------------------------------------------------------------ timeline
    def _timeline(self) -> tuple[TimelineSegment, ...]:
        if not self.windows:
            return ()
        windows = self.windows[:10]
        origin, end = windows[0].start, windows[-1].end
        span = max(1.0, end - origin)
        tolerance = span / 1500
        out: list[TimelineSegment] = []

        def lane(name: str, intervals: Iterable[tuple[float, float]], label: str = "") -> None:
            for a, b in merge(clip(merge(intervals), origin, end), tolerance)[:600]:
                out.append(TimelineSegment(name, _ms(a - origin) or 0.0, _ms(b - a) or 0.0, label))

        for w in windows:
            out.append(TimelineSegment("step", _ms(w.start - origin) or 0.0, _ms(w.dur) or 0.0, w.name))
        tids = {w.tid for w in windows}
        lane("cpu", ((o.ts, o.end) for t in tids for o in self.top_ops(t)))
        lane("dataloader", ((a.ts, a.end) for w in windows for a in self._dataloader_spans(w)))
        lane(
            "stall",
            (
                (w.start, w.start + s.host_stall_ms * 1000)
                for w, s in zip(self.windows, self.steps, strict=False)
                if s.host_stall_ms
            ),
        )
        sync_ops = set(self.rules.names("sync_ops")) | set(self.rules.names("sync_calls"))
        lane(
            "sync",
            (
                (o.ts, o.end)
                for t in tids
                for o in self.ops_list.get(t, [])
                if o.name in sync_ops and not self.ours(t, o.ts)
            ),
        )
        lane("sync", ((r.ts, r.end) for r in self.trace.runtime if r.name in sync_ops and not self.ours(r.tid, r.ts)))
        lane("gpu", ((g.ts, g.end) for g in self.trace.gpu if g.kind == "kernel" and not g.nccl))
        lane("memcpy", ((g.ts, g.end) for g in self.trace.gpu if g.kind != "kernel"))
        lane("nccl", ((g.ts, g.end) for g in self.trace.gpu if g.nccl))
        return tuple(out)


# --------------------------------------------------------------------------- helpers


def _ms(us: float | None) -> float | None:
    return None if us is None else round(us / 1000.0, 4)


def _cc_major(cc: str | None) -> int | None:
    if not cc:
        return None
    try:
        return int(str(cc).split(".")[0])
    except ValueError:
        return None


def _sync_label(op: str) -> str:
    return {
        "aten::item": ".item() (aten::item)",
        "aten::_local_scalar_dense": ".item() / float(tensor) (aten::_local_scalar_dense)",
        "aten::is_nonzero": "`if tensor:` / bool(tensor) (aten::is_nonzero)",
        "aten::nonzero": "nonzero() / boolean-mask indexing (aten::nonzero)",
        "aten::equal": "torch.equal (aten::equal)",
        "aten::masked_select": "masked_select / x[mask] (aten::masked_select)",
    }.get(op, op)


def _sync_fix(what: str, source: str | None) -> str:
    where = f" in {source}" if source else ""
    if "item" in what or "scalar" in what:
        return (
            f"keep the value on the GPU{where}: accumulate `total += loss.detach()` and call `.item()` once every "
            "N steps (or at the end of the epoch)"
        )
    if "is_nonzero" in what:
        return f"replace `if tensor:`{where} by tensor ops (torch.where, masking) or check it every N steps"
    if "nonzero" in what or "masked_select" in what:
        return f"avoid data-dependent shapes{where}: use torch.where(mask, x, 0) or multiply by the mask instead of x[mask]/nonzero()"
    if ".cpu()" in what:
        return f"keep the tensor on the GPU{where}; copy results back every N steps, into a pinned buffer with non_blocking=True"
    if "synchronize" in what:
        return f"remove torch.cuda.synchronize(){where} from the loop (time with CUDA events instead)"
    return f"remove the host-side read of GPU data{where} from the loop, or do it every N steps"


def _copy_fix(direction: str | None, source: str | None) -> str:
    where = f" in {source}" if source else ""
    if direction == "DtoH":
        return (
            f"copy{where} into a pinned buffer: `buf = torch.empty(shape, pin_memory=True)` once, then "
            "`buf.copy_(t, non_blocking=True)`; or keep the result on the GPU"
        )
    return (
        f"pin the batch and copy asynchronously{where}: DataLoader(..., pin_memory=True) and "
        "`x = x.to(device, non_blocking=True)`"
    )


def _merge_findings(findings: list[ProfileFinding]) -> tuple[ProfileFinding, ...]:
    """One finding per (id, title) across ranks: the slowest rank's cost (it sets the pace)."""
    merged: dict[tuple, ProfileFinding] = {}
    for f in findings:
        key = (f.finding.id, f.source, f.finding.title.split(" (")[0] if f.finding.id == "profile-host-sync" else "")
        old = merged.get(key)
        if old is None:
            merged[key] = f
            continue
        ranks = tuple(sorted(set(old.ranks) | set(f.ranks)))
        best = f if f.ms_per_step > old.ms_per_step else old
        merged[key] = ProfileFinding(best.finding, best.ms_per_step, best.estimate, best.source, ranks)
    return tuple(sorted(merged.values(), key=lambda f: (-f.ms_per_step, f.finding.severity.rank, f.finding.id)))


def _mean(steps: tuple[StepBreakdown, ...]) -> Breakdown | None:
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
