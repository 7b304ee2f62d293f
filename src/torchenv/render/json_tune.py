"""The JSON view of a tune report: the documented contract (kind "torchenv.tune", the one envelope)."""

from __future__ import annotations

import json

from ..model.codec import to_json
from ..model.tune import TUNE_SCHEMA_VERSION, TuneReport
from .envelope import envelope


def tune_to_dict(report: TuneReport) -> dict:
    body = to_json(report)
    body["ranked"] = [t.id for t in report.ranked()]
    return envelope(
        "torchenv.tune",
        body,
        schema_version=TUNE_SCHEMA_VERSION,
        knowledge_version=None,
        torchenv_version=report.torchenv_version,
    )


def render_tune_json(report: TuneReport) -> str:
    return json.dumps(tune_to_dict(report), indent=2, default=str, allow_nan=False)
