"""The real-world collect_env corpus (tests/corpus/collect_env): each report's verdict matches the
diagnosis its thread established, and no broken report is ever called healthy."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib

from torchenv.checks.explain import diagnose_report
from torchenv.model import Severity
from torchenv.reports.detect import read_report

CORPUS = Path(__file__).parent.parent / "corpus" / "collect_env"
INDEX = {row["file"]: row for row in tomllib.loads((CORPUS / "index.toml").read_text())["report"]}

# Genuinely undecidable from the text: the top category cannot be the established one.
EXPECTED_FAILURES = {
    "006-macos-m1-mps-built-not-available.txt": "MPS on macOS is outside the NVIDIA checks; the report has no MPS field",
    "020-macos13-m2max-nightly-mps-needs-macos14.txt": "MPS on macOS is outside the NVIDIA checks",
    "021-jetson-aarch64-torch-na-nccl-undefined-symbol.txt": "'PyTorch version: N/A' only: the NCCL undefined symbol is not in the report",
    "022-wsl2-rtx4060-laptop-torch-not-installed.txt": "'PyTorch version: N/A' reads the same for not installed and broken; no package list",
    "024-archlinux-detectron2-table-system-torch-no-cuda.txt": "'PyTorch built with' is cut before the CUDA lines would be, so the CPU build is not proven",
    "033-pip-cu118-request-kept-cu117-torch201.txt": "cut after the OS line: nothing shows the stack works",
    "015-2xa6000-nightly-cu128-compile-bug-healthy.txt": "a true warning: driver 535 runs cu128 only under minor-version compatibility",
}

# Blocked on checks/knowledge outside this module; strict, so they flag themselves once fixed.
BLOCKED = {}


def _diagnose(name: str, knowledge):
    parsed = read_report((CORPUS / name).read_bytes())
    assert parsed.facts is not None, parsed.error
    return parsed, diagnose_report(parsed, knowledge, torchenv_version="test")


def _params():
    for name in sorted(INDEX):
        marks = []
        if name in EXPECTED_FAILURES:
            marks.append(pytest.mark.xfail(reason=EXPECTED_FAILURES[name], strict=True))
        elif name in BLOCKED:
            marks.append(pytest.mark.xfail(reason="blocked: " + BLOCKED[name], strict=True))
        yield pytest.param(name, marks=marks, id=name[:3])


def test_index_matches_files():
    assert set(INDEX) == {p.name for p in CORPUS.glob("*.txt")}


@pytest.mark.parametrize("name", list(_params()))
def test_top_finding_matches_established_cause(name, knowledge):
    row = INDEX[name]
    _, report = _diagnose(name, knowledge)
    problems = [f for f in report.findings if f.severity is not Severity.INFO]
    if row["category"] == "healthy":
        # A healthy stack whose paste also carries an error line torchenv cannot place (018: vLLM's own
        # collect_env crashed before torch's ran) is 'degraded' by report-unrecognised-error, never broken.
        pasted_error = {f.id for f in problems} == {"report-unrecognised-error"}
        assert report.verdict == "healthy" or pasted_error, [f.id for f in problems]
        assert report.verdict != "broken"
    else:
        assert problems, f"no problem found; verdict {report.verdict}"
        assert problems[0].category == row["category"], [(f.id, f.category) for f in problems]


# Broken reports the checks cannot see as broken until the knowledge gap is closed.
CALLED_HEALTHY: dict[str, str] = {}
# Healthy reports that get an ERROR from a check misfiring on report facts.
ERROR_ON_HEALTHY: dict[str, str] = {}


def _with(names, reasons):
    return [
        pytest.param(n, id=n[:3], marks=[pytest.mark.xfail(reason="blocked: " + reasons[n], strict=True)])
        if n in reasons
        else pytest.param(n, id=n[:3])
        for n in names
    ]


@pytest.mark.parametrize("name", _with(sorted(n for n, r in INDEX.items() if not r["healthy"]), CALLED_HEALTHY))
def test_broken_report_is_never_called_healthy(name, knowledge):
    _, report = _diagnose(name, knowledge)
    assert report.verdict != "healthy"
    assert not report.summary.startswith("Healthy")


@pytest.mark.parametrize("name", _with(sorted(n for n, r in INDEX.items() if r["healthy"]), ERROR_ON_HEALTHY))
def test_healthy_report_has_no_error(name, knowledge):
    _, report = _diagnose(name, knowledge)
    errors = [f.id for f in report.findings if f.severity is Severity.ERROR]
    assert not errors


def test_every_report_parses_with_its_torch_version(knowledge):
    for name in INDEX:
        parsed = read_report((CORPUS / name).read_bytes())
        assert parsed.facts is not None, name
        assert parsed.format != "unknown", name
