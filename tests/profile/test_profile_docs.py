"""docs/profile.md stays current: every threshold of profile_rules.toml has its row with the same
value, and every rule the analysis can emit has its row in the rules table."""

from __future__ import annotations

import re
from pathlib import Path

from torchenv.profile.rules import load_rules

DOCS = Path(__file__).parents[2] / "docs" / "profile.md"
PROFILE = Path(__file__).parents[2] / "src" / "torchenv" / "profile"  # analysis.py and its rule families


def test_every_threshold_has_its_row_with_its_value():
    text = DOCS.read_text()
    for key, threshold in load_rules().thresholds.items():
        row = re.search(rf"^\| `{key}` \| ([^|]+) \|", text, re.M)
        assert row, f"docs/profile.md has no row for {key}"
        assert float(row.group(1)) == threshold.value, key


def test_every_rule_has_its_row():
    text = DOCS.read_text()
    ids = set(re.findall(r'"(profile-[a-z0-9-]+)"', "".join(p.read_text() for p in PROFILE.glob("*.py"))))
    assert len(ids) >= 12
    for rule in ids:
        assert f"| `{rule}` |" in text, f"docs/profile.md has no row for {rule}"
