# ruff: noqa: UP031  (runs inside the target interpreter: conservative syntax)
"""bench's micro-benchmarks: matmul per dtype (a burst and the sustained rate), the device copy,
host↔device copies and a convolution under cuDNN's settings. Each takes the Bench (plan_bench.py)
for its budget, clock and records. Python 3.8+ syntax.
"""

from . import step as S

NO_BF16 = "this CPU has no native bf16 (no AVX512-BF16/AMX)"


def conv_flags(cuda, mode, phase="both"):
    """(benchmark, deterministic) pairs the conv test measures in this phase."""
    if not cuda or mode == "quick":
        return [(False, False)]  # the full CUDA run compares cudnn.benchmark and determinism
    flags = [(False, False), (True, False), (False, True), (True, True)]
    return [f for f in flags if phase == "both" or f[0] == (phase == "search")]


def _operands(torch, device, name, n):
    if name == "fp8":
        a = torch.randn(n, n, device=device).to(torch.float8_e4m3fn)
        b = torch.randn(n, n, device=device).to(torch.float8_e4m3fn).t()  # column-major, as _scaled_mm needs
        one = torch.tensor(1.0, device=device)

        def fn():
            return torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16, use_fast_accum=True)

        return fn
    dtype = {"fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[name]
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)

    def fn():
        return a @ b

    return fn


def _matmul_skip(bench, name):
    torch = bench.torch
    if not bench.cuda and name == "bf16" and not bench.cpu_bf16:
        return NO_BF16
    if name == "fp8":
        cc = torch.cuda.get_device_capability(bench.device)
        if cc < (8, 9) or not hasattr(torch, "_scaled_mm") or not hasattr(torch, "float8_e4m3fn"):
            return "fp8 matmul needs cc 8.9+ and torch._scaled_mm"
    return None


def matmul(bench):
    """Per dtype, on CUDA two figures: the burst (`matmul.<dtype>`: what a bare script and the
    datasheet measure) and the sustained rate (`matmul.<dtype>.sustained`: seconds of back-to-back
    products, where a power-capped GPU lowers its clock; on the H200 the sustained bf16 rate was
    88 % of the burst with the SW power cap reason set, benchmarks/results/h200-round4/perf-truth)."""
    torch, n = bench.torch, bench.budget["matmul_n"]
    cases = ["fp32", "tf32", "bf16", "fp16", "fp8"] if bench.cuda else ["fp32", "bf16"]
    for name in cases:
        label = "%s matmul %d³" % (name, n)
        params = {"n": n, "dtype": name}
        if name == "fp8":
            params["use_fast_accum"] = True
        reason = _matmul_skip(bench, name)
        if reason:
            bench.skipped("matmul", "matmul." + name, label, reason)
            continue
        try:
            S.set_flags(torch, {"tf32": name == "tf32"}, bench.cuda)
            fn = _operands(torch, bench.device, name, n)
            work = {"flop": 2.0 * n**3}
            if bench.cuda:
                bench.result(
                    "matmul",
                    "matmul." + name,
                    label,
                    bench.burst(fn),
                    work,
                    dict(params, how="burst: %d products after an idle pause" % 10),
                )
            observe = bench.nvml.snapshot if bench.nvml else None
            samples, info = bench.micro(fn, bench.budget["matmul_s"], during=observe)
            sustained_id = "matmul.%s.sustained" % name if bench.cuda else "matmul." + name
            bench.result(
                "matmul",
                sustained_id,
                label + (" sustained" if bench.cuda else ""),
                samples,
                work,
                dict(params, how="sustained: %.2g s of back-to-back products" % bench.budget["matmul_s"]),
                info,
                baseline="matmul." + name if bench.cuda else None,
            )
            del fn
        except Exception as exc:
            bench.failed("matmul", "matmul." + name, label, exc)
        finally:
            S.set_flags(torch, {}, bench.cuda)
    bench.free()


def memory(bench):
    torch, size = bench.torch, bench.budget["copy_bytes"]
    label = "%s memory copy (%d MiB)" % ("device" if bench.cuda else "host", size >> 20)
    try:
        src = torch.empty(size, dtype=torch.uint8, device=bench.device).fill_(1)
        dst = torch.empty_like(src)
        samples, info = bench.micro(lambda: dst.copy_(src), bench.budget["micro_s"])
        bench.result(
            "memory",
            "memory.copy",
            label,
            samples,
            {"bytes": 2.0 * size},
            {"bytes": size, "counted": "read+write"},
            info,
        )
    except Exception as exc:
        bench.failed("memory", "memory.copy", label, exc)
    bench.free()


def transfer(bench):
    torch, size = bench.torch, bench.budget["transfer_bytes"]
    ids = ("h2d.pageable", "h2d.pinned", "d2h.pageable", "d2h.pinned")
    if not bench.cuda:
        for id in ids:
            bench.skipped("transfer", "transfer." + id, id.replace(".", " "), "no GPU: host↔device copies need CUDA")
        return
    try:
        pageable = torch.empty(size, dtype=torch.uint8).fill_(1)
        pinned = torch.empty(size, dtype=torch.uint8).fill_(1).pin_memory()
        dev = torch.empty(size, dtype=torch.uint8, device=bench.device)
    except Exception as exc:
        for id in ids:
            bench.failed("transfer", "transfer." + id, id, exc)
        return
    cases = {
        "h2d.pageable": lambda: dev.copy_(pageable),
        "h2d.pinned": lambda: dev.copy_(pinned, non_blocking=True),
        "d2h.pageable": lambda: pageable.copy_(dev),
        "d2h.pinned": lambda: pinned.copy_(dev, non_blocking=True),
    }
    for id, fn in cases.items():
        direction, kind = id.split(".")
        label = "%s %s (%d MiB)" % ("host→device" if direction == "h2d" else "device→host", kind, size >> 20)
        try:
            observe = bench.nvml.snapshot if (bench.nvml and kind == "pinned") else None
            samples, info = bench.micro(fn, bench.budget["micro_s"], during=observe)
            bench.result(
                "transfer",
                "transfer." + id,
                label,
                samples,
                {"bytes": float(size)},
                {"bytes": size, "memory": kind},
                info,
            )
        except Exception as exc:
            bench.failed("transfer", "transfer." + id, label, exc)
    bench.free()


def conv(bench):
    torch, nn = bench.torch, bench.torch.nn
    batch, hw = bench.budget["conv_batch"], bench.budget["conv_hw"]
    shape = "batch %d, 3×%d×%d, 64 filters 7×7 stride 2" % (batch, hw, hw)
    try:
        torch.manual_seed(0)
        layer = nn.Conv2d(3, 64, 7, stride=2, padding=3).to(bench.device)
        x = torch.randn(batch, 3, hw, hw, device=bench.device)
        grad = torch.randn_like(layer(x))
    except Exception as exc:
        bench.failed("conv", "conv.setup", "conv " + shape, exc)
        return

    def forward():
        with torch.no_grad():
            return layer(x)

    def forward_backward():
        layer.weight.grad = None
        layer.bias.grad = None
        layer(x).backward(grad)

    kinds = ("fwd+bwd",) if bench.mode == "quick" and bench.cuda else ("fwd", "fwd+bwd")
    for benchmark, deterministic in _conv_flags(bench):
        for kind in kinds:
            id = "conv.%s.bench%d.det%d" % (kind, benchmark, deterministic)
            label = "conv %s · cudnn.benchmark %s · deterministic %s" % (
                kind,
                "on" if benchmark else "off",
                "on" if deterministic else "off",
            )
            if not bench.cuda:
                label = "conv %s" % kind
            params = {
                "shape": shape,
                "kind": kind,
                "benchmark": benchmark,
                "deterministic": deterministic,
                "precision": "fp32 (TF32 off)",
            }
            try:
                S.set_flags(torch, {"benchmark": benchmark}, bench.cuda)
                torch.backends.cudnn.deterministic = deterministic  # cuDNN's flag alone, as users set it
                samples, info = bench.micro(forward if kind == "fwd" else forward_backward, bench.budget["micro_s"])
                bench.result(
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
                bench.failed("conv", id, label, exc)
    if not bench.cuda and bench.phase != "search":
        bench.skipped(
            "conv", "conv.cudnn-flags", "cudnn.benchmark / deterministic", "cuDNN settings apply to CUDA only"
        )
    S.set_flags(torch, {}, bench.cuda)
    bench.free()


def _conv_flags(bench):
    return conv_flags(bench.cuda, bench.mode, bench.phase)
