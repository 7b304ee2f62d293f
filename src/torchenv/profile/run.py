"""`torchenv profile WORKLOAD`: the perf worker runtime's profile plan captures the workload's steps
in the target interpreter; the trace is analysed here as soon as the worker says it is written;
the fixes torchenv can apply itself are sent back to the waiting worker, which re-measures the step
with each of them (the same engine as tune's trials). A worker that fails comes back as one line."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..model.errors import ProblemFound
from ..model.perf_records import Capture, Fatal, Record, Remeasure, SectionError
from ..model.profile import ProfileReport, Remeasured


class NotWired(Exception):
    """A capture torchenv cannot run as asked (a bad `-- COMMAND`): the CLI turns this into a UsageError."""


@dataclass(frozen=True, slots=True)
class ScriptCommand:
    """`-- python [-u] train.py ARGS…` or `-- python -m module ARGS…`, decoded."""

    python: str  # the interpreter (the command's own `python`, resolved on PATH)
    script: str | None  # absolute path of the script
    module: str | None  # or the module of `-m`
    argv: tuple[str, ...]  # the script's sys.argv: (train.py, ARGS…)
    cwd: str  # the user's working directory: the script runs there

    @property
    def display(self) -> str:
        if self.module:
            return " ".join(("python", "-m", self.module, *self.argv[1:]))
        return " ".join(("python", *self.argv))


@dataclass(frozen=True, slots=True)
class CaptureSpec:
    """What to capture: a workload spec (as for `tune`) or a command, and the schedule."""

    workload: str | None  # "resnet50", "path/to/file.py:factory"
    command: tuple[str, ...] = ()  # `profile -- python train.py ...`
    python: str | None = None  # the target interpreter (None: this one)
    device: str = "auto"
    steps: int = 5
    warmup: int = 2
    trace_out: str | None = None  # where to keep the raw trace (for Perfetto)
    timeout_s: float | None = None  # the worker's deadline (None: the default of the kind)
    remeasure: bool = True  # re-measure the fixes torchenv can apply (--no-remeasure: False)
    remeasure_timeout_s: float | None = None  # a script's re-runs share this deadline (None: the default)


# The fixes a finding can be answered with by torchenv itself, as knob changes (tune's knobs). The
# rest (a sync in the user's code, a pageable copy, a DataLoader) are code changes the finding names.
FIXES = {
    "profile-fp32-no-tensor-cores": ({"tf32": True}, {"amp": "bf16"}),
    "profile-unfused-optimizer": ({"optimizer": "foreach"}, {"optimizer": "fused"}),
}
GRACE_S = 120.0  # torch import, the workload, the capture's export
SCRIPT_TIMEOUT_S = 900.0  # a user's script: its own setup (data, model) comes before the steps
STEP_ENV = "TORCHENV_PROFILE"  # set for the script: it runs under `torchenv profile`
SCRIPT_REMEASURE_S = 300.0  # a script's re-runs (the baseline and each fix) share this deadline
SCRIPT_REMEASURE_MIN_STEPS = 10  # timed steps per re-run at least (no profiler: cheap)
MIN_RUN_S = 5.0  # a re-run is not started with less time than this left


class CaptureFailed(ProblemFound):
    """The worker could not capture the workload (exit 1): one line saying why."""


def fixes_for(report: ProfileReport, caps: dict) -> list[tuple[dict, tuple[str, ...]]]:
    """(config, finding ids) for each fix torchenv can apply to this workload, in findings' order."""
    wanted: dict[str, list[str]] = {}
    order: list[dict] = []
    for found in report.findings:
        for config in FIXES.get(found.finding.id, ()):
            key = json.dumps(config, sort_keys=True)
            if not _applicable(config, caps):
                continue
            if key not in wanted:
                wanted[key] = []
                order.append(config)
            wanted[key].append(found.finding.id)
    return [(c, tuple(wanted[json.dumps(c, sort_keys=True)])) for c in order]


def _applicable(config: dict, caps: dict) -> bool:
    if "tf32" in config:
        return bool(caps.get("tf32"))
    if "amp" in config:
        return bool(caps.get(config["amp"]))
    if "optimizer" in config:
        return not caps.get("plain_step") and bool(caps.get(config["optimizer"]))
    return False


def remeasured(records: Sequence[Record | dict], fixes: list[tuple[dict, tuple[str, ...]]]) -> tuple[Remeasured, ...]:
    """The worker's `remeasure` records (the baseline first) as Remeasured, gains against the baseline.
    Typed records (perf_records); wire dicts are decoded on entry."""
    from ..perf.stats import compare_times, summarize

    rows = [r for r in _typed(records) if isinstance(r, Remeasure)]
    if not rows:
        return ()
    base = rows[0]
    base_time = summarize(base.samples_s) if base.status == "ok" and base.samples_s else None
    out = []
    for row, (config, ids) in zip(rows[1:], fixes, strict=False):  # a worker cut short sends fewer
        label = str(row.label or config)
        if row.status != "ok" or not row.samples_s:
            out.append(Remeasured(label, config, ids, "failed", reason=row.reason or "no samples"))
            continue
        time = summarize(row.samples_s)
        gain = base_time.median / time.median if base_time else None
        verdict = compare_times(time, base_time) if base_time else None
        out.append(
            Remeasured(
                label,
                config,
                ids,
                "ok",
                step_ms=time.median * 1000.0,
                baseline_ms=base_time.median * 1000.0 if base_time else None,
                gain=gain,
                verdict=verdict,
            )
        )
    return tuple(out)


PYTHON_NAME = re.compile(r"^python(\d+(\.\d+)*)?t?(\.exe)?$")
IGNORED_FLAGS = ("-u", "-B")  # unbuffered output, no .pyc: no effect on the profile


def parse_command(
    command: tuple[str, ...] | list[str],
    python: str | None = None,
    *,
    cwd: str | None = None,
    which=shutil.which,
    exists=os.path.isfile,
) -> ScriptCommand:
    """Decode `profile -- COMMAND`: the interpreter, the script (or -m module) and its argv.
    Raises NotWired with one line for anything but a Python script."""
    cwd = cwd or os.getcwd()
    words = list(command)
    if not words:
        raise NotWired("profile --: no command after --")
    head = os.path.basename(words[0])
    if PYTHON_NAME.match(head):
        found = words[0] if os.sep in words[0] else which(words[0])
        if not found:
            raise NotWired(f"profile -- {words[0]}: not found on PATH")
        found = os.path.abspath(os.path.join(cwd, found))
        if python and os.path.abspath(python) != found:
            raise NotWired(f"profile: --python {python} and -- {words[0]}: give the interpreter once")
        interpreter, rest = found, words[1:]
    elif head.endswith(".py"):
        interpreter, rest = python or sys.executable, words
    else:
        raise NotWired(
            f"profile -- {words[0]}: give a Python script (`-- python train.py ARGS`); launchers such as "
            "torchrun or accelerate are not supported yet: profile one process with `-- python train.py`"
        )
    while rest and rest[0] in IGNORED_FLAGS:
        rest = rest[1:]
    if rest and rest[0] == "-m":
        if len(rest) < 2:
            raise NotWired("profile -- python -m: no module name")
        return ScriptCommand(interpreter, None, rest[1], (rest[1], *rest[2:]), cwd)
    if not rest or rest[0].startswith("-"):
        what = rest[0] if rest else "nothing"
        raise NotWired(f"profile -- python: expected a script (train.py) or -m module, got {what}")
    script = os.path.abspath(os.path.join(cwd, rest[0]))
    if not exists(script):
        raise NotWired(f"profile -- python {rest[0]}: no such file")
    return ScriptCommand(interpreter, script, None, tuple(rest), cwd)


def source_roots(spec: CaptureSpec, script: ScriptCommand | None) -> tuple[str, ...]:
    """The folders the capture's python file names are relative to (Kineto strips the sys.path
    entry a file was found under): the script's folder and the working directory, or the
    factory file's folder for `file.py:factory`."""
    if script is not None:
        return tuple(r for r in (os.path.dirname(script.script) if script.script else None, script.cwd) if r)
    workload = spec.workload or ""
    path = workload.rsplit(":", 1)[0] if ":" in workload else ""
    return (os.path.dirname(os.path.abspath(path)),) if path.endswith(".py") else ()


def script_argv(python: str, spec: CaptureSpec, script: ScriptCommand, trace: Path) -> list[str]:
    from ..perf.run import WORKER_SCRIPT

    target = ["--script", script.script] if script.script else ["--module", str(script.module)]
    return [
        python, str(WORKER_SCRIPT), "profile", *target, "--script-argv", json.dumps(list(script.argv)),
        "--cwd", script.cwd, "--device", "cpu", "--steps", str(spec.steps), "--warmup", str(spec.warmup),
        "--trace", str(trace),
    ]  # fmt: skip
    # --device cpu: the runtime leaves CUDA alone before the script; the script picks its own device


def profile_argv(python: str, spec: CaptureSpec, trace: Path, word: Path) -> list[str]:
    from ..perf.run import WORKER_SCRIPT

    return [
        python, str(WORKER_SCRIPT), "profile", str(spec.workload), "--device", spec.device,
        "--steps", str(spec.steps), "--warmup", str(spec.warmup), "--trace", str(trace),
        "--remeasure-from", str(word),
    ]  # fmt: skip


def capture_and_analyse(spec: CaptureSpec, *, torchenv_version: str = "", runner=None) -> ProfileReport:
    """Capture `spec` in a worker, analyse the trace, re-measure the fixes torchenv can apply: for a
    WORKLOAD in the same worker (tune's engine), for a script by running it again in fresh
    processes, timing only, the baseline first and each fix beside it (remeasure_script)."""
    from ..perf.run import describe_worker_failure, run_worker, say_word, worker_environment
    from ..probes.runner import Runner
    from .analysis import analyse

    script = parse_command(spec.command, spec.python) if spec.command else None
    folder = Path(tempfile.mkdtemp(prefix="torchenv-profile-"))
    trace = Path(spec.trace_out) if spec.trace_out else folder / "trace.pt.trace.json.gz"
    word = folder / "fixes"
    state: dict = {}

    def on_typed(record: Record) -> None:
        if not isinstance(record, Capture) or "report" in state:
            return
        summary, caps = record.summary or {}, record.caps or {}
        device = summary.get("device") or {}
        precision = summary.get("precision") or {}
        try:
            report = analyse(
                summary.get("trace_path") or str(trace),
                device.get("total_memory_bytes"),
                device.get("cc"),
                tf32=precision.get("cuda_matmul_allow_tf32"),
                torchenv_version=torchenv_version,
                source_roots=source_roots(spec, script),
            )
        except Exception as exc:
            state["error"] = f"the captured trace could not be analysed: {exc}"
            say_word(word, "stop")
            return
        state["report"], state["fixes"] = report, (fixes_for(report, caps) if spec.remeasure else [])
        say_word(word, json.dumps({"configs": [c for c, _ in state["fixes"]]}))

    if script is not None:
        argv = script_argv(script.python, spec, script, trace)
        timeout = spec.timeout_s or SCRIPT_TIMEOUT_S
        env = dict(worker_environment(), **{STEP_ENV: "1"})
    else:
        argv = profile_argv(spec.python or sys.executable, spec, trace, word)
        timeout = spec.timeout_s or GRACE_S + 60.0 * max(1, len(FIXES))
        env = None
    run = run_worker(runner or Runner(), argv, timeout=timeout, on_typed=on_typed, env=env)
    try:
        if "report" not in state:
            raise CaptureFailed(
                state.get("error") or _stopped(run) or describe_worker_failure(run) or "the worker sent no trace"
            )
        report = state["report"]
        extra = dict(report.extra)
        capture = next((r for r in run.typed if isinstance(r, Capture)), Capture())
        notes = list(report.notes)
        if script is not None:
            summary = capture.summary or {}
            extra["command"] = script.display
            extra["stepping"] = str(summary.get("stepping") or "")
            got, wanted = summary.get("steps"), summary.get("requested_steps")
            if isinstance(got, int) and isinstance(wanted, int) and got < wanted:
                notes.append(f"the script ended after {got} recorded steps of the {wanted} asked for (--steps)")
            if summary.get("stepping") == "optimizer.step()":
                notes.append(
                    "steps were counted at optimizer.step() (the script never calls torchenv.step()); "
                    "add torchenv.step() at the end of each step to mark them yourself"
                )
        else:
            extra["workload"] = str(capture.description or "")
        if spec.trace_out:
            extra["trace_kept"] = str(trace)
        records: list[Record] = list(run.typed)
        if script is not None and state["fixes"]:
            records, cut = remeasure_script(runner or Runner(), spec, script, state["fixes"], folder, env)
            notes.extend(cut)
        return replace(report, remeasured=remeasured(records, state["fixes"]), extra=extra, notes=tuple(notes))
    finally:
        for leftover in (word, word.with_name(word.name + ".tmp"), *folder.glob("remeasure-*.json")):
            leftover.unlink(missing_ok=True)  # the trace itself stays, for Perfetto


def remeasure_argv(python: str, spec: CaptureSpec, script: ScriptCommand, config_file: Path) -> list[str]:
    """A timing-only re-run of the script with the fix in `config_file` (no profiler, no trace)."""
    steps = max(spec.steps, SCRIPT_REMEASURE_MIN_STEPS)
    argv = script_argv(python, replace(spec, steps=steps), script, config_file.with_suffix(".unused.json.gz"))
    return [*argv, "--remeasure-from", str(config_file)]


def remeasure_script(
    runner, spec: CaptureSpec, script: ScriptCommand, fixes: list, folder: Path, env: dict | None, *, clock=None
) -> tuple[list[Remeasure], list[str]]:
    """Runs the script again in a fresh process per config — the baseline first, then each fix —
    timing only, all under one deadline. Returns the `remeasure` rows (one per run, in that order;
    a run that failed, was cut by the deadline or never started gets a failed row) and notes."""
    import time

    from ..perf.run import describe_worker_failure, run_worker

    clock = clock or time.monotonic
    budget = spec.remeasure_timeout_s or SCRIPT_REMEASURE_S
    deadline = clock() + budget
    rows: list[Remeasure] = []
    notes: list[str] = []
    configs = [{}] + [c for c, _ in fixes]
    for i, config in enumerate(configs):
        name = "the baseline" if not config else _label(config)
        left = deadline - clock()
        if i > 0 and rows[0].status != "ok":
            rows.append(_failed(config, f"the baseline re-run failed ({rows[0].reason}): nothing to compare with"))
            continue
        if left < MIN_RUN_S:
            rows.append(_failed(config, f"not run: the re-runs' deadline ({budget:g} s) had passed"))
            notes.append(f"re-measure: {name} was not run, the re-runs' deadline ({budget:g} s) had passed")
            continue
        config_file = folder / f"remeasure-{i}.json"
        config_file.write_text(json.dumps({"config": config}), encoding="utf-8")
        run = run_worker(runner, remeasure_argv(script.python, spec, script, config_file), timeout=left, env=env)
        row = next((r for r in run.typed if isinstance(r, Remeasure)), None)
        if row is None:
            cut = run.seconds >= left - 1.0
            why = (
                f"cut: the re-runs' deadline ({budget:g} s) passed"
                if cut
                else describe_worker_failure(run) or "the re-run sent no timing"
            )
            row = _failed(config, why)
            if cut:
                notes.append(f"re-measure: {name} was cut, the re-runs' deadline ({budget:g} s) passed")
        rows.append(row)
    return rows, notes


def _label(config: dict) -> str:
    return {"tf32": "TF32", "optimizer": "foreach optimizer"}.get(next(iter(config), ""), json.dumps(config))


def _failed(config: dict, reason: str) -> Remeasure:
    return Remeasure(config=config, label=_label(config) if config else "the script as it is", status="failed",
                     reason=reason)  # fmt: skip


def _typed(records: Sequence[Record | dict]) -> tuple[Record, ...]:
    from ..model.perf_records import decode

    return tuple(decode(r) if isinstance(r, dict) else r for r in records)


def _stopped(run) -> str | None:
    """Why the worker stopped, from its first fatal or section-error record."""
    for record in run.typed:
        if isinstance(record, Fatal):
            return f"{record.stage}: {record.error}"
        if isinstance(record, SectionError):
            return f"{record.section}: {record.error}"
    return None
