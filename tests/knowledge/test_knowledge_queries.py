"""Table-driven tests of the knowledge queries (no network)."""

from __future__ import annotations

import pytest

from torchenv.knowledge import load_knowledge
from torchenv.knowledge._store import DATA_DIR, read_docs


@pytest.fixture(scope="module")
def k():
    return load_knowledge()


def test_version(k):
    assert k.version == max(d["meta"]["knowledge_version"] for d in read_docs(DATA_DIR).values())


@pytest.mark.parametrize(
    ("cuda", "os", "full", "compat"),
    [
        ("12.4", "linux", "550.54.14", "525.60.13"),
        ("12.4.0", "linux", "550.54.14", "525.60.13"),
        ("12.4.1", "linux", "550.54.15", "525.60.13"),
        ("12.4.127", "linux", "550.54.15", "525.60.13"),
        ("cu124", "linux", "550.54.14", "525.60.13"),
        ("12.4", "windows", "551.61", "527.41"),
        ("11.8", "linux", "520.61.05", "450.80.02"),
        ("12.8", "linux", "570.26", "525.60.13"),
        ("12.9.1", "linux", "575.57.08", "525.60.13"),
        ("13.0", "linux", "580.65.06", "580"),
        ("13.0.2", "linux", "580.95.05", "580"),
        ("13.2", "linux", "595.45.04", "580"),
        ("10.2", "linux", "440.33", None),
    ],
)
def test_driver_floor(k, cuda, os, full, compat):
    floor = k.cuda_driver_floor(cuda, os)
    assert floor is not None
    assert floor.full_support == full
    assert floor.minor_compat == compat
    assert floor.source


def test_driver_floor_13_is_580_branch(k):
    assert k.cuda_driver_floor("13.0").full_support.startswith("580.")


def test_driver_floor_windows_13_1_not_bundled(k):
    floor = k.cuda_driver_floor("13.1", "windows")
    assert floor is not None and floor.full_support is None


@pytest.mark.parametrize("bad", ["", "abc", "12", "99.9", "12.x", None, 12.4, "cu"])
def test_driver_floor_unknown(k, bad):
    assert k.cuda_driver_floor(bad) is None


def test_driver_floor_bad_os(k):
    assert k.cuda_driver_floor("12.4", "macos") is None


def test_torch_release_local_version(k):
    r = k.torch_release("2.11.0+cu130")
    assert r is not None and r.version == "2.11.0"
    assert "cu130" in r.variants
    assert r.pypi_default_variant == "cu130"
    assert r.cudnn["cu130"].startswith("9.19.")  # PyPI: nvidia-cudnn-cu13==9.19.0.56
    assert r.nccl["cu130"] == "2.28.9"
    assert r.torchvision == "0.26.0"


@pytest.mark.parametrize(
    ("query", "expected"),
    [("2.5.1", "2.5.1"), ("2.5", "2.5.1"), ("2.5.0", "2.5.0"), ("1.12", "1.12.1"), ("2.12", "2.12.1")],
)
def test_torch_release_lookup(k, query, expected):
    assert k.torch_release(query).version == expected


@pytest.mark.parametrize("bad", ["", "latest", "9.9.9", "2.99", None, "2.5.1.dev0+x"])
def test_torch_release_unknown(k, bad):
    assert k.torch_release(bad) is None


def test_torch_release_pypi_facts(k):
    r = k.torch_release("2.5.1")
    assert r.cudnn == {"cu124": "9.1.0.70"}
    assert r.nccl == {"cu124": "2.21.5"}
    assert "3.13" in r.python and "3.8" not in r.python


def test_releases_sorted(k):
    from packaging.version import Version

    versions = [Version(r.version) for r in k.torch_releases()]
    assert versions == sorted(versions)
    assert str(versions[0]) == "1.0.0"  # issue 12: torch 1.0-1.11 for the old stacks people paste


@pytest.mark.parametrize(
    ("torch", "variant", "must", "must_not"),
    [
        ("2.11.0+cu130", "cu130", ("sm_75", "sm_90", "sm_100", "sm_120"), ("sm_50", "sm_70", "compute_120")),
        ("2.9.0", "cu130", ("sm_120", "compute_120"), ("sm_70",)),
        ("2.8.0", "cu128", ("sm_70", "sm_100", "sm_120"), ("sm_50",)),
        ("2.8.0", "cu129", ("compute_120",), ("sm_60",)),
        ("2.8.0", "cu126", ("sm_50", "sm_60", "sm_90"), ("sm_100",)),
        ("2.7.0", "cu128", ("sm_100", "sm_120"), ()),
        ("2.0.1", "cu118", ("sm_37", "sm_90"), ()),
    ],
)
def test_wheel_arches(k, torch, variant, must, must_not):
    arches = k.wheel_arches(torch, variant)
    assert arches is not None
    for a in must:
        assert a in arches
    for a in must_not:
        assert a not in arches


def test_wheel_arches_exact_capture(k):
    assert k.wheel_arches("2.11.0+cu130", "cu130") == ("sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120")


@pytest.mark.parametrize(("torch", "variant"), [("2.11.0", "cu999"), ("junk", "cu130"), ("2.11.0", None)])
def test_wheel_arches_unknown(k, torch, variant):
    assert k.wheel_arches(torch, variant) is None


@pytest.mark.parametrize(
    ("name", "expected", "cc"),
    [
        ("NVIDIA H100 80GB HBM3", "H100 SXM5", (9, 0)),
        ("NVIDIA GeForce RTX 4090", "GeForce RTX 4090", (8, 9)),
        ("GeForce RTX 4090", "GeForce RTX 4090", (8, 9)),
        ("rtx 4090", "GeForce RTX 4090", (8, 9)),
        ("Tesla V100-SXM2-16GB", "Tesla V100 SXM2", (7, 0)),
        ("Tesla T4", "Tesla T4", (7, 5)),
        ("NVIDIA A100-SXM4-80GB", "A100 SXM4 80GB", (8, 0)),
        ("NVIDIA RTX PRO 6000 Blackwell Workstation Edition", "RTX PRO 6000 Blackwell", (12, 0)),
        ("Tesla K80", "Tesla K80", (3, 7)),
    ],
)
def test_gpu_by_name(k, name, expected, cc):
    gpu = k.gpu_by_name(name)
    assert gpu is not None and gpu.name == expected and gpu.cc == cc


@pytest.mark.parametrize("bad", ["", "Voodoo 5", None, "NVIDIA"])
def test_gpu_by_name_unknown(k, bad):
    assert k.gpu_by_name(bad) is None


def test_suggest_gpus(k):
    assert "GeForce RTX 4090" in k.suggest_gpus("RTX 409")
    assert len(k.suggest_gpus("RTX 409", n=2)) <= 2
    assert k.suggest_gpus("") == []


def test_gpus_with_cc(k):
    names = {g.name for g in k.gpus_with_cc((9, 0))}
    assert {"H100 SXM5", "H100 PCIe", "H200 SXM"} <= names
    assert k.gpus_with_cc((1, 0)) == []


def test_gpu_count(k):
    assert len(k.gpus()) >= 60


def test_load_is_cached_and_accepts_dir(k):
    from torchenv.knowledge._store import DATA_DIR

    assert load_knowledge() is k
    assert load_knowledge(DATA_DIR) is k
