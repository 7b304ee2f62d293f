"""Snapshot files: JSON and TOML round trips, atomic writes, clear errors for corrupt/foreign files."""

from __future__ import annotations

import json
import os

import pytest
import tomllib
from hypothesis import given, settings
from hypothesis import strategies as st

from torchenv.model.codec import to_json
from torchenv.snapshots import toml
from torchenv.snapshots.files import (
    SnapshotFileError,
    load_snapshot,
    parse_snapshot_text,
    render_snapshot,
    write_atomically,
)


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_round_trip(h100, cpu, fmt):
    for snapshot in (h100, cpu):
        assert parse_snapshot_text(render_snapshot(snapshot, fmt)) == snapshot


def test_toml_is_real_toml_and_readable(h100):
    text = render_snapshot(h100, "toml")
    data = tomllib.loads(text)
    assert data["kind"] == "torchenv.snapshot"
    assert data["torch"]["version"] == "2.11.0+cu130"
    assert "[[packages]]" in text and "[torch]" in text


scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(),
)
keys = st.text(min_size=1, max_size=12)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, values, max_size=6))
def test_toml_writer_round_trips_any_json_shape(data):
    assert tomllib.loads(toml.dumps(data)) == data


def test_corrupt_json_is_one_clear_line(tmp_path):
    path = tmp_path / "s.json"
    path.write_text('{"kind": "torchenv.snapshot", "schema_version": 1,')
    with pytest.raises(SnapshotFileError, match=r"corrupt JSON at line 1") as info:
        load_snapshot(path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"name": "my-package", "version": "1.0"}', "not a torchenv snapshot .no `kind` field"),
        ('{"kind": "something.else"}', "not a torchenv snapshot .kind 'something.else'"),
        ("[1, 2]", "holds a list"),
        ("", "empty"),
        ("name: env\ndependencies: [python]\n", "neither JSON nor TOML"),
        ('{"kind": "torchenv.snapshot", "schema_version": 99}', "newer than this torchenv reads"),
        ('{"kind": "torchenv.snapshot", "schema_version": 1, "host": {}}', r"corrupt torchenv snapshot \(\$"),
    ],
)
def test_foreign_and_corrupt_files(tmp_path, content, message):
    path = tmp_path / "f.json"
    path.write_text(content)
    with pytest.raises(SnapshotFileError, match=message):
        load_snapshot(path)


def test_binary_and_missing_files(tmp_path):
    (tmp_path / "b").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(SnapshotFileError, match="binary data"):
        load_snapshot(tmp_path / "b")
    with pytest.raises(SnapshotFileError, match="no such file"):
        load_snapshot(tmp_path / "absent.json")


def test_a_doctor_report_is_read_as_a_snapshot():
    from snapshot_helpers import TESTS

    snapshot = load_snapshot(TESTS / "fixtures" / "h100-torchenv" / "doctor.json")
    assert snapshot.torch.variant == "cu130"
    assert snapshot.origin.startswith("doctor report")


def test_atomic_write_replaces_a_snapshot_and_leaves_no_temp_files(tmp_path, h100, cpu):
    path = tmp_path / "s.json"
    write_atomically(path, render_snapshot(h100))
    write_atomically(path, render_snapshot(cpu))
    assert load_snapshot(path) == cpu
    assert os.listdir(tmp_path) == ["s.json"]


def test_atomic_write_refuses_a_foreign_file_unless_forced(tmp_path, h100):
    path = tmp_path / "notes.json"
    path.write_text('{"my": "notes"}')
    with pytest.raises(SnapshotFileError, match="not a torchenv snapshot; refusing to overwrite it"):
        write_atomically(path, render_snapshot(h100))
    assert json.loads(path.read_text()) == {"my": "notes"}
    write_atomically(path, render_snapshot(h100), force=True)
    assert load_snapshot(path) == h100


def test_atomic_write_failure_keeps_the_old_file(tmp_path, h100, monkeypatch):
    path = tmp_path / "s.json"
    write_atomically(path, render_snapshot(h100))
    before = path.read_bytes()

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(SnapshotFileError, match="No space left"):
        write_atomically(path, "{}")
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["s.json"]


def test_snapshot_json_has_kind_and_version(h100):
    data = to_json(h100)
    assert data["kind"] == "torchenv.snapshot" and data["schema_version"] == 1
