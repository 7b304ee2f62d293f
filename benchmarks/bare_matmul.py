"""The bare script bench is held against (issue 19): 8192³ matmul per dtype and a 1 GiB device copy,
with nothing of torchenv. Burst: after a 0.5 s idle pause, 3 warm-ups, the mean of 10 products each
timed alone with CUDA events. Sustained: 6 blocks of 50 back-to-back products, the median of the last 4
blocks (what a long training job sees on a power-capped GPU). Prints one JSON document."""

import json
import statistics
import time

import torch

N = 8192
device = torch.device("cuda", 0)


def timed(fn, calls):
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(calls):
        fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1000.0 / calls


def measure(a, b):
    """(burst, sustained) seconds per product of a @ b."""
    time.sleep(0.5)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    burst = statistics.mean(timed(lambda: a @ b, 1) for _ in range(10))
    blocks = [timed(lambda: a @ b, 50) for _ in range(6)]
    return burst, statistics.median(blocks[2:])


out = {}
for name, dtype in (
    ("fp32", torch.float32),
    ("tf32", torch.float32),
    ("bf16", torch.bfloat16),
    ("fp16", torch.float16),
):
    torch.backends.cuda.matmul.allow_tf32 = name == "tf32"
    a = torch.randn(N, N, device=device, dtype=dtype)
    b = torch.randn(N, N, device=device, dtype=dtype)
    burst, sustained = measure(a, b)
    flop = 2.0 * N**3
    out[name] = {"burst_tflops": flop / burst / 1e12, "sustained_tflops": flop / sustained / 1e12}
    del a, b
torch.backends.cuda.matmul.allow_tf32 = False
src = torch.empty(1 << 30, dtype=torch.uint8, device=device).fill_(1)
dst = torch.empty_like(src)
for _ in range(3):
    dst.copy_(src)
out["copy"] = {"gbs": 2.0 * (1 << 30) / statistics.mean(timed(lambda: dst.copy_(src), 1) for _ in range(10)) / 1e9}
print(json.dumps(out))
