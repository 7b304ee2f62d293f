"""Planted loads for `torchenv monitor` on a GPU host (benchmarks/device/monitor.sh), and the
side-by-side comparison of the monitor's figures with nvidia-smi's, read in the same run.

    python3 monitor_loads.py idle|launch|gemm|input [--seconds 15]
    python3 monitor_loads.py compare RESULTS_DIR  (writes summaries.jsonl and comparison.txt there)

The loads (each marks its steps with torchenv.step()):
- idle: sleep, no torch at all                      -> gpu-unused
- launch: tiny element-wise kernels (1 block) from a Python loop -> launch-bound
- gemm: a bf16 8192^3 matmul loop                    -> compute-bound (and power-capped on an H200)
- input: an MLP step fed by a DataLoader whose __getitem__ sleeps -> input-bound
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import sys
import time

EXPECTED = {"idle": "gpu-unused", "launch": "launch-bound", "gemm": "compute-bound", "input": "input-bound"}


def _step():
    try:
        import torchenv

        return torchenv.step
    except ImportError:  # run outside the checkout: no marks
        return lambda: None


def idle(seconds: float) -> None:
    step = _step()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.5)
        step()
    print(f"idle: slept {seconds:.0f} s")


def launch(seconds: float) -> None:
    import torch

    step = _step()
    x = torch.zeros(256, device="cuda")
    torch.cuda.synchronize()
    ops = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for _ in range(1000):
            x.add_(1.0)  # one block of 256 threads: a few microseconds on one SM
        ops += 1000
        step()
    torch.cuda.synchronize()
    print(f"launch: {ops} kernels in {seconds:.0f} s, {ops / seconds / 1e3:.0f} k kernels/s")


def gemm(seconds: float) -> None:
    import torch

    step = _step()
    n = 8192
    a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    c = torch.empty(n, n, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        torch.matmul(a, b, out=c)
    torch.cuda.synchronize()
    count = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        for _ in range(20):
            torch.matmul(a, b, out=c)
        torch.cuda.synchronize()
        count += 20
        step()
    spent = time.monotonic() - start
    print(f"gemm: {count} bf16 {n}^3 matmuls in {spent:.1f} s, {2 * n**3 * count / spent / 1e12:.0f} TFLOP/s")


class SlowDataset:
    """A map-style dataset whose items take `delay` seconds each (decoding, augmentation, a slow disk)."""

    def __init__(self, size: int, features: int, delay: float):
        self.size, self.features, self.delay = size, features, delay

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int):
        import torch

        time.sleep(self.delay)
        return torch.randn(self.features), index % 10


def input_bound(seconds: float) -> None:
    import torch

    step = _step()
    features = 8192
    loader = torch.utils.data.DataLoader(
        SlowDataset(10**6, features, delay=0.003),
        batch_size=64,
        num_workers=2,
        pin_memory=True,
        persistent_workers=True,
    )
    layers = [torch.nn.Linear(features, features, bias=False) for _ in range(8)]
    model = torch.nn.Sequential(*layers, torch.nn.Linear(features, 10)).to("cuda", torch.bfloat16)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4)
    steps = 0
    start = None
    for inputs, labels in loader:
        if start is None:
            start = time.monotonic()
        x = inputs.to("cuda", torch.bfloat16, non_blocking=True).repeat(64, 1)  # each batch used 64 times over
        y = labels.to("cuda", non_blocking=True).repeat(64)
        loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        steps += 1
        step()
        if time.monotonic() - start >= seconds:
            break
    torch.cuda.synchronize()
    spent = time.monotonic() - (start or time.monotonic())
    print(f"input: {steps} steps in {spent:.1f} s ({steps / max(spent, 1e-9):.1f} steps/s), loss {loss.item():.3f}")


# --- the comparison -------------------------------------------------------------------------------


def _mean(values):
    values = [v for v in values if v is not None and math.isfinite(v)]
    return sum(values) / len(values) if values else None


def _number(text: str):
    text = text.strip().split(" ")[0]
    try:
        return float(text)
    except ValueError:
        return None


def read_query_csv(path: str, start: float, end: float) -> dict[str, float | None]:
    """nvidia-smi --query-gpu=timestamp,... --format=csv -lms 1000, rows between start and end (epoch s)."""
    rows = []
    header = None
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return {}
    for line in lines:
        cells = [c.strip() for c in line.split(",")]
        if cells and cells[0] == "timestamp":
            header = [c.split(" [")[0] for c in cells]
            continue
        if header is None or len(cells) != len(header):
            continue
        try:
            stamp = datetime.datetime.strptime(cells[0], "%Y/%m/%d %H:%M:%S.%f").timestamp()
        except ValueError:
            continue
        if start <= stamp <= end:
            rows.append(dict(zip(header, cells, strict=True)))
    out = {"rows": len(rows)}
    for key in header or []:
        if key != "timestamp":
            out[key] = _mean([_number(r[key]) for r in rows])
    reasons = [r.get("clocks_event_reasons.active") for r in rows if r.get("clocks_event_reasons.active")]
    if reasons:
        out["reasons"] = sorted(set(reasons))
    return out


def read_dmon(path: str, start: float, end: float) -> dict[str, float | None]:
    """nvidia-smi dmon -s pucm -o DT: rows between start and end (epoch s)."""
    header = None
    rows = []
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return {}
    for line in lines:
        if line.startswith("#"):
            tokens = line[1:].split()
            if "gpu" in tokens and header is None:
                header = tokens
            continue
        cells = line.split()
        if header is None or len(cells) != len(header):
            continue
        row = dict(zip(header, cells, strict=True))
        try:
            stamp = datetime.datetime.strptime(
                row.get("Date", "") + " " + row.get("Time", ""), "%Y%m%d %H:%M:%S"
            ).timestamp()
        except ValueError:
            continue
        if start - 1 <= stamp <= end:
            rows.append(row)
    out = {"rows": len(rows)}
    for key in ("sm", "mem", "pwr", "pclk", "fb", "gtemp"):
        out[key] = _mean([_number(r.get(key, "-")) for r in rows])
    return out


def compare(folder: str) -> int:
    """Side by side for every load: the monitor's figures and nvidia-smi's over the same seconds."""
    lines = []
    summaries = []
    passed = 0
    loads = [name for name in EXPECTED if os.path.exists(os.path.join(folder, f"{name}.json"))]
    head = (
        f"{'load':7} {'verdicts (monitor)':46} {'expect':14} {'ok':3} | {'busy%':>6} {'smi util%':>9} {'dmon sm%':>8} "
        f"{'SM act%':>7} {'tensor%':>7} | {'W':>5} {'smi W':>5} | {'MHz':>5} {'smi MHz':>7} | {'ms/sample':>9}"
    )
    lines.append(head)
    lines.append("-" * len(head))
    for name in loads:
        with open(os.path.join(folder, f"{name}.json")) as handle:
            try:
                report = json.load(handle)
            except ValueError:
                lines.append(f"{name:7} no JSON summary (see the log)")
                continue
        start = datetime.datetime.fromisoformat(report["started_at"]).timestamp()
        end = start + report["duration_s"]
        samples = []
        try:
            with open(os.path.join(folder, f"{name}.samples.jsonl")) as handle:
                samples = [json.loads(line) for line in handle if line.strip()]
        except OSError:
            pass
        gpus = [g["index"] for g in (s["gpus"][0] for s in samples[:1])] or [0]
        rows = [s["gpus"][0] for s in samples if s["gpus"]]
        job = [r for r, s in zip(rows, samples, strict=False) if any(p["own"] for p in s.get("processes", []))] or rows
        ours = {
            k: _mean([r.get(k) for r in job])
            for k in ("kernel_busy_pct", "sm_active_pct", "tensor_active_pct", "power_w", "sm_clock_mhz")
        }
        smi = read_query_csv(os.path.join(folder, f"{name}.smi.csv"), start, end)
        dmon = read_dmon(os.path.join(folder, f"{name}.dmon.txt"), start, end)
        verdicts = [v["finding"]["id"] for v in report["verdicts"]]
        ok = EXPECTED[name] in verdicts
        passed += ok
        overhead = report["overhead"]

        def cell(value, width, digits=0):
            return f"{value:>{width}.{digits}f}" if isinstance(value, (int, float)) else f"{'n/a':>{width}}"

        lines.append(
            f"{name:7} {','.join(verdicts)[:46]:46} {EXPECTED[name]:14} {'yes' if ok else 'NO':3} | "
            f"{cell(ours['kernel_busy_pct'], 6)} {cell(smi.get('utilization.gpu'), 9)} {cell(dmon.get('sm'), 8)} "
            f"{cell(ours['sm_active_pct'], 7, 1)} {cell(ours['tensor_active_pct'], 7, 1)} | "
            f"{cell(ours['power_w'], 5)} {cell(smi.get('power.draw'), 5)} | {cell(ours['sm_clock_mhz'], 5)} "
            f"{cell(smi.get('clocks.sm'), 7)} | {cell(overhead.get('sampler_cpu_ms_per_sample'), 9, 2)}"
        )
        summaries.append(
            {
                "load": name,
                "expected": EXPECTED[name],
                "ok": ok,
                "gpus": gpus,
                "monitor_job_means": ours,
                "nvidia_smi_query": smi,
                "nvidia_smi_dmon": dmon,
                "summary": report,
            }
        )
    lines.append("")
    lines.append(f"{passed} of {len(loads)} loads got the expected verdict")
    lines.append(
        "busy% = kernel-busy (utilization.gpu) read by torchenv; smi util% / dmon sm% = the same counter read by "
        "nvidia-smi in the same seconds; SM act% = GPM SM activity; means over the samples in which the job "
        "had a CUDA context"
    )
    for extra in ("overhead-1hz", "overhead-fast"):
        path = os.path.join(folder, f"{extra}.json")
        if not os.path.exists(path):
            continue
        try:
            with open(path) as handle:
                report = json.load(handle)
        except ValueError:
            lines.append(f"{extra}: no JSON summary")
            continue
        o = report["overhead"]
        lines.append(
            f"{extra}: {o['samples']} samples, sampler {o['sampler_cpu_ms_per_sample']} ms CPU per sample = "
            f"{o['sampler_core_pct']} % of one core; whole torchenv process {o['process_core_pct']} % "
            f"(target: <= 1 % of one core at 1 Hz); late ticks {o['late_ticks']}"
        )
        summaries.append({"load": extra, "summary": report})
    text = "\n".join(lines) + "\n"
    with open(os.path.join(folder, "comparison.txt"), "w") as handle:
        handle.write(text)
    with open(os.path.join(folder, "summaries.jsonl"), "w") as handle:
        for row in summaries:
            handle.write(json.dumps(row, separators=(",", ":")) + "\n")
    sys.stdout.write(text)
    return 0 if passed == len(loads) and loads else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=(*EXPECTED, "compare"))
    parser.add_argument("folder", nargs="?", help="compare: the results folder")
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args(argv)
    if args.what == "compare":
        return compare(args.folder or ".")
    {"idle": idle, "launch": launch, "gemm": gemm, "input": input_bound}[args.what](args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
