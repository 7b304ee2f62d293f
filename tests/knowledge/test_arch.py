"""arch_runs_on / parse_arch rules."""

from __future__ import annotations

import pytest

from torchenv.knowledge import Arch, ArchMatch, arch_runs_on, parse_arch


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sm_90", Arch("sass", 9, 0, "")),
        ("compute_90", Arch("ptx", 9, 0, "")),
        ("sm_90a", Arch("sass", 9, 0, "a")),
        ("sm_100f", Arch("sass", 10, 0, "f")),
        ("sm_120", Arch("sass", 12, 0, "")),
        ("sm_37", Arch("sass", 3, 7, "")),
        ("SM_86", Arch("sass", 8, 6, "")),
    ],
)
def test_parse_arch(text, expected):
    assert parse_arch(text) == expected
    assert parse_arch(text).name == text.lower()


@pytest.mark.parametrize("bad", ["", "sm_", "sm_9", "gfx90a", "compute_x0", None, 90, "sm_90b"])
def test_parse_arch_bad(bad):
    assert parse_arch(bad) is None


CU130 = ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"]


@pytest.mark.parametrize(
    ("arches", "cc", "expected"),
    [
        (["sm_86"], (8, 9), ArchMatch("binary-compatible", "sm_86")),
        (["sm_80", "sm_86"], (8, 9), ArchMatch("binary-compatible", "sm_86")),
        (["sm_80", "sm_86", "sm_89"], (8, 9), ArchMatch("exact", "sm_89")),
        (["sm_90", "compute_90"], (12, 0), ArchMatch("ptx-jit", "compute_90")),
        (["sm_90"], (12, 0), None),
        (["sm_90a"], (10, 0), None),
        (["sm_90a"], (9, 0), ArchMatch("exact", "sm_90a")),
        (["sm_90", "sm_90a"], (9, 0), ArchMatch("exact", "sm_90")),
        (["sm_100f"], (10, 3), ArchMatch("binary-compatible", "sm_100f")),
        (["sm_100f"], (12, 0), None),
        (["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"], (3, 7), None),
        (["compute_120"], (9, 0), None),
        (["compute_50", "compute_80"], (9, 0), ArchMatch("ptx-jit", "compute_80")),
        (["compute_90a"], (10, 0), None),
        (CU130, (9, 0), ArchMatch("exact", "sm_90")),
        (CU130, (7, 0), None),
        (CU130, (10, 3), ArchMatch("binary-compatible", "sm_100")),
        (CU130, (12, 1), ArchMatch("binary-compatible", "sm_120")),
        (CU130, (11, 0), None),
        ("sm_75 sm_80", (7, 5), ArchMatch("exact", "sm_75")),
        (["garbage", "sm_86"], (8, 6), ArchMatch("exact", "sm_86")),
        ([], (8, 0), None),
    ],
)
def test_arch_runs_on(arches, cc, expected):
    assert arch_runs_on(arches, cc) == expected


@pytest.mark.parametrize("cc", [None, (9,), "9.0", (9, "0"), (-1, 0), (True, 0)])
def test_arch_runs_on_bad_cc(cc):
    assert arch_runs_on(["sm_90"], cc) is None


def test_arch_runs_on_not_iterable():
    assert arch_runs_on(None, (9, 0)) is None
