"""The JSON view of a doctor report: the stable, documented contract (schema_version)."""

from __future__ import annotations

import json

from ..model import SCHEMA_VERSION, DoctorReport
from ..model.codec import to_json


def report_to_dict(report: DoctorReport) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "torchenv.doctor",
        "torchenv_version": report.torchenv_version,
        "knowledge_version": report.knowledge_version,
        "verdict": report.verdict,
        "cuda_usable": report.cuda_usable,
        "summary": report.summary,
        "findings": [to_json(f) for f in report.findings],
        "skipped": [to_json(s) for s in report.skipped],
        "facts": to_json(report.facts),
    }


def render_json(report: DoctorReport) -> str:
    return json.dumps(report_to_dict(report), indent=2, sort_keys=False)
