"""A self-contained HTML page of a profile: the per-step timeline (inline SVG: steps, host ops,
DataLoader, stalls, syncs, GPU kernels, copies, NCCL on one time axis), the mean-step breakdown as a
stacked bar, and the ranked findings. No script, no external asset, no network."""

from __future__ import annotations

from html import escape

from ..model.profile import ProfileReport, TimelineSegment
from .profile_format import breakdown_rows, device_line, headline, ms, share, subject_line

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#111827;background:#fff;max-width:1100px}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px}
.sub{color:#4b5563;font-size:13px} table{border-collapse:collapse;font-size:13px;margin:4px 0 8px}
td,th{padding:3px 10px;border-bottom:1px solid #e5e7eb;text-align:left} td.num{text-align:right;font-variant-numeric:tabular-nums}
.finding{margin:8px 0 12px;padding:6px 10px;border-left:4px solid #9ca3af;background:#f9fafb}
.finding.warning{border-color:#d97706} .finding.info{border-color:#2563eb} .finding.error{border-color:#dc2626}
.finding .ev{font-size:12px;color:#374151;margin:2px 0 0 12px} .finding .fix{font-size:13px;margin-top:4px}
.finding .est{font-size:12px;color:#6b7280;margin-top:3px} code{background:#f3f4f6;padding:0 3px}
svg text{font-size:11px;fill:#374151} .swatch{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;vertical-align:middle}
"""

LANES = (
    ("step", "steps", "#e5e7eb"),
    ("cpu", "host: torch ops", "#60a5fa"),
    ("dataloader", "host: DataLoader", "#f59e0b"),
    ("stall", "host: stall", "#dc2626"),
    ("sync", "host: sync", "#7c3aed"),
    ("gpu", "GPU: kernels", "#16a34a"),
    ("memcpy", "GPU: copies", "#0891b2"),
    ("nccl", "GPU: NCCL", "#db2777"),
)
BREAKDOWN_COLOURS = {
    "host: in torch ops": "#60a5fa",
    "host: DataLoader": "#f59e0b",
    "host: stall at step start": "#dc2626",
    "GPU busy": "#16a34a",
    "GPU idle: host wait": "#fca5a5",
    "GPU idle: kernel wait": "#fde68a",
    "GPU idle: other": "#d1d5db",
    "communication (NCCL)": "#db2777",
}
WIDTH, LEFT, RIGHT, LANE_H, TOP = 1000, 130, 10, 20, 8


def _timeline_svg(segments: tuple[TimelineSegment, ...]) -> str:
    lanes = [lane for lane in LANES if any(s.lane == lane[0] for s in segments)]
    if not segments or not lanes:
        return "<p class='sub'>no timeline: the trace has no steps</p>"
    end = max(s.start_ms + s.dur_ms for s in segments) or 1.0
    plot = WIDTH - LEFT - RIGHT
    height = TOP + LANE_H * len(lanes) + 24
    x = lambda t: LEFT + t / end * plot  # noqa: E731
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" role="img" aria-label="per-step timeline">'
    ]
    for row, (lane, label, colour) in enumerate(lanes):
        y = TOP + row * LANE_H
        parts.append(f'<text x="{LEFT - 6}" y="{y + 14}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{LEFT}" y="{y + 2}" width="{plot}" height="{LANE_H - 4}" fill="#f9fafb"/>')
        for s in (s for s in segments if s.lane == lane):
            w = max(0.5, s.dur_ms / end * plot)
            stroke = ' stroke="#9ca3af"' if lane == "step" else ""
            title = f"{s.label + ': ' if s.label else ''}{s.start_ms:.2f} ms, {s.dur_ms:.3f} ms"
            parts.append(
                f'<rect x="{x(s.start_ms):.1f}" y="{y + 3}" width="{w:.1f}" height="{LANE_H - 6}" fill="{colour}"{stroke}>'
                f"<title>{escape(title)}</title></rect>"
            )
            if lane == "step" and w > 60:
                parts.append(f'<text x="{x(s.start_ms) + 4:.1f}" y="{y + 14}">{escape(s.label)}</text>')
    axis_y = TOP + LANE_H * len(lanes) + 14
    for i in range(6):
        t = end * i / 5
        parts.append(f'<text x="{x(t):.1f}" y="{axis_y}" text-anchor="middle">{t:.1f} ms</text>')
    parts.append("</svg>")
    return "".join(parts)


def _breakdown_svg(report: ProfileReport) -> str:
    b = report.breakdown
    if b is None or not b.wall_ms:
        return ""
    rows = [(label, value) for label, value, _ in breakdown_rows(b) if label in BREAKDOWN_COLOURS and value]
    bars = []
    host = [r for r in rows if r[0].startswith("host")]
    gpu = [r for r in rows if r[0].startswith(("GPU", "communication"))]
    height = 30 + 34 * (1 + bool(gpu))
    plot = WIDTH - LEFT - RIGHT
    bars.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" role="img" aria-label="step breakdown">'
    )
    for row, (title, items) in enumerate((("host", host), ("GPU", gpu))):
        if not items:
            continue
        y = 6 + row * 34
        bars.append(f'<text x="{LEFT - 6}" y="{y + 16}" text-anchor="end">{title}</text>')
        bars.append(f'<rect x="{LEFT}" y="{y}" width="{plot}" height="24" fill="#f3f4f6"/>')
        cursor = LEFT
        for label, value in items:
            if label == "communication (NCCL)":
                continue  # drawn inside GPU busy, not beside it
            w = min(value / b.wall_ms, 1.0) * plot
            bars.append(
                f'<rect x="{cursor:.1f}" y="{y}" width="{w:.1f}" height="24" fill="{BREAKDOWN_COLOURS[label]}">'
                f"<title>{escape(label)}: {ms(value)} ({share(value, b.wall_ms)})</title></rect>"
            )
            cursor += w
    bars.append(
        f'<text x="{LEFT}" y="{height - 6}">0</text><text x="{WIDTH - RIGHT}" y="{height - 6}" text-anchor="end">{ms(b.wall_ms)} (the step)</text>'
    )
    bars.append("</svg>")
    legend = "".join(
        f'<span class="swatch" style="background:{BREAKDOWN_COLOURS[label]}"></span>{escape(label)}'
        for label, _ in rows
        if label != "communication (NCCL)"
    )
    return "".join(bars) + f"<div class='sub'>{legend}</div>"


def render_profile_html(report: ProfileReport) -> str:
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>torchenv profile</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>torchenv profile · {escape(report.trace)}</h1>",
        f"<div class='sub'>{escape(headline(report))}</div>",
    ]
    device = device_line(report)
    if device:
        out.append(f"<div class='sub'>{escape(device)}</div>")
    subject = subject_line(report)
    if subject:
        out.append(f"<div class='sub'>{escape(subject)}</div>")
    out += ["<h2>Timeline</h2>", _timeline_svg(report.timeline)]
    if report.breakdown is not None:
        b = report.breakdown
        out += [
            "<h2>Mean step</h2>",
            _breakdown_svg(report),
            "<table><tr><th></th><th>ms</th><th>share</th><th></th></tr>",
        ]
        for label, value, note in breakdown_rows(b):
            pct = share(value, b.wall_ms) if label != "step wall time" else ""
            out.append(
                f"<tr><td>{escape(label)}</td><td class='num'>{ms(value)}</td><td class='num'>{pct}</td>"
                f"<td class='sub'>{escape(note)}</td></tr>"
            )
        out.append("</table>")
    out.append("<h2>Findings, by time lost per step</h2>")
    if not report.findings:
        out.append("<p>No findings: nothing in these steps crossed a rule's threshold.</p>")
    for i, item in enumerate(report.findings, 1):
        f = item.finding
        out.append(
            f"<div class='finding {f.severity.value}'><b>{i}. {escape(f.title)}</b> · ~{ms(item.ms_per_step)}/step"
        )
        out.append(f"<div class='sub'><code>{escape(f.id)}</code> · {f.severity.value}</div>")
        out += [f"<div class='ev'>· {escape(line)}</div>" for line in f.evidence]
        out.append(f"<div class='est'>estimate: {escape(item.estimate)}</div>")
        out.append(f"<div>{escape(f.explanation)}</div>")
        if f.fix:
            out.append(f"<div class='fix'><b>fix:</b> {escape(f.fix)}</div>")
        out.append("</div>")
    if report.skipped:
        out.append("<h2>Rules not judged</h2><ul>")
        out += [f"<li><code>{escape(s.check)}</code>: {escape(s.reason)}</li>" for s in report.skipped]
        out.append("</ul>")
    if report.notes:
        out.append("<h2>Notes</h2><ul>" + "".join(f"<li>{escape(n)}</li>" for n in report.notes) + "</ul>")
    files = ", ".join(escape(p) for p in report.files)
    out.append(
        f"<p class='sub'>trace files: {files} (open in Perfetto) · torchenv {escape(report.torchenv_version)} · rules {escape(report.rules_version)}</p>"
    )
    out.append("</body></html>")
    return "\n".join(out) + "\n"
