"""The line reader (reports/lines.py) and read_report on any text: every line is classified, no paste
that carries evidence is refused, and the defect families of issue 12 are fixed, each shown on a real
paste of the corpus's tuning half (tests/corpus/pastes, `half = "tuning"`)."""

from __future__ import annotations

from pathlib import Path

import tomllib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from torchenv.checks.explain import diagnose_report
from torchenv.model import Severity, known
from torchenv.reports.detect import read_report
from torchenv.reports.lines import KINDS, classify_text

PASTES = Path(__file__).parent.parent / "corpus" / "pastes"
INDEX = {row["file"]: row for row in tomllib.loads((PASTES / "index.toml").read_text())["paste"]}
TUNING = sorted(name for name, row in INDEX.items() if row["half"] == "tuning")
SAMPLES = [(PASTES / name).read_text(encoding="utf-8") for name in TUNING]
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _paste(prefix: str) -> str:
    (name,) = [n for n in TUNING if n.startswith(prefix)]
    return (PASTES / name).read_text(encoding="utf-8")


def _top(text: str, knowledge):
    parsed = read_report(text)
    assert parsed.facts is not None, parsed.error
    report = diagnose_report(parsed, knowledge, torchenv_version="test")
    problems = [f for f in report.findings if f.severity is not Severity.INFO]
    return parsed, report, problems


# --- fuzzing ------------------------------------------------------------------------------------------------

pasted_lines = st.one_of(
    st.text(max_size=120),
    st.sampled_from([line for sample in SAMPLES for line in sample.split("\n")]),
    st.sampled_from(["```", "> quoted", ">>> import torch", "$ nvidia-smi", "\x1b[31mred\x1b[0m", "| 0  NVIDIA |"]),
)


@FUZZ
@given(st.lists(pasted_lines, max_size=60))
def test_every_line_is_classified(lines):
    text = "\n".join(lines)
    reading = classify_text(text)
    assert len(reading.lines) == len(text.split("\n"))
    assert [r.number for r in reading.lines] == list(range(1, len(reading.lines) + 1))
    assert all(r.kind in KINDS for r in reading.lines)
    assert all(m.strip() for m in reading.messages)


@FUZZ
@given(st.lists(pasted_lines, max_size=60))
def test_read_report_never_raises_and_accounts_for_every_line(knowledge, lines):
    text = "\n".join(lines)
    parsed = read_report(text)
    assert parsed.facts is not None or parsed.error
    if parsed.lines:
        assert all(r.kind in KINDS for r in parsed.lines)
    if parsed.facts is not None:
        diagnose_report(parsed, knowledge, torchenv_version="t")


@FUZZ
@given(st.binary(max_size=4000))
def test_random_bytes_are_classified_or_refused(data):
    parsed = read_report(data)
    assert parsed.facts is not None or parsed.error


# --- any text in: evidence is never refused ---------------------------------------------------------------------


def test_message_only_input_gets_a_message_based_verdict(knowledge):
    # a bare traceback, no table at all: was exit 2 "not a report torchenv can read"
    parsed, report, problems = _top(_paste("p007"), knowledge)
    assert parsed.format in ("text", "detectron2 collect_env", "collect_env")
    assert report.verdict == "broken" and problems[0].id.startswith("reported-")


def test_text_without_evidence_is_still_refused():
    for text in ("hello", "just some words\nand more words"):
        parsed = read_report(text)
        assert parsed.facts is None and "not a report torchenv can read" in parsed.error


def test_every_line_of_a_real_paste_is_accounted_for():
    for sample in SAMPLES:
        parsed = read_report(sample)
        assert len(parsed.lines) == len(sample.replace("\r\n", "\n").split("\n"))


# --- error lines after sections are not swallowed ---------------------------------------------------------------


def test_detectron2_c_not_built_is_a_message(knowledge):
    parsed, _, problems = _top(_paste("p009"), knowledge)
    assert "detectron2._C" in parsed.messages
    assert problems[0].category == "companion-mismatch"


def test_exception_lines_are_not_taken_as_report_keys():
    text = "PyTorch version: 2.1.0+cu121\nIs CUDA available: False\n\nRuntimeError: No CUDA GPUs are available\n"
    parsed = read_report(text)
    assert "No CUDA GPUs are available" in parsed.messages


# --- evidence that is there is used ---------------------------------------------------------------------------


def test_could_not_collect_gpu_and_driver_with_a_cuda_runtime_is_no_driver(knowledge):
    _, report, problems = _top(_paste("p023"), knowledge)
    assert problems[0].id == "report-driver-unreachable" and problems[0].category == "no-driver"
    # the symptom is explained and ranked below its cause
    symptom = next(f for f in report.findings if f.id == "cuda-unavailable")
    assert symptom.severity is Severity.INFO and "symptom" in symptom.title


def test_no_cuda_on_every_line_means_no_nvidia_gpu():
    parsed = read_report(_paste("p019"))
    assert known(parsed.facts.gpus.gpus) and parsed.facts.gpus.gpus == ()  # "GPU models: No CUDA"
    assert parsed.facts.host.os == "macos"


def test_cpu_build_cuda_usable_is_known_false(knowledge):
    parsed = read_report("PyTorch version: 2.3.0+cpu\nIs CUDA available: False\nOS: Ubuntu 22.04\n")
    report = diagnose_report(parsed, knowledge, torchenv_version="t")
    assert report.cuda_usable is False


def test_cpu_build_with_cuda_code_is_an_error(knowledge):
    text = (
        "PyTorch version: 2.3.0+cpu\nCUDA used to build PyTorch: None\n"
        "    x = model.cuda()\nAssertionError: Torch not compiled with CUDA enabled\n"
    )
    _, _, problems = _top(text, knowledge)
    assert problems[0].category == "cpu-only-build" and problems[0].severity is Severity.ERROR


# --- causes outrank symptoms -------------------------------------------------------------------------------------


def test_a_cause_in_the_text_outranks_the_cause_it_explains(knowledge):
    # nvcc missing explains why detectron2 was not built
    _, _, problems = _top(_paste("p007"), knowledge)
    assert problems[0].category == "compile-toolchain"


def test_nvml_mismatch_is_a_driver_cause(knowledge):
    _, _, problems = _top(_paste("p020"), knowledge)
    assert problems[0].category == "no-driver"


def test_jupyter_kernel_without_torch_is_the_wrong_interpreter(knowledge):
    _, _, problems = _top(_paste("p068"), knowledge)
    assert problems[0].category == "wrong-interpreter"


def test_cuda_unavailable_without_any_gpu_evidence_is_not_an_error(knowledge):
    text = "PyTorch version: 2.4.0+cu121\nIs CUDA available: False\nOS: Ubuntu 22.04.4 LTS (x86_64)\n"
    _, report, _ = _top(text, knowledge)
    symptom = next(f for f in report.findings if f.id == "cuda-unavailable")
    assert symptom.severity is Severity.WARNING and "no cause is established" in symptom.title
    assert "Likely causes" in symptom.explanation


def test_a_broken_paste_with_an_unknown_error_is_not_healthy(knowledge):
    text = (
        "PyTorch version: 2.4.0+cu121\nIs CUDA available: True\nGPU models and configuration: GPU 0: NVIDIA A100\n"
        "Nvidia driver version: 550.54.15\n\nTraceback (most recent call last):\nValueError: frobnicator exploded\n"
    )
    _, report, problems = _top(text, knowledge)
    assert report.verdict != "healthy" and problems[0].id == "report-unrecognised-error"
