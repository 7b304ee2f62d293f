"""Install fixes come from the planner: the command a finding prints is the plan `torchenv plan` gives.

One answer per question: a doctor finding never picks a wheel by itself. It asks `plan_for` with
the same facts (and the companions installed beside torch, so they are reinstalled in step) and
renders the result through the same exporter as `torchenv plan --format pip`.
"""

from __future__ import annotations

import shlex
from dataclasses import replace

from ..model import Facts, known
from ..model.plan import GpuTarget, Plan, PlanRequest
from ..planners.core import plan_for
from ..planners.export import pip_install_argv
from ..planners.target import target_from_facts
from .common import python_command

COMPANIONS = ("torchvision", "torchaudio")


def installed_companions(facts: Facts) -> tuple[str, ...]:
    """torchvision/torchaudio present in the environment: they must move with torch."""
    names: set[str] = set()
    if known(facts.torch) and known(facts.torch.companions):
        names |= {c.name for c in facts.torch.companions if c.version}
    if known(facts.python) and known(facts.python.distributions):
        names |= {d.name for d in facts.python.distributions if d.name in COMPANIONS}
    return tuple(n for n in COMPANIONS if n in names)


_RECENT: list[tuple[Facts, object, Plan]] = []  # several checks ask for the same facts' plan in one doctor run


def doctor_plan(facts: Facts, knowledge) -> Plan:
    """The plan for these facts, exactly as `torchenv plan` computes it for the same machine."""
    for seen_facts, seen_knowledge, plan in _RECENT:
        if seen_facts is facts and seen_knowledge is knowledge:
            return plan
    plan = plan_for(target_from_facts(facts, knowledge), knowledge, PlanRequest(companions=installed_companions(facts)))
    _RECENT.insert(0, (facts, knowledge, plan))
    del _RECENT[4:]
    return plan


def plan_command(plan: Plan, facts: Facts, *, force: bool = True) -> str | None:
    if not plan.ok:
        return None
    extra = ("--force-reinstall",) if force else ()
    return shlex.join(pip_install_argv(plan, python=_python(facts), extra=extra))


def _python(facts: Facts) -> str:
    return shlex.split(python_command(facts))[0]


def planned_install(facts: Facts, knowledge, *, force: bool = True) -> str:
    """A fix sentence: the planned command, or why no build fits (with the nearest that does)."""
    plan = doctor_plan(facts, knowledge)
    command = plan_command(plan, facts, force=force)
    if command:
        return f"`{command}` (what `torchenv plan` picks for this machine)"
    return "no published torch build fits this machine: " + "; ".join(plan.unmet) + _nearest(plan)


def _nearest(plan: Plan) -> str:
    if not plan.nearest:
        return ""
    first = plan.nearest[0]
    return f"; nearest: {first.trade_off} (see `torchenv plan`)"


def gpu_machine_plan(facts: Facts, knowledge) -> Plan:
    """For a machine without a GPU: what to install on one with an NVIDIA GPU of unknown model."""
    target = target_from_facts(facts, knowledge)
    target = replace(target, gpus=(GpuTarget(name="an NVIDIA GPU", cc=None),), driver=None, wsl=False)
    return plan_for(target, knowledge, PlanRequest(companions=()))


__all__ = ["doctor_plan", "gpu_machine_plan", "installed_companions", "plan_command", "planned_install"]
