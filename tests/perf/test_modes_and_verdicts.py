"""Step-time modes and verdicts (issue 19): a bimodal compiled step is said to be bimodal, and no
rung is called faster or slower when its spread overlaps the rung it is compared with. Pure."""

from __future__ import annotations

import pytest

from torchenv.perf.stats import compare_times, modes, summarize

# The H200's compiled ResNet-50 steps within one process (ms, benchmarks/results/h200-round4/perf_truth).
H200_COMPILED = [25.9, 26.3, 25.8, 25.7, 25.4, 22.7, 22.9, 21.5, 22.4, 22.0, 21.6, 21.8, 25.0, 21.7, 24.8]
H200_EAGER = [32.7, 31.4, 30.2, 30.0, 30.0, 30.8, 30.1, 31.5, 30.1]


def test_the_h200_compiled_resnet_step_is_bimodal_and_the_eager_one_is_not():
    low, high = modes(H200_COMPILED)
    assert 21.5 <= low <= 22.5 and 25.0 <= high <= 26.0
    assert modes(H200_EAGER) == ()


@pytest.mark.parametrize(
    "samples",
    [
        [10.0] * 20,  # constant
        [10.0, 10.1, 10.2, 10.3, 10.4, 10.5, 10.6, 10.7],  # spread, no gap
        [10.0] * 19 + [14.0],  # one outlier is not a mode
        [1.0, 2.0, 3.0],  # too few samples
    ],
)
def test_no_modes_without_a_real_gap(samples):
    assert modes(samples) == ()


def test_verdicts_need_separated_spreads():
    eager = summarize([x / 1000 for x in H200_EAGER])
    assert compare_times(summarize([x / 1000 for x in H200_COMPILED]), eager) == "faster"
    assert compare_times(eager, summarize([x / 1000 for x in H200_COMPILED])) == "slower"
    close = summarize([x / 1000 * 1.01 for x in H200_EAGER])
    assert compare_times(close, eager) == "unclear"
    # interquartile ranges that overlap: no verdict, whatever the medians say
    assert (
        compare_times(summarize([10.1, 10.6, 10.2, 10.6, 10.5, 10.0]), summarize([10.5, 10.6, 10.5, 10.4, 10.6]))
        == "unclear"
    )


def test_the_cli_offers_exactly_the_runtimes_sections_and_names_them_all():
    from torchenv.cli.bench import SECTIONS
    from torchenv.perf._worker.plan_bench import SECTIONS as RUNTIME
    from torchenv.render.perf_progress import SECTION_WORDS

    assert SECTIONS == RUNTIME and set(RUNTIME) <= set(SECTION_WORDS)
