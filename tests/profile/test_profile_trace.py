"""The trace reader on the committed CPU captures and on bad input: one-line TraceError, never
anything else."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from torchenv.profile.trace import TraceError, parse_trace, read_bytes, read_trace

FIXTURES = Path(__file__).parent.parent / "fixtures" / "profile"


def test_reads_a_gzip_capture_into_typed_records():
    traces = read_trace(FIXTURES / "planted_cpu.pt.trace.json.gz")
    (trace,) = traces.traces
    assert trace.rank == 0 and trace.world_size == 1
    assert [s.number for s in trace.steps] == [1, 2]
    assert any(o.name == "aten::item" for o in trace.cpu_ops)
    assert any(a.name.startswith("enumerate(DataLoader)#") for a in trace.annotations)
    assert any(a.name == "Optimizer.step#SGD.step" for a in trace.annotations)
    frame = next(f for f in trace.python if f.function == "next_batch")
    assert (frame.file, frame.line) == ("planted.py", 61)
    assert trace.memory and trace.memory[0].device_type == 0
    assert not trace.has_gpu


def test_a_trace_without_a_rank_field_is_not_an_error():
    (trace,) = read_trace(FIXTURES / "planted_norank.pt.trace.json.gz").traces
    assert trace.rank is None and trace.steps


def test_a_folder_of_per_rank_traces():
    traces = read_trace(FIXTURES / "two_ranks")
    assert [t.rank for t in traces.traces] == [0, 1]
    assert all(t.world_size == 2 for t in traces.traces)


def test_ranks_from_file_names_and_file_order(tmp_path):
    doc = {"traceEvents": [{"ph": "X", "cat": "cpu_op", "name": "aten::mm", "ts": 1, "dur": 2, "tid": 1}]}
    (tmp_path / "host_rank3.json").write_text(json.dumps(doc))
    (tmp_path / "host_rank1.json").write_text(json.dumps(doc))
    (tmp_path / "notes.txt").write_text("ignored")
    assert [t.rank for t in read_trace(tmp_path).traces] == [1, 3]
    other = tmp_path / "plain"
    other.mkdir()
    (other / "a.json").write_text(json.dumps(doc))
    (other / "b.json").write_text(json.dumps(doc))
    traces = read_trace(other)
    assert [t.rank for t in traces.traces] == [0, 1]
    assert any("numbered in file order" in n for n in traces.notes)


def test_the_bare_event_array_form():
    trace = parse_trace(b'[{"ph": "X", "cat": "kernel", "name": "k", "ts": 1, "dur": 2, "pid": 0, "tid": 7}]')
    assert trace.gpu[0].stream == 7 and trace.gpu[0].device == 0


def _one_line(exc: TraceError) -> str:
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text
    return text


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty file"),
        (b"   \n", "empty file"),
        (b"\x00\xff\xfe garbage", "not UTF-8"),
        (b"hello world", "not JSON"),
        (b'{"traceEvents": [{"ph": "X", "cat": "cpu_op"', "truncated JSON"),
        (b'{"schemaVersion": 1}', "no traceEvents"),
        (b'"a string"', "not an object"),
        (b'{"traceEvents": "nope"}', "no traceEvents"),
        (b'{"traceEvents": [1, 2, "x"]}', "no profiler events"),
        (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
        (b'{"traceEvents": [], "x": 1' + b"9" * 5000 + b"}", "not JSON"),
    ],
)
def test_bad_files_are_one_line_errors(tmp_path, content, words):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(TraceError) as info:
        read_trace(path)
    assert words in _one_line(info.value)
    assert str(path) in str(info.value)


def test_gzip_problems(tmp_path):
    good = gzip.compress(
        json.dumps({"traceEvents": [{"ph": "X", "cat": "cpu_op", "name": "a", "ts": 0, "dur": 1}]}).encode()
    )
    truncated = tmp_path / "t.json.gz"
    truncated.write_bytes(good[: len(good) // 2])
    with pytest.raises(TraceError, match="truncated gzip"):
        read_trace(truncated)
    corrupt = tmp_path / "c.json.gz"
    corrupt.write_bytes(good[:10] + b"\x00" * 40 + good[50:])
    with pytest.raises(TraceError) as info:
        read_trace(corrupt)
    _one_line(info.value)


def test_size_limits(tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b'{"traceEvents": []}' + b" " * 5000)
    with pytest.raises(TraceError, match="larger than"):
        read_trace(big, limit=1000)
    bomb = tmp_path / "bomb.json.gz"
    bomb.write_bytes(gzip.compress(b" " * 200_000))
    with pytest.raises(TraceError, match="decompresses to more than"):
        read_bytes(str(bomb), limit=100_000)


def test_a_sparse_file_past_the_default_limit_is_refused_without_reading(tmp_path):
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as f:
        f.truncate(2 * 1024**3 + 1)  # sparse: no disk used
    with pytest.raises(TraceError, match=r"larger than the 2\.0 GB"):
        read_trace(huge)
    os.unlink(huge)


def test_missing_paths_and_empty_folders(tmp_path):
    with pytest.raises(TraceError, match="no such file"):
        read_trace(tmp_path / "absent.json")
    with pytest.raises(TraceError, match="no trace files"):
        read_trace(tmp_path)


def test_events_with_unusable_fields_are_counted_not_fatal():
    trace = parse_trace(
        {
            "traceEvents": [
                {"ph": "X", "cat": "cpu_op", "name": "aten::mm", "ts": 1, "dur": 2, "tid": 1},
                {"ph": "X", "cat": "cpu_op", "name": "aten::mm", "ts": "soon", "dur": 2},
                {"ph": "X", "cat": "kernel", "name": "k", "ts": 1, "dur": -5},
                {"ph": "X", "cat": "cpu_op", "name": "aten::mm", "ts": float("nan"), "dur": 2},
            ]
        }
    )
    assert len(trace.cpu_ops) == 1 and trace.skipped_events == 3
