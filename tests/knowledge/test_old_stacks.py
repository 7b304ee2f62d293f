"""Issue 12, item 4: knowledge for the old stacks people still paste (torch 1.0-1.11, CUDA 8.0-9.1, Fermi/Kepler)."""

from __future__ import annotations

import pytest

from torchenv.knowledge import load_knowledge


@pytest.fixture(scope="module")
def k():
    return load_knowledge()


def test_every_1x_release_is_known_with_its_provenance(k):
    versions = {r.version for r in k.torch_releases()}
    for v in (
        "1.0.0",
        "1.0.1",
        "1.1.0",
        "1.2.0",
        "1.3.0",
        "1.3.1",
        "1.4.0",
        "1.5.0",
        "1.5.1",
        "1.6.0",
        "1.7.0",
        "1.7.1",
        "1.8.0",
        "1.8.1",
        "1.9.0",
        "1.9.1",
        "1.10.0",
        "1.10.1",
        "1.10.2",
        "1.11.0",
    ):
        assert v in versions
        release = k.torch_release(v)
        assert release.source.startswith("https://") and release.confidence == "inferred"


@pytest.mark.parametrize(
    ("version", "variants", "default", "pythons"),
    [
        ("1.0.0", {"cu80", "cu90", "cu100"}, "cu90", {"3.5", "3.7"}),
        ("1.4.0", {"cu92", "cu101"}, "cu101", {"3.8"}),
        ("1.7.1", {"cu92", "cu110"}, "cu102", {"3.9"}),
        ("1.11.0", {"cu113", "cu115"}, "cu102", {"3.10"}),
    ],
)
def test_release_variants_default_and_pythons(k, version, variants, default, pythons):
    release = k.torch_release(version)
    assert variants <= set(release.variants) and release.pypi_default_variant == default
    assert pythons <= set(release.python)


def test_every_cuda_variant_of_an_old_release_has_its_arch_list(k):
    assert "sm_86" in k.wheel_arches("1.9.0", "cu111") and "sm_61" not in k.wheel_arches("1.9.0", "cu111")
    assert k.wheel_arches("1.0.0", "cu80") == ("sm_35", "sm_50", "sm_60", "sm_61", "compute_50")
    assert "sm_37" in k.wheel_arches("1.10.2", "cu113")


@pytest.mark.parametrize(
    ("cuda", "linux"), [("8.0.44", "367.48"), ("8.0.61", "375.26"), ("9.0.76", "384.81"), ("9.1.85", "390.46")]
)
def test_cuda_8_and_9_driver_floors(k, cuda, linux):
    assert k.cuda_driver_floor(cuda).full_support == linux


@pytest.mark.parametrize(
    ("name", "cc", "last_branch"),
    [("GeForce GTX 660 Ti", (3, 0), 470), ("Tesla K20m", (3, 5), 470), ("GeForce GTX 560 Ti", (2, 1), 390)],
)
def test_fermi_and_kepler_boards_resolve_with_their_last_driver_branch(k, name, cc, last_branch):
    gpu = k.gpu_by_name(name)
    assert gpu is not None and gpu.cc == cc
    assert k.generation_for(cc=cc).max_branch == last_branch
