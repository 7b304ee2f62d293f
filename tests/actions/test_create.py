"""`torchenv create`: the safety rules with fakes, conda paths against a fake executable that records
its argv, and one real venv with the local CPU wheel (torch==2.13.0) checked by the doctor inside it."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from testsupport import cli_env, run_cli
from torchenv.actions.create import (
    CreateError,
    carry_out,
    check_path,
    choose_installer,
    find_base_python,
    recipe_for,
)
from torchenv.model.plan import PlanRequest
from torchenv.planners import describe_target, plan_for
from torchenv.probes.runner import RunResult

LOCAL_INDEX = "file:///opt/pypi/simple"


def local_torch_wheel() -> bool:
    links = os.environ.get("PIP_FIND_LINKS", "/opt/wheels").split()
    return any(Path(d).is_dir() and any(Path(d).glob("torch-2.13.0+cpu-*.whl")) for d in links)


@pytest.fixture
def cpu_plan(knowledge):
    py = f"{sys.version_info[0]}.{sys.version_info[1]}"
    target = describe_target(knowledge, python=py)
    return plan_for(target, knowledge, PlanRequest(torch="2.13.0", index_url=LOCAL_INDEX, companions=()))


class FakeRunner:
    def __init__(self, fail_at: int | None = None, make: Path | None = None):
        self.calls: list[tuple[str, ...]] = []
        self.fail_at = fail_at
        self.make = make

    def run(self, argv, timeout, *, env=None, cwd=None, on_line=None, **kw):
        self.calls.append(tuple(argv))
        if self.make is not None:
            (self.make / "bin").mkdir(parents=True, exist_ok=True)
            (self.make / "pyvenv.cfg").write_text("home = /usr/bin\n")
        if on_line:
            on_line("working\n")
        if self.fail_at is not None and len(self.calls) - 1 == self.fail_at:
            return RunResult(tuple(argv), 1, "", "ERROR: No matching distribution found for torch==2.13.0\n", 0.1)
        return RunResult(tuple(argv), 0, json.dumps({"verdict": "healthy", "findings": []}), "", 0.1)


# ---------------------------------------------------------------------- installer and interpreter choice
def test_choose_installer():
    assert choose_installer(None, lambda n: "/x/uv" if n == "uv" else None) == ("uv", "/x/uv")
    assert choose_installer("auto", lambda n: None) == ("pip", "")
    assert choose_installer("pip", lambda n: "/x/uv") == ("pip", "")
    assert choose_installer("micromamba", lambda n: f"/x/{n}") == ("micromamba", "/x/micromamba")
    with pytest.raises(CreateError, match="not on PATH"):
        choose_installer("conda", lambda n: None)


def test_find_base_python():
    assert find_base_python("3.11", current=("/me/python", "3.11"), which=lambda n: None) == "/me/python"
    assert (
        find_base_python("3.12", current=("/me/python", "3.11"), which=lambda n: f"/usr/bin/{n}")
        == "/usr/bin/python3.12"
    )
    assert find_base_python("3.12", current=("/me/python", "3.11"), which=lambda n: None) is None


def test_pip_needs_an_interpreter(cpu_plan, tmp_path):
    with pytest.raises(CreateError, match="--installer uv"):
        recipe_for(cpu_plan, str(tmp_path / "env"), "pip", base_python=None)


# ---------------------------------------------------------------------- the existing-path rules
def test_existing_paths(tmp_path):
    assert check_path(str(tmp_path / "new"), force=False) is None
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    with pytest.raises(CreateError, match="--force"):
        check_path(str(venv), force=False)
    assert check_path(str(venv), force=True) == str(venv)
    conda = tmp_path / "conda"
    (conda / "conda-meta").mkdir(parents=True)
    assert check_path(str(conda), force=True) == str(conda)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_path(str(empty), force=True) == str(empty)
    project = tmp_path / "project"
    project.mkdir()
    (project / "thesis.tex").write_text("precious")
    with pytest.raises(CreateError, match="not a Python environment"):
        check_path(str(project), force=True)
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(CreateError, match="not a directory"):
        check_path(str(afile), force=True)
    link = tmp_path / "link"
    link.symlink_to(venv)
    with pytest.raises(CreateError):
        check_path(str(link), force=True)
    assert (project / "thesis.tex").read_text() == "precious"


def test_failed_install_removes_the_half_made_env(cpu_plan, tmp_path):
    path = tmp_path / "env"
    recipe = recipe_for(cpu_plan, str(path), "pip", base_python=sys.executable)
    runner = FakeRunner(fail_at=1, make=path)
    lines = []
    result = carry_out(recipe, runner, on_line=lines.append)
    assert not result.ok and result.removed and not path.exists()
    assert "No matching distribution" in result.failure and result.failed_step == "installing with pip"
    assert lines == ["working\n", "working\n"]
    assert len(runner.calls) == 2  # no doctor after a failure


def test_keep_failed_keeps_it(cpu_plan, tmp_path):
    path = tmp_path / "env"
    recipe = recipe_for(cpu_plan, str(path), "pip", base_python=sys.executable)
    result = carry_out(recipe, FakeRunner(fail_at=1, make=path), keep_failed=True)
    assert not result.ok and not result.removed and (path / "pyvenv.cfg").exists()


def test_force_replaces_only_after_a_second_look(cpu_plan, tmp_path):
    from dataclasses import replace

    path = tmp_path / "env"
    path.mkdir()
    (path / "pyvenv.cfg").write_text("x")
    recipe = replace(recipe_for(cpu_plan, str(path), "pip", base_python=sys.executable), replaces=str(path))
    (path / "pyvenv.cfg").unlink()
    (path / "notes.txt").write_text("appeared meanwhile")
    with pytest.raises(CreateError):
        carry_out(recipe, FakeRunner())
    assert (path / "notes.txt").exists()


def _old_env(path: Path) -> Path:
    path.mkdir()
    (path / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (path / "bin").mkdir()
    (path / "bin" / "marker").write_text("the user's working env")
    return path


def test_force_keeps_the_old_env_when_the_install_fails(cpu_plan, tmp_path):
    from dataclasses import replace

    path = _old_env(tmp_path / "env")
    recipe = replace(recipe_for(cpu_plan, str(path), "pip", base_python=sys.executable), replaces=str(path))
    result = carry_out(recipe, FakeRunner(fail_at=1, make=path))
    assert not result.ok and result.restored
    assert (path / "bin" / "marker").read_text() == "the user's working env"
    assert sorted(os.listdir(tmp_path)) == ["env"]


def test_force_keeps_the_old_env_when_the_new_one_fails_its_check(cpu_plan, tmp_path):
    from dataclasses import replace

    path = _old_env(tmp_path / "env")
    recipe = replace(recipe_for(cpu_plan, str(path), "pip", base_python=sys.executable), replaces=str(path))
    result = carry_out(recipe, FakeRunner(make=path), passes=lambda r: False)
    assert not result.ok and result.restored and result.failed_step == "checking the new environment"
    assert (path / "bin" / "marker").read_text() == "the user's working env"
    assert sorted(os.listdir(tmp_path)) == ["env"]


def test_force_replaces_the_old_env_once_the_new_one_passes(cpu_plan, tmp_path):
    from dataclasses import replace

    path = _old_env(tmp_path / "env")
    recipe = replace(recipe_for(cpu_plan, str(path), "pip", base_python=sys.executable), replaces=str(path))
    seen = []

    class Watching(FakeRunner):
        def run(self, argv, timeout, **kw):
            seen.append(sorted(os.listdir(tmp_path)))  # the old one is aside while the new one is built
            return super().run(argv, timeout, **kw)

    result = carry_out(recipe, Watching(make=path), passes=lambda r: True)
    assert result.ok and not result.restored
    assert seen[0] == ["env.torchenv-old"]
    assert not (path / "bin" / "marker").exists() and sorted(os.listdir(tmp_path)) == ["env"]


def test_an_interrupt_removes_what_was_made_and_puts_the_old_env_back(cpu_plan, tmp_path):
    from dataclasses import replace

    path = _old_env(tmp_path / "env")
    recipe = replace(recipe_for(cpu_plan, str(path), "pip", base_python=sys.executable), replaces=str(path))

    class Interrupted(FakeRunner):
        def run(self, argv, timeout, **kw):
            super().run(argv, timeout, **kw)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        carry_out(recipe, Interrupted(make=path))
    assert (path / "bin" / "marker").read_text() == "the user's working env"
    assert sorted(os.listdir(tmp_path)) == ["env"]


def test_a_path_that_cannot_take_a_folder_is_refused_before_anything_runs():
    with pytest.raises(CreateError, match="cannot create it"):
        check_path("/proc/torchenv-create-test/env", force=False)


def test_success_runs_the_doctor_in_the_env(cpu_plan, tmp_path):
    path = tmp_path / "env"
    recipe = recipe_for(cpu_plan, str(path), "pip", base_python=sys.executable)
    runner = FakeRunner()
    result = carry_out(recipe, runner)
    assert result.ok and result.verdict == "healthy"
    assert runner.calls[-1][-4:] == ("doctor", "--python", str(path / "bin" / "python"), "--json")
    for command in recipe.commands():
        assert shlex.join(shlex.split(command)) == command


def test_uv_recipe(cpu_plan, tmp_path):
    recipe = recipe_for(cpu_plan, str(tmp_path / "e nv"), "uv", executable="/opt/uv")
    assert recipe.steps[0].argv == ("/opt/uv", "venv", "--python", cpu_plan.python, str(tmp_path / "e nv"))
    assert recipe.steps[1].argv[:4] == ("/opt/uv", "pip", "install", "--python")
    assert "--index-url" in recipe.steps[1].argv


# ---------------------------------------------------------------------- conda paths against a fake executable
FAKE_CONDA = """#!{python}
import json, os, sys
with open(os.environ["FAKE_CONDA_LOG"], "a") as log:
    log.write(json.dumps([os.path.basename(sys.argv[0])] + sys.argv[1:]) + "\\n")
args = sys.argv[1:]
if "--prefix" in args:
    prefix = args[args.index("--prefix") + 1]
    os.makedirs(os.path.join(prefix, "conda-meta"), exist_ok=True)
print("Solving environment: done")
sys.exit(int(os.environ.get("FAKE_CONDA_EXIT", "0")))
"""


@pytest.fixture
def fake_conda(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in ("conda", "mamba", "micromamba"):
        exe = bindir / name
        exe.write_text(FAKE_CONDA.format(python=sys.executable))
        exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "argv.log"
    env = cli_env(PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}", FAKE_CONDA_LOG=str(log))
    return env, log


@pytest.mark.parametrize("installer", ["conda", "mamba", "micromamba"])
def test_conda_create_against_fake_executable(fake_conda, tmp_path, installer):
    env, log = fake_conda
    path = tmp_path / "cenv"
    proc = run_cli(
        "create", str(path), "--installer", installer, "--no-doctor", "--torch", "2.13", "--python", "3.12", env=env
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (argv,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert argv[:6] == [installer, "create", "--yes", "--prefix", str(path), "--override-channels"]
    assert argv[6:8] == ["-c", "conda-forge"]
    assert "python=3.12" in argv and any(a.startswith("pytorch=2.13.0") for a in argv)
    assert "Solving environment: done" in proc.stdout  # streamed
    assert (path / "conda-meta").is_dir()


def test_conda_old_torch_uses_pytorch_channel(fake_conda, tmp_path):
    env, log = fake_conda
    proc = run_cli(
        "create",
        str(tmp_path / "old"),
        "--installer",
        "conda",
        "--no-doctor",
        "--torch",
        "2.4",
        "--python",
        "3.11",
        "--variant",
        "cpu",
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    argv = json.loads(log.read_text().splitlines()[0])
    assert argv[6:12] == ["-c", "pytorch", "-c", "nvidia", "-c", "conda-forge"]
    assert "pytorch==2.4.1" in argv and "cpuonly" in argv


def test_conda_failure_removes_env(fake_conda, tmp_path):
    env, _log = fake_conda
    env["FAKE_CONDA_EXIT"] = "1"
    path = tmp_path / "broken"
    proc = run_cli("create", str(path), "--installer", "conda", "--no-doctor", env=env)
    assert proc.returncode == 1
    assert "removed the half-made environment" in proc.stdout and not path.exists()
    env["FAKE_CONDA_EXIT"] = "1"
    proc = run_cli("create", str(path), "--installer", "conda", "--no-doctor", "--keep-failed", env=env)
    assert proc.returncode == 1 and (path / "conda-meta").is_dir()


def test_conda_missing_is_a_usage_error(tmp_path):
    env = cli_env(PATH=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-m", "torchenv", "create", str(tmp_path / "x"), "--installer", "micromamba"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2 and "micromamba" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------------- the CLI's dry run and refusals
def test_dry_run_prints_exact_commands_and_touches_nothing(tmp_path):
    path = tmp_path / "dry env"
    proc = run_cli(
        "create",
        str(path),
        "--installer",
        "pip",
        "--torch",
        "2.13.0",
        "--index-url",
        LOCAL_INDEX,
        "--no-companions",
        "--dry-run",
    )
    assert proc.returncode == 0, proc.stderr
    commands = proc.stdout.splitlines()[1:]
    argvs = [shlex.split(c) for c in commands]
    assert argvs[0][1:] == ["-m", "venv", str(path)]
    assert argvs[1][1:] == ["-m", "pip", "install", "torch==2.13.0", "--index-url", LOCAL_INDEX]
    assert argvs[2][-4:] == ["doctor", "--python", str(path / "bin" / "python"), "--json"]
    assert not path.exists()


def test_refuses_existing_non_env_even_with_force(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    proc = run_cli("create", str(tmp_path), "--force", "--dry-run")
    assert proc.returncode == 2 and "not a Python environment" in proc.stderr
    assert (tmp_path / "keep.txt").exists()


# ---------------------------------------------------------------------- for real: one venv with the local CPU wheel
@pytest.fixture(scope="module")
def real_env(tmp_path_factory):
    if not local_torch_wheel():
        pytest.skip("no local torch-2.13.0+cpu wheel in pip's find-links (the real create needs it offline)")
    path = tmp_path_factory.mktemp("real") / "env"
    proc = run_cli(
        "create",
        str(path),
        "--installer",
        "pip",
        "--torch",
        "2.13.0",
        "--index-url",
        LOCAL_INDEX,
        "--no-companions",
        timeout=600,
    )
    return path, proc


def test_real_create_installs_cpu_torch_and_runs_the_doctor(real_env):
    path, proc = real_env
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    out = proc.stdout
    assert "Processing /" in out and "torch-2.13.0+cpu" in out  # streamed pip output, the local CPU wheel
    assert "doctor verdict:" in out
    python = path / "bin" / "python"
    version = subprocess.run(
        [str(python), "-c", "import torch; print(torch.__version__, torch.version.cuda)"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert version.stdout.split() == ["2.13.0+cpu", "None"]
    doctor = subprocess.run(
        [sys.executable, "-m", "torchenv", "doctor", "--python", str(python), "--json", "--no-smoke"],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=300,
    )
    report = json.loads(doctor.stdout)
    assert report["verdict"] in ("healthy", "degraded") and report["verdict"].upper() in out


def test_real_env_is_refused_then_force_dry_run_replaces(real_env):
    path, _ = real_env
    proc = run_cli("create", str(path), "--dry-run", "--torch", "2.13.0", "--installer", "pip")
    assert proc.returncode == 2 and "--force" in proc.stderr
    proc = run_cli("create", str(path), "--dry-run", "--force", "--torch", "2.13.0", "--installer", "pip")
    aside = shlex.quote(str(path) + ".torchenv-old")
    assert proc.returncode == 0 and f"mv {shlex.quote(str(path))} {aside}" in proc.stdout
    assert f"rm -r {aside}" in proc.stdout  # the old one goes only after the new one passed
    assert (path / "pyvenv.cfg").exists()
