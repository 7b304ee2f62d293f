"""`torchenv findings [ID]`: a finding's documentation page, read from the installed package.

The pages are the files of docs/findings/ (the one copy); the package ships them as package data
(`torchenv/findings` is a link to that folder, and pyproject's package-data includes `findings/*.md`),
so a pip user reads the same page the repository shows, without the repository. The IDs of `torchenv
explain` (and their `reported-<id>` findings in `doctor --from`) have no file: their page is written from
their row of the error knowledge (render/explain_page.py), unless a doctor page of the same ID exists.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys

from .errors import UsageError
from .exit_codes import ExitCode

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def register(commands) -> None:
    findings = commands.add_parser(
        "findings",
        help="the documentation page of a finding ID (what it means, how torchenv decides, how to fix it)",
        description="Prints the page of a finding ID, as shipped with torchenv; without an ID, lists every ID.",
    )
    findings.add_argument("id", nargs="?", metavar="ID", help="a finding ID such as driver-too-old")
    findings.add_argument(
        "--format",
        choices=("terminal", "markdown"),
        default=None,
        help="markdown: the page's own text (the default when piped)",
    )
    findings.set_defaults(run=run_findings)


def _pages():
    from importlib.resources import files

    return files("torchenv") / "findings"


def page_ids() -> list[str]:
    """Every ID with a page, sorted: the files' and explain's."""
    try:
        entries = list(_pages().iterdir())
    except (FileNotFoundError, NotADirectoryError, OSError):
        return []
    files = {e.name[:-3] for e in entries if e.name.endswith(".md") and e.name != "README.md"}
    return sorted(files | {row.id for row in _errors().patterns}) if files else []


def _errors():
    from ..knowledge.errors import load_errors

    return load_errors()


def _error_page(finding_id: str) -> str | None:
    """An explain ID's page from its row (`reported-<id>` is the same error, said by a pasted report)."""
    from ..checks.explain import LAYER_OF
    from ..render.explain_page import render_error_page

    errors = _errors()
    row = errors.by_id(finding_id) or errors.by_id(finding_id.removeprefix("reported-"))
    if row is None:
        return None
    return render_error_page(row, layer=LAYER_OF.get(row.category, "environment"))


def read_page(finding_id: str) -> str | None:
    """The page's markdown, or None when the ID has none (or is not an ID at all)."""
    if not _ID.match(finding_id):
        return None
    try:
        return (_pages() / f"{finding_id}.md").read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, OSError):
        return _error_page(finding_id)


def page_or_usage_error(finding_id: str) -> str:
    text = read_page(finding_id)
    if text is not None:
        return text
    ids = page_ids()
    if not ids:
        raise UsageError("the finding pages are not installed with this torchenv (package data missing)")
    close = difflib.get_close_matches(finding_id, ids, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `torchenv findings` lists them"
    raise UsageError(f"no finding with the ID {finding_id!r}{hint}")


def show_page(text: str, fmt: str | None) -> None:
    if fmt is None:
        fmt = "terminal" if sys.stdout.isatty() else "markdown"
    if fmt == "markdown":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    from ..render.terminal import make_console, render_markdown_page

    render_markdown_page(text, make_console(sys.stdout))


def run_findings(args: argparse.Namespace) -> int:
    if args.id is None:
        ids = page_ids()
        if not ids:
            raise UsageError("the finding pages are not installed with this torchenv (package data missing)")
        for finding_id in ids:
            print(finding_id)
        return ExitCode.OK
    show_page(page_or_usage_error(args.id), args.format)
    return ExitCode.OK
