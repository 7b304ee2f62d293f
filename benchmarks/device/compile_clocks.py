"""Why the compiled ResNet-50 step spreads over 20-34 ms within one process while the eager step holds
29.5 ms (issue 19, H200 round 5): each step timed alone (CUDA events, a sync per step), the SM clock,
power and NVML clock-event reasons sampled every 2 ms beside it; per step the mean clock over its span, and how long the host took to queue the step (a step whose
launch time tracks its GPU time is host-bound).

    PYTHONPATH=src python benchmarks/device/compile_clocks.py resnet50|gpt [--steps 150]
"""

import argparse
import json
import statistics
import threading
import time

import pynvml
import torch

from torchenv.perf._worker.engine import Engine
from torchenv.perf._worker.workloads import builtin


class Sampler(threading.Thread):
    def __init__(self, handle, every_s=0.002):
        super().__init__(daemon=True)
        self.handle, self.every_s, self.rows, self.stopped = handle, every_s, [], False

    def run(self):
        while not self.stopped:
            now = time.perf_counter()
            clock = pynvml.nvmlDeviceGetClockInfo(self.handle, pynvml.NVML_CLOCK_SM)
            power = pynvml.nvmlDeviceGetPowerUsage(self.handle) / 1000.0
            reasons = pynvml.nvmlDeviceGetCurrentClocksEventReasons(self.handle)
            self.rows.append((now, clock, power, reasons))
            time.sleep(self.every_s)


def correlation(xs, ys):
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sx = sum((x - mx) ** 2 for x in xs) ** 0.5
    sy = sum((y - my) ** 2 for y in ys) ** 0.5
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / (sx * sy) if sx and sy else None


def timed_steps(step, steps, sampler):
    out = []
    for _ in range(steps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        t0 = time.perf_counter()
        start.record()
        step()
        launched = time.perf_counter()  # the host has queued the whole step
        end.record()
        end.synchronize()
        t1 = time.perf_counter()
        inside = [r for r in sampler.rows if t0 <= r[0] <= t1]
        out.append(
            {
                "ms": start.elapsed_time(end),
                "host_ms": (t1 - t0) * 1000,
                "launch_ms": (launched - t0) * 1000,
                "clock_mhz": statistics.fmean(r[1] for r in inside) if inside else None,
                "power_w": statistics.fmean(r[2] for r in inside) if inside else None,
                "power_capped": any(r[3] & 0x4 for r in inside),
            }
        )
    return out


def summary(name, rows):
    ms = [r["ms"] for r in rows]
    q = statistics.quantiles(ms, n=4)
    with_clock = [r for r in rows if r["clock_mhz"]]
    corr = correlation([r["ms"] for r in with_clock], [r["clock_mhz"] for r in with_clock]) if with_clock else None
    fast = [r["ms"] for r in with_clock if r["clock_mhz"] >= 1900]
    slow = [r["ms"] for r in with_clock if r["clock_mhz"] < 1700]
    capped = sum(r["power_capped"] for r in rows)
    clocks = [r["clock_mhz"] for r in with_clock]
    print(
        f"{name}: median {statistics.median(ms):.2f} ms (IQR {q[0]:.2f}-{q[2]:.2f}, min {min(ms):.2f}, max {max(ms):.2f});"
        f" host {statistics.median(r['host_ms'] for r in rows):.2f} ms, of it launching"
        f" {statistics.median(r['launch_ms'] for r in rows):.2f} ms (corr(step ms, launch ms)"
        f" {correlation(ms, [r['launch_ms'] for r in rows])}); SM clock {min(clocks):.0f}-{max(clocks):.0f} MHz"
        f" (median {statistics.median(clocks):.0f}); power {statistics.median(r['power_w'] for r in with_clock):.0f} W;"
        f" power-capped in {capped}/{len(rows)} steps; corr(step ms, clock) {corr if corr is None else round(corr, 3)};"
        f" steps at >=1900 MHz {statistics.median(fast) if fast else float('nan'):.2f} ms (n={len(fast)}),"
        f" <1700 MHz {statistics.median(slow) if slow else float('nan'):.2f} ms (n={len(slow)})",
        flush=True,
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("workload", choices=("resnet50", "gpt"))
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--out")
    args = parser.parse_args()
    device = torch.device("cuda", 0)
    torch.zeros(1, device=device)
    pynvml.nvmlInit()
    sampler = Sampler(pynvml.nvmlDeviceGetHandleByIndex(0))
    sampler.start()
    workload = builtin(torch, args.workload, device)
    engine = Engine(torch, device, workload, timing={"numerics_steps": 1})
    eager = {"tf32": True, "amp": "bf16", "channels_last": args.workload == "resnet50"}
    results = {}
    for name, config in (("eager", eager), ("compiled", dict(eager, compile="default")), ("eager again", eager)):
        engine.set_flags(config)
        step, keep = engine.build(config)
        began = time.perf_counter()
        for _ in range(5):
            step()
        torch.cuda.synchronize()
        print(f"{args.workload} {name}: warm-up {time.perf_counter() - began:.1f} s", flush=True)
        rows = timed_steps(step, args.steps, sampler)
        summary(f"{args.workload} {name}", rows)
        results[name] = rows
        del step, keep
        engine.free()
    sampler.stopped = True
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(results, handle)


if __name__ == "__main__":
    main()
