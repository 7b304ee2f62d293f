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
from collections import defaultdict
from collections.abc import Iterable, Sequence

from ..model.finding import Finding, Severity, Skipped
from ..model.profile import (
    ProfileDevice,
    ProfileFinding,
    ProfileReport,
)
from .attribution import SourceAttribution
from .breakdown import StepBreakdowns, mean_breakdown
from .intervals import Containment, merge
from .rules import Rules, load_rules
from .rules_distributed import DistributedRules
from .rules_gpu import GpuRules
from .rules_host import HostRules
from .shared import (
    LAYER,
    _ms,
    _Window,
)
from .sources import SourceFiles
from .trace import CpuOp, Trace, TraceSet, read_trace

# --------------------------------------------------------------------------- public entry points


def analyse(
    trace_path: str | os.PathLike,
    device_memory_bytes: int | None = None,
    cc: str | None = None,
    *,
    tf32: bool | None = None,
    rules: Rules | None = None,
    torchenv_version: str = "",
    source_roots: Sequence[str] = (),
) -> ProfileReport:
    """Read `trace_path` (a trace file or a folder of per-rank traces) and analyse it.

    `device_memory_bytes` and `cc` ("8.0") stand in for the trace's deviceProperties when it has none
    (a capture on a machine torchenv probed); `tf32` is the capture's
    torch.backends.cuda.matmul.allow_tf32 when known. `source_roots` are the folders the trace's
    python file names are relative to (a capture knows the script's folder and working directory);
    the trace's own folder and the working directory are tried after them. Raises
    torchenv.profile.trace.TraceError."""
    traces = read_trace(trace_path)
    folder = os.path.abspath(os.fspath(trace_path))
    folder = folder if os.path.isdir(folder) else os.path.dirname(folder)
    return analyse_traces(
        traces,
        device_memory_bytes=device_memory_bytes,
        cc=cc,
        tf32=tf32,
        rules=rules,
        torchenv_version=torchenv_version,
        source_roots=(*source_roots, folder, os.getcwd()),
    )


def analyse_traces(
    traces: TraceSet,
    *,
    device_memory_bytes: int | None = None,
    cc: str | None = None,
    tf32: bool | None = None,
    rules: Rules | None = None,
    torchenv_version: str = "",
    source_roots: Sequence[str] = (),
) -> ProfileReport:
    """Analyse decoded traces. `source_roots`: the folders to find the user's source files in
    (for exact lines); none given, findings name the functions' def lines."""
    rules = rules or load_rules()
    sources = SourceFiles(source_roots)
    per_rank = [_RankAnalysis(t, rules, device_memory_bytes, cc, tf32, sources) for t in traces.traces]
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
        breakdown=mean_breakdown(steps),
        findings=findings,
        skipped=tuple(skipped.values()),
        timeline=first.timeline,
        notes=tuple(notes),
        rules_version=rules.version,
        torchenv_version=torchenv_version,
    )


# --------------------------------------------------------------------------- per rank


class _RankAnalysis(SourceAttribution, StepBreakdowns, HostRules, GpuRules, DistributedRules):
    def __init__(
        self,
        trace: Trace,
        rules: Rules,
        memory: int | None,
        cc: str | None,
        tf32: bool | None,
        sources: SourceFiles | None = None,
    ):
        self.trace = trace
        self.sources = sources or SourceFiles()
        self._where_cache: dict = {}
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
        self.children: dict = defaultdict(list)
        for f in t.python:
            if f.parent is not None:
                self.children[f.parent].append(f)
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


# --------------------------------------------------------------------------- helpers


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
