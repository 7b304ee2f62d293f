"""Why tune's GPT compile trial read -22 % where bench's compile rung read +16 % (issue 19): the same
engine, three trial sequences, one fresh process each. A: fused AdamW eager → compiled. B: the same with
tune's determinism offer measured in between. C: bench's ladder (default foreach AdamW) eager → compiled.

    PYTHONPATH=src python benchmarks/device/compile_after.py A|B|C
"""

import statistics
import sys

import torch

from torchenv.perf._worker.engine import Engine
from torchenv.perf._worker.workloads import builtin

device = torch.device("cuda", 0)
torch.zeros(1, device=device)
workload = builtin(torch, "gpt", device)
engine = Engine(torch, device, workload, timing={"numerics_steps": 1})
base = {"tf32": True, "amp": "bf16"}
if sys.argv[1] in ("A", "B"):
    base["optimizer"] = "fused"
sequence = [base]
if sys.argv[1] == "B":
    sequence.append(dict(base, deterministic=True))
sequence.append(dict(base, compile="default"))
for config in sequence:
    out = engine.measure(config)
    median = statistics.median(out["samples_s"]) if out.get("samples_s") else None
    rate = workload.items / median if median else None
    print(sys.argv[1], config, f"{median * 1000:.2f} ms" if median else out.get("reason"), f"{rate:,.0f} tokens/s" if rate else "")
