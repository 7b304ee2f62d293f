"""The error-message knowledge behind `torchenv explain`: data/errors.toml as frozen records.

Pure: reads only the packaged TOML. Patterns are compiled once (case-insensitive); a row with an
invalid pattern or an unknown category is a bug in the data and fails the load loudly (the
data-consistency tests catch it before a release).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10 needs the tomli backport
    import tomli as tomllib  # type: ignore[no-redef]

from ..model.finding import CATEGORIES

ERRORS_FILE = Path(__file__).resolve().parent / "data" / "errors.toml"


@dataclass(frozen=True, slots=True)
class Cause:
    text: str
    when: str | None = None  # a condition named in checks/explain.py; None: applies in general
    category: str | None = None  # overrides the row's category when this cause is picked
    fix: str | None = None  # overrides the row's fix when this cause is picked


@dataclass(frozen=True, slots=True)
class ErrorPattern:
    id: str
    category: str
    rank: int
    title: str
    meaning: str
    patterns: tuple[re.Pattern[str], ...]
    causes: tuple[Cause, ...]
    fix: str
    source: str
    retrieved: str
    severity: str = "error"


@dataclass(frozen=True, slots=True)
class ErrorKnowledge:
    version: str
    patterns: tuple[ErrorPattern, ...]

    def by_id(self, id: str) -> ErrorPattern | None:
        return next((p for p in self.patterns if p.id == id), None)


def parse_errors(doc: dict) -> ErrorKnowledge:
    rows = []
    seen: set[str] = set()
    for row in doc.get("error", []):
        if row["id"] in seen:
            raise ValueError(f"errors.toml: duplicate id {row['id']}")
        seen.add(row["id"])
        if row["category"] not in CATEGORIES:
            raise ValueError(f"errors.toml: {row['id']} has unknown category {row['category']!r}")
        causes = tuple(
            Cause(text=c["text"], when=c.get("when"), category=c.get("category"), fix=c.get("fix"))
            for c in row.get("causes", [])
        )
        for cause in causes:
            if cause.category is not None and cause.category not in CATEGORIES:
                raise ValueError(f"errors.toml: {row['id']} cause has unknown category {cause.category!r}")
        rows.append(
            ErrorPattern(
                id=row["id"],
                category=row["category"],
                rank=int(row.get("rank", 50)),
                title=row["title"],
                meaning=row["meaning"],
                patterns=tuple(re.compile(p, re.I) for p in row["patterns"]),
                causes=causes,
                fix=row["fix"],
                source=row["source"],
                retrieved=row["retrieved"],
                severity=row.get("severity", "error"),
            )
        )
    return ErrorKnowledge(version=doc.get("meta", {}).get("knowledge_version", "unknown"), patterns=tuple(rows))


@lru_cache(maxsize=4)
def _load(path: str) -> ErrorKnowledge:
    with open(path, "rb") as handle:
        return parse_errors(tomllib.load(handle))


def load_errors(path: str | Path | None = None) -> ErrorKnowledge:
    """Load (and cache) the error patterns (default: the packaged data/errors.toml)."""
    return _load(str(Path(path).resolve()) if path is not None else str(ERRORS_FILE))


__all__ = ["Cause", "ErrorKnowledge", "ErrorPattern", "load_errors", "parse_errors"]
