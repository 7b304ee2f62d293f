"""The ordered registry of checks and the runner that applies them to facts.

A check is `(Facts, Knowledge) -> Iterable[Finding]`. When a fact it needs is unknown it raises
`Skip(reason)`: torchenv never guesses, and the report lists what was skipped and why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..model import Facts, Finding, Skipped

CheckFn = Callable[[Facts, object], Iterable[Finding]]


class Skip(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    fn: CheckFn


REGISTRY: list[Check] = []


def check(name: str) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        if any(c.name == name for c in REGISTRY):
            raise ValueError(f"duplicate check {name}")
        REGISTRY.append(Check(name, fn))
        return fn

    return register


def run_checks(facts: Facts, knowledge, checks: Iterable[Check] | None = None) -> tuple[list[Finding], list[Skipped]]:
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    for item in REGISTRY if checks is None else checks:
        try:
            findings.extend(item.fn(facts, knowledge))
        except Skip as skip:
            skipped.append(Skipped(item.name, skip.reason))
    return findings, skipped
