# ruff: noqa: E402
"""Where the first ladder rung's seconds go on a GPU: model construction on the device vs on the CPU,
the first steps, a collection. A diagnostic for bench --quick (issue 6)."""

import gc
import sys
import time

t0 = time.perf_counter()
import torch

print("import", round(time.perf_counter() - t0, 2))
gc.freeze()
sys.path.insert(0, "src/torchenv/perf/_worker")
import workloads

dev = torch.device("cuda", 0)
torch.zeros(1, device=dev)


def t(label, fn):
    torch.cuda.synchronize()
    a = time.perf_counter()
    out = fn()
    torch.cuda.synchronize()
    print(label, round(time.perf_counter() - a, 3), flush=True)
    return out


conv = t("first conv (cuDNN init)", lambda: torch.nn.Conv2d(3, 8, 3).to(dev)(torch.randn(1, 3, 8, 8, device=dev)))


def on_device():
    with dev:
        return workloads.resnet50(torch.nn).to(dev)


m = t("resnet50 built under torch.device(cuda)", on_device)
m2 = t("resnet50 built under torch.device(cuda) again", on_device)
m3 = t("resnet50 built on cpu", lambda: workloads.resnet50(torch.nn))
m4 = t("  .to(cuda)", lambda: m3.to(dev))
x = torch.randn(128, 3, 224, 224, device=dev)
y = torch.randint(0, 1000, (128,), device=dev)
opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)


def step():
    opt.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(m(x), y).backward()
    opt.step()


t("first fp32 step", step)
t("second fp32 step", step)
t("gc.collect", gc.collect)
t("empty_cache", torch.cuda.empty_cache)
