"""The host-side rules of the profile analysis: host↔device syncs, pageable copies, DataLoader waits,
host stalls before a batch. A mixin of the per-rank analysis (analysis.py). Pure."""

from __future__ import annotations

from collections import defaultdict

from ..model.finding import Severity
from .intervals import covered
from .shared import (
    DATALOADER_PREFIX,
    _copy_fix,
    _library_sync_fix,
    _ms,
    _Site,
    _sync_fix,
    _sync_label,
    _user_path,
)
from .trace import CpuOp, GpuEvent, PythonFrame


class HostRules:
    """Rules of this family; `self` is the per-rank analysis (_RankAnalysis)."""

    # rule: host <-> device syncs ------------------------------------------------------------
    def rule_host_sync(self) -> None:
        sync_ops = set(self.rules.names("sync_ops"))
        sync_calls = set(self.rules.names("sync_calls"))
        sites: dict[tuple, _Site] = {}
        quiet: dict[tuple, int] = {}
        for tid in self._step_tids():
            counted = self._syncs_in_ops(tid, sync_ops, sync_calls, sites, quiet)
            self._syncs_outside_ops(tid, sync_calls, counted, sites)
        self._note_quiet_syncs(quiet)
        for site in sorted(sites.values(), key=lambda s: -s.us):
            self._emit_sync(site)

    def _syncs_in_ops(self, tid, sync_ops: set, sync_calls: set, sites: dict, quiet: dict) -> set[int]:
        """The sync ops (.item(), .cpu(), …) of one thread's steps, outermost only; the runtime sync calls
        under them (their ids returned, so they are not counted again). On a CUDA trace an op with no sync
        call under it read a CPU tensor: a quiet note, not a site."""
        runtime = bool(self.trace.runtime)  # CUDA runtime events: a sync is seen, not assumed
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
        counted: set[int] = set()
        for op in outer:
            calls = [r for r in self.trace.runtime if r.tid == tid and op.ts <= r.ts <= op.end and r.name in sync_calls]
            counted.update(id(r) for r in calls)
            where = self.where(tid, op.ts, op.end)
            what = _sync_label(op.name)
            if runtime and not calls:
                # a CUDA trace shows every real sync as a runtime call under the op: none here, so
                # the op read a CPU tensor (torch's own optimizer step counter, say)
                place = (where.inside or where.text) if where is not None else "the trace"
                quiet[(what, place)] = quiet.get((what, place), 0) + 1
                continue
            self._sync_site(sites, what, where, sum(r.dur for r in calls) if calls else op.dur)
        return counted

    def _syncs_outside_ops(self, tid, sync_calls: set, counted: set[int], sites: dict) -> None:
        """Runtime sync calls no sync op accounts for, named by the outermost op around them."""
        for r in self.trace.runtime:
            if r.tid != tid or r.name not in sync_calls or id(r) in counted or not self._in_steps(r.ts):
                continue
            if self.ours(tid, r.ts):  # the capture's own per-step synchronize
                continue
            outermost = self._outermost_op(tid, r.ts)
            if outermost is None:
                what = "torch.cuda.synchronize()" if "Device" in r.name or "Ctx" in r.name else r.name
            elif any(g.direction == "DtoH" for g in self._copies_inside(tid, outermost)):
                what = f".cpu() / .to('cpu') ({outermost.name} → {r.name})"
            else:
                what = f"{outermost.name} → {r.name}"
            anchor = outermost or r
            self._sync_site(sites, what, self.where(tid, anchor.ts, anchor.end), r.dur)

    def _outermost_op(self, tid, ts: float) -> CpuOp | None:
        op = self.ops[tid].innermost(ts) if tid in self.ops else None
        while op is not None:
            parent = self.ops[tid].innermost(op.ts - 1e-6, op.end + 1e-6)
            if parent is None or parent is op:
                break
            op = parent
        return op

    def _note_quiet_syncs(self, quiet: dict) -> None:
        steps = max(1, len(self.windows))
        for what in sorted({w for w, _ in quiet}):
            places = sorted(((n, p) for (w, p), n in quiet.items() if w == what), key=lambda np: (-np[0], np[1]))
            n = sum(c for c, _ in places)
            self.notes.append(
                f"{what}: {n / steps:g} per step with no CUDA sync under it (it read a CPU tensor), in "
                + ", ".join(p for _, p in places)
                + ": not a host↔device sync, not reported"
            )

    def _emit_sync(self, site: _Site) -> None:
        steps = max(1, len(self.windows))
        ms = self._per_step(site.us)
        inside = site.extra.get("inside")
        if self.trace.has_gpu:
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
        if inside:
            where = f" inside {inside}, called from {site.source}"
        self._emit(
            "profile-host-sync",
            "performance",
            f"host↔device sync every step: {site.what}{where}",
            ms,
            estimate,
            [
                f"{site.what}: {site.count / steps:g} per step, {ms:.3f} ms/step blocked"
                + (f", inside {inside} (library code)" if inside else ""),
                f"source: {site.source}" if site.source else "source: not in the trace (no python stack)",
            ],
            "A sync makes the host wait until the GPU has finished everything queued, so it cannot run ahead and "
            "launch the next work; the GPU then idles while the host catches up. Typical causes: .item() or "
            "float(tensor) for logging, `if tensor:` (aten::is_nonzero), .cpu()/.tolist()/.numpy(), nonzero() "
            "and boolean-mask indexing (data-dependent output size).",
            _library_sync_fix(inside, site.source) if inside else _sync_fix(site.what, site.source),
            site.source,
            severity,
        )

    def _sync_site(self, sites: dict, what: str, where, blocked: float) -> None:
        source = where.text if where is not None else None
        inside = where.inside if where is not None else None
        site = sites.setdefault((what, source, inside), _Site(what, source, extra={"inside": inside}))
        site.us += blocked
        site.count += 1

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
