import sys
import time

from torchenv.probes.runner import Runner

PY = sys.executable


def test_runs_and_captures_output():
    result = Runner().run([PY, "-c", "print('hello'); import sys; print('oops', file=sys.stderr)"], 10)
    assert result.ok
    assert result.stdout.strip() == "hello"
    assert "oops" in result.stderr


def test_missing_program_is_data_not_exception():
    result = Runner().run(["/nonexistent/tool"], 5)
    assert result.error == "not found"
    assert result.returncode is None
    assert "not found" in result.describe_failure()


def test_timeout_kills_the_whole_process_group_in_time():
    # The child starts a grandchild that would hold the pipes open for a minute.
    code = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    began = time.monotonic()
    result = Runner().run([PY, "-c", code], 1.0)
    elapsed = time.monotonic() - began
    assert result.timed_out
    assert result.returncode is None
    assert elapsed < 3.0
    assert "did not answer" in result.describe_failure()


def test_signal_death_is_named():
    result = Runner().run([PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"], 10)
    assert result.signal == "SIGSEGV"
    assert "SIGSEGV" in result.describe_failure()


def test_non_utf8_output_is_replaced_not_raised():
    result = Runner().run([PY, "-c", "import sys; sys.stdout.buffer.write(b'ok \\xff\\xfe garbage\\n')"], 10)
    assert result.ok
    assert "ok" in result.stdout and "\ufffd" in result.stdout


def test_lines_stream_to_the_callback():
    seen = []
    Runner().run([PY, "-c", "print('a'); print('b')"], 10, on_line=seen.append)
    assert [s.strip() for s in seen] == ["a", "b"]
