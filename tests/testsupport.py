"""Helpers shared by the tests (imported as `testsupport`; conftest modules are not importable by name)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from torchenv.model import Facts
from torchenv.model.codec import from_json

FIXTURES = Path(__file__).parent / "fixtures"
SRC = Path(__file__).parent.parent / "src"


def load_h100_facts() -> Facts:
    """The facts torchenv gathered on a real H100 (torch 2.11.0+cu130, driver 580.159.04)."""
    data = json.loads((FIXTURES / "h100-torchenv" / "doctor.json").read_text())
    return from_json(Facts, data["facts"])


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "torchenv", *args],
        capture_output=True,
        text=True,
        env=env or cli_env(),
        timeout=timeout,
    )
