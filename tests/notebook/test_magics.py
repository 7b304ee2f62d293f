"""The %torchenv magic and its HTML, without a kernel (the real kernel is in test_real_kernel.py)."""

from __future__ import annotations

import html
import re
import sys
from dataclasses import replace

import pytest

import torchenv
from testsupport import load_h100_facts
from torchenv.checks import diagnose
from torchenv.model import Finding, Severity
from torchenv.notebook import load_ipython_extension
from torchenv.notebook.html import render_doctor_html, render_kernels_html, render_plan_html
from torchenv.notebook.kernels import InstallEnv, InterpreterRow, KernelsReport
from torchenv.notebook.magics import USAGE, _command, run_magic
from torchenv.planners import describe_target, plan_for
from torchenv.probes.runner import RunResult


def text_of(page: str) -> str:
    """The text a reader sees: tags dropped, entities decoded, runs of spaces made one."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


@pytest.mark.parametrize(
    "line, words",
    [
        ("", "%torchenv doctor"),
        ("help", "%torchenv kernels"),
        ("frobnicate", "%torchenv bench --quick"),
        ("doctor --timeout 0", "--timeout must be a positive number of seconds"),
        ("doctor --bogus", "unrecognized arguments: --bogus"),
        ('doctor "unterminated', "No closing quotation"),
        ("plan --cc 99.9", "%torchenv plan"),
    ],
)
def test_usage_and_argument_errors_are_shown_in_the_cell(line, words):
    page = run_magic(line)
    assert words in text_of(page)


def test_doctor_html_for_the_h100(knowledge):
    report = diagnose(load_h100_facts(), knowledge, torchenv_version="test")
    page = render_doctor_html(report, verbose=True)
    shown = text_of(page)
    assert "HEALTHY · CUDA usable" in shown and report.summary in shown
    assert "/opt/torch/.venv/bin/python" in shown and "2.11.0+cu130 (CUDA 13.0)" in shown
    for finding in report.findings:
        assert f"[{finding.id}]" in shown
    assert "checks skipped" in shown


def test_every_value_is_escaped(knowledge):
    report = diagnose(load_h100_facts(), knowledge, torchenv_version="test")
    evil = Finding(
        id="x",
        category="other",
        severity=Severity.ERROR,
        layer="torch",
        title="<script>alert(1)</script>",
        evidence=("a & b",),
        explanation="<b>not bold</b>",
        fix="rm -rf '<'",
    )
    page = render_doctor_html(replace(report, findings=(evil,), verdict="broken"))
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;not bold" in page
    assert "BROKEN" in page


def test_plan_html_gives_the_pip_magic_for_this_kernel(knowledge):
    plan = plan_for(describe_target(knowledge, gpus=["H100"], driver="580.95.05", python="3.12"), knowledge)
    shown = text_of(render_plan_html(plan, python="/k/bin/python"))
    assert f"%pip install torch=={plan.torch}" in shown
    assert f"/k/bin/python -m pip install torch=={plan.torch}" in shown
    impossible = plan_for(describe_target(knowledge, gpus=["RTX 5090"], driver="470.82.01"), knowledge)
    assert "CANNOT BE MET" in text_of(render_plan_html(impossible, python="/k/bin/python"))


def test_kernels_html():
    row = InterpreterRow(
        "kernel",
        "old",
        "Python (old)",
        "/old/bin/python",
        "/old",
        "3.10.1",
        "not installed",
        "broken",
        "Broken: torch is not installed",
        False,
    )
    report = KernelsReport(InstallEnv("/w/bin/python", "pip on PATH"), (row,), None, (), ("/k",), ("a note",))
    shown = text_of(render_kernels_html(report))
    assert "You install into /w/bin/python (pip on PATH)" in shown
    assert "old (Python (old))" in shown and "Broken: torch is not installed" in shown and "a note" in shown


class FakeRunner:
    def __init__(self, page: str | None = "<html><body><h1>bench</h1></body></html>"):
        self.page = page
        self.calls = []

    def run(self, argv, timeout, env=None, **kwargs):
        self.calls.append((list(argv), env))
        if self.page is not None and "--html" in argv:
            with open(argv[argv.index("--html") + 1], "w") as handle:
                handle.write(self.page)
        return RunResult(tuple(argv), 0, "matmul fp32 ... done", "", 1.0)


def test_bench_runs_the_cli_in_this_interpreter_and_shows_its_html():
    runner = FakeRunner()
    page = run_magic("bench --quick", runner=runner)
    ((argv, env),) = runner.calls
    assert argv[:5] == [sys.executable, "-m", "torchenv", "bench", "--quick"] and argv[5] == "--html"
    assert env["PYTHONPATH"].split(":")[0] == str(__import__("pathlib").Path(torchenv.__file__).parents[1])
    assert '<iframe srcdoc="&lt;html&gt;&lt;body&gt;&lt;h1&gt;bench' in page
    assert "matmul fp32 ... done" in text_of(page)


def test_monitor_passes_its_arguments_through():
    runner = FakeRunner(page=None)
    page = run_magic("monitor --seconds 5", runner=runner)
    ((argv, _),) = runner.calls
    assert argv[3:] == ["monitor", "--seconds", "5"]
    assert "torchenv monitor (exit 0)" in text_of(page)


def test_a_command_this_torchenv_lacks():
    page = _command("nonexistent", [], sys.executable, FakeRunner(), 5.0)
    assert "`torchenv nonexistent` is not part of this torchenv." in text_of(page)


def test_load_ext_registers_the_magic():
    registered = {}

    class FakeIPython:
        def register_magic_function(self, func, magic_kind, magic_name):
            registered[magic_name] = (func, magic_kind)

    torchenv.load_ipython_extension(FakeIPython())  # what `%load_ext torchenv` calls
    load_ipython_extension(FakeIPython())
    func, kind = registered["torchenv"]
    assert kind == "line" and func.__name__ == "torchenv_magic"


def test_usage_names_every_subcommand():
    for command in ("doctor", "plan", "bench --quick", "monitor", "kernels"):
        assert f"%torchenv {command}" in USAGE
