"""A paste whose reporter says it fails is never healthy (issue 12: "a broken report never ends healthy").

The report below is a healthy collect_env; the first line is the reporter's words. Phrases are the common
ways people say a GPU stack fails, written for this test (not taken from the corpus). A failure in prose
alone is a warning, never an error, so a healthy control that says it cannot become a false alarm.
"""

from __future__ import annotations

import pytest

from torchenv.checks.explain import diagnose_report
from torchenv.model import Severity
from torchenv.reports.detect import read_report

HEALTHY_REPORT = """\
PyTorch version: 2.5.1+cu124
Is debug build: False
CUDA used to build PyTorch: 12.4
ROCM used to build PyTorch: N/A

OS: Ubuntu 22.04.4 LTS (x86_64)
Python version: 3.11.9 (main, Apr 19 2024, 16:48:06) [GCC 11.2.0] (64-bit runtime)
Is CUDA available: True
GPU models and configuration: GPU 0: NVIDIA GeForce RTX 4090
Nvidia driver version: 550.54.14

Versions of relevant libraries:
[pip3] numpy==1.26.4
[pip3] torch==2.5.1
[pip3] torchvision==0.20.1
"""

FAILURES = [
    "torch.cuda.is_available() returns False on my machine",
    "but torch.cuda.is_available() is always False",
    "My GPU is not being used, training runs on the CPU instead",
    "It says CUDA is not available",
    "the GPUs are not detected",
    "Training is extremely slow and GPU utilization stays at 0%",
    "The process gets killed after loading the model",
    "The script hangs forever at the first forward pass",
    "nothing works",
    "I reinstalled everything and it still doesn't work",
    "Killed",
    "zsh: killed     python train.py",
    "Process finished with exit code -1073741819 (0xC0000005)",
    "Process finished with exit code 139 (interrupted by signal 11: SIGSEGV)",
    "[1]    12345 segmentation fault  python train.py",
    "The kernel appears to have died. It will restart automatically.",
]

NOT_FAILURES = [
    "How do I run the same model on two GPUs?",
    "I want to run on CPU for debugging, how do I select it?",
    "GPU utilization is 100% and it is fast",
    "Everything works, this is a question about the API",
]


def verdict_of(first_line: str, knowledge):
    report = diagnose_report(read_report(f"{first_line}\n\n{HEALTHY_REPORT}"), knowledge, torchenv_version="test")
    return report.verdict, report.findings


def test_the_report_alone_is_healthy(knowledge):
    verdict, _ = verdict_of("", knowledge)
    assert verdict == "healthy"


@pytest.mark.parametrize("line", FAILURES)
def test_a_failure_in_the_reporters_words_is_not_healthy_and_not_an_error(line, knowledge):
    verdict, findings = verdict_of(line, knowledge)
    assert verdict != "healthy"
    (unexplained,) = [f for f in findings if f.id == "report-unexplained-failure"]
    assert unexplained.severity is Severity.WARNING
    assert any(line[:40] in e for e in unexplained.evidence)


@pytest.mark.parametrize("line", NOT_FAILURES)
def test_a_question_or_a_working_setup_stays_healthy(line, knowledge):
    verdict, _ = verdict_of(line, knowledge)
    assert verdict == "healthy"


def test_the_word_gate_changes_no_answer():
    from torchenv.checks.explain import _FAILURE_PROSE, reports_failure

    samples = [
        *FAILURES,
        *NOT_FAILURES,
        "I got this error",
        "it fails with",
        "can't detect the GPU",
        "Froze at 10%",
        "is_available() returns False",  # no other gate word on the line
    ]
    for line in samples:
        assert reports_failure(line) == bool(_FAILURE_PROSE.search(line)), line
    assert sum(map(reports_failure, samples)) >= len(FAILURES) + 3
