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

from torchenv.perf._worker import plan_script
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
    assert report.remeasured == ()  # a script's step is the user's code: nothing to re-measure


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
