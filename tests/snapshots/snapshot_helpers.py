"""Helpers: snapshots for the pure tests: the real H100 facts (tests/fixtures/h100-torchenv) as a snapshot,
and a CPU-only machine derived from it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from torchenv.model import Facts, Unknown
from torchenv.model.codec import from_json
from torchenv.model.snapshot import Snapshot
from torchenv.snapshots.build import snapshot_from_facts

TESTS = Path(__file__).resolve().parents[1]
FIXTURES = TESTS / "fixtures" / "snapshots"
WHEN = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def load_h100_facts() -> Facts:
    data = json.loads((TESTS / "fixtures" / "h100-torchenv" / "doctor.json").read_text())
    return from_json(Facts, data["facts"])


def h100_snapshot() -> Snapshot:
    return snapshot_from_facts(load_h100_facts(), created=WHEN, torchenv_version="0.1.0")


def cpu_snapshot() -> Snapshot:
    """The same env moved to a CPU-only machine with the CPU wheel of the same torch."""
    s = h100_snapshot()
    return replace(
        s,
        created="2026-11-22T13:00:00+00:00",
        host=replace(s.host, cpu_count=8),
        driver=replace(
            s.driver,
            version=Unknown("no NVIDIA kernel module found"),
            cuda_driver_version=Unknown("no NVML"),
            kernel_module=Unknown("no module"),
            source="none",
        ),
        gpus=(),
        torch=replace(
            s.torch,
            version="2.11.0+cpu",
            variant="cpu",
            cuda=None,
            cudnn_version=None,
            nccl_version=None,
            cuda_available=False,
            device_count=0,
            arch_list=(),
            loaded_libraries=(),
        ),
        packages=tuple(
            replace(p, version="2.11.0+cpu", source="https://download.pytorch.org/whl/cpu") if p.name == "torch" else p
            for p in s.packages
            if not p.name.startswith("nvidia-")
        ),
    )


SRC = TESTS.parent / "src"
LEAKY = (
    "CUDA_",
    "NCCL_",
    "PYTORCH_",
    "TORCH_",
    "CUBLAS",
    "NVIDIA_TF32",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TORCHENV_",
)


def cli_env(**extra: str) -> dict[str, str]:
    """This process's environment without the settings a snapshot records, plus `extra`."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(LEAKY) and k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    env["PYTHONPATH"] = str(SRC)
    env.update(extra)
    return env


def run_cli(*args, env=None, timeout: float = 300):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "torchenv", *(str(a) for a in args)],
        capture_output=True,
        text=True,
        env=env or cli_env(),
        timeout=timeout,
    )
