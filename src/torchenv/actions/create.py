"""`torchenv create`: make an isolated environment and install a Plan into it (edge: runs venv/pip/uv/conda).

`recipe_for` is pure: it turns a plan, a path and an installer into the exact argv lists. `carry_out`
runs them through the injected runner, streaming each output line, and owns the safety rules:

* an existing path is refused unless `force`; with `force` only a Python environment (a directory with
  `pyvenv.cfg` or `conda-meta/`) or an empty directory is ever replaced, never anything else;
* never destroy before success: with `force` the old environment is renamed aside (`PATH.torchenv-old`,
  same folder, one atomic rename), the new one is built at PATH, and the old one is deleted only when the
  new one passes (`passes`, the doctor's verdict); on a failure or an interrupt it is renamed back. (Building
  the new one elsewhere and swapping would be simpler, but venvs and conda envs are not relocatable: their
  scripts and prefixes name the folder they were made in.)
* a failed step removes the half-made environment, unless `keep_failed`; an interrupt (Ctrl-C) always
  removes what this run made, then re-raises;
* the doctor then runs *inside the new environment* in a child process, and its verdict is returned.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..model.errors import InputError
from ..model.plan import Plan
from ..planners.export import conda_create_argv, pip_install_argv, uv_pip_install_argv

INSTALLERS = ("pip", "uv", "conda", "mamba", "micromamba")
CONDA_LIKE = ("conda", "mamba", "micromamba")


class CreateError(InputError):
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
    replaces: str | None = None  # an existing environment --force replaces once the new one passes

    @property
    def aside(self) -> str | None:
        return aside_path(self.replaces) if self.replaces else None

    def commands(self) -> list[str]:
        steps = [shlex.join(s.argv) for s in (*self.steps, self.doctor)]
        if not self.replaces:
            return steps
        old, aside = shlex.quote(self.replaces), shlex.quote(self.aside or "")
        return [
            f"mv {old} {aside}",
            *steps,
            f"rm -r {aside}  # only when the new environment passes; otherwise: rm -r {old} && mv {aside} {old}",
        ]


@dataclass
class CreateResult:
    ok: bool
    path: str
    env_python: str
    installer: str
    seconds: float = 0.0
    failed_step: str | None = None
    failure: str | None = None
    removed: bool = False  # the half-made environment was removed
    made: bool = False  # something was created at the path
    restored: bool = False  # --force: the previous environment is back at the path
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


def aside_path(path: str) -> str:
    """Where --force keeps the previous environment while the new one is built (same folder)."""
    return str(Path(path).with_name(Path(path).name + ".torchenv-old"))


def _check_creatable(path: Path) -> None:
    """A folder can be made at `path`: tried for real in the nearest existing parent (a temporary
    folder made and removed), because permission bits do not tell (root, read-only mounts, /proc)."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise CreateError(f"{path}: cannot create it: {parent} is not a directory")
    try:
        probe = tempfile.mkdtemp(dir=parent, prefix=".torchenv-create-")
    except OSError as exc:
        raise CreateError(
            f"{path}: cannot create it: {parent} does not take new folders ({exc.strerror or exc})"
        ) from None
    os.rmdir(probe)


def check_path(path: str, force: bool) -> str | None:
    """None when the path is free; the environment to replace (with --force); raises CreateError otherwise."""
    p = Path(path)
    if not p.exists() and not p.is_symlink():
        _check_creatable(p)
        return None
    if not force:
        what = "a Python environment" if is_python_env(p) else "something"
        raise CreateError(f"{path} already exists ({what} is there); pass --force to replace a Python environment")
    if p.is_symlink() or not p.is_dir():
        raise CreateError(f"{path} exists and is not a directory: --force only replaces a Python environment")
    if is_python_env(p) or not any(p.iterdir()):
        aside = Path(aside_path(str(p)))
        if aside.exists() or aside.is_symlink():
            raise CreateError(
                f"{aside} exists (kept by an interrupted `create --force`?): move it back to {path} or remove it first"
            )
        _check_creatable(aside)
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
    passes: Callable[[CreateResult], bool] | None = None,
) -> CreateResult:
    """Run the recipe. With `recipe.replaces`, the old environment is renamed aside first and deleted
    only when the new one passes (`passes(result)`, default: a doctor verdict came back); otherwise,
    and on an interrupt, the new one is removed and the old one renamed back."""
    import time

    began = time.monotonic()
    result = CreateResult(ok=False, path=recipe.path, env_python=recipe.env_python, installer=recipe.installer)
    target = Path(recipe.path)
    aside = Path(recipe.aside) if recipe.aside else None
    if recipe.replaces:
        old = Path(recipe.replaces)
        if not (is_python_env(old) or (old.is_dir() and not any(old.iterdir()))):  # checked again, right before
            raise CreateError(f"{recipe.replaces} is not a Python environment any more: not replacing it")
        if aside is None or aside.exists() or aside.is_symlink():
            raise CreateError(f"{aside} exists: not replacing {recipe.replaces}")
        try:
            os.rename(old, aside)
        except OSError as exc:
            raise CreateError(f"{recipe.replaces}: cannot move it aside to {aside} ({exc.strerror or exc})") from None
    try:
        for step in recipe.steps:
            if on_step:
                on_step(step)
            res = runner.run(step.argv, step.timeout, on_line=on_line, env=env)
            result.made = result.made or target.exists() or target.is_symlink()
            if not res.ok:
                result.failed_step = step.what
                tail = (res.stderr.strip() or res.stdout.strip()).splitlines()[-15:]
                result.failure = res.describe_failure() + ("\n" + "\n".join(tail) if tail else "")
                _undo(result, target, aside, keep=keep_failed)
                result.seconds = time.monotonic() - began
                return result
        result.ok = True
        if run_doctor:
            if on_step:
                on_step(recipe.doctor)
            res = runner.run(recipe.doctor.argv, recipe.doctor.timeout, env=env)
            read_doctor(res, result)
        if aside is not None:
            accepted = (passes or (lambda r: r.verdict is not None))(result) if run_doctor else True
            if not accepted:
                result.ok = False
                result.failed_step = "checking the new environment"
                result.failure = (
                    f"the doctor's verdict inside it: {result.verdict}"
                    if result.verdict is not None
                    else f"could not read the environment: {result.doctor_error}"
                )
                _undo(result, target, aside, keep=False)
            else:
                shutil.rmtree(aside, ignore_errors=True)  # the new one passed: only now the old one goes
    except BaseException:  # Ctrl-C (the runner has killed the installer): remove what this run made
        result.made = result.made or target.exists() or target.is_symlink()
        _undo(result, target, aside, keep=False)
        raise
    result.seconds = time.monotonic() - began
    return result


def _undo(result: CreateResult, target: Path, aside: Path | None, *, keep: bool) -> None:
    """Remove what this run made at `target` (unless `keep` and nothing must go back there), then
    rename the previous environment back."""
    if result.made and (target.exists() or target.is_symlink()) and (aside is not None or not keep):
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target, ignore_errors=True)
        else:
            try:
                target.unlink()
            except OSError:
                pass
        result.removed = not (target.exists() or target.is_symlink())
    if aside is not None and aside.exists() and not (target.exists() or target.is_symlink()):
        os.rename(aside, target)
        result.restored = True


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
    "aside_path",
    "carry_out",
    "check_path",
    "choose_installer",
    "env_python_path",
    "env_works",
    "find_base_python",
    "is_python_env",
    "recipe_for",
]
