"""A small TOML writer for JSON-shaped data (no dependency; read back with tomllib).

Tables become `[a.b]` sections, lists of objects become `[[a.b]]` arrays of tables, everything
else is written inline. TOML has no null: a None value is left out (the snapshot model gives every
nullable field a default of None, so the value survives the round trip).
"""

from __future__ import annotations

from typing import Any

from ..formats import toml_key, toml_string, toml_value

# The scalar writers are the file formats' own (torchenv/formats.py): one quoting for every TOML torchenv writes.
__all__ = ["dumps", "toml_key", "toml_string", "toml_value"]


def _is_marker(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"unknown"}


def _is_table(value: Any) -> bool:
    return isinstance(value, dict) and not _is_marker(value)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(_is_table(v) for v in value)


def dumps(data: dict[str, Any], *, header: str = "") -> str:
    lines: list[str] = [f"# {line}".rstrip() for line in header.splitlines()]
    _write_table(lines, [], data, kind=None)
    return "\n".join(lines).strip("\n") + "\n"


def _write_table(lines: list[str], path: list[str], table: dict[str, Any], kind: str | None) -> None:
    inline = [(k, v) for k, v in table.items() if v is not None and not _is_table(v) and not _is_table_array(v)]
    tables = [(k, v) for k, v in table.items() if _is_table(v)]
    arrays = [(k, v) for k, v in table.items() if _is_table_array(v)]
    dotted = ".".join(toml_key(p) for p in path)
    if kind == "array":
        lines += ["", f"[[{dotted}]]"]
    elif kind == "table" and (inline or not (tables or arrays)):
        lines += ["", f"[{dotted}]"]
    for key, value in inline:
        lines.append(f"{toml_key(key)} = {toml_value(value)}")
    for key, value in tables:
        _write_table(lines, [*path, key], value, kind="table")
    for key, value in arrays:
        for item in value:
            _write_table(lines, [*path, key], item, kind="array")
