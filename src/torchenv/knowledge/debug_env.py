"""Debugging variables that slow every GPU job when left set: data/debug_env.toml (pure, cached)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ._store import DATA_DIR, tomllib

DEBUG_ENV_FILE = "debug_env.toml"


@dataclass(frozen=True, slots=True)
class DebugVariable:
    name: str
    values: tuple[str, ...]  # the values that have the effect; "*" is any value
    cuda: bool  # matters only where an NVIDIA GPU is present
    effect: str
    cost: str
    fix: str
    source: str
    retrieved: str

    def applies(self, value: str) -> bool:
        return "*" in self.values or value.strip() in self.values


@lru_cache(maxsize=4)
def _load(data_dir: str) -> tuple[DebugVariable, ...]:
    doc = tomllib.loads((Path(data_dir) / DEBUG_ENV_FILE).read_text(encoding="utf-8"))
    return tuple(
        DebugVariable(
            name=row["name"],
            values=tuple(row["values"]),
            cuda=bool(row["cuda"]),
            effect=row["effect"],
            cost=row["cost"],
            fix=row["fix"],
            source=row["source"],
            retrieved=row["retrieved"],
        )
        for row in doc.get("variable", [])
    )


def load_debug_variables(data_dir: str | Path | None = None) -> tuple[DebugVariable, ...]:
    """The rows of debug_env.toml from ``data_dir`` (default: the packaged data)."""
    return _load(str(Path(data_dir).resolve()) if data_dir is not None else str(DATA_DIR))


__all__ = ["DebugVariable", "load_debug_variables"]
