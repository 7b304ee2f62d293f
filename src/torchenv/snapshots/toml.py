"""A small TOML writer for JSON-shaped data (no dependency; read back with tomllib).

Tables become `[a.b]` sections, lists of objects become `[[a.b]]` arrays of tables, everything
else is written inline. TOML has no null: a None value is left out (the snapshot model gives every
nullable field a default of None, so the value survives the round trip).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else toml_string(key)


def toml_string(text: str) -> str:
    # A JSON string is a valid TOML basic string once DEL is escaped too (TOML forbids it raw).
    # ensure_ascii=False keeps non-ASCII as UTF-8: TOML rejects the surrogate pairs JSON would write.
    encoded = json.dumps(text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), ensure_ascii=False)
    return encoded.replace("\x7f", "\\u007f")


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        items = [f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


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
