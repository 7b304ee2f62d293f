"""Plain-text views of `torchenv diff` and `torchenv verify` (the JSON goes through json_commands.py).

Formatting only: the differences are ranked by snapshots/diff.py and the checks judged by
snapshots/verify.py; this module takes their results and the names the user gave.
"""

from __future__ import annotations

VERIFY_MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL", "skip": "skip"}


def render_diff(result, a_name: str, a_text: str, b_name: str, b_text: str) -> str:
    """A diff result (snapshots.diff.DiffResult) as text: the two sides, one entry per difference
    (highest level first, as ranked), the counts and what was ignored as noise."""
    lines = [f"A  {a_name}: {a_text}", f"B  {b_name}: {b_text}", ""]
    if not result.differences:
        lines.append("No relevant differences.")
    for d in result.differences:
        lines.append(
            f"{d.level.upper():<9} {d.subject}: {d.a if d.a is not None else '(absent)'} → {d.b if d.b is not None else '(absent)'}"
        )
        lines.append(f"{'':<9} can cause: {d.finding.explanation}  [{d.finding.id}]")
    counts = result.counts()
    summary = ", ".join(f"{n} {level}" for level, n in counts.items() if n)
    lines.append("")
    lines.append(f"{len(result.differences)} differences" + (f" ({summary})" if summary else ""))
    if result.ignored:
        lines.append("ignored as noise: " + ", ".join(result.ignored))
    return "\n".join(lines) + "\n"


def render_verify(checks, snapshot_name: str, *, host_only: bool) -> str:
    """verify's checks (model.snapshot.VerifyCheck) as text, one line each (the finding's title says
    what was found), then the verdict."""
    lines = [f"{VERIFY_MARKS.get(c.status, c.status)}  {c.stage:<4}  {c.subject}: {c.finding.title}" for c in checks]
    failed = any(c.status == "fail" for c in checks)
    verdict = "does not match" if failed else "matches"
    what = "this host can run it" if host_only and not failed else f"this environment {verdict} the snapshot"
    if host_only and failed:
        what = "this host cannot run it"
    lines += ["", f"{snapshot_name}: {what}"]
    return "\n".join(lines) + "\n"
