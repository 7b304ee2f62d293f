"""Reading and writing snapshot files: JSON or TOML, written atomically, never clobbering a
file that is not a torchenv snapshot. Every problem is a `SnapshotFileError` with one clear line."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ..model import Facts
from ..model.codec import DecodeError, from_json, to_json
from ..model.snapshot import SNAPSHOT_KIND, SNAPSHOT_SCHEMA_VERSION, Snapshot
from . import toml

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10 needs the tomli backport
    import tomli as tomllib  # type: ignore[no-redef]

FORMATS = ("json", "toml")
MAX_BYTES = 64 * 1024 * 1024


class SnapshotFileError(Exception):
    """A snapshot file that cannot be read or written: one line for the user."""


def render_snapshot(snapshot: Snapshot, fmt: str = "json") -> str:
    data = to_json(snapshot)
    if fmt == "toml":
        return toml.dumps(data, header="torchenv snapshot: read it back with `torchenv diff`, `export` or `verify`")
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def format_for(path: str | None, explicit: str | None) -> str:
    if explicit:
        return explicit
    return "toml" if path and path.lower().endswith(".toml") else "json"


def parse_snapshot_text(text: str, name: str = "snapshot") -> Snapshot:
    data = _parse(text, name)
    return snapshot_from_data(data, name)


def _parse(text: str, name: str) -> Any:
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise SnapshotFileError(f"{name}: the file is empty, not a torchenv snapshot")
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise SnapshotFileError(
                f"{name}: corrupt JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); "
                "not a readable torchenv snapshot"
            ) from None
    try:
        return tomllib.loads(stripped)
    except tomllib.TOMLDecodeError as exc:
        raise SnapshotFileError(f"{name}: neither JSON nor TOML ({exc}); not a torchenv snapshot") from None


def snapshot_from_data(data: Any, name: str = "snapshot") -> Snapshot:
    if not isinstance(data, dict):
        raise SnapshotFileError(f"{name}: not a torchenv snapshot (the file holds a {type(data).__name__})")
    kind = data.get("kind")
    if kind != SNAPSHOT_KIND:
        if "facts" in data and "verdict" in data:
            return _from_doctor_report(data, name)
        what = f"kind {kind!r}" if kind is not None else "no `kind` field"
        raise SnapshotFileError(f"{name}: not a torchenv snapshot ({what}; expected {SNAPSHOT_KIND!r})")
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise SnapshotFileError(f"{name}: corrupt torchenv snapshot (schema_version is {version!r})")
    if version > SNAPSHOT_SCHEMA_VERSION:
        raise SnapshotFileError(
            f"{name}: snapshot schema_version {version} is newer than this torchenv reads "
            f"({SNAPSHOT_SCHEMA_VERSION}); upgrade torchenv"
        )
    try:
        return from_json(Snapshot, data)
    except DecodeError as exc:
        raise SnapshotFileError(f"{name}: corrupt torchenv snapshot ({exc})") from None


def _from_doctor_report(data: dict, name: str) -> Snapshot:
    """A `torchenv doctor --json` report holds Facts: good enough to diff, export or verify against."""
    from .build import snapshot_from_facts

    try:
        facts = from_json(Facts, data["facts"])
    except DecodeError as exc:
        raise SnapshotFileError(f"{name}: a torchenv doctor report whose facts are corrupt ({exc})") from None
    version = str(data.get("torchenv_version") or "")
    from datetime import datetime, timezone

    created = datetime(1970, 1, 1, tzinfo=timezone.utc)
    snapshot = snapshot_from_facts(facts, created=created, torchenv_version=version)
    from dataclasses import replace

    return replace(snapshot, origin=f"doctor report {Path(name).name}", created="unknown")


def load_snapshot(path: str | Path) -> Snapshot:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise SnapshotFileError(f"{path}: {path.stat().st_size} bytes is too large for a torchenv snapshot")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SnapshotFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SnapshotFileError(f"{path}: is a directory, not a snapshot file") from None
    except OSError as exc:
        raise SnapshotFileError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SnapshotFileError(f"{path}: binary data, not a torchenv snapshot") from None
    return parse_snapshot_text(text, str(path))


def is_snapshot_file(path: Path) -> bool:
    """True when `path` holds something torchenv wrote (a snapshot of any schema version)."""
    try:
        data = _parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError, SnapshotFileError):
        return False
    return isinstance(data, dict) and data.get("kind") == SNAPSHOT_KIND


def write_atomically(path: str | Path, text: str, *, force: bool = False) -> Path:
    """Write `text` to `path` through a temporary file in the same directory and os.replace, so a
    reader never sees half a file; refuse to overwrite anything but a torchenv snapshot unless forced."""
    path = Path(path)
    if path.is_dir():
        raise SnapshotFileError(f"{path}: is a directory")
    if path.exists() and not force and not is_snapshot_file(path):
        raise SnapshotFileError(
            f"{path}: exists and is not a torchenv snapshot; refusing to overwrite it (use --force)"
        )
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise SnapshotFileError(f"{path}: directory {directory} does not exist")
    try:
        fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise SnapshotFileError(f"{path}: cannot write in {directory} ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
            os.chmod(temp, mode)
        except OSError:
            pass
        os.replace(temp, path)
    except BaseException as exc:
        try:
            os.unlink(temp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise SnapshotFileError(f"{path}: cannot write it ({exc.strerror or exc})") from None
        raise
    return path
