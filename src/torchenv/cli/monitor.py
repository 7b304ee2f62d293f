"""Wiring of `torchenv monitor`: arguments, the real NVML and /proc, the live view, the streams and
the reports. Never imports torch; pynvml and rich only once the command runs."""

from __future__ import annotations

import argparse
import os
import sys

from .common import absolute, check_report_path, require_seconds, write_report
from .errors import UsageError
from .exit_codes import ExitCode


def register(commands) -> None:
    monitor = commands.add_parser(
        "monitor",
        help="watch what the GPU really does while a command runs, with verdicts",
        description="Run COMMAND (or watch a running PID) and sample NVML: kernel-busy (utilization.gpu), "
        "SM active, occupancy, tensor and DRAM activity (GPM, Hopper and newer), memory, power against the "
        "limit, energy, SM clock against the maximum with the decoded clock event (throttle) reasons, PCIe "
        "and NVLink traffic, temperature and faults, per GPU and for the command's own processes. At the end: "
        "verdicts over windows (launch-bound, input-bound, power- or thermal-capped, memory-bound, tensor cores "
        "idle, memory creeping up, another process on the GPU) with the evidence and the next command. Exits "
        "with the command's exit code.",
        usage="torchenv monitor [options] -- COMMAND [ARG ...]\n       torchenv monitor [options] --attach PID",
    )
    monitor.add_argument("--attach", type=int, metavar="PID", help="watch a running process instead of starting one")
    monitor.add_argument("--fast", action="store_true", help="sample at 10 Hz (GPM, energy, clocks; the rest at 1 Hz)")
    monitor.add_argument("--interval", type=float, default=1.0, metavar="SECONDS", help="sampling interval (default 1)")
    monitor.add_argument("--window", type=float, default=10.0, metavar="SECONDS", help="verdict window (default 10)")
    monitor.add_argument("--gpus", metavar="LIST", help="comma-separated GPU indexes (NVML order; default: all)")
    monitor.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long")
    monitor.add_argument(
        "--grace",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="after Ctrl-C, how long the command may take to stop before its process group is killed (default 10)",
    )
    monitor.add_argument("--json", action="store_true", help="print the summary as JSON (kind torchenv.monitor)")
    monitor.add_argument("--csv", metavar="FILE", help="stream every sample as CSV rows (one per GPU; - for stdout)")
    monitor.add_argument("--jsonl", metavar="FILE", help="stream every sample as a JSON line (- for stdout)")
    monitor.add_argument("--html", metavar="FILE", help="write a self-contained HTML plot of every series")
    monitor.add_argument(
        "--steps-file",
        metavar="FILE",
        help="with --attach: the file the job's torchenv.step() writes (start the job with TORCHENV_MONITOR_STEPS=FILE)",
    )
    monitor.add_argument("--no-live", action="store_true", help="no live view: the command keeps the terminal")
    monitor.add_argument("-v", "--verbose", action="store_true", help="explain every verdict; list rules not judged")
    # dest "argv": "command" is the top-level parser's name for the subcommand
    monitor.add_argument("argv", nargs=argparse.REMAINDER, metavar="COMMAND", help="the command to run, after --")
    monitor.set_defaults(run=run_monitor)


def _gpus(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise UsageError(f"--gpus {text}: not a list of GPU indexes") from None
    if not values or any(v < 0 for v in values):
        raise UsageError(f"--gpus {text}: not a list of GPU indexes")
    return tuple(dict.fromkeys(values))


def _profile_hint() -> str:
    from .main import COMMAND_MODULES

    if "profile" in COMMAND_MODULES:
        return "torchenv profile -- COMMAND"
    return "torch.profiler (a few steps under torch.profiler.profile, the table sorted by CUDA time)"


def parse_options(args: argparse.Namespace):
    from ..monitor.run import Options

    command = list(args.argv or [])
    if command and command[0] == "--":
        command = command[1:]
    if args.attach is not None and command:
        raise UsageError("give a COMMAND or --attach PID, not both")
    if args.attach is None and not command:
        raise UsageError("nothing to monitor: torchenv monitor -- COMMAND ... or torchenv monitor --attach PID")
    if args.attach is not None:
        if args.attach <= 0 or args.attach == os.getpid():
            raise UsageError(f"--attach {args.attach}: not a process to watch")
        if not os.path.isdir(f"/proc/{args.attach}"):
            raise UsageError(f"--attach {args.attach}: no such process")
    require_seconds(args.interval, "--interval")
    require_seconds(args.window, "--window")
    require_seconds(args.grace, "--grace")
    if args.duration is not None:
        require_seconds(args.duration, "--duration")
    to_stdout = [
        flag
        for flag, value in (("--json", args.json), ("--csv -", args.csv == "-"), ("--jsonl -", args.jsonl == "-"))
        if value
    ]
    if len(to_stdout) > 1:
        raise UsageError(f"{' and '.join(to_stdout)}: only one of them can have stdout")
    for path, flag in ((args.csv, "--csv"), (args.jsonl, "--jsonl"), (args.html, "--html")):
        check_report_path(absolute(path), flag)
    return Options(
        command=tuple(command),
        attach_pid=args.attach,
        interval_s=args.interval,
        fast=args.fast,
        window_s=args.window,
        gpus=_gpus(args.gpus),
        grace_s=args.grace,
        duration_s=args.duration,
        stdout_to_stderr=bool(to_stdout),
        steps_file=absolute(args.steps_file),
        profile=_profile_hint(),
    )


class _Stream:
    """A --csv/--jsonl sink: opened before the run, one write and flush per sample."""

    def __init__(self, path: str, header: str | None, line):
        self.handle = sys.stdout if path == "-" else open(path, "w", encoding="utf-8")  # noqa: SIM115
        self.line = line
        self.broken = False
        if header:
            self.handle.write(header)

    def __call__(self, sample) -> None:
        if self.broken:
            return
        try:
            self.handle.write(self.line(sample))
            self.handle.flush()
        except (OSError, ValueError):
            self.broken = True  # a closed pipe (| head): stop writing, keep monitoring

    def close(self) -> None:
        if self.handle is not sys.stdout:
            try:
                self.handle.close()
            except OSError:
                pass


def run_monitor(args: argparse.Namespace) -> int:
    options = parse_options(args)
    from ..monitor.launch import LaunchError
    from ..monitor.nvml import NvmlUnavailable, load_nvml
    from ..monitor.run import run
    from ..render.monitor_json import csv_header, csv_lines, jsonl_line

    try:
        nvml = load_nvml()
    except NvmlUnavailable as exc:
        raise UsageError(f"monitor: cannot read the GPUs: {exc}") from None
    streams = []
    try:
        if args.csv:
            streams.append(_Stream(absolute(args.csv), csv_header(), csv_lines))
        if args.jsonl:
            streams.append(_Stream(absolute(args.jsonl), None, jsonl_line))
    except OSError as exc:
        for s in streams:
            s.close()
        raise UsageError(f"cannot write {exc.filename}: {exc.strerror}") from None

    live = _Live.maybe(options, enabled=not args.no_live and not args.json and sys.stderr.isatty())
    if live is not None:
        from dataclasses import replace

        options = replace(options, relay=live.relay)
    try:
        with live if live is not None else _Nothing():
            outcome = run(
                options,
                nvml=nvml,
                sinks=streams,
                on_update=live.update if live is not None else None,
                on_start=(live.start if live is not None else _announce(options, args.json)),
            )
    except NvmlUnavailable as exc:
        raise UsageError(f"monitor: cannot read the GPUs: {exc}") from None
    except LaunchError as exc:
        print(f"torchenv: monitor: {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        for s in streams:
            s.close()
    report = outcome.report
    if args.html:
        from ..render.monitor_html import render_monitor_html

        write_report(absolute(args.html), render_monitor_html(report, outcome.samples), "--html")
    if args.json:
        from ..render.monitor_json import render_monitor_json

        sys.stdout.write(render_monitor_json(report) + "\n")
        sys.stdout.flush()
    else:
        from rich.console import Console

        from ..render.monitor_terminal import render_monitor_summary

        render_monitor_summary(report, Console(stderr=True, highlight=False), verbose=args.verbose)
    return outcome.exit_code if report.command else ExitCode.OK


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _announce(options, quiet: bool):
    def start(monitor) -> None:
        if quiet:
            return
        gpus = ", ".join(f"{i.index} ({i.name}{'' if i.gpm else ', no GPM'})" for i in monitor.infos)
        rate = "10 Hz" if options.fast else f"{1 / options.interval_s:g} Hz"
        what = "Ctrl-C stops the command" if options.command else "Ctrl-C stops watching"
        print(f"torchenv monitor: sampling GPU {gpus} at {rate}; {what}", file=sys.stderr, flush=True)

    return start


class _Live:
    """The rich live view on stderr, with the command's output relayed above it."""

    def __init__(self, options):
        from rich.console import Console

        self.options = options
        self.console = Console(stderr=True, highlight=False)
        self.out_console = Console(file=sys.stdout, highlight=False) if sys.stdout.isatty() else None
        self.live = None
        self.command = " ".join(options.command) if options.command else f"PID {options.attach_pid}"

    @classmethod
    def maybe(cls, options, *, enabled: bool):
        return cls(options) if enabled else None

    def __enter__(self):
        from rich.live import Live
        from rich.text import Text

        self.live = Live(
            Text("torchenv monitor: starting…"),
            console=self.console,
            auto_refresh=False,
            transient=True,
            redirect_stdout=False,  # stdout is the command's: never drawn through the live view
            redirect_stderr=False,
        )
        self.live.start()
        return self

    def __exit__(self, *exc):
        if self.live is not None:
            self.live.stop()
        return False

    def start(self, monitor) -> None:
        self.update(monitor)

    def update(self, monitor) -> None:
        from ..render.monitor_terminal import render_live

        samples, _ = monitor.kept()
        elapsed = samples[-1].t_s if samples else 0.0
        self.live.update(
            render_live(monitor.infos, samples[-60:], command=self.command, elapsed_s=elapsed), refresh=True
        )

    def relay(self, stream: str, line: str) -> None:
        from rich.text import Text

        if stream == "stdout" and self.options.stdout_to_stderr is False and self.out_console is None:
            sys.stdout.write(line + "\n")  # stdout is a file or a pipe: the bytes go there, untouched
            sys.stdout.flush()
            return
        self.live.console.print(Text(line), soft_wrap=True)
