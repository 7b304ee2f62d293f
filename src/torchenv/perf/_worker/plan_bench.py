# ruff: noqa: UP031  (runs inside the target interpreter: conservative syntax)
"""`torchenv bench` as a fixed plan over the runtime: micro-benchmarks (matmul per dtype, device
copy, host↔device copies, convolution) and the training ladders, whose rungs are tune's knobs
applied one after another and measured by the same engine as tune's trials.

Streams `result` records (raw per-call seconds; the parent computes the statistics). Python 3.8+.
"""

import gc
import time

from . import micro
from . import step as S
from .engine import Engine
from .knobs import describe_change
from .protocol import describe, emit
from .timing import Clock, measure, measure_burst
from .workloads import builtin

SECTIONS = ("matmul", "memory", "transfer", "conv", "amp", "ladder-resnet50", "ladder-gpt")
# Sections that turn deterministic algorithms on run after every other section of their process: on the
# H200 a deterministic run left later compiled steps slower in the same process (GPT 9.44 -> 14.68 ms,
# benchmarks/device/compile_after.py), and the full suite's ResNet-50 compile rung read 0.93x after the
# conv test. The report shows sections in SECTIONS order whatever order they ran in.
DETERMINISTIC_SECTIONS = ("conv",)


def run_order(sections):
    """`sections` in the order they are measured: the deterministic ones last."""
    sections = list(sections)
    return [s for s in sections if s not in DETERMINISTIC_SECTIONS] + [
        s for s in sections if s in DETERMINISTIC_SECTIONS
    ]


# Time budgets per (device type, mode); problem sizes of the training workloads are in workloads.SIZES.
BUDGETS = {
    ("cuda", "full"): dict(
        matmul_n=8192,
        matmul_s=0.4,
        copy_bytes=1 << 30,
        transfer_bytes=256 << 20,
        conv_batch=64,
        conv_hw=224,
        step_s=0.8,
        min_steps=6,
        warmup_steps=2,
        micro_s=0.25,
        idle_s=0.5,
    ),
    ("cuda", "quick"): dict(
        matmul_n=8192,
        matmul_s=0.08,
        copy_bytes=512 << 20,
        transfer_bytes=64 << 20,
        conv_batch=64,
        conv_hw=224,
        step_s=0.25,
        min_steps=3,
        warmup_steps=1,
        micro_s=0.08,
        idle_s=0.3,
    ),
    ("cpu", "full"): dict(
        matmul_n=1024,
        matmul_s=0.5,
        copy_bytes=256 << 20,
        transfer_bytes=0,
        conv_batch=8,
        conv_hw=224,
        step_s=1.0,
        min_steps=3,
        warmup_steps=1,
        micro_s=0.3,
        idle_s=0.0,
    ),
    ("cpu", "quick"): dict(
        matmul_n=512,
        matmul_s=0.15,
        copy_bytes=64 << 20,
        transfer_bytes=0,
        conv_batch=4,
        conv_hw=112,
        step_s=0.3,
        min_steps=3,
        warmup_steps=2,
        micro_s=0.1,
        idle_s=0.0,
    ),
}
BURST_PRODUCTS = 10  # a burst: 10 products after an idle pause, each timed alone (what a bare script measures)

# The training ladder: each rung adds one of tune's knobs to the previous rungs, except a branch
# rung, compared with the rung before it and not carried on. cudnn.benchmark is such a branch: its
# search must run in a fresh process (see PHASES), and torch.compile on top of its searched plans
# measured 3,700-4,400 images/s against 5,250 on heuristic plans on the H100
# (benchmarks/results/README.md), so carrying it into the compile rung would misstate compile's gain.
LADDER = (
    {},
    {"tf32": True},
    {"amp": "bf16"},
    {"channels_last": True},
    {"benchmark": True},
    {"compile": "default"},
)
BRANCH_KNOBS = ("benchmark",)
QUICK_KNOBS = ("amp", "channels_last")  # --quick keeps the rungs that carry most of the gain

# PyTorch keeps one cuDNN plan cache per process, keyed by shape, dtype, layout, determinism and
# TF32 but not by cudnn.benchmark: once a convolution has run on heuristics, turning the benchmark
# on reuses that plan instead of searching. So on CUDA the full suite runs in two processes: phase
# "heuristics" measures everything with cudnn.benchmark off, phase "search" (a fresh process) only
# what runs with it on. "both" is one process (the CPU path, --quick, and tests).
PHASES = ("both", "heuristics", "search")


def rung_label(change):
    """ "fp32" for the reference rung, else "+" and the knob's one label (knobs.describe_change)."""
    if not change:
        return "fp32"
    key, value = next(iter(change.items()))
    return "+" + describe_change(key, value)


def rung_id(section, change):
    return "%s.%s" % (section, rung_label(change).lstrip("+").replace(" ", "-").replace(".", "-").lower())


def measured_in_phase(state, phase):
    """Whether a ladder rung with settings `state` is measured in this phase (a rung with
    cudnn.benchmark on belongs to the search phase)."""
    return phase == "both" or bool(state.get("benchmark")) == (phase == "search")


class Bench:
    def __init__(self, torch, device, mode, compile_ok, phase="both", nvml=None, bf16_cpu=False):
        self.torch, self.device, self.mode, self.phase = torch, device, mode, phase
        self.cuda = device.type == "cuda"
        self.budget = BUDGETS[(device.type, mode)]
        self.clock = Clock(torch, device)
        self.compile_ok = compile_ok
        self.nvml = nvml
        self.cpu_bf16 = bf16_cpu
        self.saved = S.save_flags(torch)

    # --- records ---------------------------------------------------------------------------

    def result(self, section, id, label, samples, work, params=None, info=None, **extra):
        info = info or {}
        emit(
            "result",
            section=section,
            id=id,
            label=label,
            status="ok",
            samples_s=samples,
            work=work,
            params=params or {},
            first_s=info.get("first_call_s", info.get("first_step_s")),
            observed=info.get("observed"),
            **extra,
        )

    def skipped(self, section, id, label, reason, **extra):
        emit("result", section=section, id=id, label=label, status="skipped", reason=reason, **extra)

    def failed(self, section, id, label, exc, **extra):
        emit("result", section=section, id=id, label=label, status="failed", reason=describe(exc), **extra)
        self.free()

    def free(self):
        gc.collect()
        if self.cuda:
            self.torch.cuda.empty_cache()

    def micro(self, fn, seconds, during=None):
        return measure(self.clock, fn, warmup_s=min(0.2, seconds / 2.0), sample_s=seconds, during=during)

    def burst(self, fn):
        """What a bare script measures (timing.measure_burst); on a power-capped GPU the boost clock's
        figure, where `micro` gives the sustained one a long training job sees."""
        return measure_burst(self.clock, fn, BURST_PRODUCTS, idle_s=self.budget["idle_s"])

    # --- sections --------------------------------------------------------------------------

    def matmul(self):
        micro.matmul(self)

    def memory(self):
        micro.memory(self)

    def transfer(self):
        micro.transfer(self)

    def conv(self):
        micro.conv(self)

    def _engine(self, workload, timing):
        name = {"convnet": "convnet", "gpt": "gpt", "resnet50": "resnet50"}[workload]
        built = builtin(self.torch, name, self.device, mode=self.mode)
        return Engine(self.torch, self.device, built, timing=timing), built

    def _timing(self, step_s=None):
        b = self.budget
        return dict(
            numerics_steps=1,
            warmup_steps=b["warmup_steps"],
            min_steps=b["min_steps"],
            max_steps=60,
            sample_s=step_s or b["step_s"],
        )

    def _train_result(self, section, id, label, out, workload, built, params, **extra):
        if out.get("status") != "ok":
            emit(
                "result",
                section=section,
                id=id,
                label=label,
                status="failed",
                reason=out.get("reason"),
                workload=workload,
                **extra,
            )
            return False
        info = {"first_step_s": out.get("first_step_s")}
        params = dict({"workload": built.description}, **params)
        self.result(
            section,
            id,
            label,
            out["samples_s"],
            {"items": float(built.items)},
            params,
            info,
            unit=built.unit,
            workload=workload,
            memory_bytes=out.get("memory_bytes"),
            **extra,
        )
        return True

    def amp(self):
        for workload in ("convnet", "gpt"):
            engine = built = None
            for amp in ("fp32", "bf16", "fp16"):
                id = "amp.%s.%s" % (workload, amp)
                label = "%s %s" % (
                    "conv net" if workload == "convnet" else "transformer",
                    "FP32" if amp == "fp32" else "AMP " + amp,
                )
                reason = None
                if not self.cuda and amp == "fp16":
                    reason = "fp16 AMP with GradScaler is a CUDA recipe"
                elif not self.cuda and amp == "bf16" and not self.cpu_bf16:
                    reason = "this CPU has no native bf16 (no AVX512-BF16/AMX)"
                elif self.mode == "quick" and self.cuda:
                    reason = "--quick: the ladders' AMP rung stands in for this"
                if reason:
                    self.skipped("amp", id, label, reason, workload=workload)
                    continue
                try:
                    if engine is None:
                        engine, built = self._engine(workload, self._timing())
                    config = {} if amp == "fp32" else {"amp": amp}
                    precision = (
                        "fp32 (TF32 off)"
                        if amp == "fp32"
                        else "autocast %s%s" % (amp, " + GradScaler" if amp == "fp16" else "")
                    )
                    self._train_result(
                        "amp",
                        id,
                        label,
                        engine.measure(config, purpose="bench"),
                        workload,
                        built,
                        {"precision": precision},
                        baseline="amp.%s.fp32" % workload,
                    )
                except Exception as exc:
                    self.failed("amp", id, label, exc, workload=workload)
            del engine, built
            self.free()

    def _rung_skip(self, workload, change, state):
        key = next(iter(change), None)
        if not self.cuda and key in ("benchmark", "tf32"):
            return "CUDA-only setting (cuDNN / TF32)"
        if not self.cuda and key == "amp" and not self.cpu_bf16:
            return "this CPU has no native bf16 (no AVX512-BF16/AMX)"
        if workload == "gpt" and key in ("benchmark", "channels_last"):
            return "no convolutions in a transformer"
        if key == "compile" and not self.compile_ok:
            return "torch.compile skipped (--no-compile)" if self.mode == "full" else "--quick skips torch.compile"
        if self.mode == "quick" and self.cuda and workload == "gpt":
            return "--quick runs the ResNet-50 ladder only (the full suite adds the transformer's)"
        if self.mode == "quick" and self.cuda and key is not None and key not in QUICK_KNOBS:
            return "--quick skips this rung (its first step costs seconds of search)"
        return None

    def ladder(self, workload):
        section = "ladder-" + workload
        state, previous, engine, built = {}, None, None, None
        baseline = rung_id(section, {})
        for change in LADDER:
            before = dict(state)
            state.update(change)
            id, label = rung_id(section, change), rung_label(change)
            branch = any(k in BRANCH_KNOBS for k in change)
            reason = self._rung_skip(workload, change, state)
            if reason:
                state = before  # a skipped rung adds nothing to the next ones
                if self.phase != "search":
                    self.skipped(section, id, label, reason, workload=workload, rung=label)
                continue
            if not measured_in_phase(state, self.phase):
                if branch:
                    state = before
                elif self.phase == "search":
                    previous = id  # measured by the other process: the next rung builds on it
                continue
            try:
                if engine is None:
                    engine, built = self._engine(workload, self._timing())
                compiled = bool(state.get("compile"))
                # The compile rung gets twice the samples: its steps are the ones that come in modes.
                engine.timing["sample_s"] = self.budget["step_s"] * (2 if compiled else 1)
                out = engine.measure(dict(state), purpose="bench")
                kind = "compile" if compiled else ("autotune" if state.get("benchmark") else "warm-up")
                settings = ", ".join(k if v is True else "%s=%s" % (k, v) for k, v in sorted(state.items()))
                params = {"settings": settings or "defaults, TF32 off", "knobs": dict(state)}
                if branch:
                    params["branch"] = "compared with the rung above, not carried on"
                ok = self._train_result(
                    section,
                    id,
                    label,
                    out,
                    workload,
                    built,
                    params,
                    rung=label,
                    baseline=baseline,
                    previous=previous,
                    one_time_kind=kind,
                )
                if ok and not branch:
                    previous = id
            except Exception as exc:
                self.failed(section, id, label, exc, workload=workload, rung=label)
            if branch:
                state = before
        if engine is not None:
            engine.restore()
        del engine, built
        self.free()

    def run(self, sections):
        for section in run_order(sections):
            if section not in SECTIONS:
                emit("error", section=section, error="unknown section")
                continue
            emit("begin", section=section)
            began = time.perf_counter()
            try:
                if section.startswith("ladder-"):
                    self.ladder(section[len("ladder-") :])
                else:
                    getattr(self, section)()
            except Exception as exc:
                emit("error", section=section, error=describe(exc))
            S.restore_flags(self.torch, self.saved)
            self.free()
            emit("end", section=section, seconds=round(time.perf_counter() - began, 3))
