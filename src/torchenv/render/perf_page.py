"""The one HTML page of the perf commands: a bench report, a tune report, or both on one page
(`tune --add-to-html`). Each report's data is embedded in the page as JSON, so adding a report to a
page re-renders the page from the reports it holds instead of editing its HTML. Self-contained:
inline CSS and SVG, no scripts that run, no external assets."""

from __future__ import annotations

import json
from html import escape
from html.parser import HTMLParser

from ..model.bench import BenchReport
from ..model.tune import TuneReport
from .html_bench import CSS, render_bench_body

DATA_IDS = {"bench": "torchenv-bench-report", "tune": "torchenv-tune-report"}
TUNE_CSS = """
#torchenv-tune td.num{text-align:right;font-variant-numeric:tabular-nums}
#torchenv-tune tr.best td{font-weight:600;color:#166534} #torchenv-tune tr.beyond td{color:#b91c1c}
#torchenv-tune pre{background:#f3f4f6;padding:10px;border-radius:6px;font-size:12px;overflow-x:auto}
"""


def _data_tag(kind: str, document: dict) -> str:
    text = json.dumps(document, allow_nan=False, default=str).replace("</", "<\\/")  # never closes the tag
    return f'<script type="application/json" id="{DATA_IDS[kind]}">{text}</script>'


def render_perf_page(bench: BenchReport | None = None, tune: TuneReport | None = None) -> str:
    from .json_bench import bench_to_dict
    from .json_tune import tune_to_dict
    from .tune_html import render_tune_section

    title = " + ".join(k for k, r in (("torchenv bench", bench), ("torchenv tune", tune)) if r is not None)
    body, data = [], []
    if bench is not None:
        body.append(render_bench_body(bench))
        data.append(_data_tag("bench", bench_to_dict(bench)))
    if tune is not None:
        body.append(render_tune_section(tune))
        data.append(_data_tag("tune", tune_to_dict(tune)))
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{CSS}{TUNE_CSS}</style></head><body>{''.join(body)}{''.join(data)}</body></html>\n"
    )


class _DataReader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.found: dict[str, str] = {}
        self._into: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            ident = dict(attrs).get("id")
            self._into = next((k for k, v in DATA_IDS.items() if v == ident), None)

    def handle_endtag(self, tag):
        if tag == "script":
            self._into = None

    def handle_data(self, data):
        if self._into is not None:
            self.found[self._into] = self.found.get(self._into, "") + data


def embedded_reports(page: str) -> dict[str, dict]:
    """The report documents a perf page holds ({"bench": {...}, "tune": {...}}); {} for a page
    without them (not ours, or written before the data was embedded)."""
    reader = _DataReader()
    reader.feed(page)
    out = {}
    for kind, text in reader.found.items():
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict):
            out[kind] = value
    return out


def bench_report_from_page(page: str) -> BenchReport | None:
    """The bench report embedded in a perf page, decoded with the model codec; None when absent."""
    from .json_bench import bench_from_dict

    document = embedded_reports(page).get("bench")
    return None if document is None else bench_from_dict(document)
