"""`--format markdown` (a comment to paste back into the thread), the `doctor --from -v` line view,
and the finding pages read from package data (`torchenv findings ID`, `doctor --explain ID`)."""

from __future__ import annotations

import re
from pathlib import Path

from testsupport import run_cli
from torchenv.cli.findings import page_ids, read_page
from torchenv.render.markdown_report import fence

ROOT = Path(__file__).parent.parent.parent
CHECKS = ROOT / "src" / "torchenv" / "checks"
PASTE = """PyTorch version: 2.5.1+cu121
CUDA used to build PyTorch: 12.1
OS: Ubuntu 22.04.4 LTS (x86_64)
Python version: 3.11.9 (main) [GCC 11.4.0] (64-bit runtime)
Is CUDA available: False
GPU models and configuration: GPU 0: NVIDIA GeForce RTX 4090
Nvidia driver version: 470.82.01

RuntimeError: The NVIDIA driver on your system is too old (found version 11040).
"""


def finding_ids_in_code() -> set[str]:
    ids = set()
    for path in CHECKS.glob("*.py"):
        ids |= set(re.findall(r'\bid="([a-z0-9-]+)"', path.read_text()))
    return ids


def test_every_finding_id_in_the_code_has_a_page_in_the_package():
    missing = sorted(i for i in finding_ids_in_code() if read_page(i) is None)
    assert not missing, f"no page shipped for {missing} (add docs/findings/<id>.md)"
    assert set(page_ids()) >= finding_ids_in_code()


def test_pages_are_package_data_of_the_one_copy():
    link = ROOT / "src" / "torchenv" / "findings"
    assert link.is_symlink() and link.resolve() == (ROOT / "docs" / "findings").resolve()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"findings/*.md"' in pyproject and '"schemas/*.json"' in pyproject


def test_findings_command_prints_the_page_and_lists_ids():
    done = run_cli("findings", "driver-too-old")
    assert done.returncode == 0 and done.stdout.startswith("# driver-too-old\n")
    listed = run_cli("findings")
    assert "no-nvidia-gpu" in listed.stdout.split()
    same = run_cli("doctor", "--explain", "driver-too-old")
    assert same.returncode == 0 and same.stdout == done.stdout


def test_unknown_or_hostile_id_is_a_usage_error_with_a_suggestion():
    done = run_cli("findings", "driver-to-old")
    assert done.returncode == 2 and "did you mean driver-too-old" in done.stderr
    assert "Traceback" not in done.stderr
    assert run_cli("findings", "../../pyproject").returncode == 2


def test_doctor_footer_names_the_command_not_a_path():
    done = run_cli("doctor", "--no-torch")
    assert "torchenv findings <id>" in done.stdout and "docs/findings" not in done.stdout


def test_doctor_from_markdown_is_a_comment_to_paste_back(tmp_path):
    paste = tmp_path / "paste.txt"
    paste.write_text(PASTE)
    done = run_cli("doctor", "--from", str(paste), "--format", "markdown")
    assert done.returncode == 1, done.stderr
    text = done.stdout
    assert text.startswith("### torchenv doctor on the collect_env report: **BROKEN**")
    assert "**Verdict:**" in text and "**Cause:**" in text and "**Fix:**" in text
    assert "**What to run next:**" in text and "`torchenv findings " in text
    # the paste's own error line, quoted with its line number
    assert "   9 | RuntimeError: The NVIDIA driver on your system is too old" in text
    assert "\x1b[" not in text  # no terminal colour codes in a comment


def test_json_and_format_contradiction_is_a_usage_error(tmp_path):
    paste = tmp_path / "paste.txt"
    paste.write_text(PASTE)
    assert run_cli("doctor", "--from", str(paste), "--json", "--format", "markdown").returncode == 2


def test_doctor_from_verbose_shows_which_line_gave_what(tmp_path):
    paste = tmp_path / "paste.txt"
    paste.write_text(PASTE)
    done = run_cli("doctor", "--from", str(paste), "-v")
    assert "input lines (number · kind · what it gave)" in done.stdout
    lines = done.stdout.splitlines()
    assert any(re.match(r"\s+1 fact\s+\[torch", line) for line in lines), done.stdout
    assert any(re.match(r"\s+9 message\s+\[error\]\s+RuntimeError", line) for line in lines), done.stdout


def test_explain_markdown_quotes_the_match():
    done = run_cli(
        "explain", "--no-probe", "--format", "markdown", "CUDA error: no kernel image is available for execution on the device"
    )
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith("### torchenv explain: ")
    assert "**Likely cause**" in text and "**Fix:**" in text and "```text\n" in text
    nothing = run_cli("explain", "--no-probe", "--format", "markdown", "all is well")
    assert nothing.returncode == 1 and "no known error" in nothing.stdout


def test_fence_outlasts_backticks_inside():
    assert fence("a ``` b").startswith("````text\n")
