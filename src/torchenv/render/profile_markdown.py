"""`torchenv profile` as markdown (an issue, a PR comment): breakdown table and ranked findings."""

from __future__ import annotations

from ..model.profile import ProfileReport
from .profile_format import breakdown_rows, device_line, headline, ms, remeasured_lines, share, subject_line


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_profile_markdown(report: ProfileReport) -> str:
    out = [f"# torchenv profile · `{report.trace}`", "", headline(report)]
    device = device_line(report)
    if device:
        out += ["", f"Device: {device}"]
    subject = subject_line(report)
    if subject:
        out += ["", subject[0].upper() + subject[1:]]
    if report.breakdown is not None:
        b = report.breakdown
        out += ["", "## Mean step", "", "| | ms | share | |", "|---|---:|---:|---|"]
        for label, value, note in breakdown_rows(b):
            pct = share(value, b.wall_ms) if label != "step wall time" else ""
            out.append(f"| {label} | {ms(value)} | {pct} | {note} |")
    out += ["", "## Findings, by time lost per step", ""]
    if not report.findings:
        out.append("No findings: nothing in these steps crossed a rule's threshold.")
    else:
        out += ["| # | ms/step | finding | id | source |", "|---:|---:|---|---|---|"]
        for i, item in enumerate(report.findings, 1):
            f = item.finding
            out.append(f"| {i} | {item.ms_per_step:.2f} | {_cell(f.title)} | `{f.id}` | {_cell(item.source or '')} |")
        for i, item in enumerate(report.findings, 1):
            f = item.finding
            out += [
                "",
                f"### {i}. {f.title}",
                "",
                f"`{f.id}` · {f.severity.value} · ~{ms(item.ms_per_step)} per step",
                "",
            ]
            out += [f"- {_cell(line)}" for line in f.evidence]
            out += ["", f"Estimate: {item.estimate}.", "", f.explanation]
            if f.fix:
                out += ["", f"**Fix:** {f.fix}"]
    if report.skipped:
        out += ["", "## Rules not judged", ""]
        out += [f"- `{s.check}`: {s.reason}" for s in report.skipped]
    if report.remeasured:
        out += ["", "## Re-measured fixes", ""] + [f"- {_cell(line)}" for line in remeasured_lines(report)]
    if report.notes:
        out += ["", "## Notes", ""] + [f"- {n}" for n in report.notes]
    out += ["", f"Trace files: {', '.join(f'`{p}`' for p in report.files)} (open in Perfetto)."]
    out.append(f"torchenv {report.torchenv_version} · rules {report.rules_version}")
    return "\n".join(out) + "\n"
