"""JSON of `plan`, `snapshot`, `diff` and `verify`, through the one envelope (render/envelope.py).

The payloads are built by their own layers (planners/export.py:plan_json, the snapshot model, the
diff and verify results); this module only puts them in the envelope and writes them out, so every
command's JSON starts with the same four fields and has a schema in torchenv/schemas/. A diff's
differences and verify's checks are written by the model codec: each carries its finding, the same
object doctor's `findings[]` holds.
"""

from __future__ import annotations

import json
from typing import Any

from ..model.codec import to_json
from .envelope import envelope

PLAN_KIND = "torchenv.plan"
DIFF_KIND = "torchenv.diff"
VERIFY_KIND = "torchenv.verify"
# 2: each difference and each check is {"finding": <doctor's finding object>, ...its context}
DIFF_SCHEMA_VERSION = 2
VERIFY_SCHEMA_VERSION = 2


def render_command_json(
    kind: str,
    payload: dict[str, Any],
    *,
    torchenv_version: str,
    knowledge_version: str | None,
    schema_version: int = 1,
) -> str:
    document = envelope(
        kind,
        payload,
        schema_version=schema_version,
        knowledge_version=knowledge_version,
        torchenv_version=torchenv_version,
    )
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def snapshot_document(data: dict[str, Any]) -> dict[str, Any]:
    """A snapshot's encoded model (it carries kind, schema_version and its own torchenv_version) in
    the envelope's order. A snapshot judges nothing, so its knowledge_version is null (left out of
    TOML, which has no null)."""
    return envelope(
        str(data["kind"]),
        data,
        schema_version=int(data["schema_version"]),
        knowledge_version=None,
        torchenv_version=str(data["torchenv_version"]),
    )


def diff_payload(result, a: dict[str, str], b: dict[str, str], *, fail_on: str | None, failed: bool) -> dict[str, Any]:
    """`diff --json`'s payload: the sides ({"name", "describe"}), counts, the differences in rank order."""
    return {
        "a": a,
        "b": b,
        "counts": result.counts(),
        "differences": [to_json(d) for d in result.differences],
        "ignored": list(result.ignored),
        "fail_on": fail_on,
        "failed": failed,
    }


def verify_payload(checks, *, snapshot: str, stages: list[str], ok: bool, error: str | None = None) -> dict[str, Any]:
    """`verify --json`'s payload; `error` when this interpreter could not be read (no check ran)."""
    payload: dict[str, Any] = {"snapshot": snapshot, "stages": stages, "ok": ok}
    if error is not None:
        payload["error"] = error
    payload["checks"] = [to_json(c) for c in checks]
    return payload
