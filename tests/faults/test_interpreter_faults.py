"""Interpreters that are not a Python 3 environment (/bin/true, a Python 2, a hung one, none) and
paths given relative to the user's folder. Gates fail closed: 'could not read the environment'."""

from __future__ import annotations

import pytest

from .harness import SLACK, check_clean, environ, torchenv

pytestmark = pytest.mark.slow

UNREADABLE = "torchenv: could not read the environment: "


@pytest.mark.parametrize("python", ["/bin/true", "python2"])
def test_doctor_on_a_non_python3_interpreter_is_interpreter_unusable(python, tools, home):
    python = str(tools["python2"]) if python == "python2" else python
    run = torchenv("doctor", "--json", "--python", python, "--timeout", "10", cwd=home.path)
    check_clean(run, bound=10 + SLACK)
    assert run.returncode == 1
    finding = run.finding("interpreter-unusable")
    assert finding["severity"] == "error"
    assert ("SyntaxError" if "py2" in python else "not a Python 3 interpreter") in finding["evidence"][0]
    home.unchanged()


@pytest.mark.parametrize("python", ["/bin/true", "python2", "hung"])
def test_verify_fails_closed_on_an_unreadable_environment(python, tools, home):
    python = {"python2": str(tools["python2"]), "hung": str(tools["python-hang"])}.get(python, python)
    run = torchenv("verify", "snap.json", "--python", python, "--timeout", "2", cwd=home.path)
    check_clean(run, bound=2 + SLACK)
    assert run.returncode == 1
    assert run.one_line().startswith(UNREADABLE + python)
    assert "match" not in run.stdout
    home.unchanged()


def test_verify_json_says_not_ok(home):
    run = torchenv("verify", "snap.json", "--python", "/bin/true", "--json", cwd=home.path)
    check_clean(run, bound=10)
    assert run.returncode == 1 and run.report["ok"] is False
    assert run.report["error"].startswith("could not read the environment: ")


def test_diff_here_fail_on_fails_closed(tools, home):
    run = torchenv("diff", "snap.json", "--here", "--python", str(tools["python2"]), "--fail-on", "cuda", cwd=home.path)
    check_clean(run, bound=10)
    assert run.returncode == 1 and run.one_line().startswith(UNREADABLE)
    assert "No relevant differences" not in run.stdout


def test_snapshot_of_an_unreadable_environment_writes_nothing(home):
    run = torchenv("snapshot", "--python", "/bin/true", "-o", "new.json", cwd=home.path)
    check_clean(run, bound=10)
    assert run.returncode == 1 and run.one_line().startswith(UNREADABLE)
    home.unchanged()  # no new.json either


def test_a_missing_interpreter_is_a_usage_error(home):
    run = torchenv("verify", "snap.json", "--python", "no/such/python", cwd=home.path)
    check_clean(run, bound=5)
    assert run.returncode == 2
    assert run.one_line() == "torchenv: --python no/such/python: no such interpreter"


def test_diff_of_a_snapshot_of_nothing_is_a_difference_never_a_match(home):
    taken = torchenv("snapshot", "--python", "/bin/true", "-o", "x.json", cwd=home.path)
    assert taken.returncode == 1  # refused: so build such a snapshot by hand, as a foreign tool might
    import json

    data = json.loads((home.path / "snap.json").read_text())
    data["python"] = {"unknown": "the interpreter could not be probed"}
    data["packages"] = {"unknown": "the interpreter was not probed"}
    data["torch"] = {"unknown": "the interpreter could not be probed"}
    (home.path / "empty.json").write_text(json.dumps(data))
    run = torchenv("diff", "snap.json", "empty.json", "--fail-on", "cuda", "--json", cwd=home.path)
    check_clean(run, bound=10)
    assert run.returncode == 1 and run.report["failed"] is True
    assert "snapshot-part-unreadable" in {d["finding"]["id"] for d in run.report["differences"]}
    home.unchanged(created=("empty.json",))


def test_a_relative_venv_python_is_probed_as_that_venv(venv, home):
    relative = __import__("os").path.relpath(venv / "bin" / "python", home.path)
    run = torchenv("doctor", "--json", "--no-torch", "--python", relative, cwd=home.path)
    check_clean(run, bound=10)
    python = run.report["facts"]["python"]
    assert python["prefix"] == str(venv) and python["is_venv"] is True  # the symlink was kept, not resolved
    assert python["executable"] == str(venv / "bin" / "python")


def test_relative_snapshot_and_python_round_trip_to_a_match(venv, home):
    relative = __import__("os").path.relpath(venv / "bin" / "python", home.path)
    taken = torchenv("snapshot", "--python", relative, "-o", "project/env.json", "--timeout", "20", cwd=home.path)
    check_clean(taken, bound=20 + SLACK)
    assert taken.returncode == 0, taken.stderr
    run = torchenv("verify", "project/env.json", "--python", relative, "--timeout", "20", cwd=home.path)
    check_clean(run, bound=20 + SLACK)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "this environment matches the snapshot" in run.stdout
    home.unchanged(created=("project/env.json",))


def test_a_relative_pythonpath_reaches_the_probe(stubs, home):
    # The probe runs in another folder: a relative PYTHONPATH entry must still find the user's torch.
    (home.path / "stubs").symlink_to(stubs["ok"], target_is_directory=True)
    env = environ(pythonpath=["stubs"])
    run = torchenv("doctor", "--json", "--no-smoke", "--timeout", "20", env=env, cwd=home.path)
    check_clean(run, bound=20 + SLACK)
    torch = run.report["facts"]["torch"]
    assert torch["status"] == "ok" and torch["version"] == "2.5.1+cpu"
    assert torch["location"].startswith(str(home.path / "stubs"))
