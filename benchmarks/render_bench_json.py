"""Prints a saved `torchenv bench --json` report as the terminal table (for results on file).

PYTHONPATH=src python benchmarks/render_bench_json.py report.json
"""

from __future__ import annotations

import json
import sys

from rich.console import Console

from torchenv.model.bench import BenchReport
from torchenv.model.codec import from_json
from torchenv.render.terminal_bench import render_bench_terminal


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as handle:
        body = json.load(handle)
    for key in ("schema_version", "kind", "suite_s"):
        body.pop(key, None)
    for m in body["measurements"]:
        (m.get("time") or {}).pop("spread", None)
    render_bench_terminal(from_json(BenchReport, body), Console(width=150, highlight=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
