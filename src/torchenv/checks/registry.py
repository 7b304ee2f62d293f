"""The ordered registry of checks and the runner that applies them to facts.

A check is `(Facts, Knowledge) -> Iterable[Finding]`. When a fact it needs is unknown it raises
`Skip(reason)`: torchenv never guesses, and the report lists what was skipped and why.

The order is declared once, here (`ORDER`, bottom layer first), not by which module happens to be
imported first: `@check(name)` only names a function; `build_registry()` imports the modules `ORDER`
lists and fails loudly when a declared check is missing or a decorated one is not declared.

A check that raises anything else is a bug in torchenv, not a fact about the machine: it becomes the
finding `internal-check-error` and the remaining checks still run.
"""

from __future__ import annotations

import importlib
import os
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..model import Facts, Finding, Severity, Skipped

CheckFn = Callable[[Facts, object], Iterable[Finding]]

ISSUES_URL = "https://github.com/torchenv/torchenv/issues"

# (module under torchenv.checks, check name), in the order they run: bottom layer first.
ORDER: tuple[tuple[str, str], ...] = (
    ("hardware", "no-nvidia-gpu"),
    ("hardware", "nvidia-driver-not-loaded"),
    ("hardware", "driver-library-mismatch"),
    ("hardware", "nvidia-smi-unresponsive"),
    ("hardware", "cuda-visible-devices"),
    ("hardware", "wsl"),
    ("hardware", "mig-enabled"),
    ("hardware", "driver-gpu-generation"),
    ("hardware", "driver-branch-old"),
    ("container", "container-without-gpu-passthrough"),
    ("container", "container-gpu-not-injected"),
    ("container", "container-driver-capability"),
    ("container", "container-cuda-driver"),
    ("container", "container-cgroup-limits"),
    ("container", "cdi-spec"),
    ("torch_build", "torch-not-installed"),
    ("torch_build", "torch-import-failed"),
    ("torch_build", "torch-crashed"),
    ("torch_build", "torch-hung"),
    ("torch_build", "torch-probe-failed"),
    ("torch_build", "cpu-only-build"),
    ("torch_build", "driver-too-old"),
    ("torch_build", "gpu-arch-not-in-wheel"),
    ("torch_build", "cuda-unavailable"),
    ("torch_build", "torch-debug-build"),
    ("torch_build", "python-unsupported"),
    ("libraries", "duplicate-torch"),
    ("libraries", "mixed-cuda-wheels"),
    ("libraries", "companion-mismatch"),
    ("libraries", "library-shadowed"),
    ("libraries", "system-cudnn-differs"),
    ("libraries", "cudnn-unavailable"),
    ("compute", "smoke-test"),
    ("compute", "gpu-memory-held-by-others"),
    ("compute", "pcie-link"),
    ("compute", "persistence-mode"),
    ("compute", "ecc-errors"),
    ("compute", "slow-cuda-init"),
    ("environment", "wrong-interpreter"),
    ("environment", "jupyter-kernel"),
    ("environment", "shm-size"),
    ("environment", "system-cuda-toolkit"),
    ("environment", "torch-import-noisy"),
    ("environment", "torch-import-uncached"),
    ("environment", "debug-env-vars"),
)


class Skip(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    fn: CheckFn


# name -> function, filled by @check as the modules are imported; the order comes from ORDER.
_DECLARED: dict[str, CheckFn] = {}


def check(name: str) -> Callable[[CheckFn], CheckFn]:
    """Names a check function; `ORDER` decides whether and when it runs."""

    def register(fn: CheckFn) -> CheckFn:
        if name in _DECLARED and _DECLARED[name] is not fn:
            raise ValueError(f"duplicate check {name}")
        _DECLARED[name] = fn
        fn.check_name = name  # type: ignore[attr-defined]
        return fn

    return register


def build_registry(order: tuple[tuple[str, str], ...] = ORDER) -> list[Check]:
    """The checks of `order`, in that order; a declared check with no function (or a decorated
    function `order` leaves out) is an error of torchenv, caught by the tests."""
    for module in dict.fromkeys(m for m, _ in order):
        importlib.import_module(f"{__package__}.{module}")
    missing = [name for _, name in order if name not in _DECLARED]
    if missing:
        raise LookupError(f"checks in ORDER without a @check function: {', '.join(missing)}")
    undeclared = sorted(set(_DECLARED) - {name for _, name in order})
    if undeclared and order is ORDER:
        raise LookupError(f"@check functions missing from ORDER: {', '.join(undeclared)}")
    return [Check(name, _DECLARED[name]) for _, name in order]


REGISTRY: list[Check] = []  # filled by torchenv.checks (build_registry), in ORDER


def run_checks(facts: Facts, knowledge, checks: Iterable[Check] | None = None) -> tuple[list[Finding], list[Skipped]]:
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    if checks is None and not REGISTRY:
        REGISTRY[:] = build_registry()
    for item in REGISTRY if checks is None else checks:
        try:
            # list(): a generator's exception is raised here, not after half its findings were kept
            findings.extend(list(item.fn(facts, knowledge)))
        except Skip as skip:
            skipped.append(Skipped(item.name, skip.reason))
        except Exception as exc:  # a bug in a check: a finding, and the other checks still run
            findings.append(internal_check_error(item.name, exc))
    return findings, skipped


def internal_check_error(name: str, exc: BaseException) -> Finding:
    where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    location = [f"at {os.path.basename(f.filename)}:{f.lineno} in {f.name}" for f in where]
    return Finding(
        id="internal-check-error",
        category="other",
        severity=Severity.WARNING,
        layer="environment",
        title=f"The check {name} failed with an internal error; its part of the stack was not checked",
        evidence=(f"check {name}: {type(exc).__name__}: {str(exc)[:300]}", *location),
        explanation="A bug in torchenv, not a problem of this machine: the check raised instead of returning "
        "findings. Every other check ran; the verdict cannot vouch for what this one covers.",
        fix=f"Please report it at {ISSUES_URL} with the output of `TORCHENV_DEBUG=1 torchenv doctor --json`.",
    )
