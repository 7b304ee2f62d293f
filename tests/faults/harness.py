"""Runs `torchenv` as a user would (a child process in its own session, so a signal reaches exactly
torchenv's process group, like a Ctrl-C in a terminal) and watches everything it starts.

While the command runs, /proc is scanned every 20 ms for its descendants (pid + start time, so a
reused pid is never mistaken for one of them); when it ends, each one seen must be gone: that is
the no-orphan check of every fault test. `interrupt_after` sends SIGINT (or another signal) to the
group at a chosen moment and measures how long the prompt took to come back.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
BASE_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
LEAKY_PREFIXES = ("CUDA_", "NVIDIA_", "NCCL_", "TORCH_", "PYTORCH_", "CUDNN_", "TRITON_", "NV_")
LEAKY = {"LD_LIBRARY_PATH", "LD_PRELOAD", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "CONDA_PREFIX"}
SLACK = 2.5  # CLI start-up and the knowledge load on a loaded 2-core machine, beyond a run's own bound


def environ(*, path_prepend=(), pythonpath=(), **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in LEAKY and not k.startswith(LEAKY_PREFIXES)}
    env["PATH"] = ":".join([*(str(p) for p in path_prepend), os.path.dirname(sys.executable), BASE_PATH])
    env["PYTHONPATH"] = ":".join([str(SRC), *(str(p) for p in pythonpath)])
    env.update(extra)
    return env


# --- processes ------------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(ppid, state, start time) of a live process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), fields[0], int(fields[19])


def descendants(root: int) -> set[tuple[int, int]]:
    """(pid, start time) of every live descendant of `root`."""
    children: dict[int, list[tuple[int, int]]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            info = _stat(int(name))
            if info is not None:
                children.setdefault(info[0], []).append((int(name), info[2]))
    found, todo = set(), [root]
    while todo:
        for pid, start in children.get(todo.pop(), ()):
            if (pid, start) not in found:
                found.add((pid, start))
                todo.append(pid)
    return found


def alive(pid: int, start: int) -> bool:
    info = _stat(pid)
    return info is not None and info[2] == start and info[1] not in ("Z", "X")


@dataclass
class Run:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    seen: set[tuple[int, int]] = field(default_factory=set)  # every descendant ever seen
    orphans: list[int] = field(default_factory=list)  # those still alive after the command ended
    interrupt_to_exit: float | None = None  # seconds from the (first) signal to the exit

    @property
    def report(self) -> dict:
        assert self.stdout.strip(), f"no JSON on stdout; stderr: {self.stderr[-2000:]}"
        return json.loads(self.stdout)

    @property
    def ids(self) -> list[str]:
        return [f["id"] for f in self.report["findings"]]

    def finding(self, finding_id: str) -> dict:
        found = [f for f in self.report["findings"] if f["id"] == finding_id]
        assert found, f"{finding_id} not in {self.ids}; stderr: {self.stderr[-1000:]}"
        return found[0]

    def one_line(self) -> str:
        """The one-line error torchenv printed (and nothing else on stderr)."""
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got: {self.stderr[-2000:]!r}"
        assert lines[0].startswith("torchenv: ")
        return lines[0]


def torchenv(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    limit: float = 60.0,
    interrupt_after: float | None = None,
    interrupt_when=None,
    signals: tuple[int, ...] = (signal.SIGINT,),
    between: float = 0.05,
    stdin: int = subprocess.DEVNULL,
) -> Run:
    """Run `python -m torchenv ARGS`, tracking its descendants. With `interrupt_after` (seconds), the
    `signals` go to its process group at that moment (once `interrupt_when(seen)` is true, if given),
    `between` seconds apart."""
    argv = (sys.executable, "-m", "torchenv", *args)
    began = time.monotonic()
    proc = subprocess.Popen(
        argv,
        cwd=str(cwd) if cwd else None,
        env=env or environ(),
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    out: list[bytes] = []
    err: list[bytes] = []
    readers = [
        threading.Thread(target=lambda: out.append(proc.stdout.read()), daemon=True),
        threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True),
    ]
    for reader in readers:
        reader.start()
    seen: set[tuple[int, int]] = set()
    sent_at = None
    pending = list(signals) if interrupt_after is not None else []
    try:
        while proc.poll() is None:
            seen |= descendants(proc.pid)
            now = time.monotonic()
            ready = interrupt_when is None or interrupt_when(seen)
            if pending and now - began >= interrupt_after and ready and (sent_at is None or now - sent_at >= between):
                os.killpg(proc.pid, pending.pop(0))
                sent_at = sent_at or now
            if now - began > limit:
                raise AssertionError(f"torchenv {' '.join(args)} ran past {limit:.0f} s")
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            _kill_everything(proc.pid, seen)
            proc.wait()
    ended = time.monotonic()
    for reader in readers:
        reader.join(timeout=5)
    deadline = time.monotonic() + 0.5  # SIGKILL is delivered at once, but give the kernel a moment
    while time.monotonic() < deadline and any(alive(*p) for p in seen):
        time.sleep(0.02)
    orphans = [pid for pid, start in seen if alive(pid, start)]
    for pid in orphans:  # never leak them into the next test, whatever the assertion says
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return Run(
        argv=argv,
        returncode=proc.returncode,
        stdout=b"".join(out).decode("utf-8", "replace"),
        stderr=b"".join(err).decode("utf-8", "replace"),
        seconds=ended - began,
        seen=seen,
        orphans=orphans,
        interrupt_to_exit=(ended - sent_at) if sent_at is not None else None,
    )


def _kill_everything(pid: int, seen) -> None:
    for target in [pid, *(p for p, _ in seen)]:
        try:
            os.kill(target, signal.SIGKILL)
        except OSError:
            pass


def check_clean(run: Run, *, bound: float | None = None) -> None:
    """What every fault test asserts besides its own finding: no traceback, no internal error, no
    orphan process, and (when given) the wall-time bound."""
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert "internal error" not in run.stderr, run.stderr[-3000:]
    assert not run.orphans, f"processes left running: {run.orphans} (seen: {sorted(run.seen)})"
    if bound is not None:
        assert run.seconds < bound, f"took {run.seconds:.1f} s (bound {bound:.1f} s)"


# --- user files -----------------------------------------------------------------------------------


def fingerprint(folder: Path) -> dict[str, str]:
    """Path -> sha256 (or the kind of a non-regular file) of everything under `folder`."""
    out = {}
    for path in sorted(folder.rglob("*")):
        relative = str(path.relative_to(folder))
        if path.is_symlink():
            out[relative] = "symlink -> " + os.readlink(path)
        elif path.is_file():
            out[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            out[relative] = "dir"
        else:
            out[relative] = "special"
    return out
