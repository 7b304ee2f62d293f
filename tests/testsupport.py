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


def assert_top_match(message: str, row: str, category: str, knowledge) -> None:
    """explain's first match for a catalog message is its row, with the expected category."""
    from torchenv.checks.explain import explain

    matches = explain(message, None, knowledge)
    assert matches, message
    assert (matches[0].id, matches[0].category) == (row, category), [(m.id, m.category) for m in matches]


def assert_tuning_item_finds_row(entry: dict, row: str, sweep: int, knowledge) -> None:
    """A corpus sweep's tuning-half message top-matches the row written from it, with its established category."""
    from torchenv.checks.explain import explain

    assert entry["half"] == "tuning" and entry["sweep"] == sweep
    matches = explain(entry["message"], None, knowledge)
    assert matches and matches[0].id == row, [(m.id, m.category) for m in matches]
    assert matches[0].category == entry["category"]


def assert_rows_exercised_and_sourced(new_rows: set[str], cases, retrieved: str, *, minimum: int = 1) -> None:
    """Every row of a catalog round has a case, a source URL, its retrieval date, causes, a fix and a meaning,
    and every row it claims to explain exists."""
    from torchenv.knowledge.errors import load_errors

    errors = load_errors()
    assert len(new_rows) >= minimum
    tested = {row for _, row, _ in cases}
    assert tested >= new_rows, new_rows - tested
    for row_id in new_rows:
        row = errors.by_id(row_id)
        assert row is not None, row_id
        assert row.source.startswith("https://") and row.retrieved == retrieved, row_id
        assert row.causes and row.fix and row.meaning, row_id
        for target in row.explains:
            assert errors.by_id(target) is not None, (row_id, target)
