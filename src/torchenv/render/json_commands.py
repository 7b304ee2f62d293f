"""JSON of `plan`, `snapshot`, `diff` and `verify`, through the one envelope (render/envelope.py).

The payloads are built by their own layers (planners/export.py:plan_json, the snapshot model, the
diff and verify results); this module only puts them in the envelope and writes them out, so every
command's JSON starts with the same four fields and has a schema in torchenv/schemas/.
"""

from __future__ import annotations

import json
from typing import Any

from .envelope import envelope

PLAN_KIND = "torchenv.plan"
DIFF_KIND = "torchenv.diff"
VERIFY_KIND = "torchenv.verify"


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
