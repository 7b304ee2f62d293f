"""The thresholds and name patterns `torchenv profile` judges by: one table, each row with its source
(src/torchenv/knowledge/data/profile_rules.toml). Loaded once; tests and callers may pass their own."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from ..knowledge._store import DATA_DIR, tomllib

RULES_FILE = "profile_rules.toml"


@dataclass(frozen=True, slots=True)
class Threshold:
    key: str
    value: float
    rule: str
    meaning: str
    source: str


@dataclass(frozen=True, slots=True)
class Rules:
    version: str
    thresholds: dict[str, Threshold]
    patterns: dict[str, tuple[str, ...]]

    def __getitem__(self, key: str) -> float:
        return self.thresholds[key].value

    def names(self, key: str) -> tuple[str, ...]:
        return self.patterns[key]

    def with_values(self, **values: float) -> Rules:
        """A copy with some thresholds changed (tests, experiments)."""
        changed = dict(self.thresholds)
        for key, value in values.items():
            old = changed[key]
            changed[key] = Threshold(key, float(value), old.rule, old.meaning, "override")
        return Rules(self.version, changed, self.patterns)


def parse_rules(doc: dict[str, Any]) -> Rules:
    thresholds = {}
    for row in doc.get("threshold", []):
        thresholds[row["key"]] = Threshold(
            row["key"], float(row["value"]), row["rule"], row.get("meaning", ""), row["source"]
        )
    patterns = {k: tuple(str(x) for x in v) for k, v in doc.get("patterns", {}).items() if isinstance(v, list)}
    return Rules(str(doc["meta"]["knowledge_version"]), thresholds, patterns)


@cache
def load_rules() -> Rules:
    return parse_rules(tomllib.loads((DATA_DIR / RULES_FILE).read_text(encoding="utf-8")))
