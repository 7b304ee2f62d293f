"""torchenv's own instrumentation is not the user's problem: the capture's per-step
torch.cuda.synchronize() (profiling.py times each step) is no host-sync finding, whether it is marked
with record_function("torchenv.capture.sync") or, in older traces, only by its python frame."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from profile_synth import gpu_trace

from torchenv.profile.analysis import analyse_traces
from torchenv.profile.trace import TraceSet, parse_trace

H200 = (
    Path(__file__).parents[2] / "benchmarks" / "results" / "h200-round4" / "run3" / "profile-planted.pt.trace.json.gz"
)


def _with_step_syncs(how: str):
    """The healthy synthetic trace plus a cudaDeviceSynchronize near the end of every step, as the
    capture's _sync makes it: inside the torchenv range, inside profiling.py's frames, or bare."""
    b = gpu_trace(set())
    steps = [e for e in b.events if e["name"].startswith("ProfilerStep#")]
    for step in steps:
        at = step["ts"] + step["dur"] - 150
        if how == "marked":
            b.annotation("torchenv.capture.sync", at, 60)
        elif how == "frame":
            outer = b.frame("torchenv/perf/_worker/profiling.py(125): capture", step["ts"], step["dur"])
            inner = b.frame("torchenv/perf/_worker/profiling.py(53): _sync", at, 60, outer)
            b.frame("torch/cuda/__init__.py(1152): synchronize", at + 2, 55, inner)
        elif how == "user":
            b.frame("train.py(70): log_every_step", at, 60)
        b.runtime("cudaDeviceSynchronize", at + 5, 50)
    return analyse_traces(TraceSet("synthetic", (parse_trace(b.doc()),)))


def _syncs(report):
    return [f for f in report.findings if f.finding.id == "profile-host-sync"]


@pytest.mark.parametrize("how", ["marked", "frame"])
def test_the_capture_own_sync_is_not_a_finding(how):
    report = _with_step_syncs(how)
    assert _syncs(report) == []
    assert not [s for s in report.timeline if s.lane == "sync"]


@pytest.mark.parametrize("how", ["bare", "user"])
def test_the_same_sync_in_user_code_still_is(how):
    found = _syncs(_with_step_syncs(how))
    assert found and "torch.cuda.synchronize()" in found[0].finding.title
    if how == "user":
        assert found[0].source == "log_every_step() at train.py:70"


@pytest.mark.skipif(not H200.exists(), reason="the H200 round-4 results are not in this checkout")
def test_the_h200_capture_no_longer_reports_its_own_sync():
    report = analyse_traces(TraceSet("h200", (parse_trace(gzip.decompress(H200.read_bytes())),)))
    titles = [f.finding.title for f in _syncs(report)]
    assert not any("synchronize" in t for t in titles), titles
    assert "profile-dataloader-wait" in [f.finding.id for f in report.findings]  # the rest is still seen
