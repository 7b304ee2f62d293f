"""Golden files: a render compared byte for byte with tests/golden/files/NAME.

Regenerate after an intended change with `pytest tests/golden --regen-golden` (or
TORCHENV_REGEN_GOLDEN=1), then read the diff (`git diff tests/golden/files`) before committing it.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

FILES = Path(__file__).parent / "files"


@pytest.fixture
def golden(request):
    regen = request.config.getoption("--regen-golden") or request.config.stash.get(REGEN_KEY, False)

    def check(name: str, text: str) -> None:
        path = FILES / name
        if regen:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        if not path.exists():
            pytest.fail(f"no golden file {path.name}: run `pytest tests/golden --regen-golden` and review it")
        expected = path.read_text(encoding="utf-8")
        if text != expected:
            diff = "".join(
                difflib.unified_diff(
                    expected.splitlines(True), text.splitlines(True), f"golden/{name}", "rendered now", n=2
                )
            )
            pytest.fail(f"{name} differs from its golden file (--regen-golden after an intended change):\n{diff}")

    return check


REGEN_KEY = pytest.StashKey[bool]()


def pytest_configure(config):
    import os

    config.stash[REGEN_KEY] = os.environ.get("TORCHENV_REGEN_GOLDEN") == "1"
