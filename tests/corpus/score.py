#!/usr/bin/env python3
"""Score `doctor --from` and `explain` on the generalisation corpus, per half.

    python tests/corpus/score.py            # print the table
    python tests/corpus/score.py --details  # and every miss
    python tests/corpus/score.py --write benchmarks/results/corpus-scores.md

Pastes (tests/corpus/pastes): a broken paste is right when the first non-info finding has the
category the thread established; a healthy control is right when nothing is an error (a warning
such as "facts missing" is an honest answer for a partial paste). A refused paste (no facts) is
wrong. "called healthy" counts broken pastes whose verdict is healthy; "false alarms" counts
healthy controls with an error finding.

Messages (tests/corpus/messages): right when explain's top match has the established category;
no match is wrong.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

HERE = Path(__file__).resolve().parent
PASTES = HERE / "pastes"
MESSAGES = HERE / "messages"
HALVES = ("tuning", "validation")
_REF = re.compile(r"^([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)#(\d+)$")


def half_of(thread: str) -> str:
    """The rule of ../shared/tools/corpus_half.py (a test checks the two agree)."""
    m = _REF.match(thread)
    if not m:
        raise ValueError(thread)
    key = f"{m.group(1).lower()}/{m.group(2).lower()}#{m.group(3)}"
    return "validation" if hashlib.sha256(key.encode()).digest()[0] & 1 else "tuning"


def load_pastes() -> list[dict]:
    return tomllib.loads((PASTES / "index.toml").read_text())["paste"]


def load_messages() -> list[dict]:
    return tomllib.loads((MESSAGES / "index.toml").read_text())["message"]


@dataclass
class PasteResult:
    row: dict
    verdict: str  # healthy / degraded / broken / refused
    top: str | None  # category of the first non-info finding
    top_id: str | None
    right: bool
    error: bool  # any error finding


@dataclass
class HalfScore:
    half: str
    pastes: list[PasteResult] = field(default_factory=list)
    messages: list[tuple[dict, str | None, bool]] = field(default_factory=list)

    @property
    def broken(self) -> list[PasteResult]:
        return [r for r in self.pastes if not r.row["healthy"]]

    @property
    def healthy(self) -> list[PasteResult]:
        return [r for r in self.pastes if r.row["healthy"]]

    def paste_right(self) -> int:
        return sum(r.right for r in self.pastes)

    def called_healthy(self) -> int:
        return sum(r.verdict == "healthy" for r in self.broken)

    def refused(self) -> int:
        return sum(r.verdict == "refused" for r in self.pastes)

    def false_alarms(self) -> int:
        return sum(r.error for r in self.healthy)

    def message_right(self) -> int:
        return sum(ok for _, _, ok in self.messages)

    def message_unmatched(self) -> int:
        return sum(cat is None for _, cat, _ in self.messages)


def score_paste(row: dict, knowledge) -> PasteResult:
    from torchenv.checks.explain import diagnose_report
    from torchenv.model import Severity
    from torchenv.reports.detect import read_report

    parsed = read_report((PASTES / row["file"]).read_bytes())
    if parsed.facts is None:
        return PasteResult(row, "refused", None, None, False, False)
    report = diagnose_report(parsed, knowledge, torchenv_version="corpus")
    problems = [f for f in report.findings if f.severity is not Severity.INFO]
    top = problems[0] if problems else None
    error = any(f.severity is Severity.ERROR for f in report.findings)
    right = not error if row["healthy"] else top is not None and top.category == row["category"]
    return PasteResult(row, report.verdict, top.category if top else None, top.id if top else None, right, error)


def score_message(row: dict, knowledge) -> tuple[dict, str | None, bool]:
    from torchenv.checks.explain import explain

    matches = explain(row["message"], None, knowledge)
    category = matches[0].category if matches else None
    return row, category, category == row["category"]


def score(knowledge=None, sweep: int | None = None) -> dict[str, HalfScore]:
    """Both halves' results; `sweep` keeps only the items of one collection sweep (1: collected before any
    rule was written; 2: collected after the rules, so unseen by them in both halves)."""
    if knowledge is None:
        from torchenv.knowledge import load_knowledge

        knowledge = load_knowledge()
    out = {h: HalfScore(h) for h in HALVES}
    for row in load_pastes():
        if sweep is None or row.get("sweep", 1) == sweep:
            out[row["half"]].pastes.append(score_paste(row, knowledge))
    for row in load_messages():
        if sweep is None or row.get("sweep", 1) == sweep:
            out[row["half"]].messages.append(score_message(row, knowledge))
    return out


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.0f} % ({n}/{d})" if d else "n/a"


def table(scores: dict[str, HalfScore], label: str = "") -> str:
    lines = [
        "| half | pastes | top cause right | broken called healthy | refused | false alarms (healthy controls) "
        "| messages | explain top category right | no match |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for half in HALVES:
        s = scores[half]
        lines.append(
            f"| {half}{label} | {len(s.pastes)} ({len(s.broken)} broken, {len(s.healthy)} healthy) "
            f"| {_pct(s.paste_right(), len(s.pastes))} | {s.called_healthy()} | {s.refused()} "
            f"| {s.false_alarms()} of {len(s.healthy)} | {len(s.messages)} "
            f"| {_pct(s.message_right(), len(s.messages))} | {s.message_unmatched()} |"
        )
    return "\n".join(lines)


def details(scores: dict[str, HalfScore], half: str) -> str:
    s = scores[half]
    out = [f"## misses, {half}"]
    for r in s.pastes:
        if not r.right:
            out.append(f"- {r.row['file']}: expected {r.row['category']}, got {r.verdict} / {r.top_id} ({r.top})")
    for row, cat, ok in s.messages:
        if not ok:
            out.append(f"- {row['id']} ({row['thread']}): expected {row['category']}, got {cat}")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--details", action="store_true")
    parser.add_argument("--half", choices=HALVES, default="tuning", help="which half's misses --details lists")
    parser.add_argument("--by-sweep", action="store_true", help="also score each collection sweep on its own")
    args = parser.parse_args(argv)
    scores = score()
    print(table(scores))
    if args.by_sweep:
        sweeps = sorted({row.get("sweep", 1) for row in load_pastes() + load_messages()})
        for sweep in sweeps:
            print(table(score(sweep=sweep), f", sweep {sweep}").split("\n", 2)[2])
    if args.details:
        print(details(scores, args.half))
    return 0


if __name__ == "__main__":
    # CORPUS_SRC=/path/to/another/checkout/src scores that code instead (the "before" numbers)
    sys.path.insert(0, os.environ.get("CORPUS_SRC") or str(HERE.parent.parent / "src"))
    sys.exit(main(sys.argv[1:]))
