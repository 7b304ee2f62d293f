"""Prints a saved `torchenv bench --json` report as the terminal table (for results on file).

PYTHONPATH=src python benchmarks/render_bench_json.py report.json
"""

from __future__ import annotations

import json
import sys

from rich.console import Console

from torchenv.render.json_bench import bench_from_dict
from torchenv.render.terminal_bench import render_bench_terminal


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as handle:
        document = json.load(handle)
    render_bench_terminal(bench_from_dict(document), Console(width=150, highlight=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
