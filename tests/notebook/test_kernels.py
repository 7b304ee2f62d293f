"""Kernel discovery, VS Code settings and the kernels judgement, on folders made in tmp_path (pure parts table-driven)."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from testsupport import load_h100_facts
from torchenv.checks.environment import check_jupyter_kernels
from torchenv.model import JupyterKernel
from torchenv.notebook.kernels import (
    InstallEnv,
    env_of,
    find_kernels,
    install_env,
    interpreter_row,
    kernel_folders,
    kernel_mismatch,
    platform_notes,
    read_vscode_interpreters,
    resolve_kernel_python,
    strip_jsonc,
)


def kernelspec(folder: Path, name: str, argv0: str, language: str = "python", display: str | None = None) -> Path:
    spec = folder / name / "kernel.json"
    spec.parent.mkdir(parents=True, exist_ok=True)
    argv = [argv0, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.write_text(json.dumps({"argv": argv, "display_name": display or name, "language": language}))
    return spec


def executable(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize(
    "environ, platform, expected_head",
    [
        ({}, "linux", ["/home/u/.local/share/jupyter/kernels"]),
        ({"JUPYTER_PATH": "/a:/b"}, "linux", ["/a/kernels", "/b/kernels", "/home/u/.local/share/jupyter/kernels"]),
        ({"JUPYTER_DATA_DIR": "/data"}, "linux", ["/data/kernels"]),
        ({"XDG_DATA_HOME": "/xdg"}, "linux", ["/xdg/jupyter/kernels"]),
        ({}, "darwin", ["/home/u/Library/Jupyter/kernels"]),
    ],
)
def test_kernel_folders_in_jupyters_order(environ, platform, expected_head):
    folders = kernel_folders(environ, home="/home/u", server_prefixes=("/env",), platform=platform)
    assert list(folders[: len(expected_head)]) == expected_head
    assert folders[len(expected_head)] == "/env/share/jupyter/kernels"
    assert folders[-2:] == ("/usr/local/share/jupyter/kernels", "/usr/share/jupyter/kernels")


def test_windows_kernel_folders():
    folders = kernel_folders({"APPDATA": r"C:\Users\u\AppData\Roaming"}, home=r"C:\Users\u", platform="win32")
    assert folders[0].endswith(os.path.join("jupyter", "kernels")) and "Roaming" in folders[0]
    assert "/usr/share/jupyter/kernels" not in folders


def test_resolving_a_kernels_interpreter(tmp_path):
    env_python = executable(tmp_path / "env" / "bin" / "python")
    on_path = executable(tmp_path / "bin" / "python3.9")
    server = "/opt/server/bin/python3.12"
    environ = {"PATH": str(tmp_path / "bin")}
    assert resolve_kernel_python(env_python, server, environ) == (env_python, "kernel.json")
    assert resolve_kernel_python(str(tmp_path / "gone" / "python"), server, environ) == (None, "missing")
    assert resolve_kernel_python("python", server, environ) == (server, "server")
    assert resolve_kernel_python("python3", server, environ) == (server, "server")
    # a version other than the server's is looked up on PATH, as jupyter_client does
    assert resolve_kernel_python("python3.9", server, environ) == (on_path, "PATH")
    assert resolve_kernel_python(None, server, environ) == (None, "missing")


def test_find_kernels_first_name_wins_and_non_python_kernels_are_marked(tmp_path):
    env_python = executable(tmp_path / "torch-env" / "bin" / "python")
    first, second = tmp_path / "first", tmp_path / "second"
    kernelspec(first, "torch-env", env_python, display="Python (torch-env)")
    kernelspec(second, "torch-env", "/elsewhere/bin/python")
    kernelspec(second, "ir", "R", language="R")
    (second / "broken").mkdir()
    (second / "broken" / "kernel.json").write_text("{not json")
    kernels = find_kernels((str(first), str(second), str(tmp_path / "missing")), server_python=None, environ={})
    assert [(k.name, k.resolved) for k in kernels] == [("torch-env", "kernel.json"), ("ir", "not python")]
    assert kernels[0].interpreter == env_python and kernels[0].env == str(tmp_path / "torch-env")
    assert kernels[0].display_name == "Python (torch-env)"


def test_strip_jsonc_keeps_strings_with_slashes():
    text = """{
      // the interpreter
      "python.defaultInterpreterPath": "${workspaceFolder}/.venv/bin/python", /* inline */
      "url": "http://example.com//x",
    }"""
    assert json.loads(strip_jsonc(text)) == {
        "python.defaultInterpreterPath": "${workspaceFolder}/.venv/bin/python",
        "url": "http://example.com//x",
    }


def test_vscode_workspace_and_user_settings(tmp_path):
    home, workspace = tmp_path / "home", tmp_path / "project"
    venv_python = executable(workspace / ".venv" / "bin" / "python")
    (workspace / ".vscode").mkdir(parents=True)
    (workspace / ".vscode" / "settings.json").write_text(
        '{\n  // picked for this project\n  "python.defaultInterpreterPath": "${workspaceFolder}/.venv",\n}\n'
    )
    user = home / ".config" / "Code" / "User"
    user.mkdir(parents=True)
    (user / "settings.json").write_text('{"python.pythonPath": "~/miniconda3/envs/ml/bin/python"}')
    found = read_vscode_interpreters(str(home), str(workspace), {}, platform="linux")
    assert [(v.key, v.interpreter) for v in found] == [
        ("python.defaultInterpreterPath", venv_python),  # a venv folder resolves to its python
        ("python.pythonPath", None),  # named but not there
    ]
    assert found[0].settings == str(workspace / ".vscode" / "settings.json")


@pytest.mark.parametrize(
    "explicit, environ, pip, python, expected",
    [
        ("/x/bin/python", {"VIRTUAL_ENV": "/v"}, "/p/bin/python", None, InstallEnv("/x/bin/python", "--python")),
        (None, {}, "/p/bin/python3", "/q/bin/python", InstallEnv("/p/bin/python3", "pip on PATH")),
        (None, {}, None, "/q/bin/python", InstallEnv("/q/bin/python", "python on PATH")),
        (None, {}, None, None, InstallEnv(sys.executable, "this interpreter")),
    ],
)
def test_the_env_you_install_into(explicit, environ, pip, python, expected):
    assert install_env(explicit, environ, pip, python) == expected


def test_an_active_venv_without_pip_on_path(tmp_path):
    venv_python = executable(tmp_path / "v" / "bin" / "python")
    assert install_env(None, {"VIRTUAL_ENV": str(tmp_path / "v")}, None, None) == InstallEnv(venv_python, "VIRTUAL_ENV")


@pytest.mark.parametrize(
    "path, env",
    [("/x/env/bin/python", "/x/env"), ("/x/env/Scripts/python.exe", "/x/env"), ("/usr/bin/python3", "/usr")],
)
def test_env_of(path, env):
    assert env_of(path) == env


def test_kernels_and_doctor_give_one_answer(knowledge):
    """The mismatch is the doctor's no-jupyter-kernel-for-env check, asked with the kernels found."""
    from torchenv.notebook.kernels import KernelSpec

    facts = load_h100_facts()
    here = facts.python.executable
    other = KernelSpec(
        "old", "/k/old/kernel.json", "old", "python", "/old/bin/python", "/old/bin/python", "kernel.json", "/old"
    )
    mine = replace(other, name="mine", interpreter=here, argv0=here)
    for kernels, expected in (((other,), ["no-jupyter-kernel-for-env"]), ((other, mine), [])):
        found = [f.id for f in kernel_mismatch(facts, kernels, knowledge)]
        listed = tuple(JupyterKernel(k.name, k.spec, k.display_name, k.interpreter) for k in kernels)
        doctor = [
            f.id
            for f in check_jupyter_kernels(
                replace(facts, python=replace(facts.python, jupyter_kernels=listed)), knowledge
            )
        ]
        assert found == doctor == expected
    (finding,) = kernel_mismatch(facts, (other,), knowledge)
    assert f"{here} -m ipykernel install --user --name" in finding.fix


def test_rows_carry_the_doctors_verdict(knowledge):
    from torchenv.checks import diagnose

    facts = load_h100_facts()
    report = diagnose(facts, knowledge, torchenv_version="test")
    install = InstallEnv(facts.python.executable, "pip on PATH")
    row = interpreter_row("kernel", "torch", "Python (torch)", facts.python.executable, report, install)
    assert (row.verdict, row.summary, row.installs_here) == (report.verdict, report.summary, True)
    assert row.torch == "2.11.0+cu130 (CUDA 13.0)" and row.python_version == facts.python.version
    missing = interpreter_row("kernel", "gone", "gone", None, None, install)
    assert (missing.verdict, missing.installs_here) == ("missing", False)


@pytest.mark.parametrize(
    "platform, words", [("colab", "Runtime → Change runtime type"), ("kaggle", "Accelerator"), (None, None)]
)
def test_hosted_notebooks_are_recognised(platform, words):
    notes = platform_notes(platform)
    assert (words in notes[0]) if words else notes == ()


def test_two_venvs_of_one_python_are_two_envs(tmp_path, knowledge):
    """Every venv's bin/python is a symlink to its base interpreter: resolving it would call them one env."""
    from torchenv.notebook.kernels import KernelSpec, same_env

    base = executable(tmp_path / "base" / "bin" / "python3.12")
    for name in ("work", "kernel"):
        (tmp_path / name / "bin").mkdir(parents=True)
        (tmp_path / name / "bin" / "python").symlink_to(base)
    work, kernel = str(tmp_path / "work" / "bin" / "python"), str(tmp_path / "kernel" / "bin" / "python")
    assert not same_env(work, kernel) and same_env(work, str(tmp_path / "work" / "bin" / "python3"))
    facts = load_h100_facts()
    facts = replace(facts, python=replace(facts.python, executable=work, prefix=str(tmp_path / "work")))
    spec = KernelSpec(
        "kernel", "/k/kernel.json", "kernel", "python", kernel, kernel, "kernel.json", str(tmp_path / "kernel")
    )
    assert [f.id for f in kernel_mismatch(facts, (spec,), knowledge)] == ["no-jupyter-kernel-for-env"]


@pytest.mark.parametrize(
    "spec, fires",
    [
        ("{prefix}/share/jupyter/kernels/python3/kernel.json", False),  # ipykernel's own spec in this env
        ("/usr/share/jupyter/kernels/python3/kernel.json", True),  # "python" of some other Jupyter
    ],
)
def test_a_bare_python_kernel_runs_the_server_of_its_env(spec, fires, knowledge):
    facts = load_h100_facts()
    kernel = JupyterKernel("python3", spec.format(prefix=facts.python.prefix), "Python 3 (ipykernel)", "python")
    findings = check_jupyter_kernels(replace(facts, python=replace(facts.python, jupyter_kernels=(kernel,))), knowledge)
    assert bool(list(findings)) is fires
