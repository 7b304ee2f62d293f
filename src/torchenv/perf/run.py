"""Runs the bench worker inside the target interpreter (through the injected Runner) and collects
its streamed records. A crash, a hang or a failed import comes back as data: the records that
arrived are kept and the report says where the worker stopped."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

WORKER_DIR = Path(__file__).parent / "_worker"
BENCH_SCRIPT = WORKER_DIR / "bench_worker.py"
MARK = "@@torchenv-bench@@ "


@dataclass(frozen=True, slots=True)
class WorkerRun:
    records: tuple[dict, ...]
    seconds: float
    error: str | None  # why the worker did not finish cleanly, None when it did
    stderr_tail: str


def parse_record(line: str) -> dict | None:
    if not line.startswith(MARK):
        return None
    try:
        value = json.loads(line[len(MARK) :])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def records_of(stdout: str) -> tuple[dict, ...]:
    return tuple(r for line in stdout.splitlines() if (r := parse_record(line)) is not None)


def worker_argv(
    python: str,
    *,
    quick: bool = False,
    device: str = "auto",
    sections: Sequence[str] | None = None,
    compile: bool = True,
    script: Path = BENCH_SCRIPT,
) -> list[str]:
    argv = [python, str(script), "--device", device]
    if quick:
        argv.append("--quick")
    if sections:
        argv += ["--sections", ",".join(sections)]
    if not compile:
        argv.append("--no-compile")
    return argv


def worker_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONSTARTUP", None)
    return env


def run_worker(
    runner,
    argv: Sequence[str],
    *,
    timeout: float,
    on_record: Callable[[dict], None] | None = None,
    env: dict[str, str] | None = None,
) -> WorkerRun:
    def on_line(line: str) -> None:
        record = parse_record(line.rstrip("\n"))
        if record is not None and on_record is not None:
            on_record(record)

    # A neutral working directory: a stray torch.py in the user's cwd must not shadow torch.
    result = runner.run(argv, timeout, cwd=tempfile.gettempdir(), env=env or worker_environment(), on_line=on_line)
    records = records_of(result.stdout)
    done = any(r.get("event") == "done" for r in records)
    error = None if done and result.ok else result.describe_failure()
    return WorkerRun(records, result.seconds, error, result.stderr[-4000:])
