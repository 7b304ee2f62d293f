"""Markdown for the people who paste: a comment a maintainer can post back into the thread.

`doctor --from FILE --format markdown` and `explain --format markdown` print the verdict, the cause,
the evidence (the paste's own lines quoted), the fix and what to run next; GitHub/GitLab/Discourse
render it as is. Presentation only: every decision was made before (checks, explain).
"""

from __future__ import annotations

import re

from ..model import DoctorReport, Severity

MARK = {Severity.ERROR: "✗", Severity.WARNING: "⚠", Severity.INFO: "ℹ"}
MAX_QUOTED = 8


def fence(text: str, info: str = "text") -> str:
    """A fenced block that survives backticks inside `text` (the fence is longer than any run in it)."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{text.rstrip()}\n{ticks}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _verdict_line(report: DoctorReport) -> str:
    usable = {True: "CUDA usable", False: "CUDA not usable", None: "CUDA usability unknown"}[report.cuda_usable]
    if report.cpu_only:
        usable = "CPU only"
    return f"**{report.verdict.upper()}** · {usable}"


def quoted_input_lines(lines, findings, limit: int = MAX_QUOTED) -> list[str]:
    """The paste's lines that carry the evidence: lines findings cite (`line N: ...`), then messages."""
    by_number = {r.number: r for r in lines}
    cited: list[int] = []
    for finding in findings:
        for evidence in finding.evidence:
            m = re.match(r"line (\d+):", evidence)
            if m and int(m.group(1)) in by_number:
                cited.append(int(m.group(1)))
    messages = [r.number for r in lines if r.kind == "message"]
    chosen = list(dict.fromkeys([*cited, *messages]))[:limit]
    return [f"{n:>4} | {by_number[n].text}" for n in sorted(chosen)]


def render_doctor_markdown(report: DoctorReport, *, source=None, title: str = "torchenv doctor") -> str:
    """The doctor's report as a markdown comment; `source` is the pasted report (reports.detect.ParsedReport)
    when the facts came from one: its format, quoted lines and missing facts are used."""
    out: list[str] = []
    origin = f" on the {source.format} report" if source is not None else ""
    out.append(f"### {title}{origin}: {_verdict_line(report)}")
    out.append("")
    out.append(f"**Verdict:** {_one_line(report.summary)}")
    problems = [f for f in report.findings if f.severity is not Severity.INFO]
    if problems:
        cause = problems[0]
        out += ["", f"**Cause:** {MARK[cause.severity]} {_one_line(cause.title)} (`{cause.id}`)", ""]
        out.append(_one_line(cause.explanation))
        if cause.evidence:
            out += ["", "**Evidence:**", ""]
            out += [f"- {_one_line(e)}" for e in cause.evidence]
    if source is not None:
        quoted = quoted_input_lines(getattr(source, "lines", ()), report.findings)
        if quoted:
            out += ["", "From the paste (line numbers of the input):", "", fence("\n".join(quoted))]
    if problems and problems[0].fix:
        out += ["", f"**Fix:** {_one_line(problems[0].fix)}"]
    rest = problems[1:]
    if rest:
        out += ["", "**Also found:**", ""]
        for finding in rest:
            fix = f" — fix: {_one_line(finding.fix)}" if finding.fix else ""
            out.append(f"- {MARK[finding.severity]} {_one_line(finding.title)} (`{finding.id}`){fix}")
    notes = [f for f in report.findings if f.severity is Severity.INFO]
    if notes:
        out += ["", "<details><summary>Notes</summary>", ""]
        out += [f"- {MARK[f.severity]} {_one_line(f.title)} (`{f.id}`)" for f in notes]
        out += ["", "</details>"]
    out += ["", "**What to run next:**", ""]
    missing = list(getattr(source, "missing", ()) or ())
    for item in missing:
        out.append(f"- {item.how}: {item.fact}")
    if source is not None:
        if not any("torchenv doctor" in item.how for item in missing):
            out.append("- `torchenv doctor` on that machine (reads all of the above and runs a real GPU computation)")
    else:
        out.append("- `torchenv doctor` again after the fix")
    ids = list(dict.fromkeys(f.id for f in problems))[:3]
    if ids:
        out.append("- " + ", ".join(f"`torchenv findings {i}`" for i in ids) + ": how torchenv decided and every fix")
    out += ["", f"<sub>torchenv {report.torchenv_version} · knowledge {report.knowledge_version}</sub>", ""]
    return "\n".join(out)


def render_explain_markdown(matches, *, facts_used: bool, knowledge_version: str, torchenv_version: str) -> str:
    """`explain --format markdown`: the best match in full, the others as one line each."""
    out: list[str] = []
    if not matches:
        out += [
            "### torchenv explain: no known error of the PyTorch GPU stack in this text",
            "",
            "**What to run next:**",
            "",
            "- `torchenv doctor` on the machine (checks the stack itself)",
            "- `python -m torch.utils.collect_env` and paste its full output",
        ]
    else:
        best = matches[0]
        finding = best.finding
        out += [f"### torchenv explain: {_one_line(finding.title)} (`{finding.id}`)", ""]
        out.append(f"**What it means:** {_one_line(finding.explanation)}")
        out += ["", f"**Likely cause** ({best.cause_basis}): {_one_line(best.cause)}"]
        others = [c for c in best.causes if c != best.cause]
        if others:
            out += ["", "Other causes, most likely first:", ""]
            out += [f"- {_one_line(c)}" for c in others]
        out += ["", "**Evidence** (the part of the text that matched):", "", fence(finding.evidence[0][:1000])]
        out += ["", f"**Fix:** {_one_line(finding.fix or '')}"]
        if len(matches) > 1:
            out += ["", "**Also in the text:**", ""]
            out += [
                f"- {_one_line(m.finding.title)} (`{m.finding.id}`): {_one_line(m.finding.fix or '')}"
                for m in matches[1:]
            ]
        out += ["", "**What to run next:**", ""]
        out.append("- `torchenv doctor` on the machine, to confirm the cause from its facts")
        out.append(
            "- `torchenv doctor --from FILE --format markdown` on the output of `python -m torch.utils.collect_env`"
        )
        out += ["", f"Source: {finding.source} (retrieved {best.retrieved})"]
    basis = "this machine's facts and the message" if facts_used else "the message alone"
    out += ["", f"<sub>torchenv {torchenv_version} · knowledge {knowledge_version} · explained from {basis}</sub>", ""]
    return "\n".join(out)
