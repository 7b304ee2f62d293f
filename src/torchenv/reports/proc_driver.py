"""Parse /proc/driver/nvidia/version and /sys/module/nvidia/version."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import Unknown

_VERSION = re.compile(r"\b(\d{3,4}\.\d{1,3}(?:\.\d{1,3})?)\b")


@dataclass(frozen=True, slots=True)
class KernelModule:
    version: str | Unknown
    flavour: str | Unknown  # "open" or "proprietary"


def parse_proc_driver_version(text: str) -> KernelModule:
    """`NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build ...`."""
    first = next((line for line in text.splitlines() if line.startswith("NVRM version")), "")
    if not first:
        return KernelModule(Unknown("no 'NVRM version' line"), Unknown("no 'NVRM version' line"))
    match = _VERSION.search(first.split(":", 1)[-1])
    version: str | Unknown = match.group(1) if match else Unknown(f"no version in {first[:120]!r}")
    flavour = "open" if "Open Kernel Module" in first else "proprietary"
    return KernelModule(version, flavour)


def parse_module_version(text: str) -> str | Unknown:
    """/sys/module/nvidia/version holds just the version, e.g. `580.159.04`."""
    stripped = text.strip()
    if _VERSION.fullmatch(stripped):
        return stripped
    return Unknown(f"unexpected content {stripped[:60]!r}")
