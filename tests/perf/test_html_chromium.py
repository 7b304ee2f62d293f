"""The HTML report rendered by a real browser (Debian's `chromium`, headless): the screenshot is not
blank and the chart region holds the charts' colours. Skipped, with the reason, without chromium."""

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from perf.gpu_records import h100_records
from perf.png import count_colour, distinct_colours, read_png
from torchenv.perf.causes import Context
from torchenv.perf.report import Hardware, build_report
from torchenv.render.html_bench import LADDER_COLOUR, RATIO_COLOUR, SHORT_COLOUR, render_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium) — cannot render the HTML report"
)
def test_report_renders_with_both_charts_in_headless_chromium(tmp_path):
    report = build_report(
        h100_records(),
        mode="full",
        hardware=Hardware(
            "H100 SXM5", {"fp32": 67.0, "tf32": 494.7, "bf16": 989.4, "fp16": 989.4}, 3350.0, "datasheet"
        ),
        context=Context(),
        wall_s=100.0,
        worker_error=None,
        knowledge_version="test",
        torchenv_version="0",
    )
    page = tmp_path / "bench.html"
    page.write_text(render_html(report), encoding="utf-8")
    shot = tmp_path / "shot.png"
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        done = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                f"--screenshot={shot}",
                "--window-size=1200,1600",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert shot.exists(), done.stderr[-2000:]
    png = read_png(shot.read_bytes())
    width, height = png[0], png[1]
    assert (width, height) == (1200, 1600)
    assert distinct_colours(png) > 20, "blank screenshot"
    charts = (0, 0, width, 700)  # the charts come first on the page
    assert count_colour(png, rgb(RATIO_COLOUR), charts) > 2000, "ratio-to-peak bars missing"
    assert count_colour(png, rgb(LADDER_COLOUR), charts) > 2000, "training ladder bars missing"
    assert count_colour(png, rgb(SHORT_COLOUR), charts) > 200, "the short pageable copy is not drawn red"
    assert Path(page).read_text().count("<svg") >= 2
