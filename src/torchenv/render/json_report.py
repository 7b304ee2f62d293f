"""The JSON view of a doctor report: the stable, documented contract (kind torchenv.doctor,
schema_version 1, in the one envelope of render/envelope.py)."""

from __future__ import annotations

import json

from ..model import SCHEMA_VERSION, DoctorReport
from ..model.codec import to_json
from .envelope import envelope

KIND = "torchenv.doctor"


def report_to_dict(report: DoctorReport, *, require_cuda: bool = False) -> dict:
    return envelope(
        KIND,
        {
            "verdict": report.verdict,
            "cuda_usable": report.cuda_usable,
            "cpu_only": report.cpu_only,
            "require_cuda": require_cuda,
            "summary": report.summary,
            "findings": [to_json(f) for f in report.findings],
            "skipped": [to_json(s) for s in report.skipped],
            "facts": to_json(report.facts),
        },
        schema_version=SCHEMA_VERSION,
        knowledge_version=report.knowledge_version,
        torchenv_version=report.torchenv_version,
    )


def report_source_to_dict(parsed, *, lines: bool = False) -> dict:
    """`doctor --from`: what the input was read as (reports.detect.ParsedReport), and with `lines`
    every input line's kind and what it gave (the `-v` view)."""
    out = {
        "format": parsed.format,
        "missing": [{"fact": m.fact, "how": m.how} for m in parsed.missing],
        "notes": list(parsed.notes),
    }
    if lines:
        out["lines"] = [
            {"number": r.number, "kind": r.kind, "detail": r.detail, "text": r.text}
            for r in parsed.lines
            if r.kind != "blank"
        ]
    return out


def render_json(report: DoctorReport, *, require_cuda: bool = False, source=None, lines: bool = False) -> str:
    payload = report_to_dict(report, require_cuda=require_cuda)
    if source is not None:
        payload["report"] = report_source_to_dict(source, lines=lines)
    return json.dumps(payload, indent=2, sort_keys=False)
