"""Runs the bench worker inside the target interpreter (through the injected Runner) and collects
its streamed records. A crash, a hang or a failed import comes back as data: the records that
arrived are kept and the report says where the worker stopped.

The boundary where records are decoded, once: `WorkerRun.typed` holds the typed records of
`model/perf_records.py` (what bench and tune read); `WorkerRun.records` keeps the wire dicts for
`profile/run.py`, which still reads those."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..model.perf_records import (
    Begin,
    BenchResult,
    Done,
    End,
    Env,
    Fatal,
    Malformed,
    Record,
    SectionError,
    decode,
    decode_all,
    encode,
)
from ..model.stderr import failure_line

WORKER_DIR = Path(__file__).parent / "_worker"
WORKER_SCRIPT = WORKER_DIR / "main.py"  # the one runtime: `main.py bench|tune|profile …`
MARK = "@@torchenv-bench@@ "


@dataclass(frozen=True, slots=True)
class WorkerRun:
    records: tuple[dict, ...]  # the wire dicts, as they arrived (profile reads these)
    seconds: float
    error: str | None  # why the worker did not finish cleanly, None when it did
    stderr_tail: str
    typed: tuple[Record, ...] = field(default=(), compare=False, repr=False)  # decoded once, here

    def __post_init__(self) -> None:
        if not self.typed and self.records:  # built from wire dicts alone (a test, a saved run)
            object.__setattr__(self, "typed", decode_all(self.records))


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


def typed_record(line: str) -> Record | None:
    """The typed record of one marked line (None for a line that is not a record): a marked line
    that is not a JSON object (cut short by a crash, garbled) is Malformed, never dropped."""
    if not line.startswith(MARK):
        return None
    raw = parse_record(line)
    if raw is None:
        text = line[len(MARK) :]
        return Malformed(event="?", section="worker", reason=f"a record that is not a JSON object: {text[:80]!r}")
    return decode(raw)


def typed_of(stdout: str) -> tuple[Record, ...]:
    return tuple(r for line in stdout.splitlines() if (r := typed_record(line)) is not None)


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
    on_typed: Callable[[Record], None] | None = None,
    env: dict[str, str] | None = None,
) -> WorkerRun:
    """`on_record` gets each wire dict as it arrives, `on_typed` its decoded record (decoded once:
    the same records become the run's `typed`)."""
    streamed: list[Record] = []

    def on_line(line: str) -> None:
        line = line.rstrip("\n")
        record = parse_record(line)
        if record is not None and on_record is not None:
            on_record(record)
        if on_typed is not None and (typed := typed_record(line)) is not None:
            streamed.append(typed)
            on_typed(typed)

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
    marked = sum(1 for line in result.stdout.splitlines() if line.startswith(MARK))
    typed = tuple(streamed) if streamed and len(streamed) == marked else typed_of(result.stdout)
    done = any(isinstance(r, Done) for r in typed)
    error = None if done and result.ok else _failure(result)
    return WorkerRun(records, result.seconds, error, result.stderr[-4000:], typed)


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


def search_sections(records: Sequence[Record | dict], sections: Sequence[str] | None, quick: bool) -> list[str]:
    """The sections the cudnn.benchmark process must measure after a heuristics run: none for
    --quick, the CPU, or a first process that did not finish."""
    records = decode_all(records)
    env = next((r.data for r in records if isinstance(r, Env)), None)
    if not any(isinstance(r, Done) for r in records):
        return []
    return _searched(sections, quick, env.device if env else None)


def _conv_order(record: BenchResult) -> tuple:
    params = record.params
    return (bool(params.get("deterministic")), bool(params.get("benchmark")), params.get("kind") != "fwd")


def _is_result(record: Record, section: str | None = None) -> bool:
    return isinstance(record, BenchResult) and (section is None or record.section == section)


def merge_search(first: WorkerRun, second: WorkerRun, seconds: float | None = None) -> WorkerRun:
    """One run of both processes: the second's results go beside the first's in their section (the
    conv test back in its off/on × deterministic order), its section timings under SEARCH_PREFIX, and
    its failure, if any, becomes an error record of the suite. Works on the typed records; the
    merged run's wire dicts are their encoding."""
    records: list[Record] = [r for r in first.typed if not isinstance(r, Done)]
    for record in second.typed:
        if isinstance(record, BenchResult):
            previous = record.previous
            after = [i for i, r in enumerate(records) if previous and _is_result(r) and r.id == previous]
            if after:  # a ladder rung: right after the rung it is compared with
                records.insert(after[0] + 1, record)
                continue
            at = max((i for i, r in enumerate(records) if _is_result(r, record.section)), default=len(records) - 1)
            records.insert(at + 1, record)
        elif isinstance(record, (End, SectionError)):
            records.append(dataclasses.replace(record, section=SEARCH_PREFIX + record.section))
        elif isinstance(record, Fatal):
            records.append(SectionError(t=record.t, section=SEARCH_PREFIX + record.stage, error=record.error))
        elif isinstance(record, Malformed):  # unreadable: still an error of the suite, never dropped
            records.append(dataclasses.replace(record, section=SEARCH_PREFIX + record.section))
    if second.error and not any(isinstance(r, Fatal) for r in second.typed):
        records.append(SectionError(section=SEARCH_PREFIX + "worker", error=second.error))
    conv = [i for i, r in enumerate(records) if _is_result(r, "conv")]
    for i, record in zip(conv, sorted((records[i] for i in conv), key=_conv_order), strict=True):
        records[i] = record
    records += [r for r in first.typed if isinstance(r, Done)]
    wall = first.seconds + second.seconds if seconds is None else seconds
    merged = tuple(records)
    return WorkerRun(tuple(encode(r) for r in merged), wall, first.error, first.stderr_tail, merged)


def run_suite(
    runner,
    python: str,
    *,
    quick: bool,
    device: str,
    sections: Sequence[str] | None,
    compile: bool,
    timeout: float,
    on_record: Callable[[Record], None] | None = None,
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

    def first_record(record: Record) -> None:
        if isinstance(record, Env):
            device_of["first"] = record.data.device
        wanted = _searched(sections, quick, device_of.get("first"))
        # Started only once the micro-benchmarks are done: nothing but the measuring process runs
        # while matmul, the device copy and the host↔device copies are timed.
        starting = isinstance(record, (Begin, BenchResult)) and record.section not in QUIET_SECTIONS
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
        first = run_worker(runner, argv, timeout=timeout, on_typed=first_record)
        again = search_sections(first.typed, sections, quick)
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
            second = run_worker(runner, argv, timeout=left, on_typed=on_record)
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
        self.held: list[Record] | None = []
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
        self.future = pool.submit(run_worker, runner, argv, timeout=timeout, on_typed=self._record)

    def _record(self, record: Record) -> None:
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
