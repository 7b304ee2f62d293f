"""errors.toml and the family files of errors.d/ read as one table."""

from __future__ import annotations

import pytest

from torchenv.knowledge.errors import ERRORS_FAMILIES, ERRORS_FILE, load_errors, parse_error_files

ROW = """
[[error]]
id = "{id}"
category = "other"
title = "t"
signatures = ["a specific enough text {id}"]
meaning = "m"
fix = "f"
source = "https://example.org"
retrieved = "2026-12-03"
"""


def test_family_files_join_the_main_table(tmp_path):
    main = tmp_path / "errors.toml"
    main.write_text('[meta]\nknowledge_version = "k1"\n' + ROW.format(id="row-a"))
    family = tmp_path / "family.toml"
    family.write_text('[meta]\nknowledge_version = "ignored"\n' + ROW.format(id="row-b"))
    table = parse_error_files([main, family])
    assert [p.id for p in table.patterns] == ["row-a", "row-b"]
    assert table.version == "k1"


def test_an_id_repeated_across_files_is_refused(tmp_path):
    main, family = tmp_path / "errors.toml", tmp_path / "family.toml"
    main.write_text(ROW.format(id="row-a"))
    family.write_text(ROW.format(id="row-a"))
    with pytest.raises(ValueError, match="duplicate id row-a"):
        parse_error_files([main, family])


def test_the_packaged_table_holds_every_family_file():
    ids = {p.id for p in load_errors().patterns}
    expected = parse_error_files([ERRORS_FILE, *sorted(ERRORS_FAMILIES.glob("*.toml"))])
    assert ids == {p.id for p in expected.patterns}
    assert len(ids) >= 200
