"""`torchenv create`: make an isolated environment and install a Plan into it (edge: runs venv/pip/uv/conda).

`recipe_for` is pure: it turns a plan, a path and an installer into the exact argv lists. `carry_out`
runs them through the injected runner, streaming each output line, and owns the safety rules:

* an existing path is refused unless `force`; with `force` only a Python environment (a directory with
  `pyvenv.cfg` or `conda-meta/`) or an empty directory is ever removed, never anything else;
* a failed step removes the half-made environment, unless `keep_failed`;
* the doctor then runs *inside the new environment* in a child process, and its verdict is returned.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..model.plan import Plan
from ..planners.export import conda_create_argv, pip_install_argv, uv_pip_install_argv

INSTALLERS = ("pip", "uv", "conda", "mamba", "micromamba")
CONDA_LIKE = ("conda", "mamba", "micromamba")


class CreateError(Exception):
    """A request `create` refuses (existing path, missing installer or interpreter): exit code 2."""


@dataclass(frozen=True, slots=True)
class Step:
    argv: tuple[str, ...]
    what: str
    timeout: float


@dataclass(frozen=True, slots=True)
class Recipe:
    path: str
    installer: str
    env_python: str
    steps: tuple[Step, ...]
    doctor: Step
    replaces: str | None = None  # an existing environment --force will remove first

    def commands(self) -> list[str]:
        out = [f"rm -r {shlex.quote(self.replaces)}"] if self.replaces else []
        return out + [shlex.join(s.argv) for s in (*self.steps, self.doctor)]


@dataclass
class CreateResult:
    ok: bool
    path: str
    env_python: str
    installer: str
    seconds: float = 0.0
    failed_step: str | None = None
    failure: str | None = None
    removed: bool = False
    verdict: str | None = None  # the doctor's verdict inside the new env
    cuda_usable: bool | None = None
    doctor_summary: str | None = None
    doctor_findings: list[str] = field(default_factory=list)
    doctor_error: str | None = None


# ---------------------------------------------------------------------- pure: which installer, which commands
def choose_installer(requested: str | None, which: Callable[[str], str | None]) -> tuple[str, str]:
    """(installer, executable). Default: uv when it is installed, else venv + pip."""
    if requested in (None, "", "auto"):
        uv = which("uv")
        return ("uv", uv) if uv else ("pip", "")
    if requested not in INSTALLERS:
        raise CreateError(f"--installer {requested!r}: one of {', '.join(INSTALLERS)}")
    if requested == "pip":
        return "pip", ""
    exe = which(requested)
    if not exe:
        raise CreateError(f"--installer {requested}: `{requested}` is not on PATH")
    return requested, exe


def env_python_path(path: str, installer: str, windows: bool = False) -> str:
    if windows:
        return str(Path(path) / ("python.exe" if installer in CONDA_LIKE else "Scripts/python.exe"))
    return str(Path(path) / "bin" / "python")


def find_base_python(version: str, *, current: tuple[str, str], which: Callable[[str], str | None]) -> str | None:
    """An interpreter of `version` ("3.12"): this one if it matches, else pythonX.Y on PATH."""
    executable, current_version = current
    if current_version == version:
        return executable
    return which(f"python{version}")


def recipe_for(
    plan: Plan,
    path: str,
    installer: str,
    *,
    executable: str = "",
    base_python: str | None = None,
    torchenv_python: str = sys.executable,
    install_timeout: float = 1800.0,
    windows: bool = False,
) -> Recipe:
    env_python = env_python_path(path, installer, windows)
    steps: list[Step] = []
    if installer == "pip":
        if not base_python:
            raise CreateError(
                f"no Python {plan.python} interpreter found (looked for python{plan.python} on PATH); install it, "
                "pass --python for another version, or use --installer uv (it can download Python)"
            )
        steps.append(Step((base_python, "-m", "venv", path), f"creating a venv with {base_python}", 300.0))
        steps.append(Step(tuple(pip_install_argv(plan, env_python)), "installing with pip", install_timeout))
    elif installer == "uv":
        steps.append(
            Step((executable, "venv", "--python", base_python or plan.python, path), "creating a venv with uv", 600.0)
        )
        steps.append(
            Step(tuple(uv_pip_install_argv(plan, env_python, executable)), "installing with uv", install_timeout)
        )
    elif installer in CONDA_LIKE:
        steps.append(
            Step(tuple(conda_create_argv(plan, path, executable)), f"creating a {installer} env", install_timeout * 2)
        )
    else:
        raise CreateError(f"unknown installer {installer!r}")
    doctor = Step(
        (torchenv_python, "-m", "torchenv", "doctor", "--python", env_python, "--json"),
        "running the doctor inside the new environment",
        300.0,
    )
    return Recipe(path=path, installer=installer, env_python=env_python, steps=tuple(steps), doctor=doctor)


# ---------------------------------------------------------------------- the existing-path rules
def is_python_env(path: Path) -> bool:
    return (
        path.is_dir() and not path.is_symlink() and ((path / "pyvenv.cfg").is_file() or (path / "conda-meta").is_dir())
    )


def check_path(path: str, force: bool) -> str | None:
    """None when the path is free; the path to remove first (with --force); raises CreateError otherwise."""
    p = Path(path)
    if not p.exists() and not p.is_symlink():
        if p.parent.exists() and not os.access(p.parent, os.W_OK):
            raise CreateError(f"{path}: cannot create it: {p.parent} is not writable")
        return None
    if not force:
        what = "a Python environment" if is_python_env(p) else "something"
        raise CreateError(f"{path} already exists ({what} is there); pass --force to replace a Python environment")
    if p.is_symlink() or not p.is_dir():
        raise CreateError(f"{path} exists and is not a directory: --force only replaces a Python environment")
    if is_python_env(p) or not any(p.iterdir()):
        return str(p)
    raise CreateError(
        f"{path} exists and is not a Python environment (no pyvenv.cfg or conda-meta/): "
        "torchenv will not delete it, even with --force"
    )


# ---------------------------------------------------------------------- edge: carry it out
def carry_out(
    recipe: Recipe,
    runner,
    *,
    keep_failed: bool = False,
    on_line: Callable[[str], None] | None = None,
    on_step: Callable[[Step], None] | None = None,
    run_doctor: bool = True,
    env: dict[str, str] | None = None,
) -> CreateResult:
    import time

    began = time.monotonic()
    result = CreateResult(ok=False, path=recipe.path, env_python=recipe.env_python, installer=recipe.installer)
    if recipe.replaces:
        target = Path(recipe.replaces)
        if not (
            is_python_env(target) or (target.is_dir() and not any(target.iterdir()))
        ):  # checked again, right before
            raise CreateError(f"{recipe.replaces} is not a Python environment any more: not removing it")
        shutil.rmtree(target)
    for step in recipe.steps:
        if on_step:
            on_step(step)
        res = runner.run(step.argv, step.timeout, on_line=on_line, env=env)
        if not res.ok:
            result.failed_step = step.what
            tail = (res.stderr.strip() or res.stdout.strip()).splitlines()[-15:]
            result.failure = res.describe_failure() + ("\n" + "\n".join(tail) if tail else "")
            if (
                not keep_failed
                and Path(recipe.path).exists()
                and (is_python_env(Path(recipe.path)) or Path(recipe.path).is_dir())
            ):
                shutil.rmtree(recipe.path, ignore_errors=True)
                result.removed = True
            result.seconds = time.monotonic() - began
            return result
    result.ok = True
    if run_doctor:
        if on_step:
            on_step(recipe.doctor)
        res = runner.run(recipe.doctor.argv, recipe.doctor.timeout, env=env)
        read_doctor(res, result)
    result.seconds = time.monotonic() - began
    return result


def env_works(result: CreateResult, plan: Plan) -> bool:
    """The new env does what the plan promised: the doctor found nothing broken, and CUDA works for a CUDA plan."""
    if result.verdict not in ("healthy", "degraded"):
        return False
    return plan.cuda is None or bool(result.cuda_usable)


def read_doctor(res, result: CreateResult) -> None:
    try:
        report = json.loads(res.stdout)
    except (ValueError, TypeError):
        result.doctor_error = res.describe_failure() if not res.ok else "the doctor printed no JSON"
        return
    result.verdict = report.get("verdict")
    result.cuda_usable = report.get("cuda_usable")
    result.doctor_summary = report.get("summary") or report.get("headline")
    result.doctor_findings = [
        f"{f.get('id')} ({f.get('severity')})" for f in report.get("findings", []) if isinstance(f, dict)
    ]


__all__ = [
    "CONDA_LIKE",
    "INSTALLERS",
    "CreateError",
    "CreateResult",
    "Recipe",
    "Step",
    "carry_out",
    "check_path",
    "choose_installer",
    "env_python_path",
    "env_works",
    "find_base_python",
    "is_python_env",
    "recipe_for",
]
