"""One rule for a torch version any reader finds in a paste (issue 12: one answer per question).

A stated version (a `PyTorch: X` key, a tool's own torch row) beats one in running text (a banner, a wheel
name, a sentence); running text may only complete a stated version with its local part (2.1.0 -> 2.1.0+cu121);
every version the text names is kept, in order. Pure: attribute access on lines.TextFacts only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .lines import TextFacts


def take_stated(facts: TextFacts, version: str, *, over_stated: bool = False) -> None:
    """A version under its own name; `over_stated`: the installed package's own record (`pip show`), which
    replaces any other stated version."""
    if over_stated or not facts.torch_keyed:
        facts.torch_version = version
        facts.torch_keyed = True
    _keep(facts, version)


def take_running(facts: TextFacts, version: str) -> None:
    current = facts.torch_version
    if facts.torch_keyed:
        if "+" in version and current and "+" not in current and version.split("+")[0] == current:
            facts.torch_version = version
    elif current is None or ("+" in version and "+" not in current):
        facts.torch_version = version
    _keep(facts, version)


def _keep(facts: TextFacts, version: str) -> None:
    if version not in facts.torch_versions:
        facts.torch_versions.append(version)
