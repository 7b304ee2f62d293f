"""`torchenv kernels` (and `%torchenv kernels`): every notebook interpreter with the doctor's verdict on it.

The composition of the edge reads (kernel specs, VS Code settings, the container probe's platform) and
one doctor run per distinct interpreter (in parallel; each runs the usual probes in a child process of
that interpreter), then the pure judgement of `kernels.py`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .kernels import (
    KernelsReport,
    find_kernels,
    install_env,
    interpreter_row,
    kernel_folders,
    kernel_mismatch,
    platform_notes,
    read_vscode_interpreters,
    server_prefixes,
    server_python,
)


def doctor_report(python: str, *, with_torch: bool, timeout: float, environ: Mapping[str, str], knowledge):
    from .. import __version__
    from ..checks import diagnose
    from ..probes import gather_facts

    facts = gather_facts(python=python, with_torch=with_torch, smoke=False, timeout=timeout, environ=environ)
    return diagnose(facts, knowledge, torchenv_version=__version__)


def collect_kernels_report(
    *,
    python: str | None = None,
    with_torch: bool = True,
    timeout: float = 60.0,
    environ: Mapping[str, str] | None = None,
    home: str | None = None,
    workspace: str | None = None,
    root: Path = Path("/"),
    knowledge=None,
) -> KernelsReport:
    from ..knowledge import load_knowledge
    from ..probes.container import read_container_facts
    from ..probes.system import read_shell_tools

    environ = dict(os.environ if environ is None else environ)
    home = home or environ.get("HOME") or os.path.expanduser("~")
    workspace = workspace if workspace is not None else os.getcwd()
    knowledge = knowledge or load_knowledge()
    shell = read_shell_tools(root, environ)
    pip_python = shell.pip_interpreter if isinstance(shell.pip_interpreter, str) else None
    install = install_env(python, environ, pip_python, shell.python_on_path)
    server = server_python(environ)
    folders = kernel_folders(environ, home=home, server_prefixes=server_prefixes(environ, install))
    kernels = find_kernels(folders, server_python=server or sys.executable, environ=environ)
    vscode = read_vscode_interpreters(home, workspace, environ)

    wanted = (
        [install.python]
        + [k.interpreter for k in kernels if k.interpreter]
        + [v.interpreter for v in vscode if v.interpreter]
    )
    unique = list(dict.fromkeys(wanted))
    with ThreadPoolExecutor(max_workers=min(4, len(unique)) or 1) as pool:
        futures = {
            p: pool.submit(
                doctor_report, p, with_torch=with_torch, timeout=timeout, environ=environ, knowledge=knowledge
            )
            for p in unique
        }
        reports = {p: f.result() for p, f in futures.items()}

    rows = [
        interpreter_row("kernel", k.name, k.display_name, k.interpreter, reports.get(k.interpreter), install)
        for k in kernels
        if k.resolved != "not python"
    ]
    rows += [
        interpreter_row("vscode", v.settings, v.key, v.interpreter, reports.get(v.interpreter), install) for v in vscode
    ]
    findings = kernel_mismatch(reports[install.python].facts, kernels, knowledge)
    platform = read_container_facts(root, environ).platform
    notes = list(platform_notes(platform))
    if not any(k.name.lower() == "python3" for k in kernels):
        notes.append(
            "Jupyter also offers its own interpreter as 'python3' (the environment running the server) when that "
            "environment has ipykernel."
        )
    if vscode:
        notes.append(
            "VS Code keeps the interpreter you pick per workspace in its own storage; these are the defaults its "
            "settings name."
        )
    return KernelsReport(
        install=install,
        rows=tuple(rows),
        platform=platform,
        findings=findings,
        folders=folders,
        notes=tuple(notes),
    )


__all__ = ["collect_kernels_report", "doctor_report"]
