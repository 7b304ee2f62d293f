"""Rules written from the tuning half of corpus sweep 3 (tests/corpus/README.md), each tested on the real item.

Readers: a torch version named in prose ("PyTorch `2.9.1+cpu`", p098), a conda transaction plan that
resolves to a CPU build (p104). explain: Ultralytics' invalid-device error with torch-X+cpu in its banner
(m196), the DataLoader's shm bus-error warning (m213, m215), torchaudio's abi3 library (m178).
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


def _paste(prefix: str) -> str:
    (name,) = [n for n in PASTES if n.startswith(prefix)]
    assert PASTES[name]["half"] == "tuning", "rules are tested on the tuning half only"
    return (CORPUS / "pastes" / name).read_text(encoding="utf-8")


def _message(mid: str) -> str:
    row = MESSAGES[mid]
    assert row["half"] == "tuning", "rules are tested on the tuning half only"
    return row["message"]


def _top_category(text: str, knowledge) -> str:
    parsed = read_report(text)
    assert parsed.facts is not None, parsed.error
    report = diagnose_report(parsed, knowledge, torchenv_version="test")
    problems = [f for f in report.findings if f.severity is not Severity.INFO]
    return problems[0].category


def test_torch_version_in_markdown_prose_is_read(knowledge):
    text = _paste("p098-")
    assert classify_text(text).facts.torch_version == "2.9.1+cpu"
    assert _top_category(text, knowledge) == "cpu-only-build"


def test_conda_transaction_plan_gives_the_torch_build(knowledge):
    text = _paste("p104-")
    facts = classify_text(text).facts
    assert ("pytorch", "1.10.0", "py3.6_cpu_0") in facts.conda_builds
    assert ("pytorch-mutex", "1.0", "cpu") in facts.conda_builds
    assert _top_category(text, knowledge) == "cpu-only-build"


@pytest.mark.parametrize(
    ("mid", "row_id", "category"),
    [
        ("m196", "ultralytics-invalid-cuda-device", "cpu-only-build"),  # torch-1.13.1+cpu in the banner
        ("m213", "dataloader-bus-error", "data-loading"),
        ("m215", "dataloader-bus-error", "data-loading"),
        ("m178", "torchaudio-library-load", "companion-mismatch"),  # libtorchaudio.abi3.so
    ],
)
def test_sweep3_tuning_messages_are_explained(knowledge, mid, row_id, category):
    (top, *_) = explain(_message(mid), None, knowledge)
    assert (top.id, top.category) == (row_id, category)


def test_invalid_device_without_a_cpu_banner_is_not_called_a_cpu_build(knowledge):
    text = "ValueError: Invalid CUDA 'device=0' requested. Use 'device=cpu' or pass valid CUDA device(s) if available"
    (top, *_) = explain(text, None, knowledge)
    assert top.id == "ultralytics-invalid-cuda-device" and top.category == "no-gpu"
