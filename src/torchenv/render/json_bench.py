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


def render_bench_json(report: BenchReport) -> str:
    return json.dumps(bench_to_dict(report), indent=2)
