"""Fixtures for the end-to-end doctor tests (the helpers they use live in e2e_helpers.py).

Venvs are made once per session with `python -m venv --without-pip` and shared by the tests; fake
executables and fake pynvml modules are written once per session too.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from .e2e_helpers import A100_X2_CSV, RTX_5090_CSV, VenvFactory, clean_environ, smi_printing, write_executable


@pytest.fixture(scope="session")
def venvs(tmp_path_factory) -> VenvFactory:
    return VenvFactory(tmp_path_factory.mktemp("venvs"))


@pytest.fixture(scope="session")
def bins(tmp_path_factory):
    """Directories each holding one fake `nvidia-smi`, for PATH."""
    base = tmp_path_factory.mktemp("bins")
    out = {}
    out["hang"] = base / "hang"
    # A wedged driver: nvidia-smi blocks forever (its child `sleep` is in its process group).
    write_executable(out["hang"] / "nvidia-smi", "#!/bin/sh\n/bin/sleep 600\n")
    # Random bytes (NULs, invalid UTF-8, stray commas and newlines), exit status 0: once as they come
    # (with lone carriage returns in them), once with every CR byte removed.
    noise = random.Random(1234).randbytes(4096) + b"\xff\xfe,\x80,0,\xc3\x28\n"
    for name, data in (("garbage", noise.replace(b"\r", b"")), ("garbage-cr", noise)):
        blob = base / f"{name}.bin"
        blob.write_bytes(data)
        out[name] = base / name
        write_executable(out[name] / "nvidia-smi", f"#!/bin/sh\n/bin/cat '{blob}'\n")
    out["rtx5090"] = base / "rtx5090"
    smi_printing(out["rtx5090"], RTX_5090_CSV)
    out["a100x2"] = base / "a100x2"
    smi_printing(out["a100x2"], A100_X2_CSV)
    return out


@pytest.fixture(scope="session")
def no_nvml(tmp_path_factory) -> Path:
    """A PYTHONPATH entry that makes `import pynvml` fail, so the GPU inventory comes from nvidia-smi
    even on a machine where NVML would answer (the tests stay hermetic)."""
    base = tmp_path_factory.mktemp("no-nvml")
    (base / "pynvml.py").write_text("raise ImportError(\"No module named 'pynvml'\", name='pynvml')\n")
    return base


@pytest.fixture(scope="session")
def hung_nvml(tmp_path_factory) -> Path:
    """A PYTHONPATH entry with a pynvml whose nvmlInit() never returns (a wedged driver)."""
    base = tmp_path_factory.mktemp("hung-nvml")
    (base / "pynvml.py").write_text("import time\n\ndef nvmlInit():\n    time.sleep(600)\n")
    return base


@pytest.fixture
def process_env(monkeypatch):
    """For API tests: make this process's environment exactly `clean_environ(**kw)` and return it.

    gather_facts reads the `environ` it is given, but the child processes it starts (the NVML probe,
    nvidia-smi, the torch probe) inherit os.environ: both must say the same thing.
    """

    def apply(**kw) -> dict[str, str]:
        environ = clean_environ(**kw)
        for key in list(os.environ):
            monkeypatch.delenv(key)
        for key, value in environ.items():
            monkeypatch.setenv(key, value)
        return environ

    return apply
