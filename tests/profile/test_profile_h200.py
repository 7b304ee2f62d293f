"""The real CUDA traces from the H200 (torch 2.11, round 5): the planted workload, its fixed twin
and the unmodified script tests/fixtures/profile/scripts/train_cuda.py under `profile --`. They
caught two bugs the synthetic traces could not: every finding named the function's def line
(`train_cuda.py:22`), and torch's own AdamW reading its CPU step counter (`.item()` in
optimizer.py's `_get_value`, no cudaStreamSynchronize under it) was reported as a host↔device sync
of the user's function with the fix `accumulate loss.detach()`."""

from __future__ import annotations

from pathlib import Path

import pytest

from torchenv.profile import analyse

FIXTURES = Path(__file__).parent.parent / "fixtures" / "profile"
H200 = FIXTURES / "h200"
SCRIPTS = FIXTURES / "scripts"


@pytest.fixture(scope="module")
def script():
    return analyse(H200 / "script.pt.trace.json.gz", source_roots=[str(SCRIPTS)])


def _by_id(report, rule):
    return [f for f in report.findings if f.finding.id == rule]


def test_the_scripts_copy_and_item_are_named_at_their_exact_lines(script):
    lines = SCRIPTS.joinpath("train_cuda.py").read_text().splitlines()
    (copy,) = _by_id(script, "profile-pageable-copy")
    assert copy.source == "train_step() at train_cuda.py:23"
    assert "host_batch.to(device)" in lines[23 - 1]
    assert copy.ms_per_step > 1.0  # 8 MiB from pageable memory, 1.36 ms blocked
    syncs = _by_id(script, "profile-host-sync")
    item = [f for f in syncs if ".item()" in f.finding.title]
    assert [f.source for f in item] == ["train_step() at train_cuda.py:28"]
    assert "loss.item()" in lines[28 - 1]
    # one per step (the frame already running at the first step, recorded as train_cuda.py(26), and
    # the later ones, recorded at the def line 22, are the same call), with its real blocked time:
    # the cudaStreamSynchronize under it
    assert "1 per step" in item[0].finding.evidence[0]
    assert 1.0 < item[0].ms_per_step < 3.0
    assert "loss.detach()" in item[0].finding.fix and "train_cuda.py:28" in item[0].finding.fix


def test_adamws_cpu_step_counter_is_no_host_sync(script):
    for f in _by_id(script, "profile-host-sync"):
        assert "AdamW" not in f.finding.title and f.source != "train_step() at train_cuda.py:22"
        assert "16 per step" not in " ".join(f.finding.evidence)
    assert any("AdamW.step" in n and "not a host↔device sync" in n for n in script.notes)


def test_the_optimizer_is_named_at_its_step_call(script):
    (opt,) = _by_id(script, "profile-unfused-optimizer")
    assert opt.source == "train_step() at train_cuda.py:26"  # optimizer.step()


def test_no_finding_names_the_def_line_where_the_call_is_known(script):
    exact = {"profile-pageable-copy", "profile-host-sync", "profile-unfused-optimizer"}
    assert all(f.source != "train_step() at train_cuda.py:22" for f in script.findings if f.finding.id in exact)


def test_without_the_source_the_functions_def_line_stays(tmp_path):
    # a trace analysed where train_cuda.py is not to be found: the def-line form, nothing fails
    report = analyse(H200 / "script.pt.trace.json.gz", source_roots=[str(tmp_path)])
    sources = {f.source for f in report.findings if f.source}
    assert sources <= {"train_step() at train_cuda.py:22", "train_step() at train_cuda.py:26"}
    assert not any("AdamW" in f.finding.title for f in _by_id(report, "profile-host-sync"))


PLANTED = {
    "profile-dataloader-wait": "next_batch() at planted.py:63",
    "profile-host-stall": "next_batch() at planted.py:62",
    "profile-unfused-optimizer": "step() at planted.py:75",
    "profile-launch-bound": None,
    "profile-pageable-copy": "step() at planted.py:67",
    "profile-fp32-no-tensor-cores": None,
    "profile-host-sync": "step() at planted.py:76",
}


def test_every_planted_problem_is_named_on_the_h200_planted_trace():
    report = analyse(H200 / "planted.pt.trace.json.gz", source_roots=[str(FIXTURES)])
    for rule, source in PLANTED.items():
        hits = _by_id(report, rule)
        assert hits, f"{rule} missing on the H200 planted trace"
        if source:
            assert source in {f.source for f in hits}, (rule, [f.source for f in hits])
    item = [f for f in _by_id(report, "profile-host-sync") if ".item()" in f.finding.title]
    assert [f.source for f in item] == ["step() at planted.py:76"]
    copies = {f.source for f in _by_id(report, "profile-pageable-copy")}
    assert copies == {"step() at planted.py:67", "step() at planted.py:68"}  # x.to(device), y.to(device)


def test_the_fixed_twin_on_the_h200_has_no_findings():
    assert analyse(H200 / "fixed.pt.trace.json.gz", source_roots=[str(FIXTURES)]).findings == ()


# ----------------------------------------------------------------------------- synthetic twins
def _library_sync(real: bool, tmp_path):
    """A GPU trace whose step calls a library (record_function `Optimizer.step#Adam.step` inside the
    user's train_step) that does `.item()`: with a cudaStreamSynchronize under it (real) or none
    (a CPU tensor)."""
    from profile_synth import gpu_trace

    from torchenv.profile.analysis import analyse_traces
    from torchenv.profile.trace import TraceSet, parse_trace

    (tmp_path / "train.py").write_text(
        "def train_step(opt):\n    loss = 1\n    opt.step()\n    return loss\n", encoding="utf-8"
    )
    b = gpu_trace(set())
    for step in [e for e in b.events if e["name"].startswith("ProfilerStep#")]:
        at = step["ts"] + 100
        user = b.frame("train.py(1): train_step", at, 400)
        wrapper = b.frame("torch/optim/optimizer.py(512): wrapper", at + 10, 300, user)
        b.annotation("Optimizer.step#Adam.step", at + 20, 280)
        value = b.frame("torch/optim/optimizer.py(91): _get_value", at + 30, 200, wrapper)
        b.frame("<built-in method item of Tensor object at 0x7f00>", at + 40, 150, value)
        b.op("aten::item", at + 41, 148, types=("float",))
        if real:
            b.runtime("cudaStreamSynchronize", at + 50, 120)
    return analyse_traces(TraceSet("synthetic", (parse_trace(b.doc()),)), source_roots=[str(tmp_path)])


def test_a_real_sync_inside_a_library_call_is_that_calls_not_the_users(tmp_path):
    (found,) = [f for f in _library_sync(True, tmp_path).findings if f.finding.id == "profile-host-sync"]
    assert found.source == "train_step() at train.py:3"  # opt.step(), the call the user made
    assert "inside Adam.step, called from train_step() at train.py:3" in found.finding.title
    assert "loss.detach()" not in found.finding.fix and "library code" in found.finding.fix
    assert found.ms_per_step == pytest.approx(0.12, abs=0.01)  # the synchronize, not the op


def test_an_item_without_a_sync_under_it_on_a_gpu_trace_is_no_finding(tmp_path):
    report = _library_sync(False, tmp_path)
    assert not [f for f in report.findings if f.finding.id == "profile-host-sync"]
    assert any("Adam.step" in n and "not a host↔device sync" in n for n in report.notes)
