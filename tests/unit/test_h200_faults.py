"""Faults captured on the lent H200: the findings must name the real cause (the machine wins)."""

from __future__ import annotations

from pathlib import Path

import pytest

from torchenv.checks import diagnose
from torchenv.knowledge import load_knowledge
from torchenv.reports.detect import read_report

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "h200-faults"


def _findings(name):
    facts = read_report((HERE / name).read_text()).facts
    return {f.id: f for f in diagnose(facts, load_knowledge(), torchenv_version="t").findings}


def test_system_cudnn_first_on_ld_library_path_names_that_folder():
    found = _findings("doctor-ld-system-cudnn.json")
    shadowed = found["library-shadowed"]
    # the entry as written (/lib/...) is a symlink to where the sub-libraries were mapped from (/usr/lib/...)
    assert "/lib/x86_64-linux-gnu" in shadowed.fix and "LD_LIBRARY_PATH" in shadowed.fix
    assert "pip install" not in shadowed.fix


@pytest.mark.parametrize("name", ["doctor-bogus-uuid.json"])
def test_a_uuid_that_does_not_exist_is_named(name):
    found = _findings(name)
    assert "cuda-visible-devices-unknown-device" in found
    assert "GPU-00000000-1111-2222-3333-444444444444" in found["cuda-visible-devices-unknown-device"].title
