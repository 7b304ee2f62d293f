"""The monitored command: started in its own session (so its whole process group can be signalled
and killed), with the terminal's stdin and, unless the live view relays it, our stdout/stderr.

`probes.runner.Runner` owns the children whose output torchenv captures (argv, timeout, captured
lines); the monitored command is a different kind of child: it runs as long as it likes, keeps the
user's terminal, and must see Ctrl-C the way it would without us. So it is started here, and
`forward_signals` composes with the runner's handlers (installed by the CLI's `interrupts()`)
rather than replacing them:

- 1st Ctrl-C / SIGTERM / SIGHUP: forwarded to the command's process group (a training script gets
  its KeyboardInterrupt and can save a checkpoint); the monitor keeps sampling while it winds down,
  and kills the group if it is still there `grace_s` later.
- 2nd: the group is killed at once, then the previous handler runs (the runner's: every other
  child is killed and `Interrupted` is raised, or the process exits on a further signal).
A signal that lands while the command is being started is held and delivered once it has a PID.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence

from ..model.errors import TorchenvError
from ..probes.runner import Interrupted

SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)


class LaunchError(TorchenvError):
    """The command could not be started; `exit_code` is the shell's (127 not found, 126 not executable)."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


class Job:
    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        stdout=None,
        stderr=None,
    ):
        self.argv = [str(a) for a in argv]
        self.env = dict(env) if env is not None else None
        self.stdout = stdout
        self.stderr = stderr
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> int:
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdout=self.stdout,
                stderr=self.stderr,
                env=self.env,
                start_new_session=True,  # its own process group: signalled and killed as one
            )
        except FileNotFoundError:
            raise LaunchError(f"{self.argv[0]}: command not found", 127) from None
        except PermissionError:
            raise LaunchError(f"{self.argv[0]}: permission denied", 126) from None
        except OSError as exc:
            raise LaunchError(f"{self.argv[0]}: {exc.strerror or exc}", 126) from None
        return self.proc.pid

    def signal(self, signum: int) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signum)
        except (ProcessLookupError, PermissionError, OSError):
            try:
                self.proc.send_signal(signum)
            except (ProcessLookupError, OSError):
                pass

    def kill(self) -> None:
        """SIGKILL to the whole group (the command and whatever it started that stayed in it)."""
        self.signal(signal.SIGKILL)

    def poll(self) -> int | None:
        return self.proc.poll() if self.proc is not None else None

    def wait(self, timeout: float | None = None) -> int | None:
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    @property
    def exit_code(self) -> int | None:
        """The command's exit status as a shell gives it: 128 + N when it died of signal N."""
        code = self.proc.returncode if self.proc is not None else None
        if code is None:
            return None
        return 128 - code if code < 0 else code

    def finish(self) -> None:
        """After the command exited: what it left in its process group dies too (orphaned workers)."""
        if self.proc is not None and self.proc.returncode is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError, OSError):
                pass


class forward_signals:
    """While inside: Ctrl-C, SIGTERM and SIGHUP go to the job first (see the module docstring).
    `job` may be None (attached to a PID that is not ours: a signal only ends the monitoring)."""

    def __init__(self, job: Job | None, grace_s: float = 10.0, clock=time.monotonic):
        self.job = job
        self.grace_s = grace_s
        self.clock = clock
        self.count = 0
        self.signum: int | None = None  # the first signal received
        self.deadline: float | None = None  # kill the group if it is still alive then
        self.previous: dict[int, object] = {}
        self.delivered = False

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                try:
                    self.previous[signum] = signal.signal(signum, self._handler)
                except (OSError, ValueError):
                    pass
        return self

    def __exit__(self, *exc):
        for signum, old in self.previous.items():
            try:
                signal.signal(signum, old)  # type: ignore[arg-type]
            except (OSError, ValueError, TypeError):
                pass
        self.previous = {}
        return False

    def _handler(self, signum, frame):
        self.count += 1
        if self.count == 1:
            self.signum = signum
            self.deadline = self.clock() + self.grace_s
            self.deliver()
            return
        if self.job is not None:
            self.job.kill()
        previous = self.previous.get(signum)
        if callable(previous):
            previous(signum, frame)
        raise Interrupted(signum)

    def deliver(self) -> None:
        """Sends the held signal to the job once it has a PID (called again right after the start)."""
        if self.signum is None or self.delivered or self.job is None or self.job.pid is None:
            return
        self.delivered = True
        self.job.signal(self.signum)

    @property
    def stopping(self) -> bool:
        return self.signum is not None

    def overdue(self) -> bool:
        return self.deadline is not None and self.clock() >= self.deadline
