"""Parse `conda list` output (and collect_env's `[conda]` lines) into CondaPackage values.

Pure and total: any text gives a (possibly empty) list, never an exception.
"""

from __future__ import annotations

import re

from ..model import CondaPackage, Unknown

_ROW = re.compile(r"^\s*(?:\[conda\]\s+)?([A-Za-z0-9_][A-Za-z0-9._+-]*)\s+(\d[^\s]*)\s+(\S+)(?:\s+(\S+))?\s*$")
_HEADER = re.compile(r"^#\s*packages in environment at\s*(.*?):?\s*$", re.I)


def parse_conda_list(text: str) -> list[CondaPackage]:
    packages: list[CondaPackage] = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        match = _ROW.match(line)
        if not match:
            continue
        name, version, build, channel = match.groups()
        packages.append(
            CondaPackage(
                name=name.lower(),
                version=version,
                build=build,
                channel=channel if channel else Unknown("conda list did not name a channel (defaults)"),
            )
        )
    return packages


def conda_prefix(text: str) -> str | None:
    for line in text.splitlines()[:20]:
        match = _HEADER.match(line.strip())
        if match:
            return match.group(1).strip() or None
    return None


def looks_like_conda_list(text: str) -> bool:
    lines = [line for line in text.splitlines()[:400] if line.strip()]
    if any(_HEADER.match(line.strip()) for line in lines[:10]):
        return True
    rows = [line for line in lines if not line.lstrip().startswith("#")]
    if not rows:
        return False
    hits = [line for line in rows if _ROW.match(line) and len(line.split()) >= 3]
    return len(hits) >= max(2, int(len(rows) * 0.7))
