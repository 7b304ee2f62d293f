"""Wiring of `torchenv plan`: a target (this machine or a described one), pins, one Plan, one export."""

from __future__ import annotations

import argparse
import sys

from .errors import UsageError
from .exit_codes import ExitCode

FORMATS = ("text", "pip", "uv", "conda", "pixi", "requirements", "environment.yml", "dockerfile")


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_argument_group("target (default: this machine)")
    target.add_argument(
        "--gpu", action="append", default=[], metavar="NAME", help="a GPU model, e.g. 'RTX 4090' (repeatable)"
    )
    target.add_argument(
        "--cc", action="append", default=[], metavar="X.Y", help="a GPU compute capability, e.g. 8.6 ('none': no GPU)"
    )
    target.add_argument("--no-gpu", action="store_true", help="plan for a machine without an NVIDIA GPU")
    target.add_argument("--driver", metavar="VERSION", help="NVIDIA driver version, e.g. 535.104.05")
    target.add_argument("--python", metavar="X.Y", help="Python version, e.g. 3.12")
    target.add_argument(
        "--os", choices=("linux", "wsl", "windows", "macos"), help="operating system (wsl: Linux under WSL 2)"
    )
    target.add_argument("--arch", choices=("x86_64", "aarch64", "arm64"), help="CPU architecture")
    pins = parser.add_argument_group("pins")
    pins.add_argument("--torch", metavar="SPEC", help="torch version or specifier: 2.7, 2.7.1, '>=2.4,<2.6'")
    pins.add_argument("--variant", metavar="NAME", help="force the build variant: cpu, cu126, cu130, ...")
    pins.add_argument("--index-url", metavar="URL", help="install from this index instead (a mirror)")
    pins.add_argument("--no-companions", action="store_true", help="torch only: no torchvision/torchaudio")


def build_plan(args: argparse.Namespace, *, runner=None):
    """(plan, knowledge) for the parsed arguments; reads this machine only when no target is described."""
    from ..knowledge import load_knowledge
    from ..model.plan import PlanRequest
    from ..planners import PlanInputError, describe_target, plan_for, target_from_facts, with_overrides

    knowledge = load_knowledge()
    try:
        no_gpu = getattr(args, "no_gpu", False) or any(c.strip().lower() == "none" for c in args.cc)
        described = bool(args.gpu or args.cc or args.os or args.arch or no_gpu)
        if described:
            target = describe_target(
                knowledge,
                gpus=args.gpu,
                cc=args.cc,
                driver=args.driver,
                python=args.python,
                os=args.os,
                arch=args.arch,
                no_gpu=no_gpu,
            )
        else:
            from ..probes import gather_facts

            facts = gather_facts(with_torch=False, runner=runner)
            target = with_overrides(target_from_facts(facts, knowledge), python=args.python, driver=args.driver)
        request = PlanRequest(
            torch=args.torch,
            variant=args.variant,
            index_url=args.index_url,
            companions=() if args.no_companions else ("torchvision", "torchaudio"),
        )
        return plan_for(target, knowledge, request), knowledge
    except PlanInputError as exc:
        raise UsageError(str(exc)) from None


def register(commands) -> None:
    plan = commands.add_parser(
        "plan",
        help="the right torch build for this machine (or a described one), for pip, uv, conda and pixi",
        description="Decide torch + torchvision + torchaudio and the build variant for this machine or a described "
        "target, explain why, and export it as commands or files.",
    )
    add_target_arguments(plan)
    out = plan.add_argument_group("output")
    out.add_argument("--format", choices=FORMATS, default="text", help="what to print (default: an explanation)")
    out.add_argument("--json", action="store_true", help="the plan as JSON (kind torchenv.plan)")
    out.add_argument("--name", default="torch-env", help="environment/project name in generated files")
    plan.set_defaults(run=run_plan)


def plan_text(plan) -> str:
    """The plan explained (render/plan_text.py) with the commands the planner decided."""
    from ..planners.export import plan_parts
    from ..render.plan_text import render_plan_text

    return render_plan_text(plan, plan_parts(plan))


def run_plan(args: argparse.Namespace) -> int:
    from ..planners.export import ExportError, export

    plan, knowledge = build_plan(args)
    fmt = "json" if args.json else args.format
    if fmt == "text" or (not plan.ok and fmt != "json"):
        sys.stdout.write(plan_text(plan))
        return ExitCode.OK if plan.ok else ExitCode.PROBLEMS
    if fmt == "json":
        from .. import __version__
        from ..planners.export import plan_json
        from ..render.json_commands import PLAN_KIND, render_command_json

        sys.stdout.write(
            render_command_json(
                PLAN_KIND, plan_json(plan), torchenv_version=__version__, knowledge_version=knowledge.version
            )
        )
        return ExitCode.OK if plan.ok else ExitCode.PROBLEMS
    try:
        sys.stdout.write(export(plan, fmt, name=args.name, knowledge=knowledge))
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    return ExitCode.OK if plan.ok else ExitCode.PROBLEMS
