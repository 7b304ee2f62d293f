"""cudnn.benchmark measured in a fresh process: which conv cases and ladder rungs each phase
measures (the worker's pure helpers), when the parent starts the second process, and how the two
record streams become one report. No torch, no GPU: recorded H100-shaped records."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from perf.gpu_records import h100_records
from perf.test_report import FakeRunner, build
from torchenv.perf.run import SEARCH_PREFIX, WORKER_SCRIPT, WorkerRun, merge_search, run_suite, search_sections
from torchenv.render.bench_format import SECTION_ORDER as SECTIONS_SHOWN


def _worker_helpers() -> dict:
    code = f"""
import json, sys
sys.path.insert(0, {str(WORKER_SCRIPT.parent)!r})
import main
main.load_runtime()  # the runtime as the target interpreter loads it: no torchenv on the path
import torchenv_perf_worker.micro as micro
import torchenv_perf_worker.plan_bench as w
rungs = {{}}
for phase in w.PHASES:
    state, measured = {{}}, []
    for change in w.LADDER:
        before = dict(state)
        state.update(change)
        if w.measured_in_phase(state, phase):
            measured.append(w.rung_label(change))
        if any(k in w.BRANCH_KNOBS for k in change):
            state = before
    rungs[phase] = measured
print(json.dumps({{
    "conv": {{p: micro.conv_flags(True, "full", p) for p in w.PHASES}},
    "conv_quick": micro.conv_flags(True, "quick", "both"),
    "conv_cpu": micro.conv_flags(False, "full", "heuristics"),
    "rungs": rungs,
    "run_order": w.run_order(list(w.SECTIONS)),
    "run_order_search": w.run_order(["conv", "ladder-resnet50"]),
}}))
"""
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_each_phase_measures_its_half_and_both_measure_everything():
    helpers = _worker_helpers()
    conv = helpers["conv"]
    assert all(not bench for bench, _ in conv["heuristics"]) and all(bench for bench, _ in conv["search"])
    assert sorted(conv["heuristics"] + conv["search"]) == sorted(conv["both"]) and len(conv["both"]) == 4
    assert helpers["conv_quick"] == [[False, False]] and helpers["conv_cpu"] == [[False, False]]
    rungs = helpers["rungs"]
    assert rungs["search"] == ["+cudnn.benchmark"]  # a branch: torch.compile does not build on it
    assert sorted(rungs["heuristics"] + rungs["search"]) == sorted(rungs["both"]) and len(rungs["both"]) == 6


def test_the_deterministic_conv_test_is_measured_after_every_other_section():
    helpers = _worker_helpers()
    order = helpers["run_order"]
    assert order[-1] == "conv" and sorted(order) == sorted(SECTIONS_SHOWN)
    assert order.index("ladder-resnet50") < order.index("conv") and order.index("ladder-gpt") < order.index("conv")
    assert helpers["run_order_search"] == ["ladder-resnet50", "conv"]


def test_the_report_shows_sections_in_their_order_whatever_order_they_ran_in():
    from torchenv.render.bench_format import sections

    report = build(h100_records())
    shown = [s for s, _ in sections(report)]
    assert len(shown) >= 3 and shown == sorted(shown, key=SECTIONS_SHOWN.index)
    first = shown[0]
    moved = replace(
        report,
        measurements=tuple(m for m in report.measurements if m.section != first)
        + tuple(m for m in report.measurements if m.section == first),
    )
    assert [s for s, _ in sections(moved)] == shown


def _split(records):
    """H100 records as the two processes would send them."""
    first, second = [], []
    for record in records:
        searched = record.get("event") == "result" and (
            (record.get("section") == "conv" and (record.get("params") or {}).get("benchmark"))
            or record.get("id") == "ladder-resnet50.cudnn-benchmark"
        )
        (second if searched else first).append(record)
    env = next(r for r in records if r.get("event") == "env")
    second = [env, {"event": "end", "section": "import", "seconds": 3.0}, *second, {"event": "done"}]
    return first, second


def test_merged_streams_report_like_one_process():
    records = h100_records()
    first, second = _split(records)
    merged = merge_search(WorkerRun(tuple(first), 40.0, None, ""), WorkerRun(tuple(second), 30.0, None, ""))
    assert merged.seconds == 70.0 and merged.records[-1]["event"] == "done" and merged.typed[-1].event == "done"
    one = build(records)
    two = build(merged.typed)
    assert build(list(merged.records)) == two  # the merged wire dicts are the typed records' encoding
    relations = {m.id: (m.value, m.speedup, m.step_gain) for m in one.measurements}
    assert {m.id: (m.value, m.speedup, m.step_gain) for m in two.measurements} == relations
    ladder = [m.id.split(".", 1)[1] for m in two.measurements if m.section == "ladder-resnet50"]
    bench = next(r for r in second if r.get("id") == "ladder-resnet50.cudnn-benchmark")
    assert ladder.index("cudnn-benchmark") == ladder.index(bench["previous"].split(".", 1)[1]) + 1
    assert two.section_s[SEARCH_PREFIX + "import"] == 3.0 and two.status == "ok"


def test_a_failed_search_process_is_an_error_of_the_suite_not_a_lost_report():
    first, second = _split(h100_records())
    crashed = WorkerRun(tuple(second[:3]), 9.0, "the worker was killed by signal SIGSEGV", "")
    merged = merge_search(WorkerRun(tuple(first), 40.0, None, ""), crashed)
    report = build(merged.typed)
    assert report.status == "partial" and "SIGSEGV" in (
        report.error or ""
    )  # one status rule: a section lost is partial
    assert any(m.id == "ladder-resnet50.channels_last" for m in report.measurements)


def test_the_search_process_runs_only_for_a_finished_full_cuda_run():
    records = h100_records()
    assert search_sections(records, None, quick=False) == ["conv", "ladder-resnet50"]
    assert search_sections(records, ["matmul", "conv"], quick=False) == ["conv"]
    assert search_sections(records, ["matmul"], quick=False) == []
    assert search_sections(records, None, quick=True) == []
    unfinished = [r for r in records if r.get("event") != "done"]
    assert search_sections(unfinished, None, quick=False) == []
    cpu = [dict(r, data=dict(r["data"], device="cpu")) if r.get("event") == "env" else r for r in records]
    assert search_sections(cpu, None, quick=False) == []


class _Scripted:
    """One FakeRunner per worker start, recording each argv."""

    def __init__(self, *outputs):
        self.runners = [FakeRunner(text) for text in outputs]
        self.argvs = []

    def run(self, argv, timeout, **kw):
        self.argvs.append((list(argv), timeout))
        return self.runners[len(self.argvs) - 1].run(argv, timeout, **kw)


def _text(records):
    from torchenv.perf.run import MARK

    return "".join(MARK + json.dumps(r) + "\n" for r in records)


def test_run_suite_starts_the_search_process_early_and_holds_its_records_back():
    first, second = _split(h100_records())
    runner = _Scripted(_text(first), _text(second))
    seen = []
    run = run_suite(
        runner, "py", quick=False, device="auto", sections=None, compile=True, timeout=100.0, on_record=seen.append
    )
    (argv1, timeout1), (argv2, timeout2) = runner.argvs
    assert argv1[-2:] == ["--phase", "heuristics"] and timeout1 == timeout2 == 100.0
    assert argv2[argv2.index("--sections") + 1] == "conv,ladder-resnet50"
    assert argv2[argv2.index("--phase") + 1] == "search" and "--wait-for" in argv2
    # every record of the first process reaches the caller before any of the second's
    assert [r.event for r in seen].index("done") == len(first) - 1 and len(seen) == len(first) + len(second)
    report = build(run.typed, wall_s=run.seconds)
    assert len(report.measurements) == len(build(h100_records()).measurements) and report.status == "ok"

    quick = _Scripted(_text(first))
    run_suite(quick, "py", quick=True, device="auto", sections=None, compile=True, timeout=100.0)
    assert len(quick.argvs) == 1 and "--phase" not in quick.argvs[0][0]
    cpu_env = [dict(r, data=dict(r["data"], device="cpu")) if r.get("event") == "env" else r for r in first]
    cpu = _Scripted(_text(cpu_env))
    run_suite(cpu, "py", quick=False, device="auto", sections=None, compile=True, timeout=100.0)
    assert len(cpu.argvs) == 1  # no second process on the CPU path


@pytest.mark.torch
@pytest.mark.slow
@pytest.mark.parametrize("word", ["stop", "go"])
def test_the_early_worker_waits_for_the_word(tmp_path, word):
    """The real worker (CPU torch): after its import it waits; "stop" ends it, "go" runs it."""
    pytest.importorskip("torch")
    path = tmp_path / "word"
    argv = [sys.executable, str(WORKER_SCRIPT), "bench", "--device", "cpu", "--quick", "--sections", "memory"]
    proc = subprocess.Popen([*argv, "--wait-for", str(path), "--wait-timeout", "60"], stdout=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if '"section": "wait"' in line:
            path.write_text(word)
    proc.wait(timeout=60)
    events = [json.loads(line.split(" ", 1)[1]) for line in lines if line.startswith("@@")]
    waited = next(r for r in events if r["event"] == "end" and r["section"] == "wait")
    assert proc.returncode == 0 and waited["word"] == word
    ran = [r["id"] for r in events if r["event"] == "result"]
    assert ran == (["memory.copy"] if word == "go" else [])


def test_conv_rows_return_to_their_off_on_order():
    def conv(kind, bench, det):
        params = {"kind": kind, "benchmark": bench, "deterministic": det}
        id = f"conv.{kind}.bench{bench:d}.det{det:d}"
        return {"event": "result", "section": "conv", "id": id, "label": id, "status": "ok", "params": params}

    first = [conv(k, False, d) for d in (False, True) for k in ("fwd", "fwd+bwd")]
    first += [{"event": "result", "section": "amp", "id": "amp.x", "label": "x", "status": "ok"}, {"event": "done"}]
    second = [conv(k, True, d) for d in (False, True) for k in ("fwd", "fwd+bwd")] + [{"event": "done"}]
    merged = merge_search(WorkerRun(tuple(first), 1.0, None, ""), WorkerRun(tuple(second), 1.0, None, ""))
    assert [r.id for r in merged.typed if r.event == "result"] == [
        "conv.fwd.bench0.det0",
        "conv.fwd+bwd.bench0.det0",
        "conv.fwd.bench1.det0",
        "conv.fwd+bwd.bench1.det0",
        "conv.fwd.bench0.det1",
        "conv.fwd+bwd.bench0.det1",
        "conv.fwd.bench1.det1",
        "conv.fwd+bwd.bench1.det1",
        "amp.x",
    ]


def test_a_branch_rung_says_so_in_both_views():
    from io import StringIO

    from rich.console import Console

    from torchenv.render.html_bench import render_html
    from torchenv.render.terminal_bench import render_bench_terminal

    words = "compared with the rung above, not carried on"
    records = [
        dict(r, params=dict(r.get("params") or {}, branch=words))
        if r.get("id") == "ladder-resnet50.cudnn-benchmark"
        else r
        for r in h100_records()
    ]
    report = build(records)
    out = StringIO()
    render_bench_terminal(report, Console(file=out, width=250, highlight=False))
    row = next(line for line in out.getvalue().splitlines() if "+cudnn-benchmark" in line)
    assert words in row
    assert words in render_html(report)
    assert words not in next(line for line in out.getvalue().splitlines() if "+tf32" in line)


@pytest.mark.torch
def test_the_workers_sgd_steps_exactly_like_torch_optim_sgd():
    pytest.importorskip("torch")
    code = f"""
import sys, torch
sys.path.insert(0, {str(WORKER_SCRIPT.parent)!r})
import main
main.load_runtime()
import torchenv_perf_worker.step as w
torch.manual_seed(0)
a = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
b = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
b.load_state_dict(a.state_dict())
ours, theirs = w.ForeachSGD(torch, a.parameters(), lr=0.1), torch.optim.SGD(b.parameters(), lr=0.1, momentum=0.9)
x, y = torch.randn(32, 8), torch.randint(0, 3, (32,))
for _ in range(4):
    for model, opt in ((a, ours), (b, theirs)):
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
print(max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters())))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(out.stdout.split()[-1]) < 1e-6


def test_the_search_process_starts_only_after_the_micro_benchmarks():
    first, second = _split(h100_records())
    runner = _Scripted(_text(first), _text(second))
    began: list[str] = []

    def watch(record):
        if record.event == "result" and len(runner.argvs) == 1:
            began.append(record.section)  # sections the first process measured while alone

    run_suite(runner, "py", quick=False, device="auto", sections=None, compile=True, timeout=100.0, on_record=watch)
    assert len(runner.argvs) == 2
    assert {"matmul", "memory", "transfer"} <= set(began)
