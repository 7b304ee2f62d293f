import math

import pytest

from torchenv.perf.stats import one_time_cost, quantile, rate, relative_difference, summarize, within


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([1.0], 0.5, 1.0), ([1.0, 2.0], 0.5, 1.5), ([1.0, 2.0, 3.0, 4.0], 0.25, 1.75), ([1.0, 2.0, 3.0, 4.0], 1.0, 4.0)],
)
def test_quantile_matches_linear_interpolation(values, q, expected):
    assert quantile(values, q) == pytest.approx(expected)


def test_quantile_rejects_empty_and_bad_q():
    with pytest.raises(ValueError):
        quantile([], 0.5)
    with pytest.raises(ValueError):
        quantile([1.0], 1.5)


def test_summarize_is_robust_to_an_outlier_and_ignores_junk():
    s = summarize([0.010, 0.011, 0.010, 0.0105, 0.5, float("nan"), -1.0, 0.0])
    assert s.n == 5
    assert s.median == pytest.approx(0.0105)
    assert s.maximum == 0.5
    assert s.spread == pytest.approx((s.q3 - s.q1) / s.median)
    assert s.spread < 0.1  # one outlier does not blow up the interquartile spread


def test_summarize_needs_a_sample():
    with pytest.raises(ValueError):
        summarize([float("inf"), None])


@pytest.mark.parametrize(
    ("work", "seconds", "expected", "unit"),
    [
        ({"flop": 2 * 8192**3}, 1.386e-3, 793.3, "TFLOP/s"),
        ({"bytes": 2 * 2**30}, 7.123e-4, 3014.6, "GB/s"),
        ({"items": 128}, 0.1535, 833.9, "images/s"),
    ],
)
def test_rate_units(work, seconds, expected, unit):
    value, got_unit = rate(work, seconds, items_unit="images/s")
    assert got_unit == unit
    assert value == pytest.approx(expected, rel=1e-3)


def test_rate_rejects_nonsense():
    with pytest.raises(ValueError):
        rate({"flop": 1.0}, 0.0)
    with pytest.raises(ValueError):
        rate({"joules": 1.0}, 1.0)


def test_one_time_cost_and_comparisons():
    assert one_time_cost(53.1, 0.025) == pytest.approx(53.075)
    assert one_time_cost(0.01, 0.02) == 0.0
    assert one_time_cost(None, 0.02) is None
    assert relative_difference(103, 100) == pytest.approx(0.03)
    assert within(96, 100, 0.05) and not within(94, 100, 0.05)
    assert math.isclose(relative_difference(90, 100), -0.1)
