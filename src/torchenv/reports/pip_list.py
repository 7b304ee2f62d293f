"""Parse `pip list` (columns), `pip list --format=freeze` / `pip freeze`, and collect_env's `[pip3]` lines.

Pure and total: any text gives a (possibly empty) list, never an exception.
"""

from __future__ import annotations

import re

_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_FREEZE = re.compile(rf"^\s*(?:\[pip\d?\]\s+)?({_NAME})\s*(?:\[[^\]]*\])?\s*===?\s*([^\s;#]+)")
_DIRECT = re.compile(rf"^\s*({_NAME})\s*@\s*(\S+)")
_COLUMNS = re.compile(rf"^\s*({_NAME})\s+(\d[^\s]*)(?:\s+(\S.*?))?\s*$")
_HEADER = re.compile(r"^\s*Package\s+Version\b", re.I)
_RULE = re.compile(r"^\s*-{3,}\s+-{3,}")


def canonical_name(name: str) -> str:
    """PEP 503 normalisation: `Torch_Vision` -> `torch-vision`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pip_freeze(text: str) -> list[tuple[str, str]]:
    """`name==version` lines (also `[pip3] name==version` from collect_env); other lines are ignored."""
    found: list[tuple[str, str]] = []
    for line in text.splitlines():
        match = _FREEZE.match(line)
        if match:
            found.append((canonical_name(match.group(1)), match.group(2)))
            continue
        direct = _DIRECT.match(line)
        if direct and "://" in direct.group(2):
            found.append((canonical_name(direct.group(1)), wheel_version(direct.group(2)) or "(direct URL)"))
    return found


_WHEEL = re.compile(r"/([A-Za-z0-9][\w.]*?)-(\d[\w.!]*(?:(?:\+|%2[Bb])[\w.]+)?)-[\w.]+-[\w.]+-[\w.]+\.whl(?:[#?].*)?$")


def wheel_version(url: str) -> str | None:
    """The version in a PEP 610 direct URL's wheel file name (`.../torch-2.1.0%2Bcu121-cp310-…whl` is
    2.1.0+cu121); None for a sdist, a VCS URL or a folder."""
    match = _WHEEL.search(url)
    return match.group(2).replace("%2B", "+").replace("%2b", "+") if match else None


def parse_pip_list(text: str) -> list[tuple[str, str]]:
    """The column format of `pip list`: a `Package  Version` header, a rule, then one package per line."""
    found: list[tuple[str, str]] = []
    started = False
    for line in text.splitlines():
        if _HEADER.match(line):
            started = True
            continue
        if _RULE.match(line):
            started = True
            continue
        if not started:
            continue
        match = _COLUMNS.match(line)
        if match:
            found.append((canonical_name(match.group(1)), match.group(2)))
    return found


def looks_like_pip_list(text: str) -> bool:
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    return any(_HEADER.match(line) for line in lines[:5]) and any(_RULE.match(line) for line in lines[:6])


def looks_like_pip_freeze(text: str) -> bool:
    lines = [line for line in text.splitlines()[:400] if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        return False
    hits = sum(1 for line in lines if _FREEZE.match(line) or _DIRECT.match(line))
    return hits >= max(1, int(len(lines) * 0.6))


def looks_like_bare_columns(text: str) -> bool:
    """`name   version` lines without a header (a filtered `pip list`, as in `pip list | grep torch`)."""
    lines = [line for line in text.splitlines()[:400] if line.strip()]
    if not lines:
        return False
    hits = sum(1 for line in lines if _COLUMNS.match(line) and len(line.split()) == 2)
    return hits >= max(1, int(len(lines) * 0.8))


def parse_bare_columns(text: str) -> list[tuple[str, str]]:
    found = []
    for line in text.splitlines():
        match = _COLUMNS.match(line)
        if match and len(line.split()) == 2:
            found.append((canonical_name(match.group(1)), match.group(2)))
    return found
