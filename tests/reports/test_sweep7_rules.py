"""Rules written from the tuning half of corpus sweep 7 (tests/corpus/README.md), each tested on the real item.

explain: NGC containers refusing a newer GPU (m269, m270), torch's MPS allocator and MPS fallback texts (m282,
m281), torch 2.3.0's cuDNN-plan warning (m276), cuDNN's own sub-library loader line before the generic
missing-library row (m266). Reader and ranking: xFormers' "built for: PyTorch X with CUDA N (you have Y)" names
the installed torch Y and a CUDA companion (a GPU is expected); on a CPU-only torch a CUDA companion's failure is
a consequence of the build (p121, sweep 6's open tuning miss).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib

from torchenv.checks.explain import diagnose_report, explain
from torchenv.model import Severity
from torchenv.reports.detect import read_report
from torchenv.reports.lines import classify_text

CORPUS = Path(__file__).parent.parent / "corpus"
PASTES = {row["file"]: row for row in tomllib.loads((CORPUS / "pastes" / "index.toml").read_text())["paste"]}
MESSAGES = {row["id"]: row for row in tomllib.loads((CORPUS / "messages" / "index.toml").read_text())["message"]}


def _message(mid: str) -> dict:
    row = MESSAGES[mid]
    assert row["half"] == "tuning", "rules are tested on the tuning half only"
    return row


def _paste(prefix: str) -> str:
    (name,) = [n for n in PASTES if n.startswith(prefix)]
    assert PASTES[name]["half"] == "tuning", "rules are tested on the tuning half only"
    return (CORPUS / "pastes" / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("item", "row"),
    [
        ("m269", "ngc-container-gpu-not-supported"),  # linjieli222/HERO#45 (curly-quoted)
        ("m270", "ngc-container-gpu-not-supported"),  # dusty-nv/jetson-inference#1814 (with the license banner)
        ("m282", "mps-out-of-memory"),  # AUTOMATIC1111/stable-diffusion-webui#9133
        ("m281", "mps-op-not-implemented"),  # invoke-ai/InvokeAI#232 (torch's own "not current implemented" typo)
        ("m276", "cudnn-v8-plan-warning-torch-230"),  # Nerogar/OneTrainer#397
        ("m266", "cudnn-sublibrary-load-failed"),  # SYSTRAN/faster-whisper#885
    ],
)
def test_tuning_item_finds_its_row(item, row, knowledge):
    entry = _message(item)
    matches = explain(entry["message"], None, knowledge)
    assert matches and matches[0].id == row, [(m.id, m.category) for m in matches]
    assert matches[0].category == entry["category"]


def test_ngc_row_covers_other_gpus_and_the_error_line_alone(knowledge):
    for text in (
        "WARNING: Detected NVIDIA NVIDIA GeForce RTX 4090 GPU, which is not yet supported in this version of the container",
        "ERROR: No supported GPU(s) detected to run this container",
    ):
        matches = explain(text, None, knowledge)
        assert matches and matches[0].id == "ngc-container-gpu-not-supported", text


def test_mps_fallback_row_matches_the_current_spelling(knowledge):
    text = (
        "NotImplementedError: The operator 'aten::_slow_conv2d_forward' is not currently implemented for the MPS "
        "device. If you want this op to be added in priority during the prototype phase of this feature, please "
        "comment on https://github.com/pytorch/pytorch/issues/77764."
    )
    matches = explain(text, None, knowledge)
    assert matches and matches[0].id == "mps-op-not-implemented"


def test_xformers_built_for_line_names_the_installed_torch():
    reading = classify_text("    PyTorch 2.1.2+cu121 with CUDA 1201 (you have 2.1.2+cpu)\n")
    assert reading.facts.torch_version == "2.1.2+cpu"
    assert reading.facts.cuda_expected, "a companion built with CUDA says a GPU is meant to be used"


def test_cpu_build_outranks_the_cuda_companion_it_breaks(knowledge):
    report = diagnose_report(read_report(_paste("p121-")), knowledge, torchenv_version="test")
    problems = [f for f in report.findings if f.severity is not Severity.INFO]
    assert problems[0].category == "cpu-only-build", [(f.id, f.severity) for f in problems]
    companion = [f for f in problems if f.category == "companion-mismatch"]
    assert companion and companion[0].severity is Severity.WARNING
    assert report.verdict == "broken"


def test_companion_mismatch_on_a_cuda_torch_stays_an_error(knowledge):
    text = (
        "WARNING[XFORMERS]: xFormers can't load C++/CUDA extensions. xFormers was built for:\n"
        "    PyTorch 2.10.0+cu128 with CUDA 1208 (you have 2.11.0+cu130)\n"
        "    Python  3.10.19 (you have 3.13.9)\n"
    )
    report = diagnose_report(read_report(text), knowledge, torchenv_version="test")
    problems = [f for f in report.findings if f.severity is not Severity.INFO]
    assert problems[0].category == "companion-mismatch" and problems[0].severity is Severity.ERROR


def test_markdown_hardware_key_names_the_gpu():
    # p105 (tuning): "* **Hardware:** NVIDIA Jetson AGX Orin"; a value without a GPU word is not a GPU
    assert classify_text("* **Hardware:** NVIDIA Jetson AGX Orin\n").facts.gpus == ["NVIDIA Jetson AGX Orin"]
    assert classify_text("- Hardware: Intel Core i7-12700, 32 GB RAM\n").facts.gpus == []
