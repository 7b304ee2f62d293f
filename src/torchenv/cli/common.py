"""Argument checks and output files every subcommand shares; each failure is a one-line UsageError (exit 2)."""

from __future__ import annotations

import math
import os
import shutil

from .errors import UsageError


def resolve_python(path: str | None, default: str | None = None) -> str | None:
    """`--python PATH` (or a name on PATH) as an absolute executable path; `default` when not given.

    Absolute against the user's working directory, because the probe and the workers run in another
    one; but symlinks are kept (os.path.abspath, not realpath): a venv's bin/python is a symlink to
    the base interpreter, and following it would lose the venv."""
    if path is None:
        return default
    if not path:
        raise UsageError("--python: empty path")
    found = path if os.sep in path else shutil.which(path)
    if not found or not os.path.exists(found):
        raise UsageError(f"--python {path}: no such interpreter")
    if not os.access(found, os.X_OK) or os.path.isdir(found):
        raise UsageError(f"--python {path}: not an executable file")
    return os.path.abspath(found)


def absolute(path: str | None) -> str | None:
    """A file or folder argument made absolute against the user's working directory (symlinks kept);
    None and '-' (stdin/stdout) unchanged."""
    if path is None or path == "-":
        return path
    return os.path.abspath(os.path.expanduser(path))


def require_seconds(value: float, flag: str) -> float:
    """A positive, finite number of seconds: NaN or infinity would disable a timeout."""
    if not (math.isfinite(value) and value > 0):
        raise UsageError(f"{flag} must be a positive, finite number of seconds")
    return value


def choose_from(text: str | None, allowed, flag: str) -> list[str]:
    """A comma-separated `--flag a,b` whose items must all be in `allowed`; [] when not given."""
    chosen = [s.strip() for s in (text or "").split(",") if s.strip()]
    unknown = [s for s in chosen if s not in allowed]
    if unknown:
        raise UsageError(f"{flag}: unknown {', '.join(unknown)} (choose from {', '.join(allowed)})")
    return chosen


def check_report_path(path: str | None, option: str) -> None:
    """Before the run: `option PATH` can be written (a folder, a missing or unwritable folder, a
    socket is a usage error now, not after minutes of measuring)."""
    if path is None or path == "-":
        return
    from ..userfiles import UserFileError, check_output_path

    try:
        check_output_path(path, option)
    except UserFileError as exc:
        raise UsageError(str(exc)) from None


def write_report(path: str, text: str, option: str) -> None:
    """Writes a report the user asked for with `option PATH`: atomically for a file (a failed write
    leaves the old one as it was), directly for a device or a pipe (never replaced); an unwritable
    path is a usage error."""
    from ..userfiles import UserFileError, write_output

    try:
        write_output(path, text, option)
    except UserFileError as exc:
        raise UsageError(str(exc)) from None


def require_fraction(value: float, flag: str, *, low: float = 0.0, high: float | None = None) -> float:
    """A finite number within [low, high) (NaN and infinity never are)."""
    if not math.isfinite(value) or value < low or (high is not None and value >= high):
        bound = f"[{low:g}, {high:g})" if high is not None else f">= {low:g}"
        raise UsageError(f"{flag} must be a finite number {bound}")
    return value


def table_console(piped_width: int):
    """A rich Console on stdout for a report's tables: the terminal's width, or `piped_width` when
    saved to a file or piped, so the tables keep room for their notes instead of rich's 80 columns."""
    import sys

    from rich.console import Console

    width = None if sys.stdout.isatty() else piped_width
    return Console(file=sys.stdout, highlight=False, width=width, soft_wrap=False)
