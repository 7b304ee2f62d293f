# ruff: noqa: UP031  (runs inside the target interpreter: conservative syntax)
"""`torchenv bench` worker: runs INSIDE the target interpreter and imports torch.

Streams one JSON record per line (see protocol.py): an `env` record, then `begin`/`result`/`end`
per section, `error` for a section that raised, and `done`. Raw per-call seconds go to the parent,
which computes the statistics (torchenv.perf.stats), so nothing here decides anything.

Usage: python bench_worker.py [--device auto|cuda|cpu] [--quick] [--sections a,b] [--no-compile]
       [--phase both|heuristics|search]
Python 3.8+ syntax; imports nothing of torchenv (only its sibling files).
"""

import argparse
import contextlib
import gc
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from protocol import describe, emit, torch_environment
from timing import Clock, measure, measure_steps

SECTIONS = ("matmul", "memory", "transfer", "conv", "amp", "ladder-resnet50", "ladder-gpt")

# Problem sizes and time budgets per (device type, mode). GPU sizes are those of the issue and of
# the reference capture; CPU sizes keep the whole CPU path small enough for CI on two cores.
SIZES = {
    ("cuda", "full"): dict(
        matmul_n=8192,
        matmul_s=0.4,
        copy_bytes=1 << 30,
        transfer_bytes=256 << 20,
        conv_batch=64,
        conv_hw=224,
        amp_conv_batch=64,
        amp_conv_hw=224,
        gpt=dict(d_model=1024, n_head=16, n_layer=4, seq=1024, vocab=8192),
        gpt_batch=8,
        rn50_batch=128,
        rn50_hw=224,
        step_s=0.8,
        min_steps=6,
        warmup_steps=2,
        micro_s=0.25,
    ),
    ("cuda", "quick"): dict(
        matmul_n=8192,
        matmul_s=0.08,
        copy_bytes=512 << 20,
        transfer_bytes=64 << 20,
        conv_batch=64,
        conv_hw=224,
        amp_conv_batch=64,
        amp_conv_hw=224,
        gpt=dict(d_model=1024, n_head=16, n_layer=2, seq=1024, vocab=8192),
        gpt_batch=8,
        rn50_batch=128,
        rn50_hw=224,
        step_s=0.25,
        min_steps=3,
        warmup_steps=1,
        micro_s=0.08,
    ),
    ("cpu", "full"): dict(
        matmul_n=1024,
        matmul_s=0.5,
        copy_bytes=256 << 20,
        transfer_bytes=0,
        conv_batch=8,
        conv_hw=224,
        amp_conv_batch=8,
        amp_conv_hw=64,
        gpt=dict(d_model=256, n_head=4, n_layer=2, seq=128, vocab=2048),
        gpt_batch=4,
        rn50_batch=8,
        rn50_hw=96,
        step_s=1.0,
        min_steps=3,
        warmup_steps=1,
        micro_s=0.3,
    ),
    ("cpu", "quick"): dict(
        matmul_n=512,
        matmul_s=0.15,
        copy_bytes=64 << 20,
        transfer_bytes=0,
        conv_batch=4,
        conv_hw=112,
        amp_conv_batch=4,
        amp_conv_hw=64,
        gpt=dict(d_model=128, n_head=4, n_layer=1, seq=64, vocab=1024),
        gpt_batch=4,
        rn50_batch=4,
        rn50_hw=64,
        step_s=0.3,
        min_steps=3,
        warmup_steps=2,
        micro_s=0.1,
    ),
}

# The training ladder: each rung adds one speed setting to the previous one, except a branch rung,
# which is compared with the rung before it and not carried on. cudnn.benchmark is such a branch:
# its search must run in a fresh process (see PHASES), it changed nothing for ResNet-50 on the H100,
# and torch.compile on top of its searched plans measured 3,700-4,400 images/s in fresh processes
# against 5,250 on heuristic plans (benchmarks/results/README.md), so carrying it into the compile
# rung would misstate what torch.compile gives.
LADDER = (
    ("fp32", {}),
    ("+TF32", {"tf32": True}),
    ("+AMP bf16", {"amp": "bf16"}),
    ("+channels_last", {"channels_last": True}),
    ("+cudnn.benchmark", {"benchmark": True}),
    ("+torch.compile", {"compile": True}),
)
BRANCH_RUNGS = ("+cudnn.benchmark",)
# --quick keeps the rungs that carry most of the ladder's gain (AMP and channels_last) and no search.
QUICK_RUNGS = ("fp32", "+AMP bf16", "+channels_last")

# PyTorch keeps one cuDNN plan cache per process, keyed by shape, dtype, layout, determinism and
# TF32 but not by cudnn.benchmark: once a convolution has run on heuristics, turning the benchmark
# on reuses that plan instead of searching. So on CUDA the full suite runs in two processes: phase
# "heuristics" measures everything with cudnn.benchmark off, phase "search" (a fresh process) only
# what runs with it on. "both" is one process (the CPU path, --quick, and tests).
PHASES = ("both", "heuristics", "search")


def conv_flags(cuda, mode, phase="both"):
    """(benchmark, deterministic) pairs the conv test measures in this phase."""
    if not cuda:
        return [(False, False)]
    if mode == "quick":
        return [(False, False)]  # the full run compares cudnn.benchmark and determinism
    flags = [(False, False), (True, False), (False, True), (True, True)]
    return [f for f in flags if phase == "both" or f[0] == (phase == "search")]


def measured_in_phase(state, phase):
    """Whether a ladder rung with settings `state` is measured in this phase (a rung with
    cudnn.benchmark on belongs to the search phase)."""
    return phase == "both" or bool(state.get("benchmark")) == (phase == "search")


class ForeachSGD:
    """SGD with momentum, the arithmetic of torch.optim.SGD's foreach path (its default on CUDA),
    without torch.optim: constructing a torch.optim optimizer the first time imports torch._dynamo
    (1.1 s on the 2-core CI machine, about 2 s on the H100 host), which --quick cannot afford."""

    def __init__(self, torch, params, lr, momentum=0.9):
        self.torch = torch
        self.params = [p for p in params if p.requires_grad]
        self.lr = lr
        self.momentum = momentum
        self.buffers = None

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            p.grad = None

    def step(self):
        torch = self.torch
        with torch.no_grad():
            live = [p for p in self.params if p.grad is not None]
            grads = [p.grad for p in live]
            if self.buffers is None:  # as torch: the first step's buffer is the gradient itself
                self.buffers = [torch.clone(g).detach() for g in grads]
            else:
                torch._foreach_mul_(self.buffers, self.momentum)
                torch._foreach_add_(self.buffers, grads)
            torch._foreach_add_(live, self.buffers, alpha=-self.lr)


class Nvml:
    """Optional clock/throttle/PCIe readings of the GPU under load (nvidia-ml-py, if installed)."""

    def __init__(self, torch, index):
        self.nvml = None
        self.handle = None
        try:
            import pynvml

            pynvml.nvmlInit()
            handle = None
            uuid = getattr(torch.cuda.get_device_properties(index), "uuid", None)
            if uuid is not None:
                try:
                    handle = pynvml.nvmlDeviceGetHandleByUUID("GPU-%s" % uuid)
                except Exception:
                    handle = None
            if handle is None and not os.environ.get("CUDA_VISIBLE_DEVICES"):
                handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            self.nvml, self.handle = pynvml, handle
        except Exception:
            self.nvml = None

    def _get(self, name, *args):
        try:
            return getattr(self.nvml, name)(self.handle, *args)
        except Exception:
            return None

    def snapshot(self):
        if self.nvml is None or self.handle is None:
            return None
        n = self.nvml
        reasons = self._get("nvmlDeviceGetCurrentClocksEventReasons")
        if reasons is None:
            reasons = self._get("nvmlDeviceGetCurrentClocksThrottleReasons")
        power = self._get("nvmlDeviceGetPowerUsage")
        limit = self._get("nvmlDeviceGetEnforcedPowerLimit")
        default_limit = self._get("nvmlDeviceGetPowerManagementDefaultLimit")
        processes = self._get("nvmlDeviceGetComputeRunningProcesses") or []
        others = [p for p in processes if p.pid != os.getpid()]
        return {
            "sm_clock_mhz": self._get("nvmlDeviceGetClockInfo", n.NVML_CLOCK_SM),
            "max_sm_clock_mhz": self._get("nvmlDeviceGetMaxClockInfo", n.NVML_CLOCK_SM),
            "clock_reasons": reasons,
            "power_w": power / 1000.0 if power is not None else None,
            "power_limit_w": limit / 1000.0 if limit is not None else None,
            "default_power_limit_w": default_limit / 1000.0 if default_limit is not None else None,
            "temperature_c": self._get("nvmlDeviceGetTemperature", n.NVML_TEMPERATURE_GPU),
            "pcie_gen": self._get("nvmlDeviceGetCurrPcieLinkGeneration"),
            "pcie_width": self._get("nvmlDeviceGetCurrPcieLinkWidth"),
            "pcie_gen_max": self._get("nvmlDeviceGetMaxPcieLinkGeneration"),
            "pcie_width_max": self._get("nvmlDeviceGetMaxPcieLinkWidth"),
            "other_processes": len(others),
            "other_processes_memory_mib": sum((p.usedGpuMemory or 0) for p in others) // (1024 * 1024),
        }


class Bench:
    def __init__(self, torch, device, mode, compile_ok, phase="both"):
        self.phase = phase
        self.torch = torch
        self.nn = torch.nn
        self.device = device
        self.cuda = device.type == "cuda"
        self.mode = mode
        self.size = SIZES[(device.type, mode)]
        self.clock = Clock(torch, device)
        self.compile_ok = compile_ok
        self.nvml = Nvml(torch, device.index or 0) if self.cuda else None
        self.cpu_bf16 = False
        if not self.cuda:
            try:
                self.cpu_bf16 = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
            except Exception:
                self.cpu_bf16 = False

    # --- helpers ---------------------------------------------------------------------------

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

    def settings(self, tf32=False, benchmark=False, deterministic=False):
        torch = self.torch
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.backends.cuda.matmul.allow_tf32 = tf32
            torch.backends.cudnn.allow_tf32 = tf32
            torch.backends.cudnn.benchmark = benchmark
            torch.backends.cudnn.deterministic = deterministic

    def autocast(self, amp):
        if amp is None:
            return contextlib.nullcontext()
        dtype = {"bf16": self.torch.bfloat16, "fp16": self.torch.float16}[amp]
        return self.torch.autocast(device_type=self.device.type, dtype=dtype)

    def micro(self, fn, seconds, during=None):
        return measure(self.clock, fn, warmup_s=min(0.2, seconds / 2.0), sample_s=seconds, during=during)

    # --- sections --------------------------------------------------------------------------

    def matmul(self):
        torch, n = self.torch, self.size["matmul_n"]
        cases = ["fp32", "tf32", "bf16", "fp16", "fp8"] if self.cuda else ["fp32", "bf16"]
        for name in cases:
            label = "%s matmul %d³" % (name, n)
            params = {"n": n, "dtype": name}
            if not self.cuda and name == "bf16" and not self.cpu_bf16:
                self.skipped("matmul", "matmul." + name, label, "this CPU has no native bf16 (no AVX512-BF16/AMX)")
                continue
            if name == "fp8":
                cc = torch.cuda.get_device_capability(self.device)
                if cc < (8, 9) or not hasattr(torch, "_scaled_mm") or not hasattr(torch, "float8_e4m3fn"):
                    self.skipped("matmul", "matmul.fp8", label, "fp8 matmul needs cc 8.9+ and torch._scaled_mm")
                    continue
            try:
                self.settings(tf32=(name == "tf32"))
                if name == "fp8":
                    a = torch.randn(n, n, device=self.device).to(torch.float8_e4m3fn)
                    b = torch.randn(n, n, device=self.device).to(torch.float8_e4m3fn).t()  # column-major
                    one = torch.tensor(1.0, device=self.device)

                    def fn(a=a, b=b, one=one):
                        return torch._scaled_mm(
                            a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16, use_fast_accum=True
                        )

                    params["use_fast_accum"] = True
                else:
                    dtype = {
                        "fp32": torch.float32,
                        "tf32": torch.float32,
                        "bf16": torch.bfloat16,
                        "fp16": torch.float16,
                    }[name]
                    a = torch.randn(n, n, device=self.device, dtype=dtype)
                    b = torch.randn(n, n, device=self.device, dtype=dtype)

                    def fn(a=a, b=b):
                        return a @ b

                observe = self.nvml.snapshot if self.nvml else None
                samples, info = self.micro(fn, self.size["matmul_s"], during=observe)
                self.result("matmul", "matmul." + name, label, samples, {"flop": 2.0 * n**3}, params, info)
            except Exception as exc:
                self.failed("matmul", "matmul." + name, label, exc)
            finally:
                self.settings()
        self.free()

    def memory(self):
        torch, size = self.torch, self.size["copy_bytes"]
        label = "%s memory copy (%d MiB)" % ("device" if self.cuda else "host", size >> 20)
        try:
            src = torch.empty(size, dtype=torch.uint8, device=self.device).fill_(1)
            dst = torch.empty_like(src)
            samples, info = self.micro(lambda: dst.copy_(src), self.size["micro_s"])
            self.result(
                "memory",
                "memory.copy",
                label,
                samples,
                {"bytes": 2.0 * size},
                {"bytes": size, "counted": "read+write"},
                info,
            )
        except Exception as exc:
            self.failed("memory", "memory.copy", label, exc)
        self.free()

    def transfer(self):
        torch, size = self.torch, self.size["transfer_bytes"]
        ids = ("h2d.pageable", "h2d.pinned", "d2h.pageable", "d2h.pinned")
        if not self.cuda:
            for id in ids:
                self.skipped("transfer", "transfer." + id, id.replace(".", " "), "no GPU: host↔device copies need CUDA")
            return
        try:
            pageable = torch.empty(size, dtype=torch.uint8).fill_(1)
            pinned = torch.empty(size, dtype=torch.uint8).fill_(1).pin_memory()
            dev = torch.empty(size, dtype=torch.uint8, device=self.device)
        except Exception as exc:
            for id in ids:
                self.failed("transfer", "transfer." + id, id, exc)
            return
        cases = {
            "h2d.pageable": lambda: dev.copy_(pageable),
            "h2d.pinned": lambda: dev.copy_(pinned, non_blocking=True),
            "d2h.pageable": lambda: pageable.copy_(dev),
            "d2h.pinned": lambda: pinned.copy_(dev, non_blocking=True),
        }
        for id, fn in cases.items():
            direction, memory = id.split(".")
            label = "%s %s (%d MiB)" % ("host→device" if direction == "h2d" else "device→host", memory, size >> 20)
            try:
                observe = self.nvml.snapshot if (self.nvml and memory == "pinned") else None
                samples, info = self.micro(fn, self.size["micro_s"], during=observe)
                self.result(
                    "transfer",
                    "transfer." + id,
                    label,
                    samples,
                    {"bytes": float(size)},
                    {"bytes": size, "memory": memory},
                    info,
                )
            except Exception as exc:
                self.failed("transfer", "transfer." + id, label, exc)
        self.free()

    def conv(self):
        torch, nn = self.torch, self.nn
        batch, hw = self.size["conv_batch"], self.size["conv_hw"]
        shape = "batch %d, 3×%d×%d, 64 filters 7×7 stride 2" % (batch, hw, hw)
        try:
            torch.manual_seed(0)
            conv = nn.Conv2d(3, 64, 7, stride=2, padding=3).to(self.device)
            x = torch.randn(batch, 3, hw, hw, device=self.device)
            grad = torch.randn_like(conv(x))
        except Exception as exc:
            self.failed("conv", "conv.setup", "conv " + shape, exc)
            return
        for benchmark, deterministic in conv_flags(self.cuda, self.mode, self.phase):
            for kind in ("fwd+bwd",) if self.mode == "quick" and self.cuda else ("fwd", "fwd+bwd"):
                id = "conv.%s.bench%d.det%d" % (kind, benchmark, deterministic)
                label = "conv %s · cudnn.benchmark %s · deterministic %s" % (
                    kind,
                    "on" if benchmark else "off",
                    "on" if deterministic else "off",
                )
                if not self.cuda:
                    label = "conv %s" % kind
                params = {
                    "shape": shape,
                    "kind": kind,
                    "benchmark": benchmark,
                    "deterministic": deterministic,
                    "precision": "fp32 (TF32 off)",
                }
                try:
                    self.settings(benchmark=benchmark, deterministic=deterministic)
                    if kind == "fwd":

                        def fn():
                            with torch.no_grad():
                                return conv(x)
                    else:

                        def fn():
                            conv.weight.grad = None
                            conv.bias.grad = None
                            conv(x).backward(grad)

                    samples, info = self.micro(fn, self.size["micro_s"])
                    self.result(
                        "conv",
                        id,
                        label,
                        samples,
                        {"items": float(batch)},
                        params,
                        info,
                        report="time",
                        one_time_kind="autotune" if benchmark else None,
                    )
                except Exception as exc:
                    self.failed("conv", id, label, exc)
        if not self.cuda and self.phase != "search":
            self.skipped(
                "conv", "conv.cudnn-flags", "cudnn.benchmark / deterministic", "cuDNN settings apply to CUDA only"
            )
        self.settings()
        self.free()

    def _train_step(
        self, model, batch, target, loss_fn, amp=None, scaler=None, lr=0.01, optimizer="sgd", compiled=None
    ):
        torch = self.torch
        params = list(model.parameters())
        if optimizer == "sgd" and scaler is None:
            opt = ForeachSGD(torch, params, lr=lr, momentum=0.9)
        elif optimizer == "sgd":
            opt = torch.optim.SGD(params, lr=lr, momentum=0.9)  # GradScaler.step needs a torch.optim.Optimizer
        else:
            opt = torch.optim.AdamW(params, lr=1e-4)
        run = compiled if compiled is not None else model

        def step():
            opt.zero_grad(set_to_none=True)
            with self.autocast(amp):
                loss = loss_fn(run(batch), target)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            else:
                loss.backward()
                opt.step()

        return step

    def _grad_scaler(self):
        torch = self.torch
        try:
            return torch.amp.GradScaler("cuda")
        except (AttributeError, TypeError):
            return torch.cuda.amp.GradScaler()

    def _make(self, workload, channels_last=False):
        torch = self.torch
        torch.manual_seed(0)
        try:
            on_device = torch.device(self.device)  # factory calls (parameter init) run on the device
            with on_device:
                return self._build(workload, channels_last)
        except (TypeError, AttributeError):  # torch < 2.0: no device context manager
            return self._build(workload, channels_last)

    def _build(self, workload, channels_last=False):
        torch, nn = self.torch, self.nn
        if workload == "resnet50":
            b, hw = self.size["rn50_batch"], self.size["rn50_hw"]
            model = __import__("workloads").resnet50(nn).to(self.device)
            x = torch.randn(b, 3, hw, hw, device=self.device)
            y = torch.randint(0, 1000, (b,), device=self.device)
            items, unit, desc = b, "images/s", "ResNet-50, batch %d, 3×%d×%d synthetic" % (b, hw, hw)
            loss = nn.functional.cross_entropy
        elif workload == "convnet":
            b, hw = self.size["amp_conv_batch"], self.size["amp_conv_hw"]
            model = __import__("workloads").convnet(nn).to(self.device)
            x = torch.randn(b, 3, hw, hw, device=self.device)
            y = torch.randint(0, 1000, (b,), device=self.device)
            items, unit, desc = b, "images/s", "conv net, batch %d, 3×%d×%d" % (b, hw, hw)
            loss = nn.functional.cross_entropy
        else:
            cfg, b = self.size["gpt"], self.size["gpt_batch"]
            model = __import__("workloads").gpt(torch, nn, **cfg).to(self.device)
            x = torch.randint(0, cfg["vocab"], (b, cfg["seq"]), device=self.device)
            y = torch.randint(0, cfg["vocab"], (b, cfg["seq"]), device=self.device)
            items, unit = b * cfg["seq"], "tokens/s"
            desc = "GPT block ×%d, d_model %d, seq %d, batch %d" % (cfg["n_layer"], cfg["d_model"], cfg["seq"], b)

            def loss(logits, target):
                return nn.functional.cross_entropy(logits.flatten(0, 1).float(), target.flatten())

        if channels_last:
            model = model.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
        return model, x, y, loss, items, unit, desc

    def _steps(self, step):
        s = self.size
        return measure_steps(
            self.clock, step, warmup_steps=s["warmup_steps"], min_steps=s["min_steps"], sample_s=s["step_s"]
        )

    def amp(self):
        for workload in ("convnet", "gpt"):
            modes = ("fp32", "bf16", "fp16")
            for amp in modes:
                id = "amp.%s.%s" % (workload, amp)
                label = "%s %s" % (
                    "conv net" if workload == "convnet" else "transformer",
                    "FP32" if amp == "fp32" else "AMP " + amp,
                )
                if not self.cuda and amp == "fp16":
                    self.skipped("amp", id, label, "fp16 AMP with GradScaler is a CUDA recipe", workload=workload)
                    continue
                if not self.cuda and amp == "bf16" and not self.cpu_bf16:
                    self.skipped(
                        "amp", id, label, "this CPU has no native bf16 (no AVX512-BF16/AMX)", workload=workload
                    )
                    continue
                if self.mode == "quick" and self.cuda:
                    self.skipped(
                        "amp", id, label, "--quick: the ladders' AMP rung stands in for this", workload=workload
                    )
                    continue
                try:
                    self.settings()
                    model, x, y, loss, items, unit, desc = self._make(workload)
                    scaler = self._grad_scaler() if amp == "fp16" else None
                    step = self._train_step(
                        model,
                        x,
                        y,
                        loss,
                        amp=None if amp == "fp32" else amp,
                        scaler=scaler,
                        optimizer="sgd" if workload == "convnet" else "adamw",
                    )
                    samples, info = self._steps(step)
                    params = {
                        "workload": desc,
                        "precision": "fp32 (TF32 off)"
                        if amp == "fp32"
                        else "autocast " + amp + (" + GradScaler" if scaler else ""),
                    }
                    self.result(
                        "amp",
                        id,
                        label,
                        samples,
                        {"items": float(items)},
                        params,
                        info,
                        unit=unit,
                        workload=workload,
                        baseline="amp.%s.fp32" % workload,
                    )
                except Exception as exc:
                    self.failed("amp", id, label, exc, workload=workload)
                self.free()

    def ladder(self, workload):
        torch = self.torch
        section = "ladder-" + workload
        state = {}
        baseline = "%s.fp32" % section
        previous = None
        built = None  # one model per ladder: each rung changes settings, not the workload
        for name, change in LADDER:
            before = dict(state)
            state.update(change)
            id = "%s.%s" % (section, name.lstrip("+").replace(" ", "-").replace(".", "-").lower())
            label = name
            reason = None
            if not self.cuda and (change.get("benchmark") or change.get("tf32")):
                reason = "CUDA-only setting (cuDNN / TF32)"
            elif not self.cuda and state.get("amp") == "bf16" and change.get("amp") and not self.cpu_bf16:
                reason = "this CPU has no native bf16 (no AVX512-BF16/AMX)"
            elif workload == "gpt" and (change.get("benchmark") or change.get("channels_last")):
                reason = "no convolutions in a transformer"
            elif change.get("compile") and not self.compile_ok:
                reason = (
                    "torch.compile skipped (--no-compile)" if self.mode == "full" else "--quick skips torch.compile"
                )
            elif self.mode == "quick" and self.cuda and workload == "gpt":
                reason = "--quick runs the ResNet-50 ladder only (the full suite adds the transformer's)"
            elif self.mode == "quick" and self.cuda and name not in QUICK_RUNGS:
                reason = "--quick skips this rung (its first step costs seconds of search)"
            branch = name in BRANCH_RUNGS
            if reason:
                state = before  # a skipped rung adds nothing to the next ones
                if self.phase != "search":
                    self.skipped(section, id, label, reason, workload=workload, rung=name)
                continue
            if not measured_in_phase(state, self.phase):
                if branch:
                    state = before
                elif self.phase == "search":
                    previous = id  # measured by the other process: the next rung builds on it
                continue
            try:
                self.settings(tf32=state.get("tf32", False), benchmark=state.get("benchmark", False))
                if built is None:
                    built = self._make(workload)
                model, x, y, loss, items, unit, desc = built
                if state.get("channels_last") and not x.is_contiguous(memory_format=torch.channels_last):
                    model = model.to(memory_format=torch.channels_last)
                    x = x.contiguous(memory_format=torch.channels_last)
                    built = (model, x, y, loss, items, unit, desc)
                compiled = None
                if state.get("compile"):
                    torch._dynamo.reset()
                    compiled = torch.compile(model)
                step = self._train_step(
                    model,
                    x,
                    y,
                    loss,
                    amp=state.get("amp"),
                    compiled=compiled,
                    lr=0.1 if workload == "resnet50" else 0.01,
                    optimizer="sgd" if workload == "resnet50" else "adamw",
                )
                samples, info = self._steps(step)
                kind = "compile" if state.get("compile") else ("autotune" if state.get("benchmark") else "warm-up")
                settings = ", ".join(k if v is True else "%s=%s" % (k, v) for k, v in sorted(state.items()))
                self.result(
                    section,
                    id,
                    label,
                    samples,
                    {"items": float(items)},
                    dict(
                        {"workload": desc, "settings": settings or "defaults, TF32 off"},
                        **({"branch": "compared with the rung above, not carried on"} if branch else {}),
                    ),
                    info,
                    unit=unit,
                    workload=workload,
                    rung=name,
                    baseline=baseline,
                    previous=previous,
                    one_time_kind=kind,
                )
                if not branch:
                    previous = id
                del step, compiled
            except Exception as exc:
                self.failed(section, id, label, exc, workload=workload, rung=name)
                built = None
            finally:
                if state.get("compile"):
                    try:
                        torch._dynamo.reset()
                    except Exception:
                        pass
            if branch:
                state = before  # compared with the rung before it, not carried on
            self.settings()
        built = None
        self.free()


def environment(torch, device, bench):
    info = torch_environment(torch, device)
    info.update(
        cpu_bf16=bench.cpu_bf16,
        cuda_available=bool(torch.cuda.is_available()),
        cuda_built=getattr(torch.version, "cuda", None) is not None,
    )
    if device.type == "cuda":
        info["nvml_idle"] = bench.nvml.snapshot() if bench.nvml else None
    return info


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="auto", choices=("auto", "cuda", "cpu"))
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--phase", default="both", choices=PHASES)
    parser.add_argument("--wait-for", metavar="PATH", help="after importing torch, wait for PATH to say go or stop")
    parser.add_argument("--wait-timeout", type=float, default=900.0)
    args = parser.parse_args(argv)

    emit("begin", section="import")
    began = time.perf_counter()
    try:
        import torch
    except BaseException as exc:
        emit("fatal", stage="import", error=describe(exc))
        return 3
    emit("end", section="import", seconds=round(time.perf_counter() - began, 3))
    # torch's own objects (hundreds of thousands) are never garbage: moved out of the collector's
    # sight, each collection between sections costs microseconds instead of ~0.2 s.
    gc.freeze()
    if args.wait_for and not wait_for_go(args.wait_for, args.wait_timeout):
        return 0

    if args.device == "cpu" or (args.device == "auto" and not torch.cuda.is_available()):
        device = torch.device("cpu")
    elif not torch.cuda.is_available():
        emit("fatal", stage="cuda-init", error="--device cuda asked for, but torch.cuda.is_available() is False")
        return 3
    else:
        device = torch.device("cuda", args.index)
        emit("begin", section="cuda-init")
        torch.cuda.set_device(device)
        began = time.perf_counter()
        torch.zeros(1, device=device)  # initialise the context outside any measurement
        emit("end", section="cuda-init", seconds=round(time.perf_counter() - began, 3))
    mode = "quick" if args.quick else "full"
    bench = Bench(torch, device, mode, compile_ok=not args.no_compile and mode == "full", phase=args.phase)
    emit("env", data=environment(torch, device, bench), mode=mode, phase=args.phase)
    for section in [s for s in args.sections.split(",") if s]:
        if section not in SECTIONS:
            emit("error", section=section, error="unknown section")
            continue
        emit("begin", section=section)
        began = time.perf_counter()
        try:
            if section.startswith("ladder-"):
                bench.ladder(section[len("ladder-") :])
            else:
                getattr(bench, section)()
        except Exception as exc:
            emit("error", section=section, error=describe(exc))
        bench.free()
        emit("end", section=section, seconds=round(time.perf_counter() - began, 3))
    emit("done")
    return 0


def wait_for_go(path, timeout):
    """Started early (its torch import overlapping the other process's measurements), the search
    process waits for the parent's word before touching the GPU. False: stop (the word, the
    parent gone, or the time up)."""
    emit("begin", section="wait")
    began = time.perf_counter()
    parent = os.getppid()
    word = None
    while time.perf_counter() - began < timeout and os.getppid() == parent:
        try:
            with open(path) as handle:
                word = handle.read().strip()
        except OSError:
            word = None
        if word in ("go", "stop"):
            break
        time.sleep(0.01)
    emit("end", section="wait", seconds=round(time.perf_counter() - began, 3), word=word)
    return word == "go"


def leave(code):
    """Exits without the interpreter's teardown once everything is reported: tearing down a CUDA
    context, cuDNN handles and torch's modules costs up to a second that nobody waits for. Inductor's
    compile workers are stopped first so that none outlives the worker."""
    inductor = sys.modules.get("torch._inductor.async_compile")
    shutdown = getattr(inductor, "shutdown_compile_workers", None)
    if shutdown is not None:
        try:
            shutdown()
        except Exception:
            pass
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    leave(main())
