"""Error rows written from sweep-10 tuning-half messages (tests/corpus/messages/index.toml m371, m372, m381, m384,
m385, m397; new rows in knowledge/data/errors.d/sweep10_messages.toml, a widened cause of nvidia-smi-not-found)."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib

from testsupport import assert_top_match, assert_tuning_item_finds_row
from torchenv.knowledge.errors import ERRORS_FAMILIES, parse_error_files

MESSAGES = {
    m["id"]: m
    for m in tomllib.loads((Path(__file__).parent.parent / "corpus" / "messages" / "index.toml").read_text())["message"]
}
FAMILY = ERRORS_FAMILIES / "sweep10_messages.toml"


@pytest.mark.parametrize(
    ("item", "row"),
    [
        ("m371", "tinycudann-arch-missing"),  # NVlabs/tiny-cuda-nn#230
        ("m372", "spconv-cumm-without-cuda"),  # traveller59/spconv#423
        ("m381", "cuda-invalid-kernel-image"),  # cupy/cupy#8045
        ("m384", "nvidia-smi-not-found"),  # iot-salzburg/gpu-jupyter#22: a notebook's shell without a GPU
        ("m385", "fbgemm-gpu-library-missing"),  # meta-pytorch/torchrec#557
        ("m397", "cuda-home-with-separator"),  # open-mmlab/mmcv#693
    ],
)
def test_tuning_item_finds_its_row(item, row, knowledge):
    assert_tuning_item_finds_row(MESSAGES[item], row, 10, knowledge)


@pytest.mark.parametrize(
    ("message", "row", "category"),
    [
        ("OSError: Could not find compatible tinycudann extension for compute capability 35.", "tinycudann-arch-missing",
         "gpu-arch-unsupported"),
        ("nvcc fatal : Could not open input file /usr/local/cuda-11.8:/bin/nvcc", "cuda-home-with-separator",
         "compile-toolchain"),
        ("bash: nvidia-smi: command not found", "nvidia-smi-not-found", "no-driver"),  # a host shell: no driver
    ],
)  # fmt: skip
def test_the_producers_other_wordings(message, row, category, knowledge):
    assert_top_match(message, row, category, knowledge)


def test_every_row_of_the_family_file_is_tested_and_sourced():
    rows = parse_error_files([FAMILY]).patterns
    assert {row.id for row in rows} == {
        "tinycudann-arch-missing",
        "spconv-cumm-without-cuda",
        "cuda-invalid-kernel-image",
        "fbgemm-gpu-library-missing",
        "cuda-home-with-separator",
    }
    assert all(row.source and "github.com" in row.source and row.causes and row.fix for row in rows)
