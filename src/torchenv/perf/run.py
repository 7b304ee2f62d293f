"""Runs the bench worker inside the target interpreter (through the injected Runner) and collects
its streamed records. A crash, a hang or a failed import comes back as data: the records that
arrived are kept and the report says where the worker stopped."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..model.stderr import failure_line

WORKER_DIR = Path(__file__).parent / "_worker"
WORKER_SCRIPT = WORKER_DIR / "main.py"  # the one runtime: `main.py bench|tune|profile …`
MARK = "@@torchenv-bench@@ "


@dataclass(frozen=True, slots=True)
class WorkerRun:
    records: tuple[dict, ...]
    seconds: float
    error: str | None  # why the worker did not finish cleanly, None when it did
    stderr_tail: str


def say_word(path: Path, text: str) -> None:
    """The parent's word to a waiting worker (protocol.wait_for_word), written whole: the worker
    never reads half a word."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    temporary.replace(path)


def describe_worker_failure(run: WorkerRun) -> str | None:
    """Why the worker stopped, with its last meaningful stderr line; None when it finished."""
    if not run.error:
        return None
    line = failure_line(run.stderr_tail)
    if not line or line[:300] in run.error:
        return run.error
    return f"{run.error} — {line[:300]}"


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
    phase: str = "both",
    wait_for: Path | None = None,
    wait_timeout: float | None = None,
    script: Path = WORKER_SCRIPT,
) -> list[str]:
    argv = [python, str(script), "bench", "--device", device]
    if quick:
        argv.append("--quick")
    if sections:
        argv += ["--sections", ",".join(sections)]
    if not compile:
        argv.append("--no-compile")
    if phase != "both":
        argv += ["--phase", phase]
    if wait_for is not None:
        argv += ["--wait-for", str(wait_for)]
        if wait_timeout is not None:
            argv += ["--wait-timeout", f"{wait_timeout:g}"]
    return argv


def worker_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    if env.get("PYTHONPATH"):  # the worker runs in another directory: relative entries would miss
        entries = [os.path.abspath(p) for p in env["PYTHONPATH"].split(os.pathsep) if p]
        env["PYTHONPATH"] = os.pathsep.join(entries)
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
    result = runner.run(
        argv,
        timeout,
        cwd=tempfile.gettempdir(),
        env=env or worker_environment(),
        on_line=on_line,
        records=(MARK,),  # kept whatever the workload prints around them
    )
    records = records_of(result.stdout)
    done = any(r.get("event") == "done" for r in records)
    error = None if done and result.ok else _failure(result)
    return WorkerRun(records, result.seconds, error, result.stderr[-4000:])


def _failure(result) -> str:
    if result.returncode is not None and result.returncode > 0 and not result.error:
        name = os.path.basename(result.argv[0]) if result.argv else "worker"
        line = failure_line(result.stderr)
        return f"{name} exited with {result.returncode}" + (f": {line[:300]}" if line else "")
    return result.describe_failure()


# What runs with cudnn.benchmark on, measured again in a fresh process (see the worker's PHASES).
SEARCH_SECTIONS = ("conv", "ladder-resnet50")
SEARCH_PREFIX = "search:"
# Sections measured with no second process alive (import, CUDA start-up and the micro-benchmarks).
QUIET_SECTIONS = ("import", "cuda-init", "matmul", "memory", "transfer")  # section timings of the second process


def _searched(sections: Sequence[str] | None, quick: bool, device: str | None) -> list[str]:
    if quick or device != "cuda":
        return []
    return [s for s in SEARCH_SECTIONS if sections is None or s in sections]


def search_sections(records: Sequence[dict], sections: Sequence[str] | None, quick: bool) -> list[str]:
    """The sections the cudnn.benchmark process must measure after a heuristics run: none for
    --quick, the CPU, or a first process that did not finish."""
    env = next((r.get("data") for r in records if r.get("event") == "env"), None) or {}
    if not any(r.get("event") == "done" for r in records):
        return []
    return _searched(sections, quick, env.get("device"))


def _conv_order(record: dict) -> tuple:
    params = record.get("params") or {}
    return (bool(params.get("deterministic")), bool(params.get("benchmark")), params.get("kind") != "fwd")


def merge_search(first: WorkerRun, second: WorkerRun, seconds: float | None = None) -> WorkerRun:
    """One run of both processes: the second's results go beside the first's in their section (the
    conv test back in its off/on × deterministic order), its section timings under SEARCH_PREFIX, and
    its failure, if any, becomes an error record of the suite."""
    records = [r for r in first.records if r.get("event") != "done"]
    for record in second.records:
        event = record.get("event")
        if event == "result":
            section = record.get("section")
            after = [i for i, r in enumerate(records) if record.get("previous") and r.get("id") == record["previous"]]
            if after:  # a ladder rung: right after the rung it is compared with
                records.insert(after[0] + 1, record)
                continue
            at = max(
                (i for i, r in enumerate(records) if r.get("event") == "result" and r.get("section") == section),
                default=len(records) - 1,
            )
            records.insert(at + 1, record)
        elif event in ("end", "error"):
            records.append(dict(record, section=SEARCH_PREFIX + str(record.get("section"))))
        elif event == "fatal":
            records.append(
                {"event": "error", "section": SEARCH_PREFIX + str(record.get("stage")), "error": record.get("error")}
            )
    if second.error and not any(r.get("event") == "fatal" for r in second.records):
        records.append({"event": "error", "section": SEARCH_PREFIX + "worker", "error": second.error})
    conv = [i for i, r in enumerate(records) if r.get("event") == "result" and r.get("section") == "conv"]
    for i, record in zip(conv, sorted((records[i] for i in conv), key=_conv_order), strict=True):
        records[i] = record
    records += [r for r in first.records if r.get("event") == "done"]
    wall = first.seconds + second.seconds if seconds is None else seconds
    return WorkerRun(tuple(records), wall, first.error, first.stderr_tail)


def run_suite(
    runner,
    python: str,
    *,
    quick: bool,
    device: str,
    sections: Sequence[str] | None,
    compile: bool,
    timeout: float,
    on_record: Callable[[dict], None] | None = None,
) -> WorkerRun:
    """The whole `bench` suite: one worker, and on CUDA (full suite) a second, fresh one for what
    runs with cudnn.benchmark on, so that its search is really done (not served from the first's
    plan cache). The second starts once the first has finished its micro-benchmarks on a CUDA
    device (so nothing else runs while matmul and the copies are timed), imports torch while the first
    measures the training sections, then waits for the word: its import costs no suite time (never on
    the CPU path, whose figures a concurrent import would disturb)."""
    began = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=2)
    early: list[_EarlySearch] = []

    device_of: dict[str, str | None] = {}

    def first_record(record: dict) -> None:
        if record.get("event") == "env":
            device_of["first"] = (record.get("data") or {}).get("device")
        wanted = _searched(sections, quick, device_of.get("first"))
        # Started only once the micro-benchmarks are done: nothing but the measuring process runs
        # while matmul, the device copy and the host↔device copies are timed.
        starting = record.get("event") in ("begin", "result") and record.get("section") not in QUIET_SECTIONS
        if starting and wanted and not early:
            try:
                early.append(_EarlySearch(runner, python, wanted, compile, timeout, on_record, pool))
            except OSError:
                pass  # no temporary folder: the second process starts after the first instead
        if on_record is not None:
            on_record(record)

    argv = worker_argv(
        python, quick=quick, device=device, sections=sections, compile=compile, phase="both" if quick else "heuristics"
    )
    try:
        first = run_worker(runner, argv, timeout=timeout, on_record=first_record)
        again = search_sections(first.records, sections, quick)
        left = timeout - (time.monotonic() - began)
        if not again:
            return first
        if left < 5.0:
            skipped = WorkerRun(
                (), 0.0, f"no time left for the cudnn.benchmark measurements (--timeout {timeout:g})", ""
            )
            return merge_search(first, skipped, seconds=time.monotonic() - began)
        if early:
            second = early[0].release()
        else:
            argv = worker_argv(python, quick=False, device="cuda", sections=again, compile=compile, phase="search")
            second = run_worker(runner, argv, timeout=left, on_record=on_record)
        return merge_search(first, second, seconds=time.monotonic() - began)
    finally:
        for search in early:
            search.stop()
        pool.shutdown(wait=True)


class _EarlySearch:
    """The search process started ahead: its records are held back until it is released."""

    def __init__(self, runner, python, sections, compile, timeout, on_record, pool):
        self.folder = Path(tempfile.mkdtemp(prefix="torchenv-bench-"))
        self.word = self.folder / "word"
        self.on_record = on_record
        self.lock = threading.Lock()
        self.held: list[dict] | None = []
        argv = worker_argv(
            python,
            quick=False,
            device="cuda",
            sections=sections,
            compile=compile,
            phase="search",
            wait_for=self.word,
            wait_timeout=timeout,
        )
        self.future = pool.submit(run_worker, runner, argv, timeout=timeout, on_record=self._record)

    def _record(self, record: dict) -> None:
        with self.lock:
            if self.held is not None:
                self.held.append(record)
                return
        if self.on_record is not None:
            self.on_record(record)

    def _say(self, word: str) -> None:
        if not self.word.exists():
            say_word(self.word, word)

    def release(self) -> WorkerRun:
        with self.lock:
            held, self.held = self.held or [], None
        if self.on_record is not None:
            for record in held:
                self.on_record(record)
        self._say("go")
        return self.future.result()

    def stop(self) -> None:
        self._say("stop")
        self.future.result()
        shutil.rmtree(self.folder, ignore_errors=True)
