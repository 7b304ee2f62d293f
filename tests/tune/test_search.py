"""The step search on fake measurements: order, skips, numerics guard, budget, break-even."""

from __future__ import annotations

from torchenv.perf._worker.knobs import BASE, config_id, label
from torchenv.perf._worker.search import Search, break_even_steps, median, plan_stages, spread

from .fakes import CPU_CAPS, GPU_CAPS, FakeClock, FakeMeasure


def run(caps=GPU_CAPS, budget=300.0, **kwargs):
    clock = FakeClock()
    fake_kwargs = {k: kwargs.pop(k) for k in ("step_s", "loss_shift", "fail", "one_time", "trial_s") if k in kwargs}
    measure = FakeMeasure(clock, **fake_kwargs)
    emitted = []
    search = Search(caps, measure, clock, budget_s=budget, items=128, on_trial=emitted.append, **kwargs)
    return search.run(), measure, emitted


def test_stage_order_follows_the_interactions():
    names = [s.name for s in plan_stages(GPU_CAPS)]
    assert names == ["tf32", "amp", "channels_last", "benchmark", "optimizer", "compile", "determinism"]
    # channels_last after AMP, cudnn.benchmark after dtype and layout, compile after every eager knob, and the
    # determinism offer after everything (on the H200 a deterministic trial slowed every later compiled step)
    assert names.index("channels_last") > names.index("amp")
    assert names.index("benchmark") > names.index("channels_last")
    assert names[-1] == "determinism"


def test_knobs_that_cannot_apply_are_skipped_with_a_reason():
    stages = {s.name: s for s in plan_stages(dict(CPU_CAPS, has_conv=False, bf16=False))}
    assert "CPU" in stages["tf32"].skip_reason
    assert "bf16" in stages["amp"].skip_reason
    assert "convolutions" in stages["channels_last"].skip_reason
    assert "CUDA" in stages["benchmark"].skip_reason
    assert [c for c in stages["compile"].candidates] == [{"compile": "default"}]  # no max-autotune on CPU


def test_cudnn_benchmark_is_skipped_where_one_process_cannot_measure_its_search():
    stages = {s.name: s for s in plan_stages(dict(GPU_CAPS, cudnn_search_measurable=False))}
    assert not stages["benchmark"].candidates and "plan cache" in stages["benchmark"].skip_reason


def test_fp16_with_grad_scaler_where_bf16_is_unsupported():
    stages = {s.name: s for s in plan_stages(dict(GPU_CAPS, bf16=False, tf32=False))}
    assert stages["amp"].candidates == [{"amp": "fp16"}]
    assert "8.0" in stages["tf32"].skip_reason


def test_plain_step_only_tries_global_settings():
    stages = {s.name: s for s in plan_stages(dict(GPU_CAPS, plain_step=True, bf16=False))}
    assert stages["channels_last"].skip_reason and stages["optimizer"].skip_reason and stages["compile"].skip_reason
    assert "GradScaler" in stages["amp"].skip_reason


def test_foreach_is_not_tried_where_it_is_already_the_default():
    stages = {s.name: s for s in plan_stages(GPU_CAPS)}
    assert stages["optimizer"].candidates == [{"optimizer": "fused"}]
    stages = {s.name: s for s in plan_stages(CPU_CAPS)}
    assert stages["optimizer"].candidates == [{"optimizer": "fused"}, {"optimizer": "foreach"}]


def test_h100_like_search_reaches_the_expert_ladder_without_a_grid():
    result, measure, _ = run(budget=600.0, skip=("max-autotune",))
    best = result["best"]["config"]
    assert best["tf32"] and best["amp"] == "bf16" and best["channels_last"] and best["compile"] == "default"
    assert not best["deterministic"]
    # the benchmark knob changed nothing beyond the noise: not adopted
    assert not best["benchmark"]
    # one trial per candidate, far fewer than the 2*2*2*2*2*3 grid
    assert len(measure.calls) <= 9
    assert result["best"]["throughput"] / result["reference"]["throughput"] > 5.5


def test_a_knob_beyond_the_numerics_tolerance_is_never_adopted():
    result, _, _ = run(loss_shift=lambda c: 0.2 if c.get("amp") else 0.0, skip=("compile",))
    amp = next(t for t in result["trials"] if t["stage"] == "amp")
    assert amp["decision"] == "rejected-numerics" and amp["numerics"] == "beyond"
    assert "0.2" in amp["reason"]
    assert result["best"]["config"]["amp"] is None
    # channels_last is still measured without AMP
    assert any(t["stage"] == "channels_last" and t["status"] == "ok" for t in result["trials"])


def test_non_finite_losses_are_beyond():
    result, _, _ = run(loss_shift=lambda c: float("nan") if c.get("amp") else 0.0, skip=("compile",))
    amp = next(t for t in result["trials"] if t["stage"] == "amp")
    assert amp["numerics"] == "beyond"


def test_noise_floor_raises_the_tolerance():
    clock = FakeClock()
    measure = FakeMeasure(clock)
    original = measure.__call__

    def noisy(config, purpose):
        out = original(config, purpose)
        if purpose == "reference":
            out["losses_perturbed"] = [x * 1.1 for x in out["losses"]]
        return out

    result = Search(GPU_CAPS, noisy, clock, budget_s=300, items=128, tolerance=0.05, skip=("compile",)).run()
    assert abs(result["noise_floor"] - 0.1) < 1e-9
    assert abs(result["tolerance_applied"] - 0.3) < 1e-9


def test_no_gain_below_the_threshold():
    result, _, _ = run(skip=("compile",))
    bench = next(t for t in result["trials"] if t["stage"] == "benchmark")
    assert bench["decision"] == "no-gain" and "needs" in bench["reason"]


def test_budget_skips_what_it_cannot_afford():
    result, measure, _ = run(budget=60.0)
    compile_trials = [t for t in result["trials"] if t["stage"] == "compile"]
    assert compile_trials and all(t["decision"] == "skipped" and "budget" in t["reason"] for t in compile_trials)
    assert not any(c.get("compile") for c, _ in measure.calls)


def test_max_autotune_estimated_from_the_measured_default_compile():
    # default compile 50 s -> max-autotune estimated at 4 x 50 s: what is left of 250 s cannot afford it
    result, _, _ = run(budget=250.0)
    mat = next(t for t in result["trials"] if t["change"].get("compile") == "max-autotune")
    assert mat["decision"] == "skipped" and "budget" in mat["reason"]
    result, _, _ = run(budget=600.0)
    mat = next(t for t in result["trials"] if t["change"].get("compile") == "max-autotune")
    assert mat["status"] == "ok" and mat["decision"] == "adopted"


def test_compile_break_even_and_expected_steps():
    result, _, _ = run(budget=300.0, expected_steps=100, skip=("max-autotune",))
    comp = next(t for t in result["trials"] if t["stage"] == "compile")
    assert comp["break_even_steps"] > 100
    assert comp["decision"] == "not-worth"
    assert not result["best"]["config"]["compile"]
    result, _, _ = run(budget=300.0, expected_steps=100000, skip=("max-autotune",))
    assert result["best"]["config"]["compile"] == "default"


def test_determinism_is_offered_with_its_cost_never_adopted():
    result, _, _ = run(skip=("compile",))
    det = next(t for t in result["trials"] if t["stage"] == "determinism")
    assert det["decision"] == "offered" and det["gain"] < 0 and det["reproducible"] is True
    assert det["config"]["benchmark"] is False and det["config"]["compile"] is None
    assert not result["best"]["config"]["deterministic"]


def test_determinism_is_measured_after_compile_on_the_best_eager_configuration():
    result, _, _ = run(budget=300.0, expected_steps=100000, skip=("max-autotune",))
    assert result["best"]["config"]["compile"] == "default"
    measured = [t for t in result["trials"] if t["status"] == "ok"]
    stages = [t["stage"] for t in measured]
    assert stages.index("determinism") > stages.index("compile")
    det = measured[stages.index("determinism")]
    eager = dict(result["best"]["config"], compile=None)
    assert det["config"] == dict(eager, deterministic=True, benchmark=False)
    best_eager = next(t for t in measured if t["config"] == eager)
    assert det["gain"] == det["throughput"] / best_eager["throughput"] - 1.0  # its cost against eager, not compiled


def test_a_failed_candidate_is_reported_and_the_search_goes_on():
    result, _, _ = run(fail=lambda c: "out of memory" if c.get("channels_last") else None, skip=("compile",))
    cl = next(t for t in result["trials"] if t["stage"] == "channels_last")
    assert cl["decision"] == "failed" and cl["reason"] == "out of memory"
    assert result["best"]["config"]["amp"] == "bf16"


def test_reference_failure_stops_with_an_error():
    result, _, _ = run(fail=lambda c: "RuntimeError: boom" if c == BASE else None)
    assert result["error"] and "boom" in result["error"]
    assert result["best"]["id"] == "t0"


def test_every_trial_is_emitted_when_measured_and_again_with_its_final_decision():
    result, _, emitted = run(budget=600.0)
    first = [t for t in emitted if not t.get("update")]
    assert sorted(t["id"] for t in first) == sorted(t["id"] for t in result["trials"])
    assert all(t["decision"] for t in emitted)
    updates = [t for t in emitted if t.get("update")]
    assert updates and all(t["decision"] in ("adopted", "outpaced") for t in updates)


def test_the_best_so_far_is_reported_after_every_faster_trial():
    clock = FakeClock()
    bests = []
    Search(GPU_CAPS, FakeMeasure(clock), clock, budget_s=600, items=128, on_best=bests.append).run()
    assert bests[0]["id"] == "t0"
    assert [b["throughput"] for b in bests] == sorted(b["throughput"] for b in bests)


def test_helpers():
    assert median([3, 1, 2]) == 2 and median([1, 2, 3, 4]) == 2.5 and median([]) is None
    assert spread([1.0, 1.0, 1.0]) == 0.0
    assert break_even_steps(50.0, 0.04, 0.02) == 2500
    assert break_even_steps(50.0, 0.02, 0.03) is None
    assert label(BASE) == "FP32 (reference)" and config_id(BASE) == "fp32"
    assert (
        label(dict(BASE, tf32=True, amp="bf16", compile="max-autotune"))
        == "TF32 + AMP bf16 + torch.compile max-autotune"
    )
    assert config_id(dict(BASE, channels_last=True, optimizer="fused")) == "cl.opt-fused"
