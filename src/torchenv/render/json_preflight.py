"""The JSON view of a preflight report: the documented contract (kind "torchenv.preflight")."""

from __future__ import annotations

import json

from ..model.codec import from_json, to_json
from ..model.preflight import PREFLIGHT_KIND, PreflightReport
from .envelope import envelope


def preflight_to_dict(report: PreflightReport) -> dict:
    body = to_json(report)
    head = ("schema_version", "kind", "torchenv_version", "knowledge_version", "verdict", "exit_code", "summary")
    return envelope(
        report.kind,
        {
            "verdict": report.verdict,
            "exit_code": report.exit_code,
            "summary": report.summary,
            **{k: v for k, v in body.items() if k not in head},
        },
        schema_version=report.schema_version,
        knowledge_version=report.knowledge_version,
        torchenv_version=report.torchenv_version,
    )


def render_preflight_json(report: PreflightReport) -> str:
    return json.dumps(preflight_to_dict(report), indent=2)


def preflight_from_dict(data: dict) -> PreflightReport:
    """Decode a report (raises codec.DecodeError, or ValueError for another kind of document)."""
    if not isinstance(data, dict) or data.get("kind") != PREFLIGHT_KIND:
        raise ValueError("not a torchenv preflight report")
    return from_json(PreflightReport, data)
