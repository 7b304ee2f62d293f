"""Pure parts: the numerics guard, the DataLoader search, the largest-batch prediction."""

from __future__ import annotations

import math

import pytest

from torchenv.perf._worker.batch import memory_limit, predict_max_batch
from torchenv.perf._worker.knobs import loader_id, loader_label
from torchenv.perf._worker.loader_search import LoaderSearch, cpu_busy, grid, restart_saving_s, worker_candidates
from torchenv.perf._worker.numerics import effective_tolerance, loss_delta, reproducible, verdict

from .fakes import capture_loader_rate


def test_loss_delta_and_verdict():
    assert loss_delta([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert loss_delta([1.1, 2.0], [1.0, 2.0]) == pytest.approx(0.1)
    assert loss_delta([float("nan")], [1.0]) == math.inf
    assert loss_delta(None, [1.0]) is None and loss_delta([1.0], []) is None
    assert verdict(0.01, 0.05) == "ok" and verdict(0.06, 0.05) == "beyond"
    assert verdict(math.inf, 0.05) == "beyond" and verdict(None, 0.05) == "unchecked"
    assert effective_tolerance(0.05, 0.001) == 0.05 and effective_tolerance(0.05, 0.1) == pytest.approx(0.3)
    assert effective_tolerance(0.05, None) == 0.05
    assert reproducible([1.0, 2.0], [1.0, 2.0]) is True and reproducible([1.0], [1.0000001]) is False
    assert reproducible(None, [1.0]) is None


def test_worker_candidates():
    assert worker_candidates(2) == [0, 1, 2, 3, 4]
    assert worker_candidates(16) == [0, 1, 2, 4, 8, 12, 15, 16]
    assert worker_candidates(32)[-3:] == [27, 31, 32] or 31 in worker_candidates(32)
    assert max(worker_candidates(64)) == 64


def test_grid_covers_every_combination():
    assert len(grid(2, cuda=False)) == 1 + 4 * 2 * 2
    assert len(grid(16, cuda=True)) == 2 + 7 * 2 * 2 * 2
    assert len({loader_id(c) for c in grid(16, cuda=True)}) == len(grid(16, cuda=True))


def _measure(cores, calls):
    def measure(config):
        calls.append(config)
        busy = min(1.0, (config["num_workers"] + 1) / cores)
        return {
            "status": "ok",
            "items_per_s": capture_loader_rate(config, cores),
            "cpu_busy": busy,
            "startup_s": [0.5, 0.01],
        }

    return measure


@pytest.mark.parametrize("cores,cuda", [(16, True), (2, False), (8, True), (32, False)])
def test_loader_search_within_5_percent_of_the_grid_in_under_half_the_trials(cores, cuda):
    calls = []
    result = LoaderSearch(_measure(cores, calls), cores, cuda).run()
    full = grid(cores, cuda)
    best = max(capture_loader_rate(c, cores) for c in full)
    chosen = capture_loader_rate(result["best"]["config"], cores)
    assert chosen >= 0.95 * best
    assert len(calls) <= len(full) / 2


def test_the_capture_shape_is_not_fooled_by_two_workers_being_slower_than_none():
    calls = []
    result = LoaderSearch(_measure(16, calls), 16, True).run()
    assert result["best"]["config"]["num_workers"] >= 12
    assert result["four_workers"] is not None


def test_past_the_core_count_only_with_headroom():
    calls = []
    LoaderSearch(_measure(2, calls), 2, False).run()
    assert max(c["num_workers"] for c in calls) == 2  # the cores were saturated at 2 workers

    def io_bound(config):
        calls.append(config)
        return {"status": "ok", "items_per_s": 100.0 * (config["num_workers"] + 1), "cpu_busy": 0.2}

    calls.clear()
    result = LoaderSearch(io_bound, 2, False).run()
    assert result["best"]["config"]["num_workers"] == 4


def test_close_calls_are_measured_again():
    # nw0 600, nw1 350, nw2 530 (within 12 % of nw0): nw2 again 690, nw0 again 580
    rates = iter([600.0, 350.0, 530.0, 690.0, 580.0, 600.0])

    def measure(config):
        return {"status": "ok", "items_per_s": next(rates, 500.0), "cpu_busy": 1.0}

    result = LoaderSearch(measure, 2, False).run()
    assert [t["stage"] for t in result["trials"]].count("confirm") == 2
    # the means decide: nw2 (530 + 690) / 2 = 610 > nw0 (600 + 580) / 2 = 590
    assert result["best"]["config"]["num_workers"] == 2
    assert result["best"]["repeats"] == [530.0, 690.0] or result["best"]["stage"] == "prefetch_factor"


def test_loader_budget_stops_the_search():
    clock = [0.0]

    def measure(config):
        clock[0] += 10.0
        return {"status": "ok", "items_per_s": 100.0, "cpu_busy": 0.5}

    result = LoaderSearch(measure, 16, True, clock=lambda: clock[0], budget_s=25.0).run()
    assert len(result["trials"]) <= 3


def test_cpu_busy_and_restart_saving():
    before = "cpu  100 0 100 800 0 0 0 0 0 0"
    after = "cpu  200 0 200 900 0 0 0 0 0 0"
    assert cpu_busy(before, after) == pytest.approx(200 / 300)
    assert cpu_busy("garbage", after) is None
    trial = {"config": {"persistent_workers": True}, "startup_s": [0.8, 0.05]}
    assert restart_saving_s(trial) == pytest.approx(0.75)
    assert restart_saving_s({"config": {}, "startup_s": [0.8, 0.7]}) is None
    assert loader_label({"num_workers": 8, "pin_memory": True, "prefetch_factor": 4, "persistent_workers": True}) == (
        "num_workers=8, pin_memory, prefetch_factor=4, persistent_workers"
    )


def test_predict_max_batch():
    gib = 1 << 30
    points = [(128, 20 * gib), (256, 36 * gib)]  # 4 GiB fixed, 0.125 GiB per sample
    limit = memory_limit(80 * gib, 0.1)
    batch = predict_max_batch(points, limit)
    assert batch % 8 == 0 and 4 * gib + batch * gib / 8 <= limit < 4 * gib + (batch + 8) * gib / 8
    assert predict_max_batch([(128, 1.0)], limit) is None
    assert predict_max_batch([(128, 2.0), (256, 1.0)], limit) is None
    with pytest.raises(ValueError):
        memory_limit(100, 1.5)


def test_a_close_toggle_must_win_twice():
    # 16 cores, GPU: the ladder settles on nw16 (pin on); pin off measures 5 % faster once, then
    # the re-measurements reverse it: pin stays on.
    def measure(config):
        base = capture_loader_rate(config, 16)
        if not config["pin_memory"]:
            base *= 1.06 if not seen.get(loader_id(config)) else 0.96
            seen[loader_id(config)] = True
        return {"status": "ok", "items_per_s": base, "cpu_busy": 0.9}

    seen = {}
    result = LoaderSearch(measure, 16, True).run()
    assert result["best"]["config"]["pin_memory"] is True
    stages = [t["stage"] for t in result["trials"]]
    assert stages[stages.index("pin_memory") + 1 : stages.index("pin_memory") + 3] == ["confirm", "confirm"]


@pytest.mark.parametrize("cores,cuda", [(16, True), (2, False)])
def test_noise_of_a_busy_machine_rarely_costs_more_than_5_percent(cores, cuda):
    """±8 % uniform noise per measurement (what 2 s epochs showed on the 16-core host): over 200
    seeded runs the choice is within 5 % of the true best in at least 90 % of them, never below 85 %."""
    import random

    full = grid(cores, cuda)
    best = max(capture_loader_rate(c, cores) for c in full)
    ratios, trials = [], []
    for seed in range(200):
        rng = random.Random(seed)

        def measure(config, rng=rng):
            noisy = capture_loader_rate(config, cores) * rng.uniform(0.92, 1.08)
            return {"status": "ok", "items_per_s": noisy, "cpu_busy": min(1.0, (config["num_workers"] + 1) / cores)}

        result = LoaderSearch(measure, cores, cuda).run()
        ratios.append(capture_loader_rate(result["best"]["config"], cores) / best)
        trials.append(len(result["trials"]))
    assert sum(r >= 0.95 for r in ratios) >= 0.9 * len(ratios)
    assert min(ratios) >= 0.85
    assert max(trials) <= len(full) / 2


def test_loader_rate_counts_the_window_after_the_ramp_and_charges_the_ramp_once_per_real_epoch():
    from torchenv.perf._worker.loader_search import loader_rate

    # two 2-s windows, first batch after 0.5 s then 0.25 s: 1500 + 1750 items in 1.5 + 1.75 s
    epochs = [
        {"startup_s": 0.5, "window_s": 2.0, "steady_items": 1500},
        {"startup_s": 0.25, "window_s": 2.0, "steady_items": 1750},
    ]
    effective, steady = loader_rate(epochs)
    assert steady == pytest.approx(1000.0) and effective == steady
    effective, steady = loader_rate(epochs, epoch_items=10_000)  # a 10 s epoch pays 0.25 s once
    assert effective == pytest.approx(10_000 / 10.25)
    assert loader_rate(epochs, epoch_items=1 << 20)[0] == pytest.approx(1000.0, rel=1e-3)
    # a batch slower than the window: nothing arrived inside it, the caller keeps the raw rate
    assert loader_rate([{"startup_s": 3.0, "window_s": 2.0, "steady_items": 0}]) == (None, None)
    assert loader_rate([{"startup_s": None, "window_s": 2.0, "steady_items": 0}]) == (None, None)
