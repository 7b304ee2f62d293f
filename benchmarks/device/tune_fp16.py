"""The fp16 + GradScaler path of `torchenv.tune` on a real GPU (issue 7). An H100 supports bf16, so
the engine's capabilities are reported as an fp16-only GPU's (V100, T4): the search must then try
AMP fp16 with a GradScaler, train finite losses and check them against FP32.

    PYTHONPATH=src python benchmarks/device/tune_fp16.py
"""

from __future__ import annotations

import sys

import torch
from torch import nn

import torchenv
from torchenv.perf._worker import engine as E

real_caps = E.Engine.caps


def fp16_only_caps(self, no_compile_reason=None):
    caps = real_caps(self, no_compile_reason)
    caps["bf16"] = False  # as on a V100 or T4
    return caps


E.Engine.caps = fp16_only_caps
torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(3, 64, 3, padding=1),
    nn.BatchNorm2d(64),
    nn.ReLU(),
    nn.Conv2d(64, 128, 3, stride=2, padding=1),
    nn.BatchNorm2d(128),
    nn.ReLU(),
    nn.AdaptiveAvgPool2d(1),
    nn.Flatten(),
    nn.Linear(128, 10),
).cuda()
x = torch.randn(256, 3, 64, 64, device="cuda")
y = torch.randint(0, 10, (256,), device="cuda")
report = torchenv.tune(
    model,
    (x, y),
    loss_fn=nn.functional.cross_entropy,
    optimizer=lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
    budget=90,
    compile=False,
    show=True,
)
amp = [t for t in report.trials if t.config.get("amp")]
for t in amp:
    print(
        f"fp16 trial {t.id}: {t.label} status={t.status} numerics={t.numerics} delta={t.numerics_delta} losses={t.losses}"
    )
ok = (
    bool(amp)
    and all(t.config["amp"] == "fp16" for t in amp)
    and any(t.status == "ok" and t.numerics == "ok" for t in amp)
)
print("recommended:", report.recommended_config)
print("fp16 + GradScaler path:", "OK" if ok else "FAILED")
sys.exit(0 if ok else 1)
