"""The one way torchenv runs another program: an argv list, never a shell, always a timeout; and
the one owner of every child process torchenv starts.

A hung child (a wedged `nvidia-smi`, a torch import stuck in driver init) is killed with its
whole process group when the deadline passes, so the caller gets control back within the
timeout plus a moment. Failures come back as data in `RunResult`, never as exceptions.

Every child runs in its own session (so a timeout can kill its own children too) and is
registered while it runs. `interrupts()` (installed by the CLI) turns Ctrl-C, SIGTERM and SIGHUP
into one action: every registered child's process group is killed at once, from the signal
handler itself, no child is started afterwards, and the main thread gets a `KeyboardInterrupt`
(`Interrupted`) so that the callers' clean-up (a half-made env, a temporary file) runs. A second
signal while that clean-up runs kills the children again and, from the command line, exits.

Output is captured as a stream of lines: lines that start with one of the caller's record
prefixes (a probe's or a worker's JSON records) are kept whatever surrounds them; everything
else is noise, of which the head and the tail are kept (`MAX_OUTPUT_BYTES` per stream) and the
rest is only counted (`output_bytes`), so a child that prints gigabytes cannot eat our memory
and cannot push its records or its last error line out.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

MAX_OUTPUT_BYTES = 4 * 1024 * 1024  # non-record output kept per stream: half its head, half its tail
MAX_RECORD_BYTES = 64 * 1024 * 1024  # record lines kept per stream (a probe's records are ~1 MB)
MAX_RECORD_LINE = 32 * 1024 * 1024  # one longer "record" is noise
CHUNK = 1024 * 1024  # read lines in pieces of at most this much: a newline-free flood is never one buffer


@dataclass(frozen=True, slots=True)
class RunResult:
    argv: tuple[str, ...]
    returncode: int | None  # None: never started, or killed at the deadline
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    error: str | None = None  # could not start: "not found", "permission denied", "interrupted"
    signal: str | None = None  # "SIGSEGV" when the child died of a signal
    output_bytes: int = 0  # bytes of output that were not records (stdout and stderr together)
    dropped_bytes: int = 0  # of those, the bytes not kept (the middle of a flood)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def describe_failure(self) -> str:
        name = os.path.basename(self.argv[0]) if self.argv else "command"
        if self.error:
            return f"{name}: {self.error}"
        if self.timed_out:
            return f"{name} did not answer within {self.seconds:.1f} s and was killed"
        if self.signal:
            return f"{name} died of {self.signal}"
        last = last_line(self.stderr) or last_line(self.stdout)
        return f"{name} exited with {self.returncode}: {last[:300]}".rstrip(": ")


def last_line(text: str, skip: Callable[[str], bool] | None = None) -> str:
    """The last non-empty line of `text` that `skip` does not reject ("" when none)."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line and not (skip and skip(line)):
            return line
    return ""


# --- the children ----------------------------------------------------------------------------------


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, SIGTERM or SIGHUP: every child has been killed; clean up and leave."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


_lock = threading.RLock()  # reentrant: the signal handler runs in the main thread, maybe inside a spawn
_children: dict[int, subprocess.Popen] = {}
_state = {"closed": False, "spawning": False, "deferred": None, "signals": 0}


def kill_children() -> int:
    """Kill the process group of every running child, now, and start no new one. Returns how many."""
    with _lock:
        _state["closed"] = True
        procs = list(_children.values())
    for proc in procs:
        _kill_group_now(proc)
    return len(procs)


def reap_children(timeout: float = 0.5) -> None:
    """Wait (at most `timeout` in all) for killed children to be gone, so none is left a zombie."""
    deadline = time.monotonic() + timeout
    with _lock:
        procs = list(_children.values())
    for proc in procs:
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.0))
        except (subprocess.TimeoutExpired, OSError):
            pass


def running_children() -> list[int]:
    """The pids of the children running now (for tests and diagnostics)."""
    with _lock:
        return list(_children)


def _kill_group_now(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass
    try:
        proc.kill()
    except (ProcessLookupError, OSError):
        pass


@contextmanager
def interrupts(*, exit_on_second: bool = True) -> Iterator[None]:
    """While inside: SIGINT/SIGTERM/SIGHUP kill every child at once and raise `Interrupted` in the
    main thread. A second signal kills them again and, with `exit_on_second`, exits the process
    with one line (no traceback). Outside the main thread this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])

    def handler(signum, frame):
        _state["signals"] += 1
        kill_children()
        if _state["signals"] > 1:
            if exit_on_second:
                try:
                    os.write(2, b"torchenv: interrupted\n")
                finally:
                    os._exit(128 + signum)
            raise Interrupted(signum)
        if _state["spawning"]:
            _state["deferred"] = signum  # raised by the spawn, once its child is registered and killed
            return
        raise Interrupted(signum)

    previous = {}
    for signum in wanted:
        try:
            previous[signum] = signal.signal(signum, handler)
        except (OSError, ValueError):
            pass
    try:
        yield
    finally:
        # A child still running when the command is done belongs to a path that gave up on it (an
        # error elsewhere): it dies now rather than hold the exit, or outlive us.
        kill_children()
        reap_children()
        for signum, old in previous.items():
            try:
                signal.signal(signum, old)
            except (OSError, ValueError, TypeError):
                pass
        with _lock:
            _state.update(closed=False, spawning=False, deferred=None, signals=0)


def _spawn(argv, env, cwd) -> subprocess.Popen:
    main = threading.current_thread() is threading.main_thread()
    with _lock:
        if _state["closed"]:
            raise _Closed
        if main:
            _state["spawning"] = True
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,  # lets us kill the child's own children on timeout
            )
            _children[proc.pid] = proc
        finally:
            if main:
                _state["spawning"] = False
        deferred = _state["deferred"] if main else None
        _state["deferred"] = None
    if deferred is not None:
        _kill_group_now(proc)
        _forget(proc)
        try:
            proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            pass
        raise Interrupted(deferred)
    return proc


def _forget(proc: subprocess.Popen) -> None:
    with _lock:
        _children.pop(proc.pid, None)


class _Closed(Exception):
    pass


# --- running one -----------------------------------------------------------------------------------


class Runner:
    """Runs commands. Tests pass a fake with the same `run` signature."""

    def run(
        self,
        argv: Sequence[str],
        timeout: float,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        on_line: Callable[[str], None] | None = None,
        records: Sequence[str] = (),
    ) -> RunResult:
        """`records`: prefixes of the lines that are the child's records; they are kept in full."""
        return self.start(argv, env=env, cwd=cwd, on_line=on_line, records=records).result(timeout)

    def start(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        on_line: Callable[[str], None] | None = None,
        records: Sequence[str] = (),
    ) -> Started:
        """Starts the child now and returns at once; `Started.result(timeout)` waits for it, the
        timeout counted from this start. The doctor starts its torch probe this way before anything
        else, so the parent's own imports overlap the child's `import torch`."""
        return Started(tuple(str(a) for a in argv), env, cwd, on_line, records)


class Started:
    """A child started by `Runner.start`: its output is read as it comes; `result()` waits for it."""

    def __init__(self, argv, env, cwd, on_line, records) -> None:
        self.argv = argv
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.records = tuple(records)
        self.began = time.monotonic()
        self.proc: subprocess.Popen | None = None
        self.failed: RunResult | None = None
        self._done: RunResult | None = None
        try:
            self.proc = _spawn(argv, env, cwd)
        except _Closed:
            self.failed = RunResult(argv, None, "", "", 0.0, error="interrupted")
        except FileNotFoundError:
            self.failed = RunResult(argv, None, "", "", 0.0, error="not found")
        except PermissionError:
            self.failed = RunResult(argv, None, "", "", 0.0, error="permission denied")
        except OSError as exc:
            self.failed = RunResult(argv, None, "", "", 0.0, error=exc.strerror or str(exc))
        if self.proc is None:
            return
        prefixes = tuple(p.encode() for p in records)
        self.out = _Capture(prefixes, on_line)
        self.err = _Capture((), None)
        self.readers = [
            threading.Thread(target=_pump, args=(self.proc.stdout, self.out), daemon=True),
            threading.Thread(target=_pump, args=(self.proc.stderr, self.err), daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    def set_on_line(self, on_line: Callable[[str], None] | None) -> None:
        """The progress callback from now on (lines already read are not replayed)."""
        if self.proc is not None:
            self.out.on_line = on_line

    def kill(self) -> None:
        """Not wanted after all: the child's group dies now (`result()` then reports it killed)."""
        if self.proc is not None and self._done is None:
            _kill_group(self.proc)
            _forget(self.proc)

    def result(self, timeout: float) -> RunResult:
        if self.failed is not None:
            return self.failed
        if self._done is not None:
            return self._done
        proc = self.proc
        assert proc is not None
        timed_out = False
        try:
            try:
                proc.wait(timeout=max(self.began + timeout - time.monotonic(), 0.0))
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_group(proc)
            for reader in self.readers:
                # Pipes close when the group dies; a grandchild that escaped the group cannot hold us.
                reader.join(timeout=1.0)
        except BaseException:  # Ctrl-C in this thread: the child dies with us, never outlives us
            _kill_group_now(proc)
            raise
        finally:
            _forget(proc)
        seconds = time.monotonic() - self.began
        code = None if timed_out else proc.returncode
        sig = None
        if code is not None and code < 0:
            try:
                sig = signal.Signals(-code).name
            except ValueError:
                sig = f"signal {-code}"
        error = None
        if not timed_out and code == -signal.SIGKILL and _state["closed"]:
            error = "interrupted"
        out, err = self.out, self.err
        self._done = RunResult(
            self.argv,
            code,
            out.text(),
            err.text(),
            seconds,
            timed_out=timed_out,
            error=error,
            signal=sig,
            output_bytes=out.noise + err.noise,
            dropped_bytes=out.dropped + err.dropped,
        )
        return self._done


class Prestarted(Runner):
    """A runner that hands out one child started earlier (`Runner.start`) to the first `run` asking
    for exactly its argv, environment and folder; every other command runs as usual. The caller
    `discard()`s it at the end: a child nobody asked for is killed."""

    def __init__(self, started: Started | None, inner: Runner | None = None) -> None:
        self.started = started
        self.inner = inner or Runner()

    def run(self, argv, timeout, *, env=None, cwd=None, on_line=None, records=()):
        started = self.started
        wanted = (tuple(str(a) for a in argv), dict(env) if env is not None else None, cwd, tuple(records))
        if started is not None and wanted == (started.argv, started.env, started.cwd, started.records):
            self.started = None
            started.set_on_line(on_line)
            return started.result(timeout)
        return self.inner.run(argv, timeout, env=env, cwd=cwd, on_line=on_line, records=records)

    def start(self, argv, *, env=None, cwd=None, on_line=None, records=()):
        return self.inner.start(argv, env=env, cwd=cwd, on_line=on_line, records=records)

    def discard(self) -> None:
        if self.started is not None:
            self.started.kill()
            self.started = None


class _Capture:
    """One stream's lines: records kept in full, noise kept as head + tail and otherwise counted."""

    def __init__(self, prefixes: tuple[bytes, ...], on_line: Callable[[str], None] | None):
        self.prefixes = prefixes
        self.on_line = on_line
        self.kept: list[bytes] = []  # records and the head of the noise, in order
        self.tail: deque[bytes] = deque()
        self.tail_size = 0
        self.head_size = 0
        self.record_size = 0
        self.noise = 0
        self.dropped = 0

    def is_record(self, first_chunk: bytes) -> bool:
        return bool(self.prefixes) and first_chunk.startswith(self.prefixes)

    def record(self, line: bytes) -> None:
        if self.record_size + len(line) > MAX_RECORD_BYTES:
            self.dropped += len(line)
            return
        self.record_size += len(line)
        if self.kept and not self.kept[-1].endswith(b"\n"):
            self.kept.append(b"\n")  # the head of a cut noise line must not swallow the record
        self.kept.append(line)
        self._tell(line)

    def chunk(self, chunk: bytes) -> None:
        self.noise += len(chunk)
        half = MAX_OUTPUT_BYTES // 2
        if self.head_size < half:
            self.kept.append(chunk)
            self.head_size += len(chunk)
        else:
            self.tail.append(chunk)
            self.tail_size += len(chunk)
            while self.tail_size > half and len(self.tail) > 1:
                gone = self.tail.popleft()
                self.tail_size -= len(gone)
                self.dropped += len(gone)
        self._tell(chunk)

    def _tell(self, raw: bytes) -> None:
        if self.on_line is not None:
            try:
                self.on_line(raw.decode("utf-8", errors="replace"))
            except Exception:  # a progress callback must never break the run
                pass

    def text(self) -> str:
        parts = list(self.kept)
        if self.dropped:
            parts.append(f"\n[torchenv: {self.dropped} bytes of output left out]\n".encode())
        parts += self.tail
        return b"".join(parts).decode("utf-8", errors="replace")


def _pump(stream, capture: _Capture) -> None:
    pending: list[bytes] = []  # the pieces of a record line not finished yet
    pending_size = 0
    noise_line = False  # inside a long noise line
    try:
        for chunk in iter(lambda: stream.readline(CHUNK), b""):
            complete = chunk.endswith(b"\n")
            if pending or (not noise_line and capture.is_record(chunk)):
                pending.append(chunk)
                pending_size += len(chunk)
                if pending_size > MAX_RECORD_LINE:  # not a record after all: noise
                    for piece in pending:
                        capture.chunk(piece)
                    pending, pending_size, noise_line = [], 0, not complete
                elif complete:
                    capture.record(b"".join(pending))
                    pending, pending_size = [], 0
                continue
            capture.chunk(chunk)
            noise_line = not complete
        if pending:
            capture.record(b"".join(pending))
    except (OSError, ValueError):
        pass


def _kill_group(proc: subprocess.Popen) -> None:
    _kill_group_now(proc)
    try:
        proc.wait(timeout=1.0)
    except subprocess.TimeoutExpired:
        pass
