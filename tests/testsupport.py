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


def run_bounded(argv, *, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """subprocess.run(capture_output=True, text=True) whose timeout kills the whole process group.

    subprocess.run's own timeout kills only the direct child; grandchildren (torchrun's ranks, workers)
    keep the output pipes open and the test then waits on them forever instead of failing."""
    import os
    import signal

    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, **kwargs
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise subprocess.TimeoutExpired(argv, timeout, output=out, stderr=err) from None
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # nothing of the test outlives it
        except (ProcessLookupError, PermissionError):
            pass
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120):
    return run_bounded([sys.executable, "-m", "torchenv", *args], env=env or cli_env(), timeout=timeout)
