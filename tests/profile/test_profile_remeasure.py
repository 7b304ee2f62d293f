"""`profile WORKLOAD`'s re-measured fixes: which findings torchenv answers by changing a knob itself,
and how the worker's records become gains (pure), then the whole capture on CPU torch."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest

from torchenv.model import Finding, Severity
from torchenv.model.profile import ProfileFinding, ProfileReport
from torchenv.profile.run import CaptureSpec, capture_and_analyse, fixes_for, remeasured

PLANTED = Path(__file__).parent.parent / "fixtures" / "profile" / "planted.py"


def _report(*ids: str) -> ProfileReport:
    findings = tuple(
        ProfileFinding(Finding(i, "performance", Severity.WARNING, "compute", i, (), "", None), 1.0, "") for i in ids
    )
    return ProfileReport("ok", "t", (), (), True, None, (), None, findings, ())


GPU_MODEL = {"tf32": True, "bf16": True, "fp16": True, "plain_step": False, "fused": True, "foreach": True}


def test_fixes_follow_the_findings_and_the_workload():
    report = _report("profile-fp32-no-tensor-cores", "profile-unfused-optimizer", "profile-host-sync")
    configs = [c for c, _ in fixes_for(report, GPU_MODEL)]
    assert configs == [{"tf32": True}, {"amp": "bf16"}, {"optimizer": "foreach"}, {"optimizer": "fused"}]
    plain = dict(GPU_MODEL, plain_step=True)  # a plain step(): its optimizer is out of reach
    assert [c for c, _ in fixes_for(report, plain)] == [{"tf32": True}, {"amp": "bf16"}]
    cpu = {"tf32": False, "bf16": False, "plain_step": True}
    assert fixes_for(report, cpu) == []
    assert fixes_for(_report("profile-host-sync"), GPU_MODEL) == []  # a code change, not a knob


def test_remeasured_gains_are_against_the_baseline_measured_beside_them():
    fixes = [({"tf32": True}, ("profile-fp32-no-tensor-cores",)), ({"amp": "bf16"}, ("profile-fp32-no-tensor-cores",))]
    records = [
        {"event": "remeasure", "config": {}, "label": "FP32 (reference)", "status": "ok", "samples_s": [0.010] * 8},
        {"event": "remeasure", "config": {"tf32": True}, "label": "TF32", "status": "ok", "samples_s": [0.008] * 8},
        {"event": "remeasure", "config": {"amp": "bf16"}, "label": "AMP bf16", "status": "failed", "reason": "boom"},
    ]
    tf32, amp = remeasured(records, fixes)
    assert tf32.gain == pytest.approx(1.25) and tf32.verdict == "faster" and tf32.baseline_ms == pytest.approx(10.0)
    assert amp.status == "failed" and amp.reason == "boom"
    assert remeasured([], fixes) == ()


@pytest.mark.torch
def test_profile_workload_on_cpu_names_the_planted_problems_and_keeps_the_trace(tmp_path):
    pytest.importorskip("torch")
    keep = tmp_path / "kept.pt.trace.json.gz"
    spec = CaptureSpec(workload=f"{PLANTED}:planted", python=sys.executable, device="cpu", steps=3, warmup=1,
                       trace_out=str(keep))  # fmt: skip
    report = capture_and_analyse(spec, torchenv_version="test")
    ids = [f.finding.id for f in report.findings]
    assert "profile-host-stall" in ids and "profile-dataloader-wait" in ids
    assert keep.exists() and report.extra["trace_kept"] == str(keep)
    assert report.extra["workload"].startswith("planted problems")
    assert json.dumps(dataclasses.asdict(report), default=str)  # serialisable as it stands
