"""Error rows written from sweep-9 tuning-half messages (tests/corpus/messages/index.toml m334, m352, m353, m358,
m362; new rows in knowledge/data/errors.d/sweep9_messages.toml, widened or recategorised rows where they live)."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib

from testsupport import assert_tuning_item_finds_row
from torchenv.checks.explain import explain
from torchenv.knowledge.errors import ERRORS_FAMILIES, parse_error_files

MESSAGES = {
    m["id"]: m
    for m in tomllib.loads((Path(__file__).parent.parent / "corpus" / "messages" / "index.toml").read_text())["message"]
}
FAMILY = ERRORS_FAMILIES / "sweep9_messages.toml"


@pytest.mark.parametrize(
    ("item", "row"),
    [
        ("m334", "cudnn-sublibrary-load-failed"),  # reriiasu/speech-to-text#12: Windows' "Could not locate ...dll"
        ("m352", "no-cuda-runtime-found"),  # junhyung-SPALab/D-Align#1: the build sees no GPU (container)
        ("m353", "paddle-cudnn-header-mismatch"),  # PaddlePaddle/Paddle#12965
        ("m358", "onnxruntime-cuda-provider-unavailable"),  # Naozumi520/g2pW-Cantonese#1: the CPU package
        ("m362", "ngc-container-driver-too-old"),  # NVIDIA/TensorRT-LLM#83
    ],
)
def test_tuning_item_finds_its_row(item, row, knowledge):
    assert_tuning_item_finds_row(MESSAGES[item], row, 9, knowledge)


def test_the_entrypoint_message_over_two_lines_and_without_a_driver():
    """nvidia_entrypoint.sh prints it over two lines; with no driver in the container the version is empty."""
    too_old = (
        "ERROR: This container was built for NVIDIA Driver Release 450.51 or later, but\n"
        "       version 418.126.02 was detected and compatibility mode is UNAVAILABLE."
    )
    no_driver = (
        "ERROR: This container was built for NVIDIA Driver Release 515.48 or later, but\n"
        "       version  was detected and compatibility mode is UNAVAILABLE.\n\n       [[]]"
    )
    from torchenv.knowledge import load_knowledge

    knowledge = load_knowledge()
    assert [(m.id, m.category) for m in explain(too_old, None, knowledge)][:1] == [
        ("ngc-container-driver-too-old", "driver-too-old")
    ]
    assert explain(no_driver, None, knowledge)[0].category == "gpu-hidden"


def test_every_row_of_the_family_file_is_tested_and_sourced():
    rows = parse_error_files([FAMILY]).patterns
    assert {row.id for row in rows} == {"ngc-container-driver-too-old", "paddle-cudnn-header-mismatch"}
    assert all(row.source and "github.com" in row.source for row in rows)
