"""The captures in these tests run CPU torch in worker processes on a small shared machine: one
intra-op thread each, so that OpenMP threads spinning against other processes do not stretch a
15 ms step to 250 ms and bury the planted problems' shares (seen on the 2-core CI box under load)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def one_torch_thread(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
