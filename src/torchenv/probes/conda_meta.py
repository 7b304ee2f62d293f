"""Edge: read a conda environment's conda-meta directory (every record's channel and the history of
what the user asked for), under an injectable filesystem root. The parsing is pure (reports.conda_meta)."""

from __future__ import annotations

import json
from pathlib import Path

from ..model import Unknown
from ..model.snapshot import CondaMeta, SnapshotCondaPackage
from ..reports.conda_meta import parse_conda_history, parse_conda_meta_record

MAX_RECORD_BYTES = 64 * 1024 * 1024


def read_conda_meta(prefix: str | Path, root: Path = Path("/")) -> CondaMeta | None:
    """The records and history of `prefix/conda-meta`; None when there is no such directory."""
    meta = root / str(prefix).lstrip("/") / "conda-meta"
    if not meta.is_dir():
        return None
    packages: list[SnapshotCondaPackage] = []
    errors: list[str] = []
    for path in sorted(meta.glob("*.json")):
        try:
            if path.stat().st_size > MAX_RECORD_BYTES:
                raise ValueError("too large")
            record = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(record, dict):
                raise ValueError("not an object")
            packages.append(parse_conda_meta_record(record, path.name))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            errors.append(f"{path.name}: {exc}")
    history = meta / "history"
    try:
        requested: tuple[str, ...] | Unknown = parse_conda_history(
            history.read_text(encoding="utf-8", errors="replace")
        )
    except OSError:
        requested = Unknown("no conda-meta/history")
    return CondaMeta(tuple(packages), requested, tuple(errors))
