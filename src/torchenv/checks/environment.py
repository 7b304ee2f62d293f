"""Checks of the surroundings: which interpreter runs, shared memory, toolkits on the system."""

from __future__ import annotations

import os

from ..model import Facts, Finding, Severity, known
from .common import gpu_present, pip_install, version_tuple
from .registry import Skip, check

MIN_SHM_BYTES = 1 << 30  # below 1 GiB, DataLoader workers die with "Bus error" on real batches


def _prefix_of(executable: str) -> str:
    """/x/env/bin/python -> /x/env (the folder holding bin/ or Scripts/)."""
    folder = os.path.dirname(executable)
    return os.path.dirname(folder) if os.path.basename(folder) in ("bin", "Scripts") else folder


@check("wrong-interpreter")
def check_interpreter(facts: Facts, knowledge):
    if not known(facts.python):
        raise Skip("the interpreter was not probed")
    env = facts.python
    evidence = []
    active = facts.environment.get("VIRTUAL_ENV") or facts.environment.get("CONDA_PREFIX")
    active_mismatch = (
        bool(active) and not facts.explicit_python and os.path.realpath(active) != os.path.realpath(env.prefix)
    )
    if active_mismatch:
        variable = "VIRTUAL_ENV" if facts.environment.get("VIRTUAL_ENV") else "CONDA_PREFIX"
        evidence.append(f"{variable}={active} is active, but the interpreter checked lives in {env.prefix}")
    shell = facts.shell if known(facts.shell) else None
    if shell and shell.pip_on_path and known(shell.pip_interpreter) and shell.python_on_path:
        pip_prefix = _prefix_of(shell.pip_interpreter)
        python_prefix = _prefix_of(shell.python_on_path)
        shims = "/shims" in shell.python_on_path or "/shims" in shell.pip_on_path
        if not shims and os.path.realpath(pip_prefix) != os.path.realpath(python_prefix):
            evidence.append(
                f"`pip` on PATH ({shell.pip_on_path}) installs into {shell.pip_interpreter}, "
                f"but `python` on PATH is {shell.python_on_path}"
            )
    if not evidence:
        return
    # Unless torch is missing or broken here (which the mismatch may explain), a pip/python mismatch is a
    # trap for the next install, not a fault of this environment.
    torch_failed = known(facts.torch) and facts.torch.status in ("missing", "import-error")
    yield Finding(
        id="wrong-interpreter",
        category="wrong-interpreter",
        severity=Severity.WARNING if active_mismatch or torch_failed else Severity.INFO,
        layer="environment",
        title="The interpreter you run is not the environment you install into",
        evidence=tuple(evidence),
        explanation="Packages installed with one interpreter's pip are invisible to another: the classic "
        "'I installed torch but import fails' or 'I installed the CUDA build but still get the CPU one'. "
        "Jupyter kernels have the same problem when the kernel is not the environment's Python.",
        fix=f"Always install with the interpreter you run: `{env.executable} -m pip install ...`; in Jupyter, "
        "`%pip install ...` or register the env as a kernel (`python -m ipykernel install --user --name myenv`).",
    )


@check("jupyter-kernel")
def check_jupyter_kernels(facts: Facts, knowledge):
    if not known(facts.python) or not facts.python.jupyter_kernels:
        raise Skip("no Jupyter kernel specs found")
    env = facts.python
    # Environments are compared by their folders: a venv's bin/python is a symlink to the base interpreter,
    # so every venv made from one Python resolves to the same executable.
    mine = {os.path.realpath(_prefix_of(env.executable)), os.path.realpath(env.prefix)}

    def runs_this_env(kernel) -> bool:
        if not kernel.python:
            return False
        if os.sep not in kernel.python:
            # "python"/"python3": Jupyter runs its own interpreter (jupyter_client's format_kernel_cmd), so the
            # spec ipykernel ships inside this environment (share/jupyter/kernels/python3) runs it from here.
            return os.path.realpath(kernel.spec).startswith(os.path.realpath(env.prefix) + os.sep)
        return os.path.realpath(_prefix_of(kernel.python)) in mine

    if any(runs_this_env(k) for k in env.jupyter_kernels):
        return
    torch_here = known(facts.torch) and facts.torch.status == "ok"
    yield Finding(
        id="no-jupyter-kernel-for-env",
        category="wrong-interpreter",
        severity=Severity.INFO if torch_here else Severity.WARNING,
        layer="environment",
        title="No Jupyter kernel runs this environment: notebooks will not see what is installed here",
        evidence=(
            *(f"kernel {k.name!r} ({k.display_name}) runs {k.python}" for k in env.jupyter_kernels[:6]),
            f"this environment: {env.executable}",
        ),
        explanation="A notebook runs the kernel's interpreter, not the one you installed torch with: "
        "`import torch` fails there, or imports another (often CPU-only) torch.",
        fix=f"`{env.executable} -m pip install ipykernel && {env.executable} -m ipykernel install --user "
        f"--name {os.path.basename(_prefix_of(env.executable)) or 'torch-env'}`, then pick that kernel; or `%pip "
        "install` from inside the notebook.",
    )


@check("shm-size")
def check_shm(facts: Facts, knowledge):
    if facts.host.os != "linux":
        raise Skip("/dev/shm is Linux's")
    if not known(facts.host.shm_bytes):
        raise Skip(facts.host.shm_bytes.reason)
    if facts.host.shm_bytes >= MIN_SHM_BYTES:
        return
    size = facts.host.shm_bytes / (1 << 20)
    in_container = bool(facts.host.container)
    yield Finding(
        id="shm-too-small",
        category="data-loading",
        severity=Severity.WARNING,
        layer="environment",
        title=f"/dev/shm is only {size:.0f} MiB: DataLoader workers will crash",
        evidence=(
            f"/dev/shm: {size:.0f} MiB",
            *(("inside a container (Docker's default is 64 MiB)",) if in_container else ()),
        ),
        explanation="DataLoader workers pass batches through shared memory; when it fills, they die with "
        "'DataLoader worker (pid N) is killed by signal: Bus error'.",
        fix="Start the container with `--ipc=host` or `--shm-size=16g` (Kubernetes: mount an emptyDir with "
        "medium: Memory at /dev/shm)."
        if in_container
        else "`sudo mount -o remount,size=16G /dev/shm`",
    )


@check("system-cuda-toolkit")
def check_toolkit(facts: Facts, knowledge):
    if not known(facts.cuda_toolkits) or not facts.cuda_toolkits:
        raise Skip("no system CUDA toolkit")
    if not known(facts.torch) or not known(facts.torch.cuda) or not facts.torch.cuda:
        raise Skip("not a CUDA build of torch")
    torch_major = version_tuple(facts.torch.cuda)[:1]
    differing = [t for t in facts.cuda_toolkits if known(t.version) and version_tuple(t.version)[:1] != torch_major]
    if not differing:
        return
    yield Finding(
        id="system-cuda-toolkit-differs",
        category="compile-toolchain",
        severity=Severity.INFO,
        layer="cuda",
        title=f"The system CUDA toolkit ({', '.join(str(t.version) for t in differing)}) differs from torch's CUDA {facts.torch.cuda}",
        evidence=tuple(f"{t.path}: CUDA {t.version}" for t in differing),
        explanation="torch wheels bring their own CUDA runtime, so this does not affect running torch. It matters "
        "when building CUDA extensions (nvcc must match torch's CUDA major) and for tools that use CUDA_HOME.",
        fix=None,
    )


NOISY_OUTPUT_BYTES = 1 << 20  # a torch import prints nothing; a warning or two is a few hundred bytes


# An uncached import under a second is not worth a line; on the lent H200 image (PYTHONDONTWRITEBYTECODE=1)
# `import torch` took 2.8-3.8 s per process (benchmarks/results/h200-round6).
UNCACHED_IMPORT_SECONDS = 1.0


@check("torch-import-uncached")
def check_uncached_import(facts: Facts, knowledge):
    if not known(facts.torch):
        raise Skip(f"torch was not probed: {facts.torch.reason}")
    torch = facts.torch
    if not known(torch.bytecode_cached):
        raise Skip("the probe did not report torch's bytecode cache")
    seconds = torch.stage_seconds.get("import")
    borrowed = torch.bytecode_probe_folder
    # With a borrowed folder the probe's import is not the user's: theirs compiles torch in every process.
    if torch.bytecode_cached or (not borrowed and (seconds is None or seconds < UNCACHED_IMPORT_SECONDS)):
        return
    why = (
        "bytecode writes are off in this interpreter (PYTHONDONTWRITEBYTECODE or python -B)"
        if torch.bytecode_writes_off is True
        else "no __pycache__ could be written beside torch's files (not writable for this user?)"
    )
    dont_write = facts.environment.get("PYTHONDONTWRITEBYTECODE")
    timing = (
        f"torchenv's probe read torch through its own bytecode folder ({borrowed})"
        + (f"; import torch: {seconds:.2f} s there" if seconds is not None else "")
        if borrowed
        else f"import torch: {seconds:.2f} s in the probe"
    )
    yield Finding(
        id="torch-import-uncached",
        category="performance",
        severity=Severity.INFO,
        layer="environment",
        title="torch's Python files are compiled again in every process that imports torch"
        if borrowed
        else f"`import torch` took {seconds:.1f} s: torch's Python files are compiled again on every start",
        evidence=(
            f"torch/__init__.py has no cached bytecode beside it ({torch.location})",
            why,
            *((f"PYTHONDONTWRITEBYTECODE={dont_write}",) if dont_write is not None else ()),
            timing,
        ),
        explanation="Python caches compiled modules in __pycache__. Without that cache every process that imports "
        "torch (each script, DataLoader worker started with spawn, torchrun rank) compiles thousands of torch's "
        "files again; container images often set PYTHONDONTWRITEBYTECODE=1 to stay small.",
        fix="Compile once where torch is installed: `"
        + (f"{facts.python.executable} " if known(facts.python) else "python ")
        + "-m compileall -q -j 0 "
        + (f"{torch.location}" if known(torch.location) else "<torch's folder>")
        + "` (in a Dockerfile: after the pip install); or, if that folder is read-only, point "
        "PYTHONPYCACHEPREFIX at a writable folder and unset PYTHONDONTWRITEBYTECODE.",
    )


@check("torch-import-noisy")
def check_noisy_import(facts: Facts, knowledge):
    if not known(facts.torch):
        raise Skip(f"torch was not probed: {facts.torch.reason}")
    torch = facts.torch
    if torch.output_bytes < NOISY_OUTPUT_BYTES:
        return
    size = torch.output_bytes / 1e6
    imported = known(torch.version)
    last = torch.stderr_tail.strip().splitlines()[-1:] if torch.stderr_tail.strip() else []
    version = f"=={torch.version}" if imported else ""
    yield Finding(
        id="torch-import-noisy",
        category="performance",
        severity=Severity.WARNING,
        layer="torch",
        title=f"Importing torch here prints {size:.1f} MB of output"
        + (" (torch still imports)" if imported and torch.status == "ok" else ""),
        evidence=(
            f"the probe's interpreter printed {torch.output_bytes} bytes besides torchenv's records (stdout and stderr)",
            *(f"last line: {line[:300]}" for line in last),
        ),
        explanation="`import torch` normally prints nothing. Something that runs at import (a sitecustomize or "
        "usercustomize module, a .pth file in site-packages, debug prints in edited torch files) writes megabytes "
        "on every start: every script and DataLoader worker pays for it, and logs fill up.",
        fix="See what prints: `python -c 'import torch' 2>&1 | head -5`; look for sitecustomize.py, usercustomize.py "
        "and *.pth files in `python -c 'import site; print(site.getsitepackages())'`; if torch's own files were "
        f"edited: {pip_install(facts, 'torch' + version, extra='--force-reinstall --no-deps')}.",
    )


@check("debug-env-vars")
def check_debug_env_vars(facts: Facts, knowledge):
    """Debugging variables left set (data/debug_env.toml): each makes every GPU job slower or turns a
    feature off without a word. Read from the environment torchenv runs in (the one the user's jobs inherit)."""
    from ..knowledge.debug_env import load_debug_variables

    environment = facts.environment or {}
    gpu = gpu_present(facts) is not False  # unknown counts as present: the variable is still worth a word
    found = [
        (row, environment[row.name])
        for row in load_debug_variables()
        if row.name in environment and row.applies(environment[row.name]) and (gpu or not row.cuda)
    ]
    if not found:
        return
    names = ", ".join(row.name for row, _ in found)
    yield Finding(
        id="debug-env-var-set",
        category="performance",
        severity=Severity.WARNING,
        layer="environment",
        title=f"A debugging variable is set: {names}",
        evidence=tuple(f"{row.name}={value!r}: {row.effect}" for row, value in found)
        + tuple(f"{row.name} costs: {row.cost}" for row, _ in found),
        explanation="These variables exist for debugging and reproducibility runs. Left in a shell profile, a "
        "Dockerfile or a CI config, they slow down every PyTorch job started from this environment (or silently "
        "switch torch.compile off), and nothing in the job's output says so.",
        fix="; ".join(row.fix for row, _ in found) + " (and remove them from ~/.bashrc, the Dockerfile or the job "
        "config that sets them).",
        source="; ".join(row.source for row, _ in found),
    )
