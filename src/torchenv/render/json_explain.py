"""The JSON view of `torchenv explain` (kind torchenv.explain, in the one envelope). Each match is
written by the model codec: {"finding": <the object doctor's findings[] holds>, "cause", ...}."""

from __future__ import annotations

import json

from ..model.codec import to_json
from .envelope import envelope

KIND = "torchenv.explain"
SCHEMA_VERSION = 2  # 2: a match is its finding plus explain's context (1: a flat match object)


def explain_to_dict(matches, *, facts_used: bool, knowledge_version: str, torchenv_version: str) -> dict:
    payload: dict = {"matches": [to_json(m) for m in matches], "facts_used": facts_used}
    if not matches:
        payload["message"] = "not a known error of the PyTorch GPU stack"
    return envelope(
        KIND,
        payload,
        schema_version=SCHEMA_VERSION,
        knowledge_version=knowledge_version,
        torchenv_version=torchenv_version,
    )


def render_explain_json(matches, *, facts_used: bool, knowledge_version: str, torchenv_version: str) -> str:
    document = explain_to_dict(
        matches, facts_used=facts_used, knowledge_version=knowledge_version, torchenv_version=torchenv_version
    )
    return json.dumps(document, indent=2)
