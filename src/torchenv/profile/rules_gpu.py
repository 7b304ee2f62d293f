"""The GPU-side rules of the profile analysis: launch-bound phases, FP32 without tensor cores, unfused
optimizers, allocator churn, peak memory. A mixin of the per-rank analysis (analysis.py). Pure."""

from __future__ import annotations

from collections import defaultdict

from ..model.finding import Severity
from .intervals import Containment
from .shared import (
    OPTIMIZER_PREFIX,
    _cc_major,
    _Site,
)
from .trace import CpuOp


class GpuRules:
    """Rules of this family; `self` is the per-rank analysis (_RankAnalysis)."""

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
