"""`torchenv profile` end to end: every format, -o, exit codes, one-line errors, no torch import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from testsupport import cli_env
from torchenv.cli.main import main

FIXTURES = Path(__file__).parent.parent / "fixtures" / "profile"
PLANTED = str(FIXTURES / "planted_cpu.pt.trace.json.gz")


def test_terminal(capsys):
    assert main(["profile", "--trace", PLANTED]) == 0
    out = capsys.readouterr().out
    assert "profile-dataloader-wait" in out and "next_batch() at planted.py:63" in out and "fix:" in out


def test_json(capsys):
    assert main(["profile", "--trace", PLANTED, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "torchenv.profile" and data["schema_version"] == 1 and data["torchenv_version"]
    ms = [f["ms_per_step"] for f in data["findings"]]
    assert ms == sorted(ms, reverse=True) and data["ms_lost_per_step"] > 0


@pytest.mark.parametrize(
    ("fmt", "marker"), [("markdown", "## Findings"), ("html", "<svg"), ("json", '"kind"'), ("terminal", "mean step")]
)
def test_formats_to_a_file(tmp_path, capsys, fmt, marker):
    out = tmp_path / "report.out"
    assert main(["profile", "--trace", str(FIXTURES / "two_ranks"), "--format", fmt, "-o", str(out)]) == 0
    text = out.read_text()
    assert marker in text
    assert capsys.readouterr().out == ""
    if fmt == "html":
        assert "<script" not in text and 'src="http' not in text and "<link" not in text


def test_output_suffix_picks_the_format(tmp_path):
    out = tmp_path / "r.html"
    assert main(["profile", "--trace", PLANTED, "-o", str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["profile"], "nothing to profile"),
        (["profile", "--trace", "/nonexistent/trace.json"], "no such file"),
        (["profile", "--trace", PLANTED, "--json", "--format", "html"], "choose one"),
        (["profile", "--trace", PLANTED, "x.py:make"], "not both"),
        (["profile", "x.py:make"], "x.py: no such file"),
        (["profile", "--", "python", "train.py"], "profile -- python train.py: no such file"),
        (["profile", "--device", "cuda", "--", "python", "t.py"], "picks its own device"),
        (["profile", "--", "torchrun", "t.py"], "torchrun"),
        (["profile", "x.py:make", "--bogus"], "unrecognized arguments"),
        (["profile", "--trace", PLANTED, "--steps", "0"], "--steps"),
        (["profile", "--trace", PLANTED, "--remeasure-timeout", "0"], "--remeasure-timeout"),
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys, argv, words):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and err.count("\n") == 1


def test_garbage_trace_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(b"\x1f\x8b garbage")
    assert main(["profile", "--trace", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("torchenv: --trace ") and err.count("\n") == 1


def test_the_cli_process_never_imports_torch():
    code = (
        "import sys\nfrom torchenv.cli.main import main\n"
        f"rc = main(['profile', '--trace', {PLANTED!r}, '--format', 'html', '-o', '/dev/null'])\n"
        "assert rc == 0, rc\nassert 'torch' not in sys.modules, 'torch imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=cli_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
