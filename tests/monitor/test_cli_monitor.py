"""`torchenv monitor` end to end, as a user runs it: a real command, the CLI in its own process, and
the fake NVML standing in for nvidia-ml-py (tests/monitor/fake_pynvml on PYTHONPATH)."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from testsupport import SRC

from .helpers import FAKE_PYNVML, RECORDINGS

pytestmark = pytest.mark.slow


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[1][0] in "ZX"
    except OSError:
        return True


def env_for(recording: str = "h200-gemm", **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TORCHENV_")}
    env["PYTHONPATH"] = os.pathsep.join([str(FAKE_PYNVML), str(SRC)])
    env["FAKE_NVML_RECORDING"] = str(RECORDINGS / f"{recording}.json")
    env["FAKE_NVML_SPEED"] = "10"  # the recordings' 30 s in 3 s
    env.update(extra)
    return env


def monitor(*args: str, recording: str = "h200-gemm", timeout: float = 120, **extra):
    return subprocess.run(
        [sys.executable, "-m", "torchenv", "monitor", *args],
        capture_output=True,
        text=True,
        env=env_for(recording, **extra),
        timeout=timeout,
    )


def test_json_summary_and_the_exit_code_passed_through():
    code = "import torchenv, time, sys\nfor _ in range(10):\n    torchenv.step(); time.sleep(0.1)\nprint('out'); sys.exit(3)"
    done = monitor("--json", "--interval", "0.1", "--", sys.executable, "-c", code)
    assert done.returncode == 3, done.stderr
    data = json.loads(done.stdout)  # stdout is only the JSON: the command's 'out' went to stderr
    assert data["kind"] == "torchenv.monitor" and data["schema_version"] == 1
    assert data["exit_code"] == 3 and data["samples"] >= 3
    assert data["steps"]["count"] == 10
    assert data["attribution"] == "pid"  # the fake lists the command's real PID
    assert {v["finding"]["id"] for v in data["verdicts"]} >= {"compute-bound"}
    assert "out" in done.stderr
    assert data["overhead"]["sampler_cpu_ms_per_sample"] is not None


def test_the_terminal_summary_goes_to_stderr_and_the_command_keeps_stdout():
    done = monitor(
        "--no-live",
        "--interval",
        "0.1",
        "--",
        sys.executable,
        "-c",
        "import time; print('hi'); time.sleep(0.5)",
        recording="a100-no-gpm",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "hi\n"
    assert "torchenv monitor: sampling GPU 0 (NVIDIA A100-SXM4-80GB, no GPM)" in done.stderr
    assert "n/a on this GPU" in done.stderr and "sampler overhead:" in done.stderr


def test_streams_and_the_html_plot(tmp_path):
    out = {name: tmp_path / name for name in ("s.csv", "s.jsonl", "plot.html")}
    done = monitor(
        "--no-live",
        "--interval",
        "0.1",
        "--csv",
        str(out["s.csv"]),
        "--jsonl",
        str(out["s.jsonl"]),
        "--html",
        str(out["plot.html"]),
        "--",
        sys.executable,
        "-c",
        "import time; time.sleep(0.8)",
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(out["s.csv"].open()))
    lines = out["s.jsonl"].read_text().splitlines()
    assert len(rows) == len(lines) >= 4
    assert json.loads(lines[-1])["kind"] == "torchenv.monitor.sample"
    html = out["plot.html"].read_text()
    assert "<svg" in html and "<script" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched: no CDN


def test_csv_to_stdout():
    done = monitor(
        "--no-live",
        "--interval",
        "0.1",
        "--csv",
        "-",
        "--",
        sys.executable,
        "-c",
        "import time; print('noise'); time.sleep(0.5)",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("t_s,gpu,kernel_busy_pct,") and "noise" not in done.stdout


def test_ctrl_c_goes_to_the_command_then_the_summary_comes(tmp_path):
    ready = tmp_path / "ready"
    code = (
        "import signal, sys, time\n"
        "def stop(s, f):\n    print('saving checkpoint', file=sys.stderr); sys.exit(130)\n"
        f"signal.signal(signal.SIGINT, stop)\nopen({str(ready)!r}, 'w').close()\ntime.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "torchenv", "monitor", "--json", "--interval", "0.1", "--", sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(),
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.poll() else ""
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    data = json.loads(out)
    assert data["status"] == "interrupted" and data["exit_code"] == 130
    assert "saving checkpoint" in err


def test_a_second_ctrl_c_kills_the_group(tmp_path):
    pidfile = tmp_path / "pid"
    code = (
        "import os, signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        f"open({str(pidfile)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "torchenv", "monitor", "--json", "--interval", "0.1", "--", sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(),
    )
    deadline = time.monotonic() + 60
    while not (pidfile.exists() and pidfile.read_text()):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    child = int(pidfile.read_text())
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert proc.poll() is None  # the command ignores it; the monitor waits (grace)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert json.loads(out)["status"] == "interrupted"
    assert gone(child)


def test_attach_with_a_duration():
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        done = monitor("--json", "--attach", str(sleeper.pid), "--duration", "0.6", "--interval", "0.1")
    finally:
        sleeper.kill()
        sleeper.wait()
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["attach_pid"] == sleeper.pid and data["exit_code"] is None and data["samples"] >= 3


def test_no_nvml_is_one_line_and_the_command_never_runs(tmp_path):
    marker = tmp_path / "ran"
    done = monitor("--", sys.executable, "-c", f"open({str(marker)!r}, 'w')", FAKE_NVML_INIT_ERROR="9")
    assert done.returncode == 2
    assert done.stderr.strip() == "torchenv: monitor: cannot read the GPUs: NVML: Driver Not Loaded"
    assert not marker.exists()


def test_a_command_that_does_not_exist_exits_127():
    done = monitor("--no-live", "--", "/nonexistent/train")
    assert done.returncode == 127
    assert done.stderr.strip() == "torchenv: monitor: /nonexistent/train: command not found"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((), "nothing to monitor"),
        (("--attach", "1", "--", "true"), "not both"),
        (("--attach", "999999999"), "no such process"),
        (("--json", "--csv", "-", "--", "true"), "only one of them can have stdout"),
        (("--interval", "0", "--", "true"), "--interval"),
        (("--gpus", "a,b", "--", "true"), "--gpus"),
        (("--html", "/nonexistent/dir/x.html", "--", "true"), "--html"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args, words):
    done = monitor(*args)
    assert done.returncode == 2
    assert words in done.stderr and "Traceback" not in done.stderr


def test_help_lists_monitor_and_the_cli_never_imports_torch_or_pynvml():
    code = (
        "import sys; from torchenv.cli.main import main; rc = main(['monitor', '--help'])\n"
        "bad = [m for m in ('torch', 'pynvml', 'rich') if m in sys.modules]; assert not bad, bad"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env_for(), timeout=60)
    assert done.returncode == 0, done.stderr
    assert "--attach PID" in done.stdout and "--fast" in done.stdout
    top = subprocess.run(
        [sys.executable, "-m", "torchenv", "--help"], capture_output=True, text=True, env=env_for(), timeout=60
    )
    assert "monitor" in top.stdout


def test_the_live_view_on_a_terminal_relays_the_command_output(tmp_path):
    import pty

    leader, follower = pty.openpty()
    code = "import time\nfor i in range(6):\n    print('line', i, flush=True); time.sleep(0.15)\n"
    proc = subprocess.Popen(
        [sys.executable, "-m", "torchenv", "monitor", "--interval", "0.1", "--", sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=follower,
        env=env_for(TERM="xterm", COLUMNS="120"),
    )
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    out, _ = proc.communicate(timeout=60)
    os.close(leader)
    assert proc.returncode == 0
    assert out.decode().splitlines() == [f"line {i}" for i in range(6)]  # stdout is a pipe: relayed untouched
    text = screen.decode("utf-8", "replace")
    assert "GPU 0 · NVIDIA H200" in text and "kernel-busy" in text  # the live panel was drawn
    assert "sampler overhead:" in text  # then the summary


def test_the_json_and_html_path_needs_neither_rich_nor_torch():
    code = (
        "import sys, torchenv.monitor.run, torchenv.render.monitor_html, torchenv.render.monitor_json, torchenv.cli.monitor\n"
        "bad = [m for m in ('torch', 'pynvml', 'rich') if m in sys.modules]; assert not bad, bad"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env_for(), timeout=60)
    assert done.returncode == 0, done.stderr
