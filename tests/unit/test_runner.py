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


def test_records_are_kept_whatever_is_printed_around_them():
    code = (
        "import sys\n"
        "print('@@rec@@ first')\n"
        "sys.stdout.write('x' * 6_000_000 + '\\n')\n"  # one 6 MB line of noise
        "print('@@rec@@ second')\n"
        "sys.stderr.write('noise\\n' * 1_000_000); sys.stderr.write('the real error\\n')\n"
    )
    result = Runner().run([PY, "-c", code], 30, records=("@@rec@@ ",))
    records = [line for line in result.stdout.splitlines() if line.startswith("@@rec@@ ")]
    assert records == ["@@rec@@ first", "@@rec@@ second"]
    assert result.output_bytes >= 6_000_000 + 6_000_000 and result.dropped_bytes > 0
    assert len(result.stdout) < 5_000_000 and len(result.stderr) < 5_000_000  # noise is capped
    assert result.stderr.strip().splitlines()[-1] == "the real error"  # the tail is kept


def test_kill_children_stops_a_child_running_in_another_thread():
    import threading

    from torchenv.probes.runner import kill_children, running_children

    results = []
    thread = threading.Thread(
        target=lambda: results.append(Runner().run([PY, "-c", "import time; time.sleep(60)"], 60))
    )
    began = time.monotonic()
    thread.start()
    while not running_children() and time.monotonic() - began < 10:
        time.sleep(0.01)
    assert kill_children() == 1
    thread.join(5)
    assert results and results[0].error == "interrupted" and time.monotonic() - began < 5
    refused = Runner().run([PY, "-c", "pass"], 5)  # no child starts once interrupted...
    assert refused.error == "interrupted"
    from torchenv.probes.runner import interrupts

    with interrupts(exit_on_second=False):  # ...until the next command
        pass
    assert Runner().run([PY, "-c", "pass"], 5).ok


# --- started early (the doctor's torch probe) ------------------------------------------------------


def test_a_prestarted_child_is_handed_to_the_run_asking_for_it():
    import sys as _sys

    from torchenv.probes.runner import Prestarted, Runner, running_children

    argv = [_sys.executable, "-c", "print('early')"]
    started = Runner().start(argv, env={"PATH": "/usr/bin:/bin"}, cwd="/")
    runner = Prestarted(started)
    other = runner.run([_sys.executable, "-c", "print('other')"], 10, env={"PATH": "/usr/bin:/bin"}, cwd="/")
    assert other.stdout.strip() == "other"  # a different argv runs as usual
    result = runner.run(argv, 10, env={"PATH": "/usr/bin:/bin"}, cwd="/")
    assert result.ok and result.stdout.strip() == "early"
    assert runner.started is None and started.proc.pid not in running_children()


def test_a_prestarted_child_nobody_asked_for_is_killed_and_its_timeout_counts_from_its_start():
    import sys as _sys
    import time as _time

    from torchenv.probes.runner import Prestarted, Runner, running_children

    slow = Runner().start([_sys.executable, "-c", "import time; time.sleep(60)"])
    runner = Prestarted(slow)
    runner.discard()
    assert slow.proc.pid not in running_children()
    assert slow.proc.poll() is not None

    began = _time.monotonic()
    started = Runner().start([_sys.executable, "-c", "import time; time.sleep(60)"])
    _time.sleep(0.3)
    result = started.result(0.5)
    assert result.timed_out and _time.monotonic() - began < 3.0


def test_no_nvml_child_without_an_nvidia_kernel_interface(tmp_path):
    from torchenv.probes.gpu import nvidia_interface_present

    assert not nvidia_interface_present(tmp_path)
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "nvidia3").write_text("")
    assert nvidia_interface_present(tmp_path)
    (tmp_path / "dev" / "nvidia3").unlink()
    (tmp_path / "sys/module/nvidia").mkdir(parents=True)
    assert nvidia_interface_present(tmp_path)
