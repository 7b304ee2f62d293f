"""The one JSON envelope of every torchenv command's JSON output.

    {"schema_version": N, "kind": "torchenv.<command>", "torchenv_version": "...",
     "knowledge_version": "..." | null, ...payload}

The envelope fields come first and the payload's keys sit beside them at the top level (not under
a "payload" key), so existing consumers of `verdict`, `findings`, `matches`, ... keep working. Each
kind has a JSON Schema shipped in the package (torchenv/schemas/<kind without "torchenv.">.json);
`schema_path(kind)` finds it. `schema_version` changes only when a field changes meaning or goes away.
"""

from __future__ import annotations

from typing import Any

ENVELOPE_FIELDS = ("schema_version", "kind", "torchenv_version", "knowledge_version")


def envelope(
    kind: str,
    payload: dict[str, Any],
    *,
    schema_version: int = 1,
    knowledge_version: str | None,
    torchenv_version: str,
) -> dict[str, Any]:
    """The document for `kind` ("torchenv.doctor", ...): envelope fields, then the payload's keys.

    A payload key that repeats an envelope field must agree with it (a report's own
    `torchenv_version`, say); a disagreement is a bug and raises ValueError. The caller passes
    `torchenv_version` (render never imports the package root, which reaches the CLI)."""
    if not kind.startswith("torchenv."):
        raise ValueError(f"kind {kind!r} must start with 'torchenv.'")
    head = {
        "schema_version": schema_version,
        "kind": kind,
        "torchenv_version": torchenv_version,
        "knowledge_version": knowledge_version,
    }
    for key in ENVELOPE_FIELDS:
        if key in payload and payload[key] != head[key]:
            raise ValueError(f"{kind}: payload {key}={payload[key]!r} disagrees with the envelope's {head[key]!r}")
    return {**head, **{k: v for k, v in payload.items() if k not in head}}


def schema_name(kind: str) -> str:
    """`torchenv.doctor` -> `doctor.json`; `torchenv.monitor.sample` -> `monitor.sample.json`."""
    return kind.removeprefix("torchenv.") + ".json"


def load_schema(kind: str) -> dict:
    """The JSON Schema shipped for `kind` (package data, torchenv/schemas/)."""
    import json
    from importlib.resources import files

    return json.loads((files("torchenv") / "schemas" / schema_name(kind)).read_text(encoding="utf-8"))
