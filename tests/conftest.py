"""Shared test fixtures. Environment variables that change torchenv's behaviour are scrubbed for
every test, so a developer's CUDA_VISIBLE_DEVICES or LD_LIBRARY_PATH cannot leak into results.
Helpers to import live in testsupport.py."""

from __future__ import annotations

import os

import pytest

from testsupport import FIXTURES, SRC, cli_env, load_h100_facts, run_cli  # noqa: F401 - re-exported

SCRUBBED_PREFIXES = ("CUDA_", "NVIDIA_", "NCCL_", "PYTORCH_", "TORCH_", "CUDNN_", "TORCHENV_")
SCRUBBED = ("LD_LIBRARY_PATH", "LD_PRELOAD", "VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONSTARTUP")


def pytest_addoption(parser):
    parser.addoption(
        "--regen-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/files from the current renders (then review `git diff`)",
    )


@pytest.fixture(autouse=True)
def scrub_environment(monkeypatch):
    for key in list(os.environ):
        if key.startswith(SCRUBBED_PREFIXES) or key in SCRUBBED:
            monkeypatch.delenv(key, raising=False)


@pytest.fixture(scope="session")
def knowledge():
    from torchenv.knowledge import load_knowledge

    return load_knowledge()


@pytest.fixture
def h100_facts():
    return load_h100_facts()
