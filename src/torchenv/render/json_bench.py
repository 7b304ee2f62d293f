"""The JSON view of a bench report: the documented contract (kind "torchenv.bench")."""

from __future__ import annotations

import json

from ..model.bench import BENCH_SCHEMA_VERSION, BenchReport
from ..model.codec import to_json
from .envelope import envelope


def bench_to_dict(report: BenchReport) -> dict:
    body = to_json(report)
    for m, data in zip(report.measurements, body["measurements"], strict=True):
        if m.time is not None:
            data["time"]["spread"] = round(m.time.spread, 5)
    body["suite_s"] = round(report.suite_s, 3)
    return envelope(
        "torchenv.bench",
        body,
        schema_version=BENCH_SCHEMA_VERSION,
        knowledge_version=report.knowledge_version,
        torchenv_version=report.torchenv_version,
    )


def bench_from_dict(document: dict) -> BenchReport:
    """A BenchReport back from its JSON document (bench_to_dict's inverse): the envelope's own fields and
    the derived figures (suite_s, each spread) are dropped, the rest decoded by the model codec."""
    from ..model.codec import from_json

    body = {k: v for k, v in document.items() if k not in ("schema_version", "kind", "suite_s")}
    body["measurements"] = [
        dict(m, time={k: v for k, v in m["time"].items() if k != "spread"}) if m.get("time") else m
        for m in body.get("measurements", [])
    ]
    return from_json(BenchReport, body)


def render_bench_json(report: BenchReport) -> str:
    return json.dumps(bench_to_dict(report), indent=2)
