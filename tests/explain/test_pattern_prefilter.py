"""explain's literal prefilter: a pattern is run only when the text holds the literal text every match needs.

The prefilter must never change an answer: checked on every real text we hold (the corpora's messages and
pastes), against the same knowledge with the prefilter off.
"""

from __future__ import annotations

import dataclasses
import re
import re._constants as _re_constants
import re._parser as _re_parser
from pathlib import Path

import pytest
import tomllib

from torchenv.checks.explain import explain, prepare
from torchenv.knowledge.errors import CASE_FOLD_EXTRAS, ErrorKnowledge, load_errors, required_text

CORPUS = Path(__file__).parent.parent / "corpus"


def _real_texts() -> list[str]:
    texts = [m["message"] for m in tomllib.loads((CORPUS / "messages" / "index.toml").read_text())["message"]]
    texts += [e["message"] for e in tomllib.loads((CORPUS / "errors.toml").read_text())["error"]]
    texts += [p.read_text(errors="replace") for p in sorted((CORPUS / "pastes").glob("*.txt"))]
    return texts


TEXTS = _real_texts()


@pytest.mark.parametrize(
    ("pattern", "needle"),
    [
        (r"Cannot find a working triton installation", "cannot find a working triton installation"),
        (r"no kernel image is available(?: for execution)?", "no kernel image is available"),
        (r"(?:foo|bar) is broken badly", " is broken badly"),  # the alternation ends the run
        (r"libcudnn[\w.]*\.so: cannot open", ".so: cannot open"),
        (r"(sm_\d+) is not compatible", " is not compatible"),
        (r"(?:CUDA error: )+device-side assert", "device-side assert"),  # the longer of the two required runs
        (r"abc|defghij", None),  # a top-level alternation has no text every match needs
        (r"a?bcd?", None),  # optional parts are not required; "bc" is too short
        (r"\bXid\b", None),  # too short to be worth a test
        (r"[", None),  # unreadable: no prefilter, the pattern itself decides
    ],
)
def test_required_text(pattern, needle):
    assert required_text(pattern) == needle


def test_every_match_holds_its_needle_on_real_texts():
    errors = load_errors()
    checked = 0
    for text in TEXTS:
        flat = prepare(text)
        lower = flat.translate(CASE_FOLD_EXTRAS).lower()
        for row in errors.patterns:
            for pattern, needle in zip(row.patterns, row.needles, strict=True):
                if needle is not None and pattern.search(flat):
                    assert needle in lower, (row.id, pattern.pattern, needle)
                    checked += 1
    assert checked > 300  # the corpora do exercise the prefiltered patterns


def test_case_folding_the_regex_engine_does_is_kept():
    # re.IGNORECASE matches the long s and the dotless i to ASCII letters; str.lower() alone does not
    pattern = re.compile("stub library", re.I)
    text = "CUDA driver is a ſtub library"
    assert pattern.search(text) and "stub library" in text.translate(CASE_FOLD_EXTRAS).lower()


def test_the_prefilter_changes_no_answer():
    errors = load_errors()
    unfiltered = ErrorKnowledge(
        version=errors.version, patterns=tuple(dataclasses.replace(row, needles=()) for row in errors.patterns)
    )
    for text in TEXTS:
        with_filter = [(m.id, m.category) for m in explain(text, None, None, errors=errors)]
        without = [(m.id, m.category) for m in explain(text, None, None, errors=unfiltered)]
        assert with_filter == without, text[:200]


def _leading_item(items):
    op, arg = items[0] if items else (None, None)
    if op is _re_constants.SUBPATTERN:
        return _leading_item(list(arg[-1]))
    return op, arg


def _starts_unbounded(pattern: str) -> bool:
    """A pattern that opens with an unbounded repeat (`\\w+_impl`, `.*error`) is tried at every position and
    scans to the end each time: quadratic on one long line (a 256 KiB paste took minutes)."""
    op, arg = _leading_item(list(_re_parser.parse(pattern, re.I)))
    return op in (_re_constants.MAX_REPEAT, _re_constants.MIN_REPEAT) and arg[1] == _re_constants.MAXREPEAT


def test_no_pattern_opens_with_an_unbounded_repeat():
    assert _starts_unbounded(r"\w+_impl: implementation for device cuda")  # the one that hung explain
    assert not _starts_unbounded(r"\b\w{1,80}_impl: implementation for device cuda")
    offenders = [
        (row.id, p.pattern) for row in load_errors().patterns for p in row.patterns if _starts_unbounded(p.pattern)
    ]
    assert offenders == []
