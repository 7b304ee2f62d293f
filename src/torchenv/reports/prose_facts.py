"""A setup described in the reporter's own words, read from a line nothing else could read (issue 12).

People describe their machine in a sentence rather than a report: "Ubuntu 20.04, GTX 1080 Ti, CUDA 11.3,
pytorch 1.10 installed via conda", "My setup: 2x A100 80GB, torch nightly, cuda 12.4", "I have an RTX 3060
and installed pytorch with pip". Each phrase is a fact the key/value reader would take from "GPU: RTX 3060".

A line is read only when it describes a setup: two or more such phrases, one after an ownership cue ("I
have", "my GPU", "running on"), or one that is a short line of its own (an item of a setup list, "- Windows
10", "- 2.8.0+cu128": a bare version with torch's +cuNNN/+cpu local part). A sentence comparing GPUs ("upgraded from a 3090 to a 5090") names more
than one, so it says that an NVIDIA GPU is expected but not which one is installed. Pure; standard library.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import torch_version

if TYPE_CHECKING:
    from .lines import TextFacts

ApplyKey = Callable[["TextFacts", str, str, str], "str | None"]


# Cheap gates, written out (a chain of `in` costs a tenth of any() over a tuple): each regex runs only on a
# lower-cased line holding one of its words. Most pasted lines say "torch" or "cuda"; the GPU pattern, a long
# alternation, is the costly one. 10 MB of unique pasted lines is 213k lines.
def _gpu_words(low: str) -> bool:
    return (
        "rtx" in low or "gtx" in low or "100" in low or "200" in low or "000" in low or "t4" in low or "l4" in low
        or "a10" in low or "l40" in low or "quadro" in low or "tesla" in low or "titan" in low or "k80" in low
    )  # fmt: skip


def _os_words(low: str) -> bool:
    return "ubuntu" in low or "windows" in low or "macos" in low or "debian" in low or "centos" in low


_GPU = re.compile(
    r"\b(?:NVIDIA\s+)?(?:GeForce\s+)?(?:(?:RTX|GTX)\s?-?\d{3,4}(?:\s?(?:Ti|SUPER|Super))?(?:\s(?:Laptop|Max-Q|Mobile))?"
    r"|Quadro\s+(?:RTX\s+)?[A-Z]?\d{3,4}|TITAN\s+(?:RTX|Xp?|V)"
    r"|(?:Tesla\s+)?(?:[AHB]100|H200|B200|V100|P100|K80|A10G?|A30|A40|L40S?|RTX\s+A[456]000|A[456]000|T4|L4)\b"
    r"(?:[-\s](?:SXM\d?|PCIe|\d{2,3}\s?GB))?)"
)
# Matched where their word starts (found with str.find on the lower-cased line, far cheaper than a scan).
_CUDA = re.compile(r"cuda\s*(?:version\s*)?v?(\d{1,2}\.\d)\b", re.I)
_TORCH = re.compile(r"torch\s*(?:version\s*)?v?(\d\.\d{1,2}(?:\.\d+)?(?:\+\w+)?)\b", re.I)
_PYTHON = re.compile(r"python\s?v?(3\.\d{1,2}(?:\.\d+)?|2\.7(?:\.\d+)?)\b(?![/\\])", re.I)  # not a path
# "my 4090", "a 3090 Ti": GeForce numbers said without their family, which the number decides (GTX up to the
# 16 series, RTX from the 20 series on). Only after a determiner, so a count or a year is not a GPU.
_BARE_GEFORCE = re.compile(
    r"\b(?:my|a|an|the|one|two|dual|single|\dx)\s+(10[5-8]0|16[56]0|20[6-8]0|30[5-9]0|40[6-9]0|50[6-9]0)"
    r"(\s?Ti|\s?Super)?\b",
    re.I,
)
_BARE_TORCH = re.compile(r"v?\d+\.\d+\.\d+\+(?:cu\d{2,3}|cpu|rocm[\d.]+)")
_OS = re.compile(r"\b(Ubuntu\s+\d{2}\.\d{2}|Windows\s+(?:10|11|Server)|macOS\s+\d+|Debian\s+\d+|CentOS\s+\d)", re.I)
_OWNED = re.compile(
    r"\b(?:I\s+have|I've\s+got|I\s+got|I'm\s+(?:using|on|running)|I\s+am\s+(?:using|on|running)|using|running\s+"
    r"(?:on|with)|my\s+(?:setup|machine|system|gpu|laptop|pc|card|computer|server|environment|env)|setup\s*:|"
    r"environment\s*:|specs?\s*:|on\s+(?:a|an|my)\b|my\s+(?:(?:nvidia|geforce|rtx|gtx|quadro|tesla)\s+)*[a-z]?\d{3,4}\b)",
    re.I,
)


def read_setup_line(facts: TextFacts, line: str, apply_key: ApplyKey) -> list[str]:
    """The facts a setup sentence states, through the key/value reader's own rules; their names, or []."""
    low = line.lower()
    gpus = {re.sub(r"\s+", " ", m.group(0)).strip() for m in _GPU.finditer(line)} if _gpu_words(low) else set()
    if not gpus and ("0 " in low or "0t" in low or "0s" in low or low.endswith("0")):
        gpus = {_geforce(m.group(1), m.group(2)) for m in _BARE_GEFORCE.finditer(line)}
    phrases = [*_at("cuda", _CUDA, line, low), *_at("torch", _TORCH, line, low), *_at("python", _PYTHON, line, low)]
    if _os_words(low):
        phrases += [("os", v) for v in _OS.findall(line)]
    bare = line.strip().lstrip("-*•+ ").strip(" .,;")
    if _BARE_TORCH.fullmatch(bare):  # "- 2.8.0+cu128" in a setup list: only torch writes +cuNNN/+cpu locals
        phrases.append(("torch", bare.lstrip("v")))
    if not gpus and not phrases:
        return []
    # one phrase is a setup fact after an ownership cue, or as a short line of its own ("- Windows 10")
    alone = len(bare.split()) <= 4
    if len(gpus) + len(phrases) < 2 and not ((gpus or phrases) and (alone or _OWNED.search(line))):
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
            torch_version.take_running(facts, value)  # a sentence is running text, below any stated key
            name = "torch"
        elif kind == "python" and len({v for k, v in phrases if k == "python"}) == 1:
            name = apply_key(facts, "python", "Python", value)
        elif kind == "os":
            name = apply_key(facts, "os", "OS", value)
        else:
            name = None
        if name:
            found.append(f"{name} (prose)")
    return found


def _geforce(number: str, suffix: str | None) -> str:
    family = "GTX" if number.startswith(("10", "16")) else "RTX"
    return f"{family} {number}" + (f" {suffix.strip()}" if suffix else "")


def _at(word: str, pattern: re.Pattern[str], line: str, low: str) -> list[tuple[str, str]]:
    """(word, value) for each place `word` starts a word of the line ("pytorch" counts as torch) and the
    pattern matches there; a path ("/python3.10/", "site-packages/torch") does not."""
    out: list[tuple[str, str]] = []
    at = low.find(word)
    while at >= 0:
        start = at - 2 if word == "torch" and low[at - 2 : at] == "py" else at
        before = low[start - 1] if start > 0 else " "
        if not (before.isalnum() or before in "/\\_-."):
            match = pattern.match(line, at)
            if match:
                out.append((word, match.group(1)))
        at = low.find(word, at + len(word))
    return out
