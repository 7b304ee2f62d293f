"""The plain-text explanation of a Plan (`torchenv plan`, a plan that `create` cannot carry out, the
notebook's plan box).

Formatting only: the summary, the install commands, the build labels and the official image are
decided by planners/export.py (`plan_parts`, which the files' headers share) and handed in, so this
module reads nothing but the model.
"""

from __future__ import annotations

import shlex

from ..model.plan import Plan


def render_plan_text(plan: Plan, parts) -> str:
    """`parts` is planners.export.plan_parts(plan): the summary, the pip argv, one argv per nearest
    plan, one build label per alternative, the official image (or None)."""
    out: list[str] = []
    if plan.ok:
        out.append(f"Plan: {parts.summary}")
        out.append("  " + shlex.join(parts.pip))
        if plan.torchvision or plan.torchaudio:
            comps = ", ".join(f"{n} {v}" for n, v in plan.packages if n != "torch")
            out.append(f"  with {comps}")
        out.append("Why:")
        out += [f"  - {r}" for r in plan.reasons]
    else:
        out.append("Cannot be met:")
        out += [f"  - {u}" for u in plan.unmet]
        if plan.nearest:
            out.append("Nearest plans that can:")
            for n, argv in zip(plan.nearest, parts.nearest, strict=True):
                out.append(f"  - {n.trade_off}  [Python {n.python}]")
                out.append(f"      {shlex.join(argv)}")
    if plan.warnings:
        out.append("Warnings:")
        out += [f"  ! {w}" for w in plan.warnings]
    if plan.alternatives:
        out.append("Alternatives:")
        for a, label in zip(plan.alternatives, parts.alternatives, strict=True):
            out.append(f"  - torch {label} (Python {a.python}): {a.trade_off}")
    if (image := parts.image) is not None:
        floor = f" (needs driver >= {plan.min_driver})" if plan.min_driver else ""
        out.append(f"Image: {image}{floor}; `--format dockerfile` for a Dockerfile and its docker run line")
    if plan.driver_upgrade:
        u = plan.driver_upgrade
        out.append(f"A driver >= {u.min_driver} would give: torch {u.torch}+{u.variant} ({u.gain})")
    out.append(f"(target: {plan.target.origin}; knowledge {plan.knowledge_version})")
    return "\n".join(out) + "\n"
