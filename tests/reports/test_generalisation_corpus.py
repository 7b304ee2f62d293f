"""The generalisation corpus (tests/corpus/pastes, tests/corpus/messages; see tests/corpus/README.md).

Structure: every item has its file, source thread and URL, the cause the thread established, and the
half its thread hashes to (the rule of ../shared/tools/corpus_half.py); no item comes from a thread of
the legacy corpus the rules were first tuned on.

Scores: `doctor --from` and `explain` are scored on both halves exactly as tests/corpus/score.py does.
The floors are the numbers measured when the rules were last changed (benchmarks/results/corpus-scores.md)
minus a margin of two items; the validation half is the number that counts, so a rule that helps the
tuning half by breaking validation items fails here.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from torchenv.model.finding import CATEGORIES

CORPUS = Path(__file__).parent.parent / "corpus"
sys.path.insert(0, str(CORPUS))
import score  # noqa: E402  (tests/corpus/score.py)

SHARED_HALF = Path(__file__).resolve().parents[3] / "shared" / "tools" / "corpus_half.py"
PASTES = score.load_pastes()
MESSAGES = score.load_messages()
REF = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+#\d+$")

# Measured 2026-12-03 (session 7) after sweeps 9 and 10 (31 pastes, 70 messages from 101 new threads), catalog rounds
# 10-11 (88 rows from the producers' own texts), the setup-sentence and application-report readers and the rules from
# both sweeps' tuning halves; see benchmarks/results/corpus-scores.md. Raised from the session-6 numbers (validation
# 63/91 pastes, 132/171 messages; tuning 62/67, 147/160). The validation called-healthy cap moves from 4 to 5: the
# fifth is a sweep-10 validation paste, called healthy before any rule was written (not read). No false alarm.
MEASURED = {
    "validation": {
        "pastes": 111,
        "right": 76,
        "called_healthy": 5,
        "false_alarms": 0,
        "messages": 199,
        "explained": 150,
    },
    "tuning": {"pastes": 78, "right": 70, "called_healthy": 0, "false_alarms": 0, "messages": 202, "explained": 181},
}
MARGIN = 2


@pytest.fixture(scope="module")
def scores(knowledge):
    return score.score(knowledge)


def test_index_matches_files():
    assert {row["file"] for row in PASTES} == {p.name for p in (CORPUS / "pastes").glob("*.txt")}
    assert len({row["id"] for row in MESSAGES}) == len(MESSAGES)


@pytest.mark.parametrize("row", PASTES + MESSAGES, ids=lambda r: r.get("file", r.get("id")))
def test_every_item_is_sourced_and_split_by_its_thread(row):
    assert REF.match(row["thread"]), row["thread"]
    owner_repo, number = row["thread"].split("#")
    assert row["source"].startswith(f"https://github.com/{owner_repo}/") and row["source"].rstrip("/").endswith(number)
    assert row["category"] in CATEGORIES or (row["category"] == "healthy" and "file" in row)
    assert row["established_cause"].strip() and row["basis"] in ("thread", "report", "thread+report")
    assert row["half"] == score.half_of(row["thread"])
    if "message" in row:
        assert row["message"].strip()


def test_split_rule_is_the_shared_tool():
    if not SHARED_HALF.exists():
        pytest.skip("shared/tools/corpus_half.py not in this checkout")
    spec = importlib.util.spec_from_file_location("corpus_half", SHARED_HALF)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    for row in PASTES + MESSAGES:
        assert tool.half(row["thread"]) == row["half"], row["thread"]


def test_no_item_comes_from_the_legacy_corpus():
    legacy = (CORPUS / "collect_env" / "index.toml").read_text() + (CORPUS / "errors.toml").read_text()
    tuned_on = {
        f"{repo.lower()}#{n}"
        for repo, n in re.findall(r"github\.com/([\w.-]+/[\w.-]+)/(?:issues|pull|discussions)/(\d+)", legacy)
    }
    assert not [row["thread"] for row in PASTES + MESSAGES if row["thread"].lower() in tuned_on]


def test_both_halves_have_healthy_controls_and_many_repositories():
    for half in score.HALVES:
        rows = [r for r in PASTES if r["half"] == half]
        assert any(r["healthy"] for r in rows) and any(not r["healthy"] for r in rows)
    assert len({r["thread"].split("#")[0].lower() for r in PASTES + MESSAGES}) >= 20


@pytest.mark.parametrize("half", score.HALVES)
def test_scores_do_not_drop_below_the_measured_numbers(scores, half):
    s, m = scores[half], MEASURED[half]
    assert len(s.pastes) >= m["pastes"] and len(s.messages) >= m["messages"], "the corpus shrank"
    assert s.paste_right() >= m["right"] - MARGIN, score.details(scores, half)
    assert s.message_right() >= m["explained"] - MARGIN, score.details(scores, half)
    assert s.called_healthy() <= m["called_healthy"], "more broken pastes called healthy"
    assert s.false_alarms() <= m["false_alarms"], "an error finding on a healthy control"


# Sweep 6 added two validation pastes that are refused (3 in all, 2 since session 7; the cap is 1). They were not read to write a
# rule (validation half); the gap stays visible as a strict expected failure until a rule from other evidence
# closes it, and then this mark must go.
@pytest.mark.parametrize(
    "half",
    [
        pytest.param(
            "validation",
            marks=pytest.mark.xfail(strict=True, reason="sweep 6: 2 validation pastes refused, cap 1 (open)"),
        ),
        "tuning",
    ],
)
def test_pastes_with_evidence_are_not_refused(scores, half):
    assert scores[half].refused() <= 1, "pastes with evidence must not be refused"


def test_a_paste_that_carries_an_error_is_never_healthy(scores):
    for half in score.HALVES:
        for result in scores[half].broken:
            text = (CORPUS / "pastes" / result.row["file"]).read_text()
            if re.search(r"^\s*\w*(?:Error|Exception): ", text, re.M) and result.verdict == "healthy":
                pytest.fail(f"{result.row['file']} carries an error but was called healthy")
