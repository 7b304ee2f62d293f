"""The one way torchenv runs another program: an argv list, never a shell, always a timeout.

A hung child (a wedged `nvidia-smi`, a torch import stuck in driver init) is killed with its
whole process group when the deadline passes, so the caller gets control back within the
timeout plus a moment. Failures come back as data in `RunResult`, never as exceptions.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

MAX_OUTPUT_BYTES = 4 * 1024 * 1024  # a runaway child must not eat our memory


@dataclass(frozen=True, slots=True)
class RunResult:
    argv: tuple[str, ...]
    returncode: int | None  # None: never started, or killed at the deadline
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    error: str | None = None  # could not start: "not found", "permission denied"
    signal: str | None = None  # "SIGSEGV" when the child died of a signal

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
        last = (self.stderr.strip() or self.stdout.strip()).splitlines()[-1:] or [""]
        return f"{name} exited with {self.returncode}: {last[0][:300]}".rstrip(": ")


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
    ) -> RunResult:
        argv = tuple(str(a) for a in argv)
        start = time.monotonic()
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
        except FileNotFoundError:
            return RunResult(argv, None, "", "", 0.0, error="not found")
        except PermissionError:
            return RunResult(argv, None, "", "", 0.0, error="permission denied")
        except OSError as exc:
            return RunResult(argv, None, "", "", 0.0, error=exc.strerror or str(exc))

        out_chunks: list[bytes] = []
        err_chunks: list[bytes] = []
        readers = [
            threading.Thread(target=_pump, args=(proc.stdout, out_chunks, on_line), daemon=True),
            threading.Thread(target=_pump, args=(proc.stderr, err_chunks, None), daemon=True),
        ]
        for reader in readers:
            reader.start()
        timed_out = False
        try:
            proc.wait(timeout=max(timeout, 0.0))
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
        for reader in readers:
            # Pipes close when the group dies; a grandchild that escaped the group cannot hold us.
            reader.join(timeout=1.0)
        seconds = time.monotonic() - start
        code = None if timed_out else proc.returncode
        sig = None
        if code is not None and code < 0:
            try:
                sig = signal.Signals(-code).name
            except ValueError:
                sig = f"signal {-code}"
        return RunResult(
            argv,
            code,
            _decode(out_chunks),
            _decode(err_chunks),
            seconds,
            timed_out=timed_out,
            signal=sig,
        )


def _pump(stream, chunks: list[bytes], on_line: Callable[[str], None] | None) -> None:
    size = 0
    try:
        for raw in iter(stream.readline, b""):
            if size < MAX_OUTPUT_BYTES:
                chunks.append(raw)
                size += len(raw)
            if on_line is not None:
                try:
                    on_line(raw.decode("utf-8", errors="replace"))
                except Exception:  # a progress callback must never break the run
                    pass
    except (OSError, ValueError):
        pass


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=1.0)
    except subprocess.TimeoutExpired:
        pass


def _decode(chunks: list[bytes]) -> str:
    return b"".join(chunks).decode("utf-8", errors="replace")
