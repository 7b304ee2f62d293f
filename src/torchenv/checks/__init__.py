"""Pure checks: (Facts, Knowledge) -> Findings, in layer order, and the verdict drawn from them.

The names load on first use (checks/diagnosis.py builds the registry, which imports every check and
the knowledge queries, ~0.25 s): `torchenv.checks.provisional`, the doctor's first verdict from
files, must be importable in the command line's first milliseconds.
"""

from __future__ import annotations

__all__ = [
    "BLOCKING_CATEGORIES",
    "DEFAULT",
    "REGISTRY",
    "Policy",
    "Skip",
    "apply_policy",
    "check",
    "cuda_usable",
    "diagnose",
    "run_checks",
    "summarise",
]


def __getattr__(name: str):
    if name in __all__:
        from . import diagnosis

        return getattr(diagnosis, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
