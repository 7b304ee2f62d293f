"""Findings: what a check concluded, with stable IDs that are part of the public API.

`Finding` is the one diagnostic type: doctor's checks, bench's causes, profile's rules, diff's
differences, verify's checks and explain's matches each carry one (the last three in a record with
their command's own context: `model.snapshot.Difference`, `model.snapshot.VerifyCheck`,
`checks.explain.ExplainMatch`), so every command's JSON has the same finding object."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"  # PyTorch cannot use the GPU (or cannot run at all) until this is fixed
    WARNING = "warning"  # works, but wrong, slow or fragile
    INFO = "info"  # worth knowing; nothing to fix

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


# The categories are shared by doctor, explain and later commands; JSON consumers rely on them.
CATEGORIES = (
    "no-gpu",
    "no-driver",
    "driver-too-old",
    "cpu-only-build",
    "gpu-arch-unsupported",
    "gpu-hidden",
    "wsl",
    "python-unsupported",
    "torch-missing",
    "torch-broken",
    "duplicate-install",
    "companion-mismatch",
    "library-conflict",
    "compute-failure",
    "wrong-interpreter",
    "performance",
    "out-of-memory",
    "data-loading",
    "distributed",
    "compile-toolchain",
    "user-code",
    "other",
)

# The layers of the stack, bottom up; the terminal report groups findings by them.
LAYERS = ("hardware", "driver", "cuda", "torch", "cudnn", "compute", "environment")


@dataclass(frozen=True, slots=True)
class Finding:
    id: str  # stable kebab-case, documented in docs/findings/<id>.md
    category: str
    severity: Severity
    layer: str
    title: str
    evidence: tuple[str, ...]
    explanation: str
    fix: str | None  # the exact command or step for this machine; None when nothing to do
    # Where the knowledge behind it came from (a URL or a document); None for the doctor's own rules.
    source: str | None = None

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown category {self.category!r} for {self.id}")
        if self.layer not in LAYERS:
            raise ValueError(f"unknown layer {self.layer!r} for {self.id}")


@dataclass(frozen=True, slots=True)
class Skipped:
    """A check that did not run because a fact it needs is unknown."""

    check: str
    reason: str
