"""Why tune's GPT compile trial read -22 % where bench's compile rung read +16 % (issue 19): the same
engine, trial sequences in one fresh process each.

A: fused AdamW eager -> compiled.            B: A with tune's determinism offer measured in between.
C: bench's ladder (foreach AdamW) eager -> compiled.
D: B, then the eager step again before compiling (is only the compiled step slower afterwards?).
E: A with CUBLAS_WORKSPACE_CONFIG=:4096:8 set for the whole process (the determinism trial sets it).
F: A with torch.use_deterministic_algorithms(True) then (False) between, nothing measured.

    PYTHONPATH=src python benchmarks/device/compile_after.py A|B|C|D|E|F
"""

import os
import statistics
import sys

mode = sys.argv[1]
if mode == "E":
    os.environ["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"

import torch  # noqa: E402

from torchenv.perf._worker.engine import Engine  # noqa: E402
from torchenv.perf._worker.workloads import builtin  # noqa: E402

device = torch.device("cuda", 0)
torch.zeros(1, device=device)
workload = builtin(torch, "gpt", device)
engine = Engine(torch, device, workload, timing={"numerics_steps": 1})
base = {"tf32": True, "amp": "bf16"}
if mode != "C":
    base["optimizer"] = "fused"
sequence = [base]
if mode in ("B", "D"):
    sequence.append(dict(base, deterministic=True))
if mode == "D":
    sequence.append(base)
if mode == "F":
    sequence.append("toggle")
sequence.append(dict(base, compile="default"))
for config in sequence:
    if config == "toggle":
        torch.use_deterministic_algorithms(True)
        torch.use_deterministic_algorithms(False)
        print(mode, "use_deterministic_algorithms(True) then (False)", flush=True)
        continue
    out = engine.measure(config)
    samples = out.get("samples_s") or []
    median = statistics.median(samples) if samples else None
    rate = workload.items / median if median else None
    spread = ""
    if len(samples) >= 4:
        q = statistics.quantiles(samples, n=4)
        spread = f"IQR {q[0] * 1000:.2f}-{q[2] * 1000:.2f} min {min(samples) * 1000:.2f}"
    shown = f"{median * 1000:.2f} ms" if median else out.get("reason")
    print(mode, config, shown, f"{rate:,.0f} tokens/s" if rate else "", spread, flush=True)
