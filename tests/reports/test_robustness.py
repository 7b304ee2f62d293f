"""The parsers never raise: random and mutated reports (hypothesis), and huge or binary input is
answered quickly with a clear message."""

from __future__ import annotations

import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from torchenv.checks.explain import diagnose_report, explain
from torchenv.reports.collect_env import parse_collect_env, parse_detectron2
from torchenv.reports.conda_list import parse_conda_list
from torchenv.reports.detect import read_report
from torchenv.reports.pip_list import parse_pip_freeze, parse_pip_list
from torchenv.reports.smi_table import parse_smi_table

CORPUS = sorted((Path(__file__).parent.parent / "corpus" / "collect_env").glob("*.txt"))
SAMPLES = [p.read_text(encoding="utf-8") for p in CORPUS] + [
    (Path(__file__).parent.parent / "fixtures" / "h100-cu130" / name).read_text()
    for name in ("nvidia-smi.txt", "nvidia-smi-query-gpu.csv", "pip-list-filtered.txt", "collect_env.txt")
]
PARSERS = (parse_collect_env, parse_detectron2, parse_conda_list, parse_pip_freeze, parse_pip_list, parse_smi_table)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw):
    lines = draw(st.sampled_from(SAMPLES)).split("\n")
    for _ in range(draw(st.integers(0, 6))):
        action = draw(st.sampled_from(["drop", "dup", "insert", "cut", "swap"]))
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        if not lines:
            break
        if action == "drop":
            lines.pop(i)
        elif action == "dup":
            lines.insert(i, lines[i])
        elif action == "insert":
            lines.insert(i, draw(st.text(max_size=80)))
        elif action == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        else:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


@SETTINGS
@given(st.text(max_size=2000))
def test_random_text_never_raises(text):
    for parse in PARSERS:
        parse(text)
    read_report(text)


@SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(data):
    parsed = read_report(data)
    assert parsed.facts is not None or parsed.error


@SETTINGS
@given(mutated())
def test_mutated_reports_never_raise(knowledge, text):
    for parse in PARSERS:
        parse(text)
    parsed = read_report(text)
    if parsed.facts is not None:
        diagnose_report(parsed, knowledge, torchenv_version="t")
    explain(text, parsed.facts, knowledge)


def test_ten_megabytes_are_capped_head_and_tail(knowledge):
    # The < 1 s budget is measured by tests/corpus/bench_reader.py (benchmarks/results/corpus-reader-speed.md),
    # not timed here: a wall-clock assertion fails on a loaded CI machine for reasons unrelated to the code.
    big = (SAMPLES[0] + "\n") * (
        10 * 1024 * 1024 // len(SAMPLES[0])
    ) + "RuntimeError: CUDA error: no kernel image is available\n"
    parsed = read_report(big.encode())
    explain(big, None, knowledge)
    assert any("read only the first" in note and "the last" in note for note in parsed.notes)
    assert "no kernel image" in parsed.messages  # the tail of a long log is read: that is where the error is


def test_binary_input_is_a_clear_message():
    data = bytes(range(256)) * 40000  # 10 MB of binary
    began = time.perf_counter()
    parsed = read_report(data)
    assert time.perf_counter() - began < 1.0
    assert parsed.facts is None and "binary" in parsed.error


def test_empty_input():
    assert read_report(b"  \n").error == "the input is empty"
