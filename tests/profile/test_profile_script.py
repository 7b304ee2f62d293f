"""`torchenv profile -- python train.py ARGS…`: the command decoded (pure), the stepping rules
(explicit torchenv.step() over the optimizer hook, one optimizer counted, the stop), the step
module registered for the script, then unmodified scripts captured end to end on CPU torch."""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from pathlib import Path

import pytest

from torchenv.perf._worker import plan_script, plan_script_remeasure
from torchenv.profile.run import CaptureSpec, NotWired, capture_and_analyse, parse_command

SCRIPTS = Path(__file__).parent.parent / "fixtures" / "profile" / "scripts"


# ----------------------------------------------------------------------------- the command
def _which(name):
    return {"python": "/env/bin/python", "python3.11": "/env/bin/python3.11"}.get(name)


def _parse(*words, python=None):
    return parse_command(words, python, cwd="/work", which=_which, exists=lambda p: p.startswith("/work/"))


def test_a_script_with_its_arguments():
    got = _parse("python", "-u", "train.py", "--lr", "0.1")
    assert (got.python, got.script, got.module) == ("/env/bin/python", "/work/train.py", None)
    assert got.argv == ("train.py", "--lr", "0.1") and got.cwd == "/work"
    assert got.display == "python train.py --lr 0.1"


def test_a_module_and_a_bare_script():
    got = _parse("python3.11", "-m", "pkg.train", "x")
    assert (got.python, got.module, got.argv) == ("/env/bin/python3.11", "pkg.train", ("pkg.train", "x"))
    assert got.display == "python -m pkg.train x"
    bare = _parse("train.py", "a", python="/other/python")
    assert bare.python == "/other/python" and bare.argv == ("train.py", "a")


@pytest.mark.parametrize(
    ("words", "python", "message"),
    [
        (("torchrun", "--nproc_per_node=2", "train.py"), None, "launchers such as torchrun"),
        (("python", "-c", "print(1)"), None, "expected a script"),
        (("python",), None, "expected a script"),
        (("python", "/elsewhere/train.py"), None, "no such file"),
        (("python", "train.py"), "/other/python", "give the interpreter once"),
        (("python9", "train.py"), None, "not found on PATH"),
    ],
)
def test_anything_but_a_python_script_is_one_line(words, python, message):
    with pytest.raises(NotWired, match=message):
        _parse(*words, python=python)


# ----------------------------------------------------------------------------- stepping
class FakeProfiler:
    def __init__(self):
        self.started = False
        self.steps = 0

    def start(self):
        self.started = True

    def step(self):
        assert self.started
        self.steps += 1


def _stepper(warmup=1, steps=2):
    prof, done = FakeProfiler(), []
    return plan_script.Stepper(prof, warmup, steps, lambda: done.append(prof.steps)), prof, done


def test_the_first_optimizer_that_steps_is_the_step_clock():
    stepper, prof, done = _stepper(warmup=1, steps=2)
    generator, discriminator = object(), object()
    stepper.optimizer_hook(generator, (), {})  # its first step: the next iteration is the first step
    stepper.optimizer_hook(discriminator, (), {})  # a second optimizer: not a clock
    assert not prof.started and stepper.mode == "optimizer.step()"
    stepper.optimizer_hook(generator, (), {})  # the profiler starts: the setup was no step
    stepper.optimizer_hook(discriminator, (), {})
    assert prof.started and prof.steps == 0
    stepper.optimizer_hook(generator, (), {})
    stepper.optimizer_hook(generator, (), {})
    assert prof.steps == 2 and not done
    with pytest.raises(plan_script.CaptureDone):
        stepper.optimizer_hook(generator, (), {})
    assert done == [3] and stepper.done and len(stepper.wall) == 3
    stepper.optimizer_hook(generator, (), {})  # after the capture: nothing
    assert prof.steps == 3


def test_explicit_steps_take_over_without_counting_a_boundary_twice():
    stepper, prof, done = _stepper(warmup=1, steps=3)
    opt = object()
    stepper.optimizer_hook(opt, (), {})  # iteration 1: optimizer.step() ...
    stepper.explicit_step()  # ... then torchenv.step(): the profiler starts here
    assert prof.started and prof.steps == 0 and stepper.mode == "torchenv.step()"
    for _ in range(3):
        stepper.optimizer_hook(opt, (), {})  # ignored from now on
        stepper.explicit_step()
    assert prof.steps == 3
    with pytest.raises(plan_script.CaptureDone):
        stepper.explicit_step()
    assert done == [4]


def test_a_forked_child_does_not_step(monkeypatch):
    stepper, prof, _ = _stepper()
    monkeypatch.setattr(plan_script.os, "getpid", lambda: -1)
    stepper.explicit_step()
    stepper.optimizer_hook(object(), (), {})
    assert not prof.started and stepper.mode is None


def test_torchenv_step_reaches_the_runtime_hook(monkeypatch):
    import torchenv

    calls = []
    monkeypatch.setitem(sys.modules, plan_script.HOOK_MODULE, types.SimpleNamespace(step=lambda: calls.append(1)))
    torchenv.step()
    assert calls == [1]
    monkeypatch.delitem(sys.modules, plan_script.HOOK_MODULE)
    torchenv.step()  # outside torchenv profile: a no-op
    assert calls == [1]


def test_a_stand_in_torchenv_only_where_torchenv_is_not_importable(monkeypatch):
    calls = []
    real = sys.modules["torchenv"]
    monkeypatch.setitem(sys.modules, plan_script.HOOK_MODULE, None)
    assert plan_script.install_step_module(lambda: calls.append("x")) is True
    assert sys.modules["torchenv"] is real  # the real one is left alone
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    monkeypatch.setitem(sys.modules, "torchenv", real)
    assert plan_script.install_step_module(lambda: calls.append("y")) is False
    stand_in = sys.modules["torchenv"]
    assert stand_in is not real and [n for n in vars(stand_in) if not n.startswith("__")] == ["step"]
    stand_in.step()
    sys.modules[plan_script.HOOK_MODULE].step()
    assert calls == ["y", "y"]


def test_the_error_points_at_the_script_line():
    def fail():
        raise ValueError("boom")

    try:
        fail()
    except ValueError as exc:
        assert plan_script.where_raised(exc, os.path.abspath(__file__)).startswith("test_profile_script.py:")


# ----------------------------------------------------------------------------- end to end (CPU torch)
def _capture(*words, steps=3, warmup=1):
    spec = CaptureSpec(workload=None, command=("python", *words), steps=steps, warmup=warmup, timeout_s=90)
    return capture_and_analyse(spec, torchenv_version="test")


@pytest.mark.torch
def test_a_script_with_torchenv_step_is_stopped_after_its_steps():
    pytest.importorskip("torch")
    report = _capture(str(SCRIPTS / "train_explicit.py"), steps=2)
    assert len(report.steps) == 2 and report.extra["stepping"] == "torchenv.step()"
    assert report.extra["command"].endswith("train_explicit.py")
    trace = _trace(report)
    for mark in trace.steps:  # each window is one iteration: both optimizers' steps, counted once
        inside = [a for a in trace.annotations if a.name == "Optimizer.step#SGD.step" and mark.ts <= a.ts < mark.end]
        assert len(inside) == 2, (mark.name, len(inside))
    assert report.remeasured == ()  # two small SGDs: no finding torchenv could answer by itself


@pytest.mark.torch
def test_an_unmodified_script_is_stepped_at_optimizer_step(tmp_path):
    pytest.importorskip("torch")
    report = _capture(str(SCRIPTS / "train_auto.py"), "--lr", "0.05", "--tag", "x", steps=2, warmup=0)
    assert len(report.steps) == 2 and report.extra["stepping"] == "optimizer.step()"
    assert any("optimizer.step()" in n for n in report.notes)
    trace = _trace(report)
    for mark in trace.steps:  # a window ends right after optimizer.step(): one Adam step in each
        inside = [
            a for a in trace.annotations if a.name.startswith("Optimizer.step#Adam") and mark.ts <= a.ts < mark.end
        ]
        assert len(inside) == 1, (mark.name, len(inside))


def _trace(report):
    from torchenv.profile.trace import read_trace

    return read_trace(report.files[0]).traces[0]


@pytest.mark.torch
@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("train_raises.py", "script: train_raises.py:12: ValueError: the data ran out at step 1"),
        ("train_nostep.py", "the script ended without a step boundary: call torchenv.step()"),
    ],
)
def test_a_failing_or_stepless_script_is_one_line_exit_1(capsys, script, words):
    pytest.importorskip("torch")
    from torchenv.cli.main import main

    assert main(["profile", "--timeout", "90", "--", "python", str(SCRIPTS / script)]) == 1
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and "Traceback" not in err


def test_the_runtime_files_keep_python_3_8_syntax():
    import ast

    folder = Path(plan_script.__file__).parent
    for name in ("plan_script.py", "profiling.py", "plan_profile.py", "entry.py"):
        ast.parse((folder / name).read_text(), filename=name, feature_version=(3, 8))


# ----------------------------------------------------------------------------- re-measure a script
@pytest.mark.torch
def test_a_scripts_fixes_are_re_measured_in_fresh_processes_on_cpu():
    pytest.importorskip("torch")
    report = _capture(str(SCRIPTS / "train_foreach.py"), steps=3, warmup=1)
    (opt,) = [f for f in report.findings if f.finding.id == "profile-unfused-optimizer"]
    assert opt.source == "<module>() at train_foreach.py:19"  # optimizer.step(), not the frame's line
    # CPU: TF32 does not apply; the foreach optimizer is switched on at the optimizer's first step
    (row,) = report.remeasured
    assert row.fix == "foreach optimizer" and row.config == {"optimizer": "foreach"}
    assert row.status == "ok", row.reason
    assert row.baseline_ms > 0 and row.step_ms > 0 and row.gain and row.verdict in ("faster", "slower", "unclear")
    assert row.for_findings == ("profile-unfused-optimizer",)


@pytest.mark.torch
def test_no_remeasure_skips_the_re_runs():
    pytest.importorskip("torch")
    spec = CaptureSpec(workload=None, command=("python", str(SCRIPTS / "train_foreach.py")), steps=2, warmup=1,
                       timeout_s=90, remeasure=False)  # fmt: skip
    report = capture_and_analyse(spec, torchenv_version="test")
    assert "profile-unfused-optimizer" in [f.finding.id for f in report.findings] and report.remeasured == ()


@pytest.mark.torch
def test_foreach_is_switched_on_in_every_param_group_at_the_first_step():
    torch = pytest.importorskip("torch")
    params = [torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))]
    opt = torch.optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.1}], lr=0.01, foreach=False)
    switch = plan_script_remeasure.Foreach()
    handle = plan_script_remeasure._optimizer_pre_hook(switch)
    try:
        for p in params:
            p.grad = torch.ones(2)
        opt.step()
    finally:
        handle.remove()
    assert [g["foreach"] for g in opt.param_groups] == [True, True] and switch.switched == 2
    assert all(not g.get("fused") for g in opt.param_groups)  # never fused


class _Result:
    def __init__(self, records, seconds, returncode=0):
        import json as _json

        self.stdout = "".join(f"@@torchenv-bench@@ {_json.dumps(r)}\n" for r in records)
        self.stderr, self.seconds, self.returncode = "", seconds, returncode
        self.error, self.argv, self.timed_out = None, ("python",), returncode is None

    @property
    def ok(self):
        return self.returncode == 0

    def describe_failure(self):
        return "timed out" if self.timed_out else f"exited with {self.returncode}"


class _Runner:
    """Answers each re-run from a list; `clock` advances by each run's seconds."""

    def __init__(self, answers, clock):
        self.answers, self.clock, self.calls = list(answers), clock, []

    def run(self, argv, timeout, **kwargs):
        self.calls.append((argv, timeout))
        records, seconds, code = self.answers.pop(0)
        self.clock.now += min(seconds, timeout)
        return _Result(records, min(seconds, timeout), code if seconds <= timeout else None)


class _Clock:
    now = 0.0

    def __call__(self):
        return self.now


def _row(config, ms):
    return {"event": "remeasure", "config": config, "label": "x", "status": "ok", "samples_s": [ms / 1000] * 10}


FIXES = [
    ({"tf32": True}, ("profile-fp32-no-tensor-cores",)),
    ({"optimizer": "foreach"}, ("profile-unfused-optimizer",)),
]


def _remeasure(answers, tmp_path, budget=100.0):
    from torchenv.profile.run import remeasure_script

    clock = _Clock()
    runner = _Runner(answers, clock)
    spec = CaptureSpec(workload=None, steps=5, warmup=2, remeasure_timeout_s=budget)
    script = parse_command(("python", str(SCRIPTS / "train_foreach.py")))
    rows, notes = remeasure_script(runner, spec, script, FIXES, tmp_path, None, clock=clock)
    return rows, notes, runner


def test_the_baseline_runs_first_then_each_fix_timing_only(tmp_path):
    from torchenv.profile.run import remeasured

    done = {"event": "done"}
    rows, notes, runner = _remeasure(
        [([_row({}, 10), done], 3, 0), ([_row({"tf32": True}, 5), done], 3, 0), ([_row({"optimizer": "foreach"}, 8), done], 3, 0)],
        tmp_path,
    )  # fmt: skip
    assert [r.config for r in rows] == [{}, {"tf32": True}, {"optimizer": "foreach"}] and notes == []
    for argv, _ in runner.calls:
        assert "--remeasure-from" in argv and argv[argv.index("--steps") + 1] == "10"  # at least 10 timed steps
    timeouts = [t for _, t in runner.calls]
    assert timeouts == [100.0, 97.0, 94.0]  # one shared deadline
    tf32, foreach = remeasured(rows, FIXES)
    assert tf32.gain == pytest.approx(2.0) and foreach.gain == pytest.approx(1.25)


def test_a_run_cut_by_the_deadline_and_the_runs_after_it_are_said(tmp_path):
    from torchenv.profile.run import remeasured

    rows, notes, runner = _remeasure([([_row({}, 10)], 30, 0), ([], 500, 0)], tmp_path, budget=60.0)
    assert len(runner.calls) == 2  # the third never starts: no time left
    tf32, foreach = remeasured(rows, FIXES)
    assert tf32.status == "failed" and "cut" in tf32.reason
    assert foreach.status == "failed" and "not run" in foreach.reason
    assert any("TF32 was cut" in n for n in notes) and any("foreach optimizer was not run" in n for n in notes)


def test_a_failed_baseline_stops_the_comparison(tmp_path):
    from torchenv.profile.run import remeasured

    failed = {"event": "remeasure", "config": {}, "label": "x", "status": "failed", "reason": "train.py:3: boom"}
    rows, _, runner = _remeasure([([failed], 1, 0)], tmp_path)
    assert len(runner.calls) == 1
    assert all(r.status == "failed" and "baseline" in r.reason for r in remeasured(rows, FIXES))
