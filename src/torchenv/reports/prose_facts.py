"""A setup described in the reporter's own words, read from a line nothing else could read (issue 12).

People describe their machine in a sentence rather than a report: "Ubuntu 20.04, GTX 1080 Ti, CUDA 11.3,
pytorch 1.10 installed via conda", "My setup: 2x A100 80GB, torch nightly, cuda 12.4", "I have an RTX 3060
and installed pytorch with pip". Each phrase is a fact the key/value reader would take from "GPU: RTX 3060".

A line is read only when it describes a setup: two or more such phrases, or one after an ownership cue ("I
have", "my GPU", "running on"). A sentence comparing GPUs ("upgraded from a 3090 to a 5090") names more
than one, so it says that an NVIDIA GPU is expected but not which one is installed. Pure; standard library.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .lines import TextFacts

ApplyKey = Callable[["TextFacts", str, str, str], "str | None"]

# Cheap gate: one of these must be in the lower-cased line before any regex runs.
_WORDS = ("rtx", "gtx", "quadro", "tesla", "titan", "a100", "h100", "h200", "v100", "t4", "l4", "a10", "cuda", "torch",
          "python", "ubuntu", "windows", "macos", "debian", "centos")  # fmt: skip

_GPU = re.compile(
    r"\b(?:NVIDIA\s+)?(?:GeForce\s+)?(?:(?:RTX|GTX)\s?-?\d{3,4}(?:\s?(?:Ti|SUPER|Super))?(?:\s(?:Laptop|Max-Q|Mobile))?"
    r"|Quadro\s+(?:RTX\s+)?[A-Z]?\d{3,4}|TITAN\s+(?:RTX|Xp?|V)"
    r"|(?:Tesla\s+)?(?:[AHB]100|H200|B200|V100|P100|K80|A10G?|A30|A40|L40S?|RTX\s+A[456]000|A[456]000|T4|L4)\b"
    r"(?:[-\s](?:SXM\d?|PCIe|\d{2,3}\s?GB))?)"
)
_CUDA = re.compile(r"\bCUDA\s*(?:version\s*)?v?(\d{1,2}\.\d)\b", re.I)
_TORCH = re.compile(r"\b(?:py)?torch\s*(?:version\s*)?v?(\d\.\d{1,2}(?:\.\d+)?(?:\+\w+)?)\b", re.I)
_PYTHON = re.compile(r"(?<![/\\\w])python\s?v?(3\.\d{1,2}(?:\.\d+)?|2\.7(?:\.\d+)?)\b(?![/\\])", re.I)  # not a path
_OS = re.compile(r"\b(Ubuntu\s+\d{2}\.\d{2}|Windows\s+(?:10|11|Server)|macOS\s+\d+|Debian\s+\d+|CentOS\s+\d)", re.I)
_OWNED = re.compile(
    r"\b(?:I\s+have|I've\s+got|I\s+got|I'm\s+(?:using|on|running)|I\s+am\s+(?:using|on|running)|using|running\s+"
    r"(?:on|with)|my\s+(?:setup|machine|system|gpu|laptop|pc|card|computer|server|environment|env)|setup\s*:|"
    r"environment\s*:|specs?\s*:|on\s+(?:a|an|my)\b)",
    re.I,
)


def read_setup_line(facts: TextFacts, line: str, apply_key: ApplyKey) -> list[str]:
    """The facts a setup sentence states, through the key/value reader's own rules; their names, or []."""
    low = line.lower()
    if not any(word in low for word in _WORDS):
        return []
    gpus = {re.sub(r"\s+", " ", m.group(0)).strip() for m in _GPU.finditer(line)}
    phrases = [
        *(("cuda", m.group(1)) for m in _CUDA.finditer(line)),
        *(("torch", m.group(1)) for m in _TORCH.finditer(line)),
        *(("python", m.group(1)) for m in _PYTHON.finditer(line)),
        *(("os", m.group(1)) for m in _OS.finditer(line)),
    ]
    if len(gpus) + len(phrases) < 2 and not ((gpus or phrases) and _OWNED.search(line)):
        return []
    found: list[str] = []
    if len(gpus) == 1:
        name = apply_key(facts, "gpus", "GPU", next(iter(gpus)))
        found += [f"{name} (prose)"] if name else []
    elif gpus:
        facts.cuda_expected.append(f"NVIDIA GPUs named in prose: {', '.join(sorted(gpus))[:120]}")
        found.append("gpu expected (prose)")
    for kind, value in phrases:
        if kind == "cuda" and len({v for k, v in phrases if k == "cuda"}) == 1:
            name = apply_key(facts, "stated_cuda", "CUDA", value)
        elif kind == "torch":
            name = _torch(facts, value)
        elif kind == "python" and len({v for k, v in phrases if k == "python"}) == 1:
            name = apply_key(facts, "python", "Python", value)
        elif kind == "os":
            name = apply_key(facts, "os", "OS", value)
        else:
            name = None
        if name:
            found.append(f"{name} (prose)")
    return found


def _torch(facts: TextFacts, version: str) -> str:
    """A torch version in running text: below any stated key, as the line reader's own inline versions are."""
    if facts.torch_version is None:
        facts.torch_version = version
    if version not in facts.torch_versions:
        facts.torch_versions.append(version)
    return "torch"
