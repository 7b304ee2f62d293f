"""Edge: take a snapshot of this machine. The probes gather the Facts; this module adds the one
read they do not make, the conda-meta directory of a conda environment (every record's channel
and the history of what the user asked for), under an injectable filesystem root."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from ..model import Unknown, known
from ..model.snapshot import Snapshot, SnapshotCondaPackage
from .build import CondaMeta, snapshot_from_facts
from .conda import parse_conda_history, parse_conda_meta_record

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


def take_snapshot(
    *,
    python: str | None = None,
    timeout: float = 120.0,
    environ: Mapping[str, str] | None = None,
    root: Path = Path("/"),
    runner=None,
    now: datetime | None = None,
    with_torch: bool = True,
) -> Snapshot:
    from .. import __version__
    from ..probes import gather_facts

    facts = gather_facts(
        python=python,
        with_torch=with_torch,
        smoke=False,  # a snapshot records the environment; the doctor proves the GPU computes
        import_companions=False,
        timeout=timeout,
        environ=environ,
        root=root,
        runner=runner,
    )
    conda = None
    if known(facts.python) and facts.python.conda_prefix:
        conda = read_conda_meta(facts.python.conda_prefix, root)
    return snapshot_from_facts(facts, conda=conda, created=now, torchenv_version=__version__)
