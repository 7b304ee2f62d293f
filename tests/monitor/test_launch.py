"""The monitored command's process group and the signals: forwarded first, killed on the second."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from torchenv.monitor.launch import Job, LaunchError, forward_signals
from torchenv.probes.runner import Interrupted

TRAP = """
import signal, sys, time, os
def stop(signum, frame):
    open(sys.argv[1], "w").write(str(signum)); sys.exit(7)
signal.signal(signal.SIGINT, stop)
signal.signal(signal.SIGTERM, stop)
open(sys.argv[1] + ".ready", "w").close()
time.sleep(60)
"""

STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(60)"])
open(sys.argv[1], "w").write(str(child.pid))
time.sleep(60)
"""


def wait_for(path, timeout=20.0):
    """Until `path` exists (and, unless it is a .ready marker, has something in it)."""
    deadline = time.monotonic() + timeout
    while True:
        if os.path.exists(path) and (str(path).endswith(".ready") or os.path.getsize(path) > 0):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.02)


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[1].startswith(("Z", "X"))
    except OSError:
        return True


def test_exit_codes_as_a_shell_gives_them():
    ok = Job([sys.executable, "-c", "raise SystemExit(5)"])
    ok.start()
    ok.wait(20)
    assert ok.exit_code == 5
    killed = Job([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
    killed.start()
    killed.wait(20)
    assert killed.exit_code == 137


@pytest.mark.parametrize(("argv", "code"), [(["/nonexistent/tool"], 127), (["/etc/hostname"], 126)])
def test_a_command_that_cannot_start(argv, code):
    with pytest.raises(LaunchError) as info:
        Job(argv).start()
    assert info.value.exit_code == code


def test_the_first_signal_goes_to_the_command(tmp_path):
    marker = tmp_path / "got"
    job = Job([sys.executable, "-c", TRAP, str(marker)])
    with forward_signals(job, grace_s=5.0) as signals:
        job.start()
        wait_for(str(marker) + ".ready")
        os.kill(os.getpid(), signal.SIGINT)
        code = job.wait(20)
    assert signals.stopping and signals.signum == signal.SIGINT
    assert marker.read_text() == str(int(signal.SIGINT))
    assert code == 7 and job.exit_code == 7


def test_a_signal_before_the_command_has_a_pid_is_delivered_after_the_start(tmp_path):
    marker = tmp_path / "got"
    job = Job([sys.executable, "-c", TRAP, str(marker)])
    with forward_signals(job, grace_s=5.0) as signals:
        os.kill(os.getpid(), signal.SIGTERM)
        assert signals.stopping and not signals.delivered
        job.start()
        wait_for(str(marker) + ".ready")
        signals.deliver()
        job.wait(20)
    assert marker.read_text() == str(int(signal.SIGTERM))


def test_the_second_signal_kills_the_whole_group_and_interrupts(tmp_path):
    pidfile = tmp_path / "grandchild"
    job = Job([sys.executable, "-c", STUBBORN, str(pidfile)])
    with pytest.raises(Interrupted) as info, forward_signals(job, grace_s=60.0):
        job.start()
        wait_for(pidfile)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.2)
        assert job.poll() is None  # ignored the first one
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    assert info.value.signum == signal.SIGTERM
    assert job.wait(10) is not None and job.exit_code == 137
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 10
    while not gone(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(grandchild)


def test_attached_a_signal_only_ends_the_watch():
    with forward_signals(None, grace_s=1.0) as signals:
        os.kill(os.getpid(), signal.SIGTERM)
        assert signals.stopping and not signals.overdue()
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # restored


def test_overdue_after_the_grace(tmp_path):
    now = [0.0]
    with forward_signals(None, grace_s=2.0, clock=lambda: now[0]) as signals:
        os.kill(os.getpid(), signal.SIGTERM)
        now[0] = 1.0
        assert not signals.overdue()
        now[0] = 2.5
        assert signals.overdue()


def test_finish_kills_what_the_command_left_in_its_group(tmp_path):
    pidfile = tmp_path / "orphan"
    code = (
        "import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))"
    )
    job = Job([sys.executable, "-c", code])
    job.start()
    job.wait(20)
    orphan = int(pidfile.read_text())
    assert not gone(orphan)
    job.finish()
    deadline = time.monotonic() + 10
    while not gone(orphan) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(orphan)
