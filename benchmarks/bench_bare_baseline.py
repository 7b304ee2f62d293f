"""The bare-script baseline `torchenv bench` is compared against on the same GPU, in the same run:
bf16 matmul 8192³ and a device copy, timed the plain way (warm-up, CUDA events, median of repeats),
with nothing of torchenv imported. Prints one JSON object.

Usage: python benchmarks/bench_bare_baseline.py [--repeats 50]
"""

import argparse
import json
import statistics

import torch


def timed(fn, repeats, warmup=10):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1000.0)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    n = 8192
    a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    matmul_s = timed(lambda: a @ b, args.repeats)
    size = 1 << 30
    src = torch.empty(size, dtype=torch.uint8, device="cuda").fill_(1)
    dst = torch.empty_like(src)
    copy_s = timed(lambda: dst.copy_(src), args.repeats)
    print(
        json.dumps(
            {
                "gpu": torch.cuda.get_device_name(),
                "torch": torch.__version__,
                "matmul_bf16_tflops": round(2 * n**3 / matmul_s / 1e12, 1),
                "d2d_copy_GBps": round(2 * size / copy_s / 1e9, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
