"""Why bench reads below a bare script (issue 19), on the device: one process per call.

  python perf_truth.py matmul   bare (3 warm-ups, mean of 10 event-timed products) vs the runtime's
                                measure() at the quick and full durations vs 300 back-to-back
                                products (first 10 / last 10), with the SM clock and power read by NVML
  python perf_truth.py compile WORKLOAD
                                eager (AMP bf16 [+ channels_last]) then torch.compile, three windows
                                each, then a second compile in the same process: is the bimodality
                                between processes (a choice made at compile time) or within one (clocks)?
Prints one JSON line per figure. Runs from the source tree (PYTHONPATH=src).
"""

import json
import statistics
import sys
import time

import torch

sys.path.insert(0, "src/torchenv/perf/_worker")
from timing import Clock, measure

DEVICE = torch.device("cuda", 0)


def nvml_reader():
    try:
        import pynvml

        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)

        def read():
            return {
                "sm_mhz": pynvml.nvmlDeviceGetClockInfo(handle, pynvml.NVML_CLOCK_SM),
                "power_w": pynvml.nvmlDeviceGetPowerUsage(handle) / 1000.0,
                "reasons": pynvml.nvmlDeviceGetCurrentClocksEventReasons(handle),
            }

        return read
    except Exception as exc:
        reason = str(exc)
        return lambda: {"nvml": reason}


READ = nvml_reader()


def out(**fields):
    print(json.dumps(fields), flush=True)


def event_times(fn, n):
    times = []
    for _ in range(n):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1000.0)
    return times


def matmul():
    n = 8192
    dtypes = {"fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    clock = Clock(torch, DEVICE)
    for round_ in (1, 2, 3):
        for name, dtype in dtypes.items():
            torch.backends.cuda.matmul.allow_tf32 = name == "tf32"
            a = torch.randn(n, n, device=DEVICE, dtype=dtype)
            b = torch.randn(n, n, device=DEVICE, dtype=dtype)
            flop = 2.0 * n**3

            def fn(a=a, b=b):
                return a @ b

            for _ in range(3):
                fn()
            torch.cuda.synchronize()
            bare = statistics.mean(event_times(fn, 10))
            out(part="matmul", round=round_, dtype=name, how="bare", tflops=flop / bare / 1e12, clock=READ())
            for label, seconds in (("measure-quick", 0.08), ("measure-full", 0.4)):
                samples, info = measure(
                    clock, fn, warmup_s=min(0.2, seconds / 2), sample_s=seconds, during=READ
                )
                med = statistics.median(samples)
                out(part="matmul", round=round_, dtype=name, how=label, tflops=flop / med / 1e12,
                    best_tflops=flop / min(samples) / 1e12, inner=info["inner"], n=len(samples),
                    clock=info["observed"])
            long = event_times(fn, 300)
            out(part="matmul", round=round_, dtype=name, how="sustained-300",
                first10=flop / statistics.mean(long[:10]) / 1e12, last10=flop / statistics.mean(long[-10:]) / 1e12,
                clock=READ())
            time.sleep(1.0)  # let the clock recover between dtypes, as bench's sections do not
            del a, b
    torch.backends.cuda.matmul.allow_tf32 = False
    size = 1 << 30
    src = torch.empty(size, dtype=torch.uint8, device=DEVICE).fill_(1)
    dst = torch.empty_like(src)
    for _ in range(3):
        dst.copy_(src)
    bare = statistics.mean(event_times(lambda: dst.copy_(src), 10))
    out(part="copy", how="bare", gbs=2 * size / bare / 1e9)
    samples, _ = measure(clock, lambda: dst.copy_(src), warmup_s=0.2, sample_s=0.25)
    out(part="copy", how="measure", gbs=2 * size / statistics.median(samples) / 1e9)


def compile_study(workload):
    import workloads

    torch.manual_seed(0)
    nn = torch.nn
    if workload == "resnet50":
        model = workloads.resnet50(nn).to(DEVICE).to(memory_format=torch.channels_last)
        x = torch.randn(128, 3, 224, 224, device=DEVICE).contiguous(memory_format=torch.channels_last)
        y = torch.randint(0, 1000, (128,), device=DEVICE)
        loss_fn = nn.functional.cross_entropy
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        items = 128
    else:
        cfg = dict(d_model=1024, n_head=16, n_layer=4, seq=1024, vocab=8192)
        model = workloads.gpt(torch, nn, **cfg).to(DEVICE)
        x = torch.randint(0, 8192, (8, 1024), device=DEVICE)
        y = torch.randint(0, 8192, (8, 1024), device=DEVICE)

        def loss_fn(logits, target):
            return nn.functional.cross_entropy(logits.flatten(0, 1).float(), target.flatten())

        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        items = 8 * 1024
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True

    def make_step(run):
        def step():
            opt.zero_grad(set_to_none=True)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = loss_fn(run(x), y)
            loss.backward()
            opt.step()

        return step

    def windows(label, step, count=3, steps=15):
        for _ in range(3):
            step()
        for w in range(count):
            times = event_times(step, steps)
            med = statistics.median(times)
            out(part="compile", workload=workload, how=label, window=w, ms=med * 1000,
                rate=items / med, clock=READ())

    windows("eager", make_step(model))
    for attempt in (1, 2):
        torch._dynamo.reset()
        began = time.perf_counter()
        compiled = torch.compile(model)
        step = make_step(compiled)
        step()
        torch.cuda.synchronize()
        out(part="compile", workload=workload, how="first-step", attempt=attempt, s=time.perf_counter() - began)
        windows(f"compiled-{attempt}", step)


if __name__ == "__main__":
    if sys.argv[1] == "matmul":
        matmul()
    else:
        compile_study(sys.argv[2])
