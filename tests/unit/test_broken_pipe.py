"""`torchenv COMMAND | head`: a reader that leaves early ends every command quietly, exit 0.

The child's stdout is a pipe whose read end is closed before the child writes, so every write fails
with EPIPE: inside rich (which raises SystemExit(1) by itself), in a plain write, and at interpreter
exit (block-buffered stdout, flushed last).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

COMMANDS = {
    "doctor": ["doctor", "--no-torch"],  # rich, then the doctor's flushed os._exit
    "doctor-json": ["doctor", "--no-torch", "--json"],
    "explain": ["explain", "CUDA error: no kernel image is available for execution on the device"],
    "plan": ["plan", "--gpu", "H100", "--driver", "580.65.06"],  # a plain sys.stdout.write
    "help": ["--help"],  # argparse
}


@pytest.mark.parametrize("buffered", [True, False], ids=["block-buffered", "unbuffered"])
@pytest.mark.parametrize("name", list(COMMANDS))
def test_closed_stdout_exits_0_without_a_traceback(name, buffered):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "TORCHENV_DEBUG")}
    env["PYTHONPATH"] = str(SRC)
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    child = subprocess.Popen(
        [sys.executable, "-m", "torchenv", *COMMANDS[name]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    child.stdout.close()  # the reader left (`| head -0`) before anything was written
    try:
        stderr = child.stderr.read().decode()
        code = child.wait(timeout=60)
    finally:
        child.kill()
        child.wait()
    assert code == 0, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr and "BrokenPipe" not in stderr
    assert "internal error" not in stderr


def test_a_reader_that_reads_one_line_then_leaves(tmp_path):
    """`torchenv doctor --no-torch | head -1`, through a real shell pipe (racy by nature: the pipe
    may or may not break; either way exit 0 and nothing on stderr but torchenv's own lines)."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    script = f"set -o pipefail; {sys.executable} -m torchenv doctor --no-torch 2>err.txt | head -1 >/dev/null"
    done = subprocess.run(["bash", "-c", script], env=env, cwd=tmp_path, timeout=60)
    stderr = (tmp_path / "err.txt").read_text()
    assert done.returncode == 0, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
