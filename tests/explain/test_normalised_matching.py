"""Error signatures match on normalised text (issue 12 item 3): numbers, versions, paths, quotes, hex
addresses and memory sizes are stripped, so a signature that matches a real message still matches when
those parts change (hypothesis). The messages are the legacy corpus and the tuning half of the
generalisation corpus (rules are written from those; the validation half is only scored)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from torchenv.checks.explain import explain, prepare
from torchenv.knowledge.errors import derived_signature, load_errors, normalise

CORPUS = Path(__file__).parent.parent / "corpus"
MESSAGES = [e["message"] for e in tomllib.loads((CORPUS / "errors.toml").read_text())["error"]] + [
    m["message"]
    for m in tomllib.loads((CORPUS / "messages" / "index.toml").read_text())["message"]
    if m["half"] == "tuning"
]
ROWS = load_errors().patterns


def _signature_hits() -> list[tuple[str, str, str]]:
    """(message, row id, signature) for every signature that matches a corpus message."""
    out = []
    for message in MESSAGES:
        norm = normalise(prepare(message))
        for row in ROWS:
            for signature in row.signatures:
                if signature in norm:
                    out.append((message, row.id, signature))
                    break
    return out


HITS = _signature_hits()

# Tokens to change, found by plain regexes of their own (not the normaliser's).
_TOKEN = re.compile(
    r"(?P<size>\b\d+(?:\.\d+)?\s?(?:[KMG]i?B)\b)"
    r"|(?P<path>(?<![\w.])(?:/[\w.-]+){2,}/?)"
    r"|(?P<hex>\b0x[0-9a-fA-F]+\b)"
    r"|(?P<num>\d+(?:\.\d+)*)"
)
digits = st.integers(min_value=0, max_value=99999).map(str)
versions = st.tuples(
    st.integers(0, 20),
    st.integers(0, 200),
    st.integers(0, 200),
    st.sampled_from(["", "+cu121", "+cpu", "a0", ".post1"]),
).map(lambda v: f"{v[0]}.{v[1]}.{v[2]}{v[3]}")
sizes = st.tuples(
    st.integers(1, 8000), st.sampled_from(["", ".00", ".5"]), st.sampled_from([" MiB", " GiB", "GB", " KiB"])
)
paths = st.lists(st.from_regex(r"[a-z][a-z0-9_.-]{0,10}", fullmatch=True), min_size=2, max_size=6).map(
    lambda parts: "/" + "/".join(parts)
)
hexes = st.integers(1, 2**48).map(hex)


@st.composite
def mutated(draw, message: str) -> str:
    def replace(match: re.Match) -> str:
        kind = match.lastgroup
        if kind == "size":
            n, frac, unit = draw(sizes)
            return f"{n}{frac}{unit}"
        if kind == "path":
            return draw(paths)
        if kind == "hex":
            return draw(hexes)
        before = message[match.start() - 1 : match.start()]
        after = message[match.end() : match.end() + 1]
        glued = before.isalnum() or after.isalnum() or after in "+."  # inside a word or a version: plain digits
        return draw(digits if glued else st.one_of(digits, versions))

    return _TOKEN.sub(replace, message)


@pytest.mark.skipif(not HITS, reason="no signature matches the corpus")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_signature_still_matches_when_numbers_paths_sizes_and_hex_change(data):
    message, row_id, signature = data.draw(st.sampled_from(HITS))
    changed = data.draw(mutated(message))
    assert signature in normalise(prepare(changed)), (row_id, signature, changed[:300])


@pytest.mark.skipif(not HITS, reason="no signature matches the corpus")
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_explain_still_finds_the_row_when_numbers_and_paths_change(data):
    message, row_id, _ = data.draw(st.sampled_from(HITS))
    changed = data.draw(mutated(message))
    assert row_id in [m.id for m in explain(changed, None, None)], changed[:300]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Tried to allocate 20.00 MiB", "Tried to allocate 1.5 GiB"),
        ("torch 2.1.0+cu121 is installed", "torch 2.1.0a0+41361538.nv23.06 is installed"),
        ("torch 1.13.1.post200 is installed", "torch 2.5.0.dev20240901 is installed"),
        ("segfault at 0x7f3a2b4c", "segfault at 7f3a2b4c1d9e"),
        (
            'Error loading "C:\\Program Files\\Python310\\lib\\torch\\lib\\cudnn64_8.dll" or one',
            "Error loading /usr/lib/x.so or one",
        ),
        ("No module named 'torch'", "No module named \u2018torch\u2019"),
        ("No module named 'torch'", 'No module named "torch"'),
    ],
)
def test_normalise_strips_what_varies(a, b):
    assert normalise(a) == normalise(b)


def test_a_quoted_path_does_not_swallow_the_message_after_it():
    assert "undefined symbol" in normalise("OSError: '/opt/x/libtorch_cuda.so: undefined symbol: _ZN3c10'")


def test_curly_quotes_reach_the_patterns_straight():
    plain = explain("ModuleNotFoundError: No module named 'torch'", None, None)
    curly = explain("ModuleNotFoundError: No module named \u2018torch\u2019", None, None)
    assert plain and [m.id for m in curly] == [m.id for m in plain]


@pytest.mark.parametrize(
    ("pattern", "signature"),
    [
        (
            r"with CUDA capability sm_\d+ is not compatible with the current",
            "with cuda capability sm_# is not compatible with the current",
        ),
        (r"No module named [\x22\x27]torch\._C[\x22\x27]", "no module named torch._c"),
        (r"NCCL Error 2\b", None),  # a literal error code stays a regex: NCCL Error 3 is another error
        (r"Error 804", None),
        (r"ProcessGroupNCCL.{0,200}?timed? ?out", None),  # a real regex
    ],
)
def test_literal_patterns_are_also_signatures(pattern, signature):
    assert derived_signature(pattern) == signature


def test_derived_signatures_are_loaded():
    row = load_errors().by_id("gpu-arch-not-compatible")
    assert any(s.startswith("with cuda capability sm_#") for s in row.signatures)
