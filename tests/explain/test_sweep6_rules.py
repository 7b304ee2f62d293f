"""Error rows written from sweep-6 tuning-half corpus items (tests/corpus/messages/index.toml m247, m251, m253)."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib

from torchenv.checks.explain import explain

MESSAGES = {
    m["id"]: m
    for m in tomllib.loads((Path(__file__).parent.parent / "corpus" / "messages" / "index.toml").read_text())["message"]
}


@pytest.mark.parametrize(
    ("item", "row"),
    [
        ("m247", "apex-cuda-toolkit-mismatch"),  # NVIDIA/apex#955
        ("m251", "xformers-build-mismatch"),  # Lightricks/LTX-Desktop#23: the warning without its first line
        ("m253", "mmcv-ops-without-cuda"),  # open-mmlab/mmdetection#7788
    ],
)
def test_tuning_item_finds_its_row(item, row, knowledge):
    entry = MESSAGES[item]
    assert entry["half"] == "tuning"
    matches = explain(entry["message"], None, knowledge)
    assert matches and matches[0].id == row, [(m.id, m.category) for m in matches]
    assert matches[0].category == entry["category"]


def test_mmcv_row_covers_other_ops_and_devices(knowledge):
    matches = explain("RuntimeError: roi_align_forward_impl: implementation for device cuda not found.", None, knowledge)
    assert matches and matches[0].id == "mmcv-ops-without-cuda"
