"""Runs one monitoring session end to end: NVML opened, the command started (or a PID attached),
samples taken in a thread until it ends, the report built. The world is injected (nvml, /proc,
clock); the CLI passes the real ones and the presentation callbacks.

The sampler thread is a daemon: if NVML wedges inside a call, the job still ends, the summary is
still printed (with a note), and the process still exits.
"""

from __future__ import annotations

import datetime
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from .. import __version__
from ..probes.runner import Interrupted
from .launch import Job, forward_signals
from .model import MonitorReport, Sample
from .nvml import NvmlSampler
from .procs import ProcReader
from .session import Monitor
from .steps import ENV as STEPS_ENV
from .steps import main_marks, parse_marks
from .summary import build_report, overhead_from

Relay = Callable[[str, str], None]  # (stream "stdout" | "stderr", text of one line)


@dataclass(frozen=True)
class Options:
    command: tuple[str, ...] = ()
    attach_pid: int | None = None
    interval_s: float = 1.0
    fast: bool = False
    window_s: float = 10.0
    gpus: tuple[int, ...] | None = None
    grace_s: float = 10.0  # after the first Ctrl-C, how long the command may take to wind down
    duration_s: float | None = None  # stop after this long (the command gets SIGTERM, then SIGKILL)
    stdout_to_stderr: bool = False  # the command's stdout goes to our stderr (stdout carries JSON/CSV)
    relay: Relay | None = None  # the live view prints the command's output above itself
    steps_file: str | None = None  # --attach: the file the job's torchenv.step() writes (its env var)
    profile: str = "torchenv profile -- COMMAND"


@dataclass
class Outcome:
    report: MonitorReport
    samples: list[Sample]
    exit_code: int  # what torchenv monitor exits with
    notes: list[str] = field(default_factory=list)


def _now_iso() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="milliseconds")


def _pump(stream, name: str, relay: Relay) -> None:
    pending = b""
    try:
        for chunk in iter(lambda: os.read(stream.fileno(), 65536), b""):
            pending += chunk
            *lines, pending = pending.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
            for line in lines:
                relay(name, line.decode("utf-8", "replace"))
        if pending:
            relay(name, pending.decode("utf-8", "replace"))
    except (OSError, ValueError):
        pass
    except Exception:  # a broken renderer must not block the job on a full pipe
        try:
            while os.read(stream.fileno(), 65536):
                pass
        except (OSError, ValueError):
            pass


def run(
    options: Options,
    *,
    nvml,
    procs: ProcReader | None = None,
    clock: Callable[[], float] = time.monotonic,
    sinks: Sequence[Callable[[Sample], None]] = (),
    on_update: Callable[[Monitor], None] | None = None,
    on_start: Callable[[Monitor], None] | None = None,
    environ: Mapping[str, str] | None = None,
    update_every_s: float = 0.5,
) -> Outcome:
    """Raises NvmlUnavailable before anything starts, LaunchError when the command cannot start."""
    procs = procs or ProcReader()
    sampler = NvmlSampler(nvml, gpus=options.gpus)
    started_at = _now_iso()
    try:
        infos = sampler.open(clock())
    except BaseException:
        sampler.close()
        raise
    folder = tempfile.mkdtemp(prefix="torchenv-monitor-")
    try:
        return _run(
            options,
            sampler,
            infos,
            folder,
            procs,
            clock,
            sinks,
            on_update,
            on_start,
            environ,
            update_every_s,
            started_at,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(
    options, sampler, infos, folder, procs, clock, sinks, on_update, on_start, environ, update_every_s, started_at
) -> Outcome:
    monitor = Monitor(sampler, procs, infos, interval_s=options.interval_s, fast=options.fast, clock=clock, sinks=sinks)
    steps_path = options.steps_file or os.path.join(folder, "steps")
    job = None
    notes: list[str] = []
    if options.command:
        monitor.take_baseline()
        env = dict(environ if environ is not None else os.environ)
        env[STEPS_ENV] = steps_path
        if options.relay is not None:
            env.setdefault("PYTHONUNBUFFERED", "1")  # through a pipe Python would hold its output back
        stdout = subprocess.PIPE if options.relay is not None else None
        if options.stdout_to_stderr and options.relay is None:
            stdout = 2  # the fd: our stderr
        job = Job(options.command, env=env, stdout=stdout, stderr=subprocess.PIPE if options.relay else None)
    cpu0 = time.process_time()
    stop = threading.Event()
    status = "ok"
    exit_code = 0
    second_signal = None
    thread = None
    relays: list[threading.Thread] = []
    t0 = clock()
    try:
        with forward_signals(job, options.grace_s, clock=clock) as signals:
            try:
                if job is not None:
                    job.start()
                    signals.deliver()
                t0 = clock()
                started_at = _now_iso()  # the wall-clock time of t_s = 0 (to line up with other tools)
                monitor.begin(job.pid if job is not None else options.attach_pid, t0)
                if on_start is not None:
                    on_start(monitor)
                thread = threading.Thread(target=monitor.run, args=(stop,), name="torchenv-sampler", daemon=True)
                thread.start()
                if job is not None and options.relay is not None:
                    for stream, name in ((job.proc.stdout, "stdout"), (job.proc.stderr, "stderr")):
                        reader = threading.Thread(target=_pump, args=(stream, name, options.relay), daemon=True)
                        reader.start()
                        relays.append(reader)
                _wait(options, job, procs, monitor, signals, clock, t0, on_update, update_every_s)
            except Interrupted as exc:  # a second signal: the job is already killed
                second_signal = exc.signum
            if signals.stopping:
                status = "interrupted"
    finally:
        stop.set()
        if job is not None and job.poll() is None:
            job.kill()
        if job is not None:
            job.wait(timeout=5.0)
            job.finish()
        if thread is not None:
            thread.join(timeout=max(2.0, 2 * monitor.interval_s))
            if thread.is_alive():
                notes.append("NVML stopped answering: the sampler was left behind, the last samples are missing")
        for reader in relays:
            reader.join(timeout=1.0)
        sampler_gone = thread is not None and thread.is_alive()
        if not sampler_gone:
            sampler.close()
    wall = clock() - t0
    process_cpu = time.process_time() - cpu0
    if job is not None:
        exit_code = job.exit_code if job.exit_code is not None else 1
    if second_signal is not None:
        exit_code = 128 + second_signal
    marks = []
    try:
        with open(steps_path, encoding="utf-8", errors="replace") as handle:
            marks = main_marks(parse_marks(handle.read()), t0)
    except OSError:
        pass
    samples, events = monitor.kept()
    notes += _notes(monitor, sampler, options)
    overhead = overhead_from(monitor.cpu_costs, monitor.interval_s, process_cpu, wall, monitor.late_ticks)
    infos = [_with_unsupported(info, sampler) for info in monitor.infos]
    report = build_report(
        torchenv_version=__version__,
        infos=infos,
        samples=samples,
        events=events,
        marks_s=[m for m in marks if m >= -1.0],
        duration_s=wall,
        interval_s=monitor.interval_s,
        fast=options.fast,
        window_s=options.window_s,
        command=options.command,
        attach_pid=options.attach_pid,
        exit_code=job.exit_code if job is not None else None,
        status=status,
        started_at=started_at,
        overhead=overhead,
        attribution=monitor.attribution,
        ambiguous=frozenset(monitor.ambiguous),
        notes=notes,
        profile=options.profile,
    )
    return Outcome(report, samples, exit_code, notes)


def _wait(options, job, procs, monitor, signals, clock, t0, on_update, update_every_s) -> None:
    last_update = 0.0
    terminated = False
    while True:
        if job is not None and job.poll() is not None:
            return
        if job is None and (signals.stopping or not procs.alive(options.attach_pid)):
            return
        now = clock()
        if options.duration_s is not None and now - t0 >= options.duration_s:
            if job is None:
                return
            if not terminated:  # the time is up: ask the command to stop, as a scheduler would
                terminated = True
                job.signal(signal.SIGTERM)
                signals.deadline = now + options.grace_s
        if signals.overdue() and job is not None and job.poll() is None:
            job.kill()
        monitor.new_sample.wait(timeout=0.2)
        monitor.new_sample.clear()
        if on_update is not None and clock() - last_update >= update_every_s:
            last_update = clock()
            try:
                on_update(monitor)
            except Exception:  # the live view is decoration: never the reason a job is lost
                on_update = None


def _with_unsupported(info, sampler: NvmlSampler):
    from dataclasses import replace

    return replace(info, unsupported={**info.unsupported, **sampler.unsupported().get(info.index, {})})


def _notes(monitor: Monitor, sampler: NvmlSampler, options: Options) -> list[str]:
    notes = []
    if monitor.attribution_note:
        notes.append(monitor.attribution_note)
    if monitor.error:
        notes.append(monitor.error)
    if monitor.store.stride > 1:
        notes.append(
            f"{monitor.store.seen} samples taken; every {monitor.store.stride}th kept for the summary and the plot "
            "(the streams have them all)"
        )
    no_gpm = [str(i.index) for i in monitor.infos if not i.gpm]
    if no_gpm:
        notes.append(
            f"GPU {', '.join(no_gpm)}: no GPM counters, so SM active, occupancy, tensor and DRAM activity are n/a on "
            "this GPU; kernel-busy (utilization.gpu) only says that some kernel ran"
        )
    if sampler.events_note:
        notes.append(sampler.events_note)
    failing = {k: v for k, v in sampler.errors.items() if v >= 3}
    if failing:
        notes.append("NVML errors while sampling: " + ", ".join(f"{k} ×{v}" for k, v in sorted(failing.items())))
    if options.stdout_to_stderr and options.command:
        notes.append("the command's stdout went to stderr, so that stdout carries only torchenv's output")
    return notes
