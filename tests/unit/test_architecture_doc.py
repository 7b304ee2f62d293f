"""docs/architecture.md is the repository's own copy of the layout: the README points at it (not at a
file outside the repository) and its table names every package and top-level module there is."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "torchenv"


def test_readme_links_stay_inside_the_repository():
    readme = (REPO / "README.md").read_text()
    assert "../shared/" not in readme
    assert "(docs/architecture.md)" in readme and (REPO / "docs" / "architecture.md").is_file()


def test_layout_table_names_every_package():
    text = (REPO / "docs" / "architecture.md").read_text()
    rows = {m for line in text.splitlines() if line.startswith("| `") for m in re.findall(r"`([\w./]+)`", line.split("|")[1])}
    names = {p.name + "/" for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    names |= {p.name + "/" for p in PACKAGE.iterdir() if p.is_dir() and p.name in ("schemas", "findings")}
    names |= {p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    assert names <= rows, sorted(names - rows)
