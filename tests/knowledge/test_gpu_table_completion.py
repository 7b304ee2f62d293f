"""The GPU table covers the GPUs NVIDIA's CUDA GPUs pages list, under the names NVML prints."""

from __future__ import annotations

from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10 uses the tomli backport (a dependency there)
    import tomli as tomllib  # type: ignore[no-redef]

from torchenv.knowledge import load_knowledge

DATA = Path(__file__).resolve().parents[2] / "src" / "torchenv" / "knowledge" / "data"


def _load(name: str) -> dict:
    return tomllib.loads((DATA / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def k():
    return load_knowledge()


@pytest.mark.parametrize(
    ("name", "cc", "arch"),
    [
        # Blackwell
        ("NVIDIA GeForce RTX 5060 Ti", (12, 0), "Blackwell"),
        ("NVIDIA GeForce RTX 5050", (12, 0), "Blackwell"),
        ("NVIDIA GeForce RTX 5070 Ti Laptop GPU", (12, 0), "Blackwell"),
        ("NVIDIA RTX PRO 4000 Blackwell", (12, 0), "Blackwell"),
        ("NVIDIA RTX PRO 2000 Blackwell Generation Laptop GPU", (12, 0), "Blackwell"),
        ("NVIDIA GB300", (10, 3), "Blackwell Ultra"),
        ("Jetson T5000", (11, 0), "Blackwell"),
        # Hopper, Ada
        ("NVIDIA H800", (9, 0), "Hopper"),
        ("NVIDIA H20", (9, 0), "Hopper"),
        ("NVIDIA RTX 4000 Ada Generation", (8, 9), "Ada Lovelace"),
        ("NVIDIA RTX 2000 Ada Generation Laptop GPU", (8, 9), "Ada Lovelace"),
        ("NVIDIA GeForce RTX 4050 Laptop GPU", (8, 9), "Ada Lovelace"),
        ("NVIDIA GeForce RTX 4070 SUPER", (8, 9), "Ada Lovelace"),
        ("NVIDIA L20", (8, 9), "Ada Lovelace"),
        # Ampere
        ("NVIDIA GeForce RTX 3050 Laptop GPU", (8, 6), "Ampere"),
        ("NVIDIA GeForce RTX 3050 Ti Laptop GPU", (8, 6), "Ampere"),
        ("NVIDIA GeForce RTX 3050 6GB Laptop GPU", (8, 6), "Ampere"),
        ("NVIDIA GeForce RTX 2050", (8, 6), "Ampere"),
        ("NVIDIA RTX A2000 12GB", (8, 6), "Ampere"),
        ("NVIDIA RTX A1000 Laptop GPU", (8, 6), "Ampere"),
        ("NVIDIA A16", (8, 6), "Ampere"),
        ("NVIDIA A800-SXM4-80GB", (8, 0), "Ampere"),
        # Turing
        ("NVIDIA GeForce GTX 1650 Ti", (7, 5), "Turing"),
        ("NVIDIA GeForce MX450", (7, 5), "Turing"),
        ("NVIDIA GeForce RTX 2070 with Max-Q Design", (7, 5), "Turing"),
        ("Quadro RTX 4000", (7, 5), "Turing"),
        ("NVIDIA T1000 8GB", (7, 5), "Turing"),
        ("NVIDIA T550 Laptop GPU", (7, 5), "Turing"),
        # Volta, Pascal
        ("Jetson Xavier NX", (7, 2), "Volta"),
        ("NVIDIA GeForce GTX 1080 with Max-Q Design", (6, 1), "Pascal"),
        ("NVIDIA GeForce MX150", (6, 1), "Pascal"),
        ("NVIDIA GeForce GT 1030", (6, 1), "Pascal"),
        ("Quadro P1000", (6, 1), "Pascal"),
        ("NVIDIA TITAN X (Pascal)", (6, 1), "Pascal"),
        ("Quadro GP100", (6, 0), "Pascal"),
        # Maxwell (laptop parts: 5.0 where the desktop card is 5.2)
        ("NVIDIA GeForce 940MX", (5, 0), "Maxwell"),
        ("NVIDIA GeForce MX130", (5, 0), "Maxwell"),
        ("Quadro K620", (5, 0), "Maxwell"),
        ("Quadro M2000M", (5, 0), "Maxwell"),
        ("NVIDIA GeForce GTX 960", (5, 2), "Maxwell"),
        ("GeForce GTX 980M", (5, 2), "Maxwell"),
        ("GeForce GTX TITAN X", (5, 2), "Maxwell"),
        # Kepler, Fermi, Tesla
        ("GeForce GT 730", (3, 5), "Kepler"),
        ("GeForce GT 710", (3, 5), "Kepler"),
        ("GeForce GTX 760", (3, 0), "Kepler"),
        ("Quadro K4000", (3, 0), "Kepler"),
        ("GeForce GTX 570", (2, 0), "Fermi"),
        ("GeForce GT 630", (2, 1), "Fermi"),
        ("GeForce 210", (1, 2), "Tesla"),
        ("GeForce GTX 285", (1, 3), "Tesla"),
    ],
)
def test_nvml_names_resolve(k, name, cc, arch):
    gpu = k.gpu_by_name(name)
    assert gpu is not None, name
    assert (gpu.cc, gpu.architecture) == (cc, arch)


def test_laptop_and_desktop_rows_differ_where_the_cc_does(k):
    assert k.gpu_by_name("GeForce GTX 960M").cc == (5, 0)
    assert k.gpu_by_name("GeForce GTX 960").cc == (5, 2)
    assert k.gpu_by_name("GeForce MX130").cc == (5, 0)
    assert k.gpu_by_name("GeForce MX150").cc == (6, 1)


def test_every_row_fits_its_generation():
    ccs = {
        g["architecture"]: {tuple(int(p) for p in c.split(".")) for c in g["ccs"]}
        for g in _load("gpu_generations.toml")["generation"]
    }
    for row in _load("gpus.toml")["gpu"]:
        assert row["architecture"] in ccs, row["name"]
        assert tuple(row["cc"]) in ccs[row["architecture"]], row["name"]


def test_new_rows_carry_provenance():
    for row in _load("gpus.toml")["gpu"]:
        if row.get("retrieved") != "2026-12-03":
            continue
        assert row["source"], row["name"]
        assert row["confidence"] in ("transcribed", "inferred"), row["name"]
        if row["confidence"] == "inferred":
            assert row.get("inferred_fields"), row["name"]
