"""The JSON view of a bench report: the documented contract (kind "torchenv.bench")."""

from __future__ import annotations

import json

from ..model.bench import BENCH_SCHEMA_VERSION, BenchReport
from ..model.codec import to_json


def bench_to_dict(report: BenchReport) -> dict:
    body = to_json(report)
    for m, data in zip(report.measurements, body["measurements"], strict=True):
        if m.time is not None:
            data["time"]["spread"] = round(m.time.spread, 5)
    return {
        "schema_version": BENCH_SCHEMA_VERSION,
        "kind": "torchenv.bench",
        **body,
        "suite_s": round(report.suite_s, 3),
    }


def render_bench_json(report: BenchReport) -> str:
    return json.dumps(bench_to_dict(report), indent=2)
