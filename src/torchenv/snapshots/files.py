"""Reading and writing snapshot files: JSON or TOML, written atomically, never clobbering a
file that is not a torchenv snapshot. Every problem is a `SnapshotFileError` with one clear line."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..model import Facts
from ..model.codec import DecodeError, from_json, to_json
from ..model.errors import InputError
from ..model.snapshot import SNAPSHOT_KIND, SNAPSHOT_SCHEMA_VERSION, Snapshot
from ..userfiles import (
    MAX_JSON_DEPTH,
    UserFileError,
    check_output_path,
    is_regular_or_absent,
    json_depth,
    parse_json,
    read_bounded,
    write_output,
)
from . import toml

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10 needs the tomli backport
    import tomli as tomllib  # type: ignore[no-redef]

FORMATS = ("json", "toml")
MAX_BYTES = 64 * 1024 * 1024


class SnapshotFileError(InputError):
    """A snapshot file that cannot be read or written: one line for the user."""


def render_snapshot(snapshot: Snapshot, fmt: str = "json") -> str:
    from ..render.json_commands import snapshot_document

    data = snapshot_document(to_json(snapshot))
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
            return parse_json(stripped, name=name)
        except json.JSONDecodeError as exc:
            raise SnapshotFileError(
                f"{name}: corrupt JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); "
                "not a readable torchenv snapshot"
            ) from None
        except ValueError as exc:  # nested too deeply
            raise SnapshotFileError(f"{exc}; not a torchenv snapshot") from None
    if json_depth(stripped) > MAX_JSON_DEPTH:  # TOML's inline tables and arrays nest the same way
        raise SnapshotFileError(f"{name}: nested more than {MAX_JSON_DEPTH} levels deep; not a torchenv snapshot")
    try:
        return tomllib.loads(stripped)
    except tomllib.TOMLDecodeError as exc:
        raise SnapshotFileError(f"{name}: neither JSON nor TOML ({exc}); not a torchenv snapshot") from None
    except RecursionError:
        raise SnapshotFileError(f"{name}: nested too deeply; not a torchenv snapshot") from None


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
    except (RecursionError, TypeError, ValueError) as exc:
        raise SnapshotFileError(f"{name}: corrupt torchenv snapshot ({type(exc).__name__})") from None


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
    """A snapshot file through the one bounded reader: a regular file of at most MAX_BYTES (a FIFO,
    /dev/zero or a folder is refused with one line, never read)."""
    try:
        raw, _ = read_bounded(path, limit=MAX_BYTES, what="torchenv snapshot")
    except UserFileError as exc:
        raise SnapshotFileError(str(exc)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SnapshotFileError(f"{path}: binary data, not a torchenv snapshot") from None
    return parse_snapshot_text(text, str(path))


def is_snapshot_file(path: str | Path) -> bool:
    """True when `path` is a regular file holding something torchenv wrote (a snapshot of any schema
    version). Never reads a device or a FIFO (so `-o /dev/full` cannot fill memory)."""
    try:
        raw, _ = read_bounded(path, limit=MAX_BYTES, what="torchenv snapshot")
        data = _parse(raw.decode("utf-8"), str(path))
    except (UserFileError, UnicodeDecodeError, SnapshotFileError):
        return False
    return isinstance(data, dict) and data.get("kind") == SNAPSHOT_KIND


def check_snapshot_output(path: str | Path, *, force: bool = False) -> None:
    """Before any work: `path` can take a snapshot. A regular file that is not a torchenv snapshot is
    refused unless forced; a device or a pipe is written to directly (never replaced)."""
    try:
        check_output_path(path)
    except UserFileError as exc:
        raise SnapshotFileError(str(exc)) from None
    if os.path.lexists(path) and is_regular_or_absent(path) and not force and not is_snapshot_file(path):
        raise SnapshotFileError(
            f"{path}: exists and is not a torchenv snapshot; refusing to overwrite it (use --force)"
        )


def write_atomically(path: str | Path, text: str, *, force: bool = False) -> Path:
    """Write `text` to `path` through a temporary file in the same directory and os.replace, so a
    reader never sees half a file; refuse to overwrite anything but a torchenv snapshot unless forced.
    A device or a FIFO is written to directly, never replaced (userfiles.write_output)."""
    check_snapshot_output(path, force=force)
    try:
        write_output(path, text)
    except UserFileError as exc:
        raise SnapshotFileError(str(exc)) from None
    return Path(path)
