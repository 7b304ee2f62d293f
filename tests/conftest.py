"""Shared test fixtures. Environment variables that change torchenv's behaviour are scrubbed for
every test, so a developer's CUDA_VISIBLE_DEVICES or LD_LIBRARY_PATH cannot leak into results."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from torchenv.model import Facts
from torchenv.model.codec import from_json

FIXTURES = Path(__file__).parent / "fixtures"
SRC = Path(__file__).parent.parent / "src"
SCRUBBED_PREFIXES = ("CUDA_", "NVIDIA_", "NCCL_", "PYTORCH_", "TORCH_", "CUDNN_", "TORCHENV_")
SCRUBBED = ("LD_LIBRARY_PATH", "LD_PRELOAD", "VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONSTARTUP")


@pytest.fixture(autouse=True)
def scrub_environment(monkeypatch):
    for key in list(os.environ):
        if key.startswith(SCRUBBED_PREFIXES) or key in SCRUBBED:
            monkeypatch.delenv(key, raising=False)


@pytest.fixture(scope="session")
def knowledge():
    from torchenv.knowledge import load_knowledge

    return load_knowledge()


def load_h100_facts() -> Facts:
    """The facts torchenv gathered on a real H100 (torch 2.11.0+cu130, driver 580.159.04)."""
    data = json.loads((FIXTURES / "h100-torchenv" / "doctor.json").read_text())
    return from_json(Facts, data["facts"])


@pytest.fixture
def h100_facts() -> Facts:
    return load_h100_facts()


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120):
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "torchenv", *args],
        capture_output=True,
        text=True,
        env=env or cli_env(),
        timeout=timeout,
    )
