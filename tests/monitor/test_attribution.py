"""Which GPU processes are the job's: by PID on a host, by CUDA context across PID namespaces."""

from __future__ import annotations

import pytest

from torchenv.monitor.attribution import attribute

TREE = frozenset({100, 101, 102})

# (case, listed per GPU, visible here, job processes holding each GPU, baseline, own, mode)
CASES = [
    ("host: PIDs match", {0: [100, 555]}, frozenset({100, 555}), {}, frozenset(), {(0, 100)}, "pid"),
    (
        "host: a worker on another GPU",
        {0: [100], 1: [102]},
        frozenset({100, 102}),
        {},
        frozenset(),
        {(0, 100), (1, 102)},
        "pid",
    ),
    ("no context yet", {0: [555]}, frozenset({555}), {}, frozenset({(0, 555)}), set(), "none"),
    (
        "container: a new host PID on the GPU the job holds",
        {0: [3100421]},
        frozenset(),
        {0: 1},
        frozenset(),
        {(0, 3100421)},
        "context",
    ),
    (
        "container: the neighbour from before the start is not ours",
        {0: [2900001, 3100421]},
        frozenset(),
        {0: 1},
        frozenset({(0, 2900001)}),
        {(0, 3100421)},
        "context",
    ),
    (
        "container: a GPU the job does not hold is not ours",
        {0: [3100421], 1: [3100999]},
        frozenset(),
        {0: 1},
        frozenset(),
        {(0, 3100421)},
        "context",
    ),
    (
        "container: two new processes, one of ours holds the GPU",
        {0: [3100421, 3100500]},
        frozenset(),
        {0: 1},
        frozenset(),
        set(),
        "ambiguous",
    ),
    (
        "container: two new processes, two of ours hold it",
        {0: [3100421, 3100500]},
        frozenset(),
        {0: 2},
        frozenset(),
        {(0, 3100421), (0, 3100500)},
        "context",
    ),
    (
        "a process visible here but outside the tree is someone else's",
        {0: [777]},
        frozenset({777}),
        {0: 1},
        frozenset(),
        set(),
        "none",
    ),
    (
        "attached (no baseline): every new unseen process on the held GPU",
        {0: [3100421]},
        frozenset(),
        {0: 1},
        None,
        {(0, 3100421)},
        "context",
    ),
]


@pytest.mark.parametrize(
    ("case", "listed", "visible", "held", "baseline", "own", "mode"), CASES, ids=[c[0] for c in CASES]
)
def test_attribution(case, listed, visible, held, baseline, own, mode):
    result = attribute(listed, TREE, visible=visible, held=held, baseline=baseline)
    assert result.own == frozenset(own)
    assert result.mode == mode
    if mode in ("context", "ambiguous"):
        assert "PID namespace" in (result.note or "")
    if mode == "ambiguous":
        assert result.ambiguous_gpus == frozenset({0})
