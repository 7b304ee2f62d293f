"""Golden files for the terminal and markdown renders of doctor (recorded facts and a pasted report),
explain, plan and snapshot (diff, export), at the piped width (100 columns, no colour, no trailing
padding). A change to a render shows up as a diff here; `--regen-golden` rewrites them."""

from __future__ import annotations

import argparse
import dataclasses
import io
import itertools
import json

import pytest

from testsupport import FIXTURES
from torchenv.checks import Policy, diagnose
from torchenv.model import Facts
from torchenv.model.codec import from_json
from torchenv.render.terminal import PIPED_WIDTH, make_console, render_terminal

VERSION = "0.1.0"
RECORDED = {
    "h100": "h100-torchenv/doctor.json",
    "h100-ld-library-path": "h100-torchenv/doctor-ld-library-path.json",
    "h200-bogus-uuid": "h200-faults/doctor-bogus-uuid.json",
    "h200-ld-system-cudnn": "h200-faults/doctor-ld-system-cudnn.json",
}


class Piped(io.StringIO):
    def isatty(self) -> bool:
        return False


def terminal(render, **kw) -> str:
    out = Piped()
    console = make_console(out)
    render(console, **kw)
    console.file.flush()
    return out.getvalue()


def facts_of(name: str) -> Facts:
    return from_json(Facts, json.loads((FIXTURES / RECORDED[name]).read_text())["facts"])


def test_piped_output_is_100_columns_without_trailing_padding():
    from torchenv.knowledge import load_knowledge

    report = diagnose(facts_of("h200-ld-system-cudnn"), load_knowledge(), torchenv_version=VERSION)
    text = terminal(lambda c: render_terminal(report, c))
    lines = text.splitlines()
    assert max(len(line) for line in lines) == PIPED_WIDTH
    assert all(line == line.rstrip() for line in lines)
    # hanging indents: a wrapped evidence line starts under the text after "· ", not under the bullet
    continued = [b for a, b in itertools.pairwise(lines) if a.startswith("     · ") and b.startswith("       ")]
    assert continued


@pytest.mark.parametrize("name", list(RECORDED))
@pytest.mark.parametrize("require_cuda", [False, True], ids=["default", "require-cuda"])
def test_doctor_on_recorded_facts(golden, knowledge, name, require_cuda):
    from torchenv.render.markdown_report import render_doctor_markdown

    policy = Policy(require_cuda=require_cuda)
    report = diagnose(facts_of(name), knowledge, torchenv_version=VERSION, policy=policy)
    suffix = "-require-cuda" if require_cuda else ""
    golden(f"doctor-{name}{suffix}.txt", terminal(lambda c: render_terminal(report, c, verbose=require_cuda)))
    golden(f"doctor-{name}{suffix}.md", render_doctor_markdown(report))


@pytest.mark.parametrize("fmt", ["terminal", "markdown"])
def test_doctor_from_a_pasted_collect_env(golden, capsys, fmt):
    from torchenv.cli import doctor

    args = argparse.Namespace(
        from_file=str(FIXTURES / "h100-cu130" / "collect_env.txt"), verbose=True, require_cuda=False, json=False
    )
    code = doctor.run_doctor_from(args, fmt)
    out = capsys.readouterr().out.replace(str(FIXTURES), "tests/fixtures")
    golden(f"doctor-from-collect-env.{'txt' if fmt == 'terminal' else 'md'}", out)
    assert code == 0


MESSAGES = {
    "no-kernel-image": "RuntimeError: CUDA error: no kernel image is available for execution on the device",
    "driver-too-old": "RuntimeError: The NVIDIA driver on your system is too old (found version 11040).",
}


@pytest.mark.parametrize("name", list(MESSAGES))
def test_explain(golden, knowledge, name):
    from torchenv.checks.explain import explain
    from torchenv.render.markdown_report import render_explain_markdown
    from torchenv.render.terminal_explain import render_matches

    matches = explain(MESSAGES[name], None, knowledge)
    assert matches
    golden(f"explain-{name}.txt", terminal(lambda c: render_matches(matches, c, verbose=True, facts_used=False)))
    golden(
        f"explain-{name}.md",
        render_explain_markdown(matches, facts_used=False, knowledge_version=knowledge.version, torchenv_version=VERSION),
    )


TARGETS = {
    "rtx4090": dict(gpus=["RTX 4090"], driver="580.65.06", python="3.12"),
    "no-gpu": dict(no_gpu=True, python="3.12"),
    "rtx5090-driver-470": dict(gpus=["RTX 5090"], driver="470.82.01"),
}


@pytest.mark.parametrize("name", list(TARGETS))
def test_plan(golden, knowledge, name):
    from torchenv.planners import describe_target, plan_for
    from torchenv.planners.export import export, plan_parts
    from torchenv.render.plan_text import render_plan_text

    plan = plan_for(describe_target(knowledge, **TARGETS[name]), knowledge)
    golden(f"plan-{name}.txt", render_plan_text(plan, plan_parts(plan)))
    if plan.ok:
        for fmt, ext in (("requirements", "txt"), ("environment.yml", "yml"), ("pixi", "toml"), ("dockerfile", "Dockerfile")):
            golden(f"plan-{name}.{fmt.split('.')[0]}.{ext}", export(plan, fmt, knowledge=knowledge))


@pytest.fixture(scope="module")
def h100_snapshot():
    from torchenv.snapshots.files import load_snapshot

    return load_snapshot(FIXTURES / "snapshots" / "h100-snapshot.json")


def test_snapshot_diff(golden, h100_snapshot):
    from torchenv.render.snapshot_text import render_diff
    from torchenv.snapshots.build import describe
    from torchenv.snapshots.diff import diff_snapshots

    other = dataclasses.replace(
        h100_snapshot, environment={**h100_snapshot.environment, "CUBLAS_WORKSPACE_CONFIG": ":4096:8"}
    )
    result = diff_snapshots(h100_snapshot, other)
    golden("snapshot-diff.txt", render_diff(result, "a.json", describe(h100_snapshot), "b.json", describe(other)))


@pytest.mark.parametrize("minimal", [False, True], ids=["full", "minimal"])
@pytest.mark.parametrize("fmt", ["requirements", "environment.yml", "pixi.toml", "dockerfile"])
def test_snapshot_export(golden, knowledge, h100_snapshot, fmt, minimal):
    from torchenv.snapshots.export import export_snapshot

    text = export_snapshot(h100_snapshot, fmt, minimal=minimal, knowledge=knowledge)
    golden(f"snapshot-export-{'minimal' if minimal else 'full'}.{fmt}", text)
