"""Hypothesis fuzz of the reader: whatever the bytes or JSON shape, only TraceError escapes."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from torchenv.profile.analysis import analyse_traces
from torchenv.profile.trace import TraceError, TraceSet, parse_trace

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True), st.text(max_size=12)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
keys = st.sampled_from(["ph", "cat", "name", "ts", "dur", "tid", "pid", "args"])
cats = st.sampled_from(
    ["cpu_op", "kernel", "gpu_memcpy", "gpu_memset", "cuda_runtime", "python_function", "user_annotation", "Trace"]
)
event = st.fixed_dictionaries(
    {
        "ph": st.sampled_from(["X", "i", "M", "s", "f", 3]),
        "cat": cats,
        "name": st.one_of(
            st.sampled_from(["ProfilerStep#1", "aten::item", "[memory]", "x.py(3): f", "Optimizer.step#SGD.step"]),
            st.text(max_size=10),
        ),
        "ts": st.one_of(st.floats(allow_nan=True), st.integers(-10, 10**6), st.text(max_size=3)),
        "dur": st.one_of(st.floats(allow_nan=True), st.integers(-10, 10**4)),
    },
    optional={
        "args": st.dictionaries(
            st.sampled_from(
                [
                    "correlation",
                    "Bytes",
                    "Device Type",
                    "stream",
                    "device",
                    "Input type",
                    "Python id",
                    "Python parent id",
                ]
            ),
            values,
            max_size=4,
        ),
        "tid": values,
        "pid": values,
    },
) | st.dictionaries(keys, values, max_size=5)
documents = st.one_of(
    st.fixed_dictionaries(
        {"traceEvents": st.lists(event, max_size=30)}, optional={"deviceProperties": values, "distributedInfo": values}
    ),
    st.lists(event, max_size=10),
    values,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes(data):
    try:
        parse_trace(data)
    except TraceError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_documents_decode_and_analyse_or_fail_with_trace_error(doc):
    try:
        trace = parse_trace(json.dumps(doc, allow_nan=True).encode())
    except TraceError:
        return
    analyse_traces(TraceSet("fuzz", (trace,)))  # a decoded trace always analyses
