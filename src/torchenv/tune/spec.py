"""What `torchenv tune WORKLOAD` names: a built-in workload or `path/to/file.py:factory`. Pure."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..model.errors import InputError

BUILTIN_WORKLOADS = ("resnet50", "transformer")


@dataclass(frozen=True)
class WorkloadSpec:
    builtin: str | None = None
    path: str | None = None  # absolute path of the user's file
    factory: str | None = None

    @property
    def argument(self) -> str:
        return self.builtin if self.builtin else f"{self.path}:{self.factory}"


class SpecError(InputError, ValueError):
    """A workload that names nothing runnable: the user's input (exit 2)."""


def parse_workload(text: str, cwd: str | None = None, exists=os.path.isfile) -> WorkloadSpec:
    text = text.strip()
    if text in BUILTIN_WORKLOADS:
        return WorkloadSpec(builtin=text)
    if ":" not in text:
        raise SpecError(
            f"unknown workload {text!r}: choose {', '.join(BUILTIN_WORKLOADS)} or give path/to/file.py:make_workload"
        )
    path, _, factory = text.rpartition(":")
    if not path.endswith(".py"):
        raise SpecError(f"{text!r}: expected path/to/file.py:make_workload")
    if not factory.isidentifier():
        raise SpecError(f"{text!r}: {factory!r} is not a Python function name")
    full = os.path.abspath(os.path.join(cwd or os.getcwd(), path))
    if not exists(full):
        raise SpecError(f"{path}: no such file")
    return WorkloadSpec(path=full, factory=factory)
