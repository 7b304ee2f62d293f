"""Synthetic worker records shaped like an H100 run (figures from the reference capture), for the
pure tests: ratios, speedups, one-time costs and causes without a GPU or torch."""

from __future__ import annotations


def samples(seconds: float, n: int = 9, jitter: float = 0.01) -> list[float]:
    return [seconds * (1 + jitter * ((i % 3) - 1)) for i in range(n)]


def h100_records(*, observed: dict | None = None, pcie: dict | None = None) -> list[dict]:
    n = 8192
    flop = 2.0 * n**3
    env = {
        "torch": "2.11.0+cu130",
        "cuda": "13.0",
        "debug": False,
        "device": "cuda",
        "threads": 8,
        "cpu_count": 16,
        "python": "3.12.3",
        "cpu_bf16": False,
        "cuda_available": True,
        "cuda_built": True,
        "cudnn": 91900,
        "device_name": "NVIDIA H100 80GB HBM3",
        "cc": [9, 0],
        "sm_count": 132,
        "memory_mib": 81559,
    }
    records = [{"event": "env", "data": env, "mode": "full"}]

    def result(section, id, label, secs, work, **extra):
        records.append(
            {
                "event": "result",
                "section": section,
                "id": id,
                "label": label,
                "status": "ok",
                "samples_s": samples(secs),
                "work": work,
                "params": extra.pop("params", {}),
                **extra,
            }
        )

    for dtype, tflops in (("fp32", 51.6), ("tf32", 415.6), ("bf16", 793.3), ("fp16", 766.9)):
        result(
            "matmul",
            f"matmul.{dtype}",
            f"{dtype} matmul 8192³",
            flop / (tflops * 1e12),
            {"flop": flop},
            params={"n": n, "dtype": dtype},
            observed=observed,
        )
    records.append(
        {
            "event": "result",
            "section": "matmul",
            "id": "matmul.fp8",
            "label": "fp8",
            "status": "skipped",
            "reason": "fp8 matmul needs cc 8.9+",
        }
    )
    size = 1 << 30
    result(
        "memory",
        "memory.copy",
        "device memory copy (1024 MiB)",
        2 * size / 3014.4e9,
        {"bytes": 2.0 * size},
        params={"bytes": size},
    )
    tsize = 256 << 20
    link = pcie or {"pcie_gen": 5, "pcie_width": 16, "pcie_gen_max": 5, "pcie_width_max": 16}
    result(
        "transfer",
        "transfer.h2d.pageable",
        "host→device pageable",
        tsize / 7.7e9,
        {"bytes": float(tsize)},
        params={"memory": "pageable"},
    )
    result(
        "transfer",
        "transfer.h2d.pinned",
        "host→device pinned",
        tsize / 54.8e9,
        {"bytes": float(tsize)},
        params={"memory": "pinned"},
        observed=link,
    )
    ladder = (
        ("fp32", 833.8, 0.4, "warm-up"),
        ("cudnn-benchmark", 833.6, 0.2, "autotune"),
        ("tf32", 1800.7, 19.6, "autotune"),
        ("amp-bf16", 2140.9, 15.9, "autotune"),
        ("channels_last", 3706.1, 14.3, "autotune"),
        ("torch-compile", 5146.6, 53.1, "compile"),
    )
    previous = None
    for name, ips, first, kind in ladder:
        id = f"ladder-resnet50.{name}"
        result(
            "ladder-resnet50",
            id,
            "+" + name,
            128 / ips,
            {"items": 128.0},
            unit="images/s",
            first_s=first,
            one_time_kind=kind,
            baseline="ladder-resnet50.fp32",
            previous=previous,
        )
        previous = id
    records.append({"event": "end", "section": "matmul", "seconds": 4.0})
    records.append({"event": "done"})
    return records
