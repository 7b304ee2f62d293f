"""Writes the sample streams the monitor tests replay (python tests/monitor/recordings/make_recordings.py).

Synthesised, deterministic (seeded), and shaped on figures read on real GPUs: on a lent H200
(2026-12-03, issue 15) a spinning launch loop read utilization.gpu 100 % with GPM SM activity 0.8 %,
and a bf16 GEMM loop ran power-capped at 1500 of 1980 MHz, 691 of 700 W, clock event reason SW power
cap 0x4; A100s have no GPM (NVML_ERROR_NOT_SUPPORTED). Replace them with streams recorded on a device
(`torchenv monitor --jsonl`, converted by from_jsonl.py) when those exist.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).parent

H200 = {
    "name": "NVIDIA H200",
    "uuid": "GPU-5f1c2a7e-0000-4000-8000-h200000000",
    "minor": 0,
    "cc": [9, 0],
    "memory_total_mib": 143771,
    "sm_clock_max_mhz": 1980,
    "power_default_limit_w": 700,
    "gpm": True,
    "nvlink": True,
    "pcie": "gpm",
}
A100 = {
    "name": "NVIDIA A100-SXM4-80GB",
    "uuid": "GPU-a100a100-0000-4000-8000-a10000000000",
    "minor": 0,
    "cc": [8, 0],
    "memory_total_mib": 81920,
    "sm_clock_max_mhz": 1410,
    "power_default_limit_w": 400,
    "gpm": False,
    "nvlink": True,
    "pcie": "throughput",
}


def idle_gpu(rng, temperature=31.0):
    return {
        "util": 0,
        "mem_util": 0,
        "memory_used_mib": 520,
        "memory_reserved_mib": 480,
        "power_w": round(rng.uniform(72, 78), 1),
        "sm_clock_mhz": 345,
        "reasons": 0x1,
        "temperature_c": temperature,
        "pcie_rx_mbs": round(rng.uniform(0.0, 0.2), 3),
        "pcie_tx_mbs": round(rng.uniform(0.0, 0.2), 3),
        "nvlink_rx_mbs": 0.0,
        "nvlink_tx_mbs": 0.0,
        "gpm": {"sm_active": 0.0, "sm_occupancy": 0.0, "tensor": 0.0, "dram": 0.0, "fp32": 0.0, "fp16": 0.0},
        "processes": [],
    }


def job_process(memory_mib, sm_pct=None, pid="job"):
    row = {"pid": pid, "memory_mib": memory_mib}
    if sm_pct is not None:
        row["sm_pct"] = sm_pct
    return row


def gemm_gpu(rng, memory=70_000.0, pid="job", extra_processes=()):
    capped = rng.random() < 0.9
    return {
        "util": 100,
        "mem_util": round(rng.uniform(30, 40)),
        "memory_used_mib": memory + 520,
        "memory_reserved_mib": 480,
        "power_w": round(rng.uniform(686, 699), 1),
        "sm_clock_mhz": round(rng.uniform(1470, 1530)) if capped else 1755,
        "reasons": 0x4 if capped else 0x0,
        "temperature_c": round(rng.uniform(55, 62)),
        "pcie_rx_mbs": round(rng.uniform(1, 5), 2),
        "pcie_tx_mbs": round(rng.uniform(1, 5), 2),
        "nvlink_rx_mbs": 0.0,
        "nvlink_tx_mbs": 0.0,
        "gpm": {
            "sm_active": round(rng.uniform(96, 99.5), 2),
            "sm_occupancy": round(rng.uniform(24, 30), 2),
            "tensor": round(rng.uniform(68, 76), 2),
            "dram": round(rng.uniform(30, 38), 2),
            "fp32": round(rng.uniform(1, 3), 2),
            "fp16": 0.0,
        },
        "processes": [job_process(memory, 100, pid), *extra_processes],
    }


def ticks(n, start_job_at, busy, idle, rng, interval=1.0):
    out = []
    for i in range(n):
        gpu = idle(rng) if i < start_job_at else busy(rng, i)
        out.append({"t": round(i * interval, 3), "gpus": [gpu]})
    return out


def h200_gemm(rng):
    return {
        "description": "bf16 GEMM loop on an H200: busy, tensor pipes ~72 %, power-capped (0x4)",
        "gpus": [H200],
        "ticks": ticks(32, 3, lambda r, i: gemm_gpu(r), idle_gpu, rng),
    }


def h200_launch_bound(rng):
    def busy(r, i):
        g = idle_gpu(r)
        g.update(
            util=100,
            mem_util=1,
            memory_used_mib=1020,
            power_w=round(r.uniform(118, 126), 1),
            sm_clock_mhz=1980,
            reasons=0x0,
            temperature_c=36,
        )
        g["gpm"] = {
            "sm_active": round(r.uniform(0.6, 1.0), 2),
            "sm_occupancy": round(r.uniform(0.3, 0.6), 2),
            "tensor": 0.0,
            "dram": round(r.uniform(0.1, 0.4), 2),
            "fp32": round(r.uniform(0.1, 0.3), 2),
            "fp16": 0.0,
        }
        g["processes"] = [job_process(500, 100)]
        return g

    return {
        "description": "tiny kernels launched from Python on an H200: busy 100 %, SM active 0.8 %",
        "gpus": [H200],
        "ticks": ticks(32, 3, busy, idle_gpu, rng),
    }


def h200_input_bound(rng):
    pattern = [4, 45, 3, 62, 2, 8, 38, 3, 55, 5, 2, 41]

    def busy(r, i):
        u = pattern[i % len(pattern)]
        g = idle_gpu(r)
        rise = pattern[(i + 1) % len(pattern)] > 30 and u < 10
        g.update(
            util=u,
            mem_util=round(u * 0.4),
            memory_used_mib=9_020,
            power_w=round(90 + u * 3.5, 1),
            sm_clock_mhz=1980,
            reasons=0x0 if u > 5 else 0x1,
            temperature_c=40,
            pcie_rx_mbs=round(r.uniform(900, 1400) if rise else r.uniform(5, 20), 1),
        )
        g["gpm"] = {
            "sm_active": round(u * 0.9, 2),
            "sm_occupancy": round(u * 0.3, 2),
            "tensor": round(u * 0.6, 2),
            "dram": round(u * 0.3, 2),
            "fp32": round(u * 0.05, 2),
            "fp16": 0.0,
        }
        g["processes"] = [job_process(8_500, u)]
        return g

    return {
        "description": "a training loop starved by a slow DataLoader on an H200: bursts, PCIe rx before each",
        "gpus": [H200],
        "ticks": ticks(32, 3, busy, idle_gpu, rng),
    }


def h200_idle(rng):
    return {
        "description": "sleep 30 under the monitor: no CUDA context at all",
        "gpus": [H200],
        "ticks": ticks(16, 99, idle_gpu, idle_gpu, rng),
    }


def a100_no_gpm(rng):
    other = {"pid": 4242, "memory_mib": 10_240, "sm_pct": 30}

    def idle_a100(r):
        g = idle_gpu(r)
        g.pop("gpm")
        g["processes"] = [other]
        g["util"] = 30
        return g

    def busy(r, i):
        g = gemm_gpu(r, memory=60_000, extra_processes=[other])
        g.pop("gpm")
        g.update(power_w=round(r.uniform(385, 399), 1), sm_clock_mhz=round(r.uniform(1200, 1300)))
        g["processes"][0]["sm_pct"] = 70
        return g

    return {
        "description": "an A100 (no GPM: NOT_SUPPORTED) shared with another process, GEMM job, power-capped",
        "gpus": [A100],
        "ticks": ticks(32, 3, busy, idle_a100, rng),
    }


def h200_container(rng):
    """In a container: NVML lists host PIDs (3100421 is the job, 2900001 another container's)."""
    neighbour = {"pid": 2900001, "memory_mib": 20_480, "sm_pct": 15}
    second = dict(H200, minor=1, uuid="GPU-5f1c2a7e-0000-4000-8000-h200000001")

    def idle(r):
        g0, g1 = idle_gpu(r), idle_gpu(r)
        g0["processes"] = [neighbour]
        g1["processes"] = [{"pid": 2900777, "memory_mib": 4096, "sm_pct": 80}]
        g1["util"] = 80
        return [g0, g1]

    out = []
    for i in range(32):
        gpus = idle(rng)
        if i >= 3:
            g0 = gemm_gpu(rng, memory=50_000, pid=3100421, extra_processes=[neighbour])
            gpus[0] = g0
        out.append({"t": float(i), "gpus": gpus})
    return {
        "description": "an H200 in a container: host PIDs, another container's process on GPU 0, "
        "a second GPU the job never touches",
        "gpus": [H200, second],
        "ticks": out,
    }


def h200_creep_thermal(rng):
    out = []
    for i in range(150):
        if i < 3:
            g = idle_gpu(rng)
        else:
            g = gemm_gpu(rng, memory=10_000 + 40 * (i - 3) + rng.uniform(-50, 50))
            if i >= 75:
                g.update(
                    reasons=0x20 | (0x4 if rng.random() < 0.5 else 0),
                    temperature_c=round(rng.uniform(86, 89)),
                    sm_clock_mhz=round(rng.uniform(1300, 1400)),
                )
            g["ecc"] = [2, 0] if i >= 120 else [0, 0]
            g["remapped"] = [0, 0, 1, 0] if i >= 130 else [0, 0, 0, 0]
        tick = {"t": float(i), "gpus": [g]}
        if i == 100:
            tick["events"] = [{"gpu": 0, "xid": 94}]
        out.append(tick)
    return {
        "description": "150 s on an H200: memory rising 2.3 GiB/min, thermal slowdown (0x20) in the second half, "
        "XID 94, corrected ECC errors, a pending row remap",
        "gpus": [H200],
        "ticks": out,
    }


RECORDINGS = {
    "h200-gemm": h200_gemm,
    "h200-launch-bound": h200_launch_bound,
    "h200-input-bound": h200_input_bound,
    "h200-idle": h200_idle,
    "a100-no-gpm": a100_no_gpm,
    "h200-container": h200_container,
    "h200-creep-thermal": h200_creep_thermal,
}


def main() -> None:
    for name, make in RECORDINGS.items():
        data = make(random.Random(name))
        (HERE / f"{name}.json").write_text(json.dumps(data, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
