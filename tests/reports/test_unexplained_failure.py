"""A broken report never ends healthy; causes rank by the evidence they explain (issue 12 item 2).
Built from tuning-half pastes only."""

from __future__ import annotations

from pathlib import Path

from torchenv.checks.explain import diagnose_report, observed_symptoms
from torchenv.checks.policy import apply_policy
from torchenv.reports.detect import read_report

PASTES = Path(__file__).parent.parent / "corpus" / "pastes"


def _diagnose(name: str, knowledge):
    parsed = read_report(next(PASTES.glob(f"{name}-*.txt")).read_bytes())
    return parsed, diagnose_report(parsed, knowledge, torchenv_version="test")


def test_a_stated_cuda_older_than_the_default_wheel_is_the_likely_cause(knowledge):
    # p077: "cuda version:10.0", "torch version:1.4.0", print(torch.cuda.is_available()) / false
    parsed, report = _diagnose("p077", knowledge)
    assert parsed.evidence.cuda_available is False and parsed.evidence.stated_cuda == "10.0"
    top = next(f for f in report.findings if f.severity.name != "INFO")
    assert top.id == "report-unexplained-failure" and top.category == "driver-too-old"
    assert report.verdict == "broken"


def test_a_reporter_saying_it_fails_is_never_healthy(knowledge):
    # p045: "`import torch` triggered this error." above a collect_env that looks fine
    _, report = _diagnose("p045", knowledge)
    assert report.verdict != "healthy"
    assert any(f.id == "report-unexplained-failure" for f in report.findings)


def test_torch_warnings_are_symptoms(knowledge):
    text = (
        "UserWarning: CUDA initialization: Found no NVIDIA driver on your system.\n"
        "  return torch._C._cuda_getDeviceCount() > 0\n"
    )
    parsed = read_report(text.encode())
    assert any(s.kind == "torch-warning" for s in observed_symptoms(parsed, knowledge))
    assert diagnose_report(parsed, knowledge, torchenv_version="test").verdict == "broken"


def test_the_policy_applied_again_changes_nothing(knowledge):
    for name in ("p077", "p045", "p112"):
        _, report = _diagnose(name, knowledge)
        again = apply_policy(report)
        assert (again.verdict, [f.id for f in again.findings]) == (report.verdict, [f.id for f in report.findings])
