"""Fixtures for the snapshot tests (helpers live in snapshot_helpers.py)."""

from __future__ import annotations

import pytest

from snapshot_helpers import cpu_snapshot, h100_snapshot
from torchenv.model.snapshot import Snapshot


@pytest.fixture
def h100() -> Snapshot:
    return h100_snapshot()


@pytest.fixture
def cpu() -> Snapshot:
    return cpu_snapshot()
