"""The sampling loop on a real clock, the kept samples, step marks, and the whole run() on a real child."""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys
import threading
import time

import pytest

from torchenv.monitor.model import GpuSample, Sample
from torchenv.monitor.nvml import NvmlSampler, NvmlUnavailable
from torchenv.monitor.procs import ProcReader
from torchenv.monitor.run import Options, run
from torchenv.monitor.session import Monitor, SampleStore
from torchenv.monitor.steps import ENV, main_marks, parse_marks, step

from .fake_nvml import NVML_ERROR_DRIVER_NOT_LOADED, FakeNvml
from .helpers import recording


def test_the_loop_keeps_to_its_schedule_and_counts_late_ticks():
    nvml = FakeNvml(recording("h200-gemm"), pids={"job": 1})
    sampler = NvmlSampler(nvml)
    infos = sampler.open(time.monotonic())
    monitor = Monitor(sampler, ProcReader(), infos, interval_s=0.02)
    monitor.begin(os.getpid(), time.monotonic())
    stop = threading.Event()
    thread = threading.Thread(target=monitor.run, args=(stop,), daemon=True)
    thread.start()
    time.sleep(0.5)
    stop.set()
    thread.join(timeout=2)
    assert not thread.is_alive()
    samples, _ = monitor.kept()
    assert 10 <= len(samples) <= 27  # at most one per 20 ms slot
    slots = [math.floor(s.t_s / 0.02 + 0.01) for s in samples]  # a tick starts within its own 20 ms slot
    assert len(set(slots)) == len(slots)  # never two in a slot, however late one ran
    assert monitor.cpu_costs and all(c >= 0 for c in monitor.cpu_costs)
    sampler.close()


def test_a_tick_that_overruns_its_slot_is_counted_late():
    class Slow(FakeNvml):
        def nvmlDeviceGetUtilizationRates(self, handle):
            time.sleep(0.05)
            return super().nvmlDeviceGetUtilizationRates(handle)

    sampler = NvmlSampler(Slow(recording("h200-gemm"), pids={"job": 1}))
    infos = sampler.open(time.monotonic())
    monitor = Monitor(sampler, ProcReader(), infos, interval_s=0.01)
    monitor.begin(None, time.monotonic())
    stop = threading.Event()
    thread = threading.Thread(target=monitor.run, args=(stop,), daemon=True)
    thread.start()
    time.sleep(0.3)
    stop.set()
    thread.join(timeout=2)
    assert monitor.late_ticks > 0


def test_a_failing_metric_is_none_and_a_failing_sampler_ends_sampling_with_a_note():
    class Broken(FakeNvml):
        def nvmlDeviceGetClockInfo(self, handle, clock):
            raise RuntimeError("driver went away")

    sampler = NvmlSampler(Broken(recording("h200-gemm"), pids={"job": 1}))
    sampler.open(time.monotonic())
    (g,), _, _ = sampler.read(time.monotonic())
    assert g.sm_clock_mhz is None and g.kernel_busy_pct is not None

    class Raising(NvmlSampler):
        def read(self, now, full=True):
            raise RuntimeError("boom")

    raising = Raising(FakeNvml(recording("h200-gemm")))
    infos = raising.open(time.monotonic())
    monitor = Monitor(raising, ProcReader(), infos, interval_s=0.01)
    monitor.begin(None, time.monotonic())
    monitor.run(threading.Event())  # returns instead of raising
    assert monitor.error == "sampling stopped: RuntimeError: boom"


def test_the_store_keeps_every_sample_then_every_other_one():
    store = SampleStore(limit=8)
    for i in range(40):
        store.add(Sample(t_s=float(i), gpus=(GpuSample(index=0),)))
    assert len(store.samples) <= 8 and store.stride == 8
    times = [s.t_s for s in store.samples]
    assert times == sorted(times) and times[0] == 0.0
    assert len({round(b - a) for a, b in itertools.pairwise(times)}) == 1  # evenly spaced


def test_step_writes_a_mark_only_under_the_monitor(tmp_path, monkeypatch):
    path = tmp_path / "steps"
    step()  # no variable: nothing happens
    assert not path.exists()
    monkeypatch.setenv(ENV, str(path))
    before = time.monotonic()
    step()
    step()
    marks = parse_marks(path.read_text())
    assert len(marks) == 2 and all(pid == os.getpid() and t >= before for t, pid in marks)


def test_step_marks_from_a_child_process_and_torn_lines(tmp_path):
    path = tmp_path / "steps"
    code = "import torchenv\nfor _ in range(3): torchenv.step()\n"
    env = dict(os.environ, **{ENV: str(path)})
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    text = path.read_text() + "12.5\nnot a mark\n"
    marks = parse_marks(text)
    assert len(marks) == 3
    assert main_marks([*marks, (marks[0][0], 1)], origin=marks[0][0])[0] == 0.0


def test_main_marks_follow_the_busiest_process():
    marks = [(10.0, 7), (11.0, 7), (12.0, 7), (10.5, 9)]
    assert main_marks(marks, origin=10.0) == [0.0, 1.0, 2.0]
    assert main_marks([], origin=0.0) == []


# --- run(): the whole session on a real child, with the fake NVML --------------------------------


def test_run_passes_the_exit_code_through_and_reads_the_steps():
    code = "import torchenv, time\nfor _ in range(4):\n    torchenv.step(); time.sleep(0.05)\nraise SystemExit(3)\n"
    nvml = FakeNvml(recording("h200-gemm"))
    outcome = run(Options(command=(sys.executable, "-c", code), interval_s=0.05), nvml=nvml)
    assert outcome.exit_code == 3 and outcome.report.exit_code == 3 and outcome.report.status == "ok"
    assert outcome.report.steps is not None and outcome.report.steps.count == 4
    assert outcome.report.samples >= 2
    assert nvml.calls["nvmlShutdown"] == 1


def test_run_gives_128_plus_the_signal_when_the_command_dies_of_one():
    outcome = run(
        Options(
            command=(sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"), interval_s=0.05
        ),
        nvml=FakeNvml(recording("h200-gemm")),
    )
    assert outcome.exit_code == 143


def test_duration_stops_the_command_with_sigterm():
    start = time.monotonic()
    outcome = run(
        Options(
            command=(sys.executable, "-c", "import time; time.sleep(60)"), interval_s=0.05, duration_s=0.4, grace_s=5.0
        ),
        nvml=FakeNvml(recording("h200-gemm")),
    )
    assert time.monotonic() - start < 10
    assert outcome.exit_code == 143


def test_run_relays_the_output_when_asked():
    lines = []
    code = "import sys; print('hello'); print('to err', file=sys.stderr); print('a\\rb', end='')"
    run(
        Options(command=(sys.executable, "-c", code), interval_s=0.05, relay=lambda s, t: lines.append((s, t))),
        nvml=FakeNvml(recording("h200-gemm")),
    )
    assert ("stdout", "hello") in lines and ("stderr", "to err") in lines
    assert ("stdout", "a") in lines and ("stdout", "b") in lines


def test_run_attached_ends_when_the_process_does():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.6)"])
    try:
        outcome = run(Options(attach_pid=proc.pid, interval_s=0.05), nvml=FakeNvml(recording("h200-gemm")))
    finally:
        proc.wait(timeout=10)
    assert outcome.report.attach_pid == proc.pid and outcome.report.exit_code is None
    assert outcome.exit_code == 0 and outcome.report.samples >= 3


def test_run_does_not_start_the_command_when_nvml_cannot_start(tmp_path):
    marker = tmp_path / "ran"
    with pytest.raises(NvmlUnavailable):
        run(
            Options(command=(sys.executable, "-c", f"open({str(marker)!r}, 'w')")),
            nvml=FakeNvml(recording("h200-gemm"), init_error=NVML_ERROR_DRIVER_NOT_LOADED),
        )
    assert not marker.exists()
