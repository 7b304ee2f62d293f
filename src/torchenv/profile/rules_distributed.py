"""The distributed rules of the profile analysis: communication share, DataParallel instead of DDP,
DDP without NCCL. A mixin of the per-rank analysis (analysis.py). Pure."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from ..model.profile import (
    TimelineSegment,
)
from .intervals import clip, merge, subtract, total
from .shared import (
    _ms,
)


class DistributedRules:
    """Rules of this family; `self` is the per-rank analysis (_RankAnalysis)."""

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
