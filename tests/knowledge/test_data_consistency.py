"""Consistency of the data files themselves (provenance, parseable versions, cross references)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from torchenv.knowledge import load_knowledge, parse_arch
from torchenv.knowledge._store import DATA_DIR, FILES, tomllib

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
VARIANT = re.compile(r"^(cpu|cu\d{2,3}|rocm\d+(\.\d+)*)$")


# Data files read outside the store (platform_wheels.toml: by knowledge.wheels) and the explain patterns.
EXTRA_FILES = ("platform_wheels.toml",)


def _docs():
    return {name: tomllib.loads((DATA_DIR / name).read_text(encoding="utf-8")) for name in (*FILES, *EXTRA_FILES)}


def _rows(doc):
    for key, value in doc.items():
        if key == "meta":
            continue
        assert isinstance(value, list), key
        for row in value:
            yield key, row


@pytest.mark.parametrize("name", FILES)
def test_meta(name):
    meta = _docs()[name]["meta"]
    assert re.fullmatch(r"20\d\d\.[01]\d\.[0-3]\d", meta["knowledge_version"])
    assert meta["schema_version"] == 1


@pytest.mark.parametrize("name", (*FILES, *EXTRA_FILES))
def test_every_row_has_provenance(name):
    rows = list(_rows(_docs()[name]))
    assert rows
    for table, row in rows:
        assert isinstance(row.get("source"), str) and row["source"].strip(), (table, row)
        assert DATE.match(row.get("retrieved", "")), (table, row)
        assert row.get("confidence", "transcribed") in {"transcribed", "inferred"}, row
        for field in row.get("inferred_fields", []):
            assert row.get("confidence") == "inferred", row
            assert field in row or field in {"windows", "linux", "variants"}, (field, row)


def test_release_rows():
    k = load_knowledge()
    seen = set()
    for r in k.torch_releases():
        v = Version(r.version)
        assert v not in seen
        seen.add(v)
        assert DATE.match(r.released)
        assert r.python and all(re.fullmatch(r"3\.\d+", p) for p in r.python)
        assert r.variants and all(VARIANT.match(x) for x in r.variants), r.variants
        assert "cpu" in r.variants
        if r.pypi_default_variant is not None:
            assert r.pypi_default_variant in r.variants, r.version
        for lib in (r.cudnn, r.nccl):
            for variant, ver in lib.items():
                assert variant in r.variants
                Version(ver)
        for companion in (r.torchvision, r.torchaudio):
            if companion is not None:
                Version(companion)


def test_every_wheel_variant_exists_in_a_release():
    k = load_knowledge()
    first = Version(k.torch_releases()[0].version)
    for spec, variant in k.wheel_variants():
        s = SpecifierSet(spec)
        upper = [Version(c.version) for c in s if c.operator in ("<", "<=")]
        if upper and max(upper) <= first:
            continue  # before the release table starts: kept to diagnose old reports
        matching = [r for r in k.torch_releases() if s.contains(Version(r.version))]
        assert matching, spec
        assert any(variant in r.variants for r in matching), (spec, variant)


def test_wheel_arches_parse():
    doc = _docs()["wheel_arches.toml"]
    for row in doc["wheel"]:
        assert row["arches"]
        for a in row["arches"]:
            assert parse_arch(a) is not None, a


def test_every_released_cuda_variant_has_arches():
    k = load_knowledge()
    for r in k.torch_releases():
        for variant in r.variants:
            if variant.startswith("cu"):
                assert k.wheel_arches(r.version, variant) is not None, (r.version, variant)


def test_driver_rows_parse():
    doc = _docs()["cuda_drivers.toml"]
    for row in doc["toolkit"]:
        Version(row["cuda"])
        for os_name in ("linux", "windows"):
            if os_name in row:
                assert re.fullmatch(r"\d+(\.\d+)*", row[os_name]), row
    assert {r["major"] for r in doc["minor_compat"]} == {11, 12, 13}


def test_gpu_rows():
    k = load_knowledge()
    names = set()
    for g in k.gpus():
        assert g.name not in names
        names.add(g.name)
        assert 1 <= g.cc[0] <= 12 and 0 <= g.cc[1] <= 9  # Tesla (cc 1.x) to Blackwell
        assert set(g.peak_tflops) <= {"fp32", "tf32", "bf16", "fp16", "fp8"}
        assert k.gpu_by_name(g.name) is g
        for alias in g.aliases:
            assert k.gpu_by_name(alias) is g, alias
    archs = {g.architecture for g in k.gpus()}
    expected = {"Kepler", "Maxwell", "Pascal", "Volta", "Turing", "Ampere", "Ada Lovelace", "Hopper", "Blackwell"}
    assert expected <= archs


def test_custom_data_dir(tmp_path: Path):
    for name in FILES:
        (tmp_path / name).write_text((DATA_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    k = load_knowledge(tmp_path)
    assert k is not load_knowledge()
    assert k.torch_release("2.5.1") is not None
