"""The knowledge rows added or corrected on 2026-12-03, read straight from the TOML files.

Parsed with tomllib (tomli on 3.10), not through torchenv.knowledge, so these facts stay pinned while the loader changes.
Each assertion names the value a primary (or stated secondary) source gave; see each row's `source`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10 uses the tomli backport (a dependency there)
    import tomli as tomllib  # type: ignore[no-redef]

DATA = Path(__file__).resolve().parents[2] / "src" / "torchenv" / "knowledge" / "data"
RETRIEVED = "2026-12-03"


def _load(name: str) -> dict:
    with (DATA / name).open("rb") as f:
        return tomllib.load(f)


def _one(rows: list[dict], **match) -> dict:
    found = [r for r in rows if all(r.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (match, len(found))
    return found[0]


def _provenance(row: dict) -> None:
    assert row["source"].strip()
    assert row["retrieved"] == RETRIEVED
    assert row.get("confidence", "transcribed") in {"transcribed", "inferred"}
    for field in row.get("inferred_fields", []):
        assert row["confidence"] == "inferred"
        assert field in row, field


# --------------------------------------------------------------------------- gpu_generations.toml
GPU_ARCHS = {
    "Kepler",
    "Maxwell",
    "Pascal",
    "Volta",
    "Turing",
    "Ampere",
    "Ada Lovelace",
    "Hopper",
    "Blackwell",
    "Blackwell Ultra",
}


@pytest.fixture(scope="module")
def generations() -> dict[str, dict]:
    doc = _load("gpu_generations.toml")
    assert doc["meta"] == {"knowledge_version": "2026.12.03", "schema_version": 1}
    rows = doc["generation"]
    by_arch = {r["architecture"]: r for r in rows}
    assert len(by_arch) == len(rows)
    return by_arch


def test_generation_names_match_gpus_toml(generations):
    assert set(generations) == GPU_ARCHS | {"Fermi", "Tesla"}
    used = {g["architecture"] for g in _load("gpus.toml")["gpu"]}
    assert used <= set(generations), used - set(generations)


def test_generation_rows_are_well_formed(generations):
    seen: dict[str, str] = {}
    for arch, row in generations.items():
        _provenance(row)
        assert isinstance(row["min_driver_branch"], int)
        assert isinstance(row.get("max_driver_branch", 0), int)
        if "max_driver_branch" in row:
            assert row["max_driver_branch"] >= row["min_driver_branch"]
        if "min_driver" in row:
            assert int(row["min_driver"].split(".")[0]) == row["min_driver_branch"]
        for cc in row["ccs"]:
            assert re.fullmatch(r"\d+\.\d", cc), cc
            assert cc not in seen, (cc, arch, seen.get(cc))  # one generation per compute capability
            seen[cc] = arch


@pytest.mark.parametrize(
    ("arch", "ccs", "min_branch", "min_driver", "max_branch"),
    [
        ("Tesla", ["1.0", "1.1", "1.2", "1.3"], 100, None, 340),
        ("Fermi", ["2.0", "2.1"], 195, None, 390),
        ("Kepler", ["3.0", "3.2", "3.5", "3.7"], 295, None, 470),
        ("Maxwell", ["5.0", "5.2", "5.3"], 331, None, 580),
        ("Pascal", ["6.0", "6.1", "6.2"], 367, "367.48", 580),
        ("Volta", ["7.0", "7.2"], 384, "384.81", 580),
        ("Turing", ["7.5"], 410, "410.48", None),
        ("Ampere", ["8.0", "8.6", "8.7"], 450, "450.36.06", None),
        ("Ada Lovelace", ["8.9"], 520, "520.61.05", None),
        ("Hopper", ["9.0"], 520, "520.61.05", None),
        ("Blackwell", ["10.0", "10.1", "11.0", "12.0", "12.1"], 570, "570.26", None),
        ("Blackwell Ultra", ["10.3"], 575, "575.51.03", None),
    ],
)
def test_generation_values(generations, arch, ccs, min_branch, min_driver, max_branch):
    row = generations[arch]
    assert row["ccs"] == ccs
    assert row["min_driver_branch"] == min_branch
    assert row.get("min_driver") == min_driver
    assert row.get("max_driver_branch") == max_branch


def test_min_driver_is_table3_driver_of_first_toolkit(generations):
    """Where a generation records min_driver, it is a Linux floor Table 3 lists (cuda_drivers.toml or the RC row)."""
    table3 = {r["linux"] for r in _load("cuda_drivers.toml")["toolkit"]} | {"367.48", "384.81", "450.36.06"}
    for row in generations.values():
        if "min_driver" in row:
            assert row["min_driver"] in table3, row["architecture"]


# --------------------------------------------------------------------------- gpus.toml
@pytest.fixture(scope="module")
def gpus() -> list[dict]:
    return _load("gpus.toml")["gpu"]


def test_no_duplicate_gpu_names_or_aliases(gpus):
    def norm(s: str) -> str:
        return " ".join(re.sub(r"[^0-9a-z]+", " ", s.lower()).split())

    owner: dict[str, str] = {}
    for g in gpus:
        for key in (g["name"], *g.get("aliases", [])):
            k = norm(key)
            assert owner.setdefault(k, g["name"]) == g["name"], (key, owner[k], g["name"])


@pytest.mark.parametrize(
    ("name", "cc", "arch", "memory_gb"),
    [
        ("Jetson AGX Orin", [8, 7], "Ampere", 64),
        ("Jetson Orin NX", [8, 7], "Ampere", 16),
        ("Jetson Orin Nano", [8, 7], "Ampere", 8),
        ("H200 NVL", [9, 0], "Hopper", 141),
        ("GeForce RTX 4090 D", [8, 9], "Ada Lovelace", 24),
        ("GeForce GTX 580", [2, 0], "Fermi", 1.5),
        ("Tesla C2050", [2, 0], "Fermi", 3),
        ("Tesla M2090", [2, 0], "Fermi", 6),
        ("GeForce GTX 680", [3, 0], "Kepler", 2),
        ("Tesla K10", [3, 0], "Kepler", 4),
        ("Quadro K2000", [3, 0], "Kepler", 2),
        ("GeForce GTX 750 Ti", [5, 0], "Maxwell", 2),
    ],
)
def test_gpu_rows(gpus, name, cc, arch, memory_gb):
    row = _one(gpus, name=name)
    assert (row["cc"], row["architecture"], row["memory_gb"]) == (cc, arch, memory_gb)
    if name != "Jetson AGX Orin" and name != "Jetson Orin Nano":  # those two rows predate this change
        _provenance(row)


@pytest.mark.parametrize(
    ("name", "peaks"),
    [
        # GeForce: dense, FP16/BF16/FP8 with FP32 accumulate (architecture whitepapers).
        ("GeForce RTX 3090", {"fp32": 35.6, "tf32": 35.6, "bf16": 71.0, "fp16": 71.0}),
        ("GeForce RTX 4090", {"fp32": 82.6, "tf32": 82.6, "bf16": 165.2, "fp16": 165.2, "fp8": 330.3}),
        ("GeForce RTX 5090", {"fp32": 104.8, "tf32": 104.8, "bf16": 209.5, "fp16": 209.5, "fp8": 419.0}),
        # Data center: half the datasheet's "with sparsity" tensor figures.
        ("H200 NVL", {"fp32": 60.0, "tf32": 417.5, "bf16": 835.5, "fp16": 835.5, "fp8": 1670.5}),
        ("B200", {"fp32": 75.0, "tf32": 1100.0, "bf16": 2250.0, "fp16": 2250.0, "fp8": 4500.0}),
        ("GB200", {"fp32": 80.0, "tf32": 1250.0, "bf16": 2500.0, "fp16": 2500.0, "fp8": 5000.0}),
        ("GeForce RTX 4090 D", {"fp32": 73.5}),
    ],
)
def test_gpu_peaks(gpus, name, peaks):
    row = _one(gpus, name=name)
    assert row["peak_tflops"] == peaks
    _provenance(row)


def test_bandwidths(gpus):
    assert _one(gpus, name="B200")["memory_bandwidth_gbs"] == 7700.0
    assert _one(gpus, name="H200 NVL")["memory_bandwidth_gbs"] == 4800.0
    assert _one(gpus, name="Jetson Orin NX")["memory_bandwidth_gbs"] == 102.4
    assert _one(gpus, name="GeForce RTX 4090 D")["memory_bandwidth_gbs"] == 1008.0


def test_consumer_peaks_say_which_accumulate(gpus):
    for name in ("GeForce RTX 3090", "GeForce RTX 4090", "GeForce RTX 5090"):
        assert "FP32 accumulate" in _one(gpus, name=name)["note"]


# --------------------------------------------------------------------------- cuda_drivers.toml
@pytest.fixture(scope="module")
def drivers() -> dict:
    return _load("cuda_drivers.toml")


def test_cuda_13_2_update_2(drivers):
    row = _one(drivers["toolkit"], cuda="13.2.2")
    assert row["label"] == "CUDA 13.2 Update 2"
    assert row["linux"] == "595.71.05"
    assert "windows" not in row
    assert row["confidence"] == "transcribed"
    _provenance(row)


@pytest.mark.parametrize("cuda", ["13.0.0", "13.0.1", "13.0.2", "13.1.0", "13.1.1", "13.2.0", "13.2.1", "13.2.2"])
def test_cuda_13_has_no_windows_full_support_floor(drivers, cuda):
    """Table 3 prints N/A in the Windows column of every CUDA 13.x release."""
    assert "windows" not in _one(drivers["toolkit"], cuda=cuda)


@pytest.mark.parametrize(
    ("cuda", "linux"),
    [("13.0.0", "580.65.06"), ("13.0.1", "580.82.07"), ("13.0.2", "580.95.05")],
)
def test_cuda_13_0_rows(drivers, cuda, linux):
    row = _one(drivers["toolkit"], cuda=cuda)
    assert row["linux"] == linux
    assert "N/A" in row["note"]
    _provenance(row)


def test_toolkit_rows_sorted_and_unique(drivers):
    versions = [tuple(int(x) for x in r["cuda"].split(".")) for r in drivers["toolkit"]]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)


def test_minor_compat_13(drivers):
    row = _one(drivers["minor_compat"], major=13)
    assert (row["linux"], row["windows"]) == ("580", "580")
    assert row["inferred_fields"] == ["windows"]
    _provenance(row)


# --------------------------------------------------------------------------- wheel_arches.toml
@pytest.fixture(scope="module")
def wheels() -> list[dict]:
    return _load("wheel_arches.toml")["wheel"]


@pytest.mark.parametrize(
    ("spec", "variant", "arches"),
    [
        (">=2.8,<2.11", "cu128", ["sm_70", "sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"]),
        (">=2.11,<2.12", "cu128", ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"]),
        (">=2.6,<2.15", "cu126", ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"]),
        (">=1.8.0,<1.8.1", "cu102", ["sm_37", "sm_50", "sm_60", "sm_70"]),
        (">=1.0,<1.2", "cu90", ["sm_35", "sm_50", "sm_60", "sm_70", "compute_50"]),
        (">=1.0,<1.3.1", "cu92", ["sm_35", "sm_50", "sm_60", "sm_61", "sm_70", "compute_50"]),
        (">=1.0,<1.3.1", "cu100", ["sm_35", "sm_50", "sm_60", "sm_61", "sm_70", "sm_75", "compute_50"]),
        (">=1.2,<1.3.1", "cu101", ["sm_35", "sm_50", "sm_60", "sm_61", "sm_70", "sm_75", "compute_50"]),
        (">=1.3.1,<1.6", "cu92", ["sm_37", "sm_50", "sm_60", "sm_61", "sm_70", "compute_37"]),
        (">=1.3.1,<1.5", "cu100", ["sm_37", "sm_50", "sm_60", "sm_61", "sm_70", "sm_75", "compute_37"]),
        (">=1.3.1,<1.6", "cu101", ["sm_37", "sm_50", "sm_60", "sm_61", "sm_70", "sm_75", "compute_37"]),
        (">=1.5,<1.6", "cu102", ["sm_37", "sm_50", "sm_60", "sm_61", "sm_70", "sm_75", "compute_37"]),
        (">=1.6,<1.8", "cu92", ["sm_37", "sm_50", "sm_60", "sm_70"]),
        (">=1.6,<1.8", "cu102", ["sm_37", "sm_50", "sm_60", "sm_70", "sm_75"]),
        (">=1.7,<1.8", "cu101", ["sm_37", "sm_50", "sm_60", "sm_70", "sm_75"]),
        (">=1.7,<1.8", "cu110", ["sm_37", "sm_50", "sm_60", "sm_70", "sm_75", "sm_80"]),
    ],
)
def test_wheel_rows(wheels, spec, variant, arches):
    row = _one(wheels, torch=spec, variant=variant)
    assert row["arches"] == arches
    _provenance(row)


def test_no_2_11_cu128_wheel_carries_sm_70(wheels):
    from packaging.specifiers import SpecifierSet

    rows = [w for w in wheels if w["variant"] == "cu128" and SpecifierSet(w["torch"]).contains("2.11.0")]
    assert len(rows) == 1 and "sm_70" not in rows[0]["arches"]


def test_wheel_ranges_of_one_variant_do_not_overlap(wheels):
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    probes = [Version(f"{a}.{b}.{c}") for a in (1, 2) for b in range(0, 16) for c in (0, 1, 2)]
    by_variant: dict[tuple[str, str], list[SpecifierSet]] = {}
    for w in wheels:  # per variant and CPU architecture: aarch64 (SBSA) wheels have their own rows
        by_variant.setdefault((w["variant"], w.get("arch", "x86_64")), []).append(SpecifierSet(w["torch"]))
    for variant, specs in by_variant.items():
        for v in probes:
            assert sum(s.contains(v) for s in specs) <= 1, (variant, str(v))


# --------------------------------------------------------------------------- torch_releases.toml
@pytest.fixture(scope="module")
def releases() -> dict[str, dict]:
    return {r["version"]: r for r in _load("torch_releases.toml")["release"]}


@pytest.mark.parametrize("version", ["2.14.0", "2.14.1"])
def test_2_14_variants(releases, version):
    assert releases[version]["variants"] == ["cpu", "cu126", "cu130", "cu132", "rocm7.2", "rocm7.14"]


def test_2_15_variants(releases):
    row = releases["2.15.0"]
    assert row["variants"] == ["cpu", "cu130", "cu132", "rocm7.2", "rocm7.14"]
    assert "cu126" not in row["variants"]


@pytest.mark.parametrize(
    ("version", "cudnn"),
    [
        ("2.6.0", {"cu118": "9.1.0.70", "cu124": "9.1.0.70", "cu126": "9.5.1.17"}),
        ("2.7.0", {"cu118": "9.1.0.70", "cu126": "9.5.1.17", "cu128": "9.7.1.26"}),
        ("2.7.1", {"cu118": "9.1.0.70", "cu126": "9.5.1.17", "cu128": "9.7.1.26"}),
        ("2.8.0", {"cu126": "9.10.2.21", "cu128": "9.10.2.21", "cu129": "9.10.2.21"}),
        ("2.9.0", {"cu126": "9.10.2.21", "cu128": "9.10.2.21", "cu130": "9.13.0.50"}),
        ("2.9.1", {"cu126": "9.10.2.21", "cu128": "9.10.2.21", "cu130": "9.13.0.50"}),
        ("2.10.0", {"cu126": "9.10.2.21", "cu128": "9.10.2.21", "cu130": "9.15.1.9"}),
        ("2.11.0", {"cu126": "9.10.2.21", "cu128": "9.19.0.56", "cu130": "9.19.0.56"}),
        ("2.12.0", {"cu126": "9.10.2.21", "cu130": "9.20.0.48", "cu132": "9.20.0.48"}),
        ("2.12.1", {"cu126": "9.10.2.21", "cu130": "9.20.0.48", "cu132": "9.20.0.48"}),
        ("2.13.0", {"cu126": "9.10.2.21", "cu130": "9.20.0.48", "cu132": "9.20.0.48"}),
        ("2.14.0", {"cu126": "9.10.2.21", "cu130": "9.24.0.43", "cu132": "9.24.0.43"}),
        ("2.14.1", {"cu126": "9.10.2.21", "cu130": "9.24.0.43", "cu132": "9.24.0.43"}),
        ("2.15.0", {"cu132": "9.26.0.51"}),
    ],
)
def test_cudnn_per_variant(releases, version, cudnn):
    row = releases[version]
    assert row["cudnn"] == cudnn
    assert set(cudnn) <= set(row["variants"])
    _provenance(row)


@pytest.mark.parametrize(
    ("version", "default", "cudnn", "nccl"),
    [  # the PyPI wheel's own Requires-Dist (read 2026-12-03)
        ("2.8.0", "cu128", "9.10.2.21", "2.27.3"),
        ("2.10.0", "cu128", "9.10.2.21", "2.27.5"),
        ("2.11.0", "cu130", "9.19.0.56", "2.28.9"),
        ("2.12.0", "cu130", "9.20.0.48", "2.29.7"),
        ("2.13.0", "cu130", "9.20.0.48", "2.29.7"),
        ("2.14.0", "cu130", "9.24.0.43", "2.30.7"),
        ("2.14.1", "cu130", "9.24.0.43", "2.30.7"),
        ("2.15.0", "cu132", "9.26.0.51", "2.30.7"),
    ],
)
def test_pypi_default_variant_pins(releases, version, default, cudnn, nccl):
    row = releases[version]
    assert row["pypi_default_variant"] == default
    assert row["cudnn"][default] == cudnn
    assert row["nccl"][default] == nccl


@pytest.mark.parametrize("version", ["2.12.0", "2.12.1", "2.13.0", "2.14.0", "2.14.1", "2.15.0"])
def test_torchaudio_note_is_current(releases, version):
    note = releases[version]["note"]
    assert "no torchaudio release on PyPI after 2.11.0" not in note
    assert "torchaudio 2.11.1" in note
