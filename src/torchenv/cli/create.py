"""Wiring of `torchenv create PATH`: plan for this machine, make the env, install, run the doctor inside."""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from .common import require_seconds
from .errors import UsageError, could_not_read
from .exit_codes import ExitCode


def register(commands) -> None:
    from .plan import add_target_arguments

    create = commands.add_parser(
        "create",
        help="make an isolated environment with the planned torch build, then check it with the doctor",
        description="Plan the torch build for this machine, create PATH (venv + pip, uv when installed, or "
        "conda/mamba/micromamba), install, and run the doctor inside the new environment.",
    )
    create.add_argument("path", metavar="PATH", help="where to create the environment")
    create.add_argument(
        "--installer",
        choices=("auto", "pip", "uv", "conda", "mamba", "micromamba"),
        default="auto",
        help="default: uv when installed, else venv + pip",
    )
    create.add_argument("--dry-run", action="store_true", help="print the exact commands and change nothing")
    create.add_argument("--force", action="store_true", help="replace an existing Python environment at PATH")
    create.add_argument("--keep-failed", action="store_true", help="keep a half-made environment after a failure")
    create.add_argument("--no-doctor", action="store_true", help="skip the doctor run at the end")
    create.add_argument(
        "--timeout", type=float, default=1800.0, metavar="SECONDS", help="bound on the install (default 1800)"
    )
    add_target_arguments(create)
    create.set_defaults(run=run_create)


def run_create(args: argparse.Namespace) -> int:
    from ..actions.create import (
        CreateError,
        carry_out,
        check_path,
        choose_installer,
        env_works,
        find_base_python,
        recipe_for,
    )
    from ..probes.runner import Runner
    from .plan import build_plan, plan_text

    require_seconds(args.timeout, "--timeout")
    if args.gpu or args.cc or args.os or args.arch:
        raise UsageError(
            "create installs for this machine: --gpu/--cc/--os/--arch describe another target (use `torchenv plan`)"
        )
    plan, _ = build_plan(args)
    out = sys.stdout
    if not plan.ok:
        out.write(plan_text(plan))
        return ExitCode.PROBLEMS
    path = os.path.abspath(args.path)
    try:
        installer, executable = choose_installer(args.installer, shutil.which)
        current = (sys.executable, f"{sys.version_info[0]}.{sys.version_info[1]}")
        base = (
            find_base_python(plan.python, current=current, which=shutil.which) if installer in ("pip", "uv") else None
        )
        recipe = recipe_for(
            plan,
            path,
            installer,
            executable=executable,
            base_python=base,
            install_timeout=args.timeout,
            windows=os.name == "nt",
        )
        replaces = check_path(path, args.force)
    except CreateError as exc:
        raise UsageError(str(exc)) from None
    if replaces:
        from dataclasses import replace

        recipe = replace(recipe, replaces=replaces)
    build = f"torch {plan.torch}+{plan.variant}" if plan.variant != "mps" else f"torch {plan.torch} (MPS)"
    out.write(f"torchenv create: {build}, Python {plan.python}, {installer} -> {path}\n")
    if args.dry_run:
        for command in recipe.commands():
            out.write(command + "\n")
        return ExitCode.OK

    def on_step(step) -> None:
        out.write(f"==> {step.what}\n    $ {_join(step.argv)}\n")
        out.flush()

    def on_line(line: str) -> None:
        out.write("    " + line.rstrip("\n") + "\n")
        out.flush()

    try:
        result = carry_out(
            recipe,
            Runner(),
            keep_failed=args.keep_failed,
            on_line=on_line,
            on_step=on_step,
            run_doctor=not args.no_doctor,
            passes=lambda r: env_works(r, plan),
        )
    except CreateError as exc:
        raise UsageError(str(exc)) from None
    except KeyboardInterrupt:
        _say(out, "interrupted: " + _what_was_undone(path, recipe, None))
        raise
    if not result.ok:
        out.write(f"FAILED while {result.failed_step}: {result.failure}\n")
        out.write(_what_was_undone(path, recipe, result) + "\n")
        return ExitCode.PROBLEMS
    out.write(f"created {path} in {result.seconds:.1f} s; its python: {result.env_python}\n")
    if args.no_doctor:
        return ExitCode.OK
    if result.verdict is None:  # fail closed: a final check that could not run does not pass
        raise could_not_read(f"{result.env_python}: the doctor gave no verdict ({result.doctor_error})")
    out.write(
        f"doctor verdict: {result.verdict.upper()}"
        + (f": {result.doctor_summary}" if result.doctor_summary else "")
        + "\n"
    )
    for finding in result.doctor_findings:
        out.write(f"  - {finding}\n")
    out.write(f"details: {_join(['torchenv', 'doctor', '--python', result.env_python])}\n")
    works = env_works(result, plan)
    if not works:
        out.write("the new environment does not work as planned: see the findings above\n")
    return ExitCode.OK if works else ExitCode.PROBLEMS


def _what_was_undone(path: str, recipe, result) -> str:
    """The truth about what is at PATH now (after a failure, or an interrupt when `result` is None)."""
    if recipe.replaces:
        if not os.path.lexists(recipe.aside):
            return f"your previous environment at {path} is back, unchanged"
        return f"your previous environment is kept at {recipe.aside}; move it back with `mv {recipe.aside} {path}`"
    if os.path.lexists(path):
        if result is not None and result.made and not result.removed:
            return f"kept the half-made environment at {path} (--keep-failed)"
        return f"left {path}: it could not be removed"
    if result is None:
        return f"nothing is left at {path}"
    return f"removed the half-made environment at {path}" if result.made else f"nothing was created at {path}"


def _say(out, text: str) -> None:
    try:
        out.write(text + "\n")
        out.flush()
    except (OSError, ValueError):
        pass


def _join(argv) -> str:
    import shlex

    return shlex.join(list(argv))
