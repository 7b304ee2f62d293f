"""Which Python each notebook runs: Jupyter kernel specs, VS Code's interpreter setting, Colab and Kaggle.

Discovery (`find_kernels`, `read_vscode_interpreters`) is an edge read of kernel.json and settings.json
files under injectable folders, home and environment; everything else is pure. Where Jupyter looks for
kernels follows jupyter_core's `jupyter_path("kernels")`: `JUPYTER_PATH`, the user data folder
(`JUPYTER_DATA_DIR`, else `~/.local/share/jupyter` / `$XDG_DATA_HOME/jupyter`, `~/Library/Jupyter` on macOS,
`%APPDATA%\\jupyter` on Windows), `<env>/share/jupyter` of the environments that may run the server, then
`/usr/local/share/jupyter` and `/usr/share/jupyter`. The first spec of a name wins, as in Jupyter.

A kernel whose argv[0] is `python`, `python3` or `python3.X` (the server's own version) runs the Jupyter
server's interpreter: jupyter_client's `format_kernel_cmd` replaces it with `sys.executable`.

Whether a kernel runs the environment you install into is the doctor's judgement (the
`no-jupyter-kernel-for-env` check), asked here with the kernels found, so `torchenv kernels` and
`torchenv doctor` give one answer.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace

from ..model import Facts, Finding, JupyterKernel, known


@dataclass(frozen=True, slots=True)
class KernelSpec:
    name: str
    spec: str  # its kernel.json
    display_name: str
    language: str
    argv0: str | None
    interpreter: str | None  # the Python it runs, absolute; None: not a Python kernel or not found
    resolved: str  # "kernel.json" (an absolute argv[0]), "server" (python/python3: the server's), "PATH", "missing"
    env: str | None  # the environment folder of the interpreter (the folder holding bin/ or Scripts/)


@dataclass(frozen=True, slots=True)
class VsCodeInterpreter:
    settings: str  # the settings.json that names it
    key: str  # "python.defaultInterpreterPath" or the legacy "python.pythonPath"
    value: str  # as written
    interpreter: str | None  # resolved to an executable; None when it does not exist


@dataclass(frozen=True, slots=True)
class InstallEnv:
    python: str  # the interpreter `pip install` goes to
    source: str  # "--python", "pip on PATH", "VIRTUAL_ENV", "CONDA_PREFIX", "python on PATH", "this interpreter"


@dataclass(frozen=True, slots=True)
class InterpreterRow:
    """One notebook interpreter (a kernel or VS Code's) with the doctor's one-line verdict on it."""

    kind: str  # "kernel" or "vscode"
    name: str  # kernel name, or the settings file
    label: str  # display name, or the settings key
    interpreter: str | None
    env: str | None
    python_version: str | None
    torch: str  # "2.13.0+cpu (CPU build)", "not installed", "import fails: ..."
    verdict: str  # "healthy", "degraded", "broken", "not probed", "missing"
    summary: str  # the doctor's summary line
    installs_here: bool  # runs the environment you install into


@dataclass(frozen=True, slots=True)
class KernelsReport:
    install: InstallEnv
    rows: tuple[InterpreterRow, ...]
    platform: str | None  # "colab", "kaggle"
    findings: tuple[Finding, ...]
    folders: tuple[str, ...]  # the kernel folders searched, in Jupyter's order
    notes: tuple[str, ...] = ()


# --- discovery (edge) ------------------------------------------------------------------------------


def env_of(executable: str) -> str:
    """/x/env/bin/python -> /x/env (the folder holding bin/ or Scripts/); the executable's folder otherwise."""
    folder = os.path.dirname(executable)
    return os.path.dirname(folder) if os.path.basename(folder) in ("bin", "Scripts") else folder


def user_data_dir(environ: Mapping[str, str], home: str, platform: str = sys.platform) -> str:
    if environ.get("JUPYTER_DATA_DIR"):
        return environ["JUPYTER_DATA_DIR"]
    if platform == "darwin":
        return os.path.join(home, "Library", "Jupyter")
    if platform.startswith("win"):
        return os.path.join(environ.get("APPDATA") or os.path.join(home, "AppData", "Roaming"), "jupyter")
    return os.path.join(environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share"), "jupyter")


def kernel_folders(
    environ: Mapping[str, str],
    *,
    home: str,
    server_prefixes: tuple[str, ...] = (),
    platform: str = sys.platform,
) -> tuple[str, ...]:
    """Where Jupyter looks for kernels, in its order (jupyter_core.paths.jupyter_path)."""
    folders = [p for p in environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    folders.append(user_data_dir(environ, home, platform))
    folders += [os.path.join(prefix, "share", "jupyter") for prefix in server_prefixes]
    if platform.startswith("win"):
        folders.append(os.path.join(environ.get("PROGRAMDATA", r"C:\ProgramData"), "jupyter"))
    else:
        folders += ["/usr/local/share/jupyter", "/usr/share/jupyter"]
    seen: list[str] = []
    for folder in folders:
        kernels = os.path.join(folder, "kernels")
        if kernels not in seen:
            seen.append(kernels)
    return tuple(seen)


SERVER_NAMES = re.compile(r"^python(\d+(\.\d+)?)?$")


def resolve_kernel_python(
    argv0: str | None, server_python: str | None, environ: Mapping[str, str]
) -> tuple[str | None, str]:
    """(interpreter, how it was resolved) for a kernel's argv[0]."""
    if not argv0:
        return None, "missing"
    if os.sep in argv0 or (os.altsep and os.altsep in argv0):
        return (argv0, "kernel.json") if os.path.exists(argv0) else (None, "missing")
    if SERVER_NAMES.match(argv0) and server_python:
        major_minor = ".".join(argv0[len("python") :].split(".")[:2])
        version = server_version(server_python)
        if not major_minor or (version and (major_minor == version.split(".")[0] or major_minor == version)):
            return server_python, "server"
    found = shutil.which(argv0, path=environ.get("PATH", ""))
    return (found, "PATH") if found else (None, "missing")


def server_version(python: str) -> str | None:
    """ "3.12" from an interpreter path like .../python3.12, when the name says it (no process is run)."""
    match = re.search(r"python(\d+\.\d+)", os.path.basename(os.path.realpath(python)))
    return match.group(1) if match else None


def find_kernels(
    folders: tuple[str, ...], *, server_python: str | None, environ: Mapping[str, str]
) -> tuple[KernelSpec, ...]:
    found: dict[str, KernelSpec] = {}
    for folder in folders:
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            spec = os.path.join(folder, name, "kernel.json")
            if name.lower() in found or not os.path.isfile(spec):
                continue
            try:
                with open(spec, encoding="utf-8") as handle:
                    data = json.load(handle)
            except (OSError, ValueError):
                continue
            if not isinstance(data, dict):
                continue
            argv = data.get("argv") if isinstance(data.get("argv"), list) else []
            argv0 = str(argv[0]) if argv else None
            language = str(data.get("language") or "")
            python = language.lower() == "python" or (argv0 is not None and "python" in os.path.basename(argv0))
            interpreter, how = resolve_kernel_python(argv0, server_python, environ) if python else (None, "missing")
            found[name.lower()] = KernelSpec(
                name=name,
                spec=spec,
                display_name=str(data.get("display_name") or name),
                language=language,
                argv0=argv0,
                interpreter=interpreter,
                resolved=how if python else "not python",
                env=env_of(interpreter) if interpreter else None,
            )
    return tuple(found.values())


def strip_jsonc(text: str) -> str:
    """VS Code's settings are JSON with comments and trailing commas."""
    out = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        else:
            out.append(c)
        i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


VSCODE_KEYS = ("python.defaultInterpreterPath", "python.pythonPath")


def vscode_settings_files(home: str, workspace: str | None, environ: Mapping[str, str], platform: str = sys.platform):
    """Workspace settings first, then the user's (each flavour), then Remote-SSH's machine settings."""
    files = []
    if workspace:
        files.append(os.path.join(workspace, ".vscode", "settings.json"))
    for flavour in ("Code", "Code - Insiders", "VSCodium"):
        if platform == "darwin":
            base = os.path.join(home, "Library", "Application Support", flavour)
        elif platform.startswith("win"):
            base = os.path.join(environ.get("APPDATA") or os.path.join(home, "AppData", "Roaming"), flavour)
        else:
            base = os.path.join(environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"), flavour)
        files.append(os.path.join(base, "User", "settings.json"))
    files.append(os.path.join(home, ".vscode-server", "data", "Machine", "settings.json"))
    return files


def _interpreter_from_setting(value: str, workspace: str | None, home: str) -> str | None:
    path = value.replace("${workspaceFolder}", workspace or "").replace("${userHome}", home)
    path = os.path.expanduser(path) if not path.startswith("~") else os.path.join(home, path[2:])
    if not os.path.isabs(path):
        if os.sep not in path:  # "python3": whatever is on PATH
            return None
        path = os.path.join(workspace or home, path)
    if os.path.isdir(path):  # a venv folder
        for candidate in ("bin/python", "Scripts/python.exe"):
            if os.path.exists(os.path.join(path, candidate)):
                return os.path.join(path, candidate)
        return None
    return path if os.path.exists(path) else None


def read_vscode_interpreters(
    home: str, workspace: str | None, environ: Mapping[str, str], platform: str = sys.platform
) -> tuple[VsCodeInterpreter, ...]:
    found = []
    for settings in vscode_settings_files(home, workspace, environ, platform):
        try:
            with open(settings, encoding="utf-8") as handle:
                data = json.loads(strip_jsonc(handle.read()))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        for key in VSCODE_KEYS:
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                found.append(VsCodeInterpreter(settings, key, value, _interpreter_from_setting(value, workspace, home)))
    return tuple(found)


def install_env(
    explicit: str | None, environ: Mapping[str, str], pip_interpreter: str | None, python_on_path: str | None
) -> InstallEnv:
    """The interpreter `pip install` puts packages into, and what said so."""
    if explicit:
        return InstallEnv(explicit, "--python")
    if pip_interpreter:
        return InstallEnv(pip_interpreter, "pip on PATH")
    for variable in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        if environ.get(variable):
            for candidate in ("bin/python", "Scripts/python.exe", "python.exe"):
                path = os.path.join(environ[variable], candidate)
                if os.path.exists(path):
                    return InstallEnv(path, variable)
    if python_on_path:
        return InstallEnv(python_on_path, "python on PATH")
    return InstallEnv(sys.executable, "this interpreter")


def server_prefixes(environ: Mapping[str, str], install: InstallEnv) -> tuple[str, ...]:
    """The environments that may run the Jupyter server: `jupyter` on PATH, this one, the active one, yours."""
    prefixes = []
    jupyter = shutil.which("jupyter", path=environ.get("PATH", ""))
    if jupyter:
        prefixes.append(env_of(os.path.abspath(jupyter)))
    prefixes += [sys.prefix, environ.get("VIRTUAL_ENV", ""), environ.get("CONDA_PREFIX", ""), env_of(install.python)]
    out: list[str] = []
    for prefix in prefixes:
        if prefix and prefix not in out:
            out.append(prefix)
    return tuple(out)


def server_python(environ: Mapping[str, str]) -> str | None:
    """The interpreter that runs `jupyter` on PATH (its shebang), which python/python3 kernels run."""
    jupyter = shutil.which("jupyter", path=environ.get("PATH", ""))
    if not jupyter:
        return None
    try:
        with open(jupyter, "rb") as handle:
            head = handle.read(512).decode("utf-8", errors="replace")
    except OSError:
        return None
    match = re.match(r"#!\s*(\S+)", head)
    return match.group(1) if match and "python" in os.path.basename(match.group(1)) else None


# --- judgement and rows (pure) ---------------------------------------------------------------------


def same_env(a: str | None, b: str | None) -> bool:
    """Two interpreters of one environment. By folder: venvs' bin/python are symlinks to one base Python."""
    if not a or not b:
        return False
    return os.path.realpath(env_of(a)) == os.path.realpath(env_of(b))


def kernel_mismatch(install_facts: Facts, kernels: tuple[KernelSpec, ...], knowledge) -> tuple[Finding, ...]:
    """The doctor's `no-jupyter-kernel-for-env` check on the kernels found (resolved interpreters)."""
    from ..checks.environment import check_jupyter_kernels
    from ..checks.registry import Skip

    if not known(install_facts.python):
        return ()
    listed = tuple(
        JupyterKernel(name=k.name, spec=k.spec, display_name=k.display_name, python=k.interpreter or k.argv0)
        for k in kernels
        if k.resolved != "not python"
    )
    facts = replace(install_facts, python=replace(install_facts.python, jupyter_kernels=listed))
    try:
        return tuple(check_jupyter_kernels(facts, knowledge))
    except Skip:
        return ()


def torch_words(facts: Facts) -> str:
    torch = facts.torch
    if not known(torch):
        return "not probed"
    if torch.status == "missing":
        return "not installed"
    if torch.status != "ok" and not known(torch.version):
        return f"import fails ({torch.status})" + (f": {torch.error.splitlines()[-1][:80]}" if torch.error else "")
    build = f"CUDA {torch.cuda}" if known(torch.cuda) and torch.cuda else "CPU build"
    return f"{torch.version} ({build})"


def interpreter_row(
    kind: str, name: str, label: str, interpreter: str | None, report, install: InstallEnv
) -> InterpreterRow:
    """A row from the doctor's report on this interpreter (None: it was not found)."""
    if report is None:
        return InterpreterRow(
            kind, name, label, interpreter, None, None, "-", "missing", "interpreter not found", False
        )
    facts = report.facts
    python = facts.python if known(facts.python) else None
    verdict = report.verdict if python else "unreadable"
    summary = report.summary if python else f"could not be probed: {facts.python.reason}"
    return InterpreterRow(
        kind=kind,
        name=name,
        label=label,
        interpreter=interpreter,
        env=python.prefix if python else env_of(interpreter or ""),
        python_version=python.version if python else None,
        torch=torch_words(facts),
        verdict=verdict,
        summary=summary,
        installs_here=same_env(interpreter, install.python),
    )


def platform_notes(platform: str | None) -> tuple[str, ...]:
    if platform == "colab":
        return (
            "Colab: the notebook's one kernel is the VM's Python; install with `%pip install ...` in a cell "
            "(a GPU comes from Runtime → Change runtime type).",
        )
    if platform == "kaggle":
        return (
            "Kaggle: the notebook's kernel is the image's Python; install with `%pip install ...` (internet must be "
            "on in the notebook's settings; a GPU comes from Settings → Accelerator).",
        )
    return ()


__all__ = [
    "InstallEnv",
    "InterpreterRow",
    "KernelSpec",
    "KernelsReport",
    "VsCodeInterpreter",
    "env_of",
    "find_kernels",
    "install_env",
    "interpreter_row",
    "kernel_folders",
    "kernel_mismatch",
    "platform_notes",
    "read_vscode_interpreters",
    "resolve_kernel_python",
    "server_prefixes",
    "server_python",
    "strip_jsonc",
]
