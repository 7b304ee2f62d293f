"""The doctor's provisional first verdict and its progress line, on a terminal's stderr, in place.

Standard library only (no rich): it is written in the command line's first milliseconds, while
the torch probe imports torch. `clear()` erases both lines before the full report is printed, so the
terminal ends with the report alone; on a pipe nothing of this is written (CI logs get the report).
"""

from __future__ import annotations

import threading

WORDS = {"healthy": "HEALTHY", "degraded": "DEGRADED", "broken": "BROKEN", "pending": "PENDING"}
COLOUR = {"healthy": "32", "degraded": "33", "broken": "31", "pending": "2"}


def first_verdict_line(first, *, colour: bool = False, width: int | None = None) -> str:
    """One line: `provisional (from files): HEALTHY · CPU only: torch 2.13.0+cpu ...`, cut to `width`."""
    word = WORDS.get(first.verdict, first.verdict.upper())
    head = f"provisional (from files): {word} · "
    summary = first.summary
    if width is not None and len(head) + len(summary) > width - 1:
        summary = summary[: max(width - 2 - len(head), 0)] + "…"
    if colour:
        head = head.replace(word, f"\x1b[{COLOUR.get(first.verdict, '0')};1m{word}\x1b[0m")
    return head + summary


class ProgressLines:
    """The first verdict, then one line naming the probe's running stage, rewritten in place."""

    def __init__(self, stream, width: int = 100) -> None:
        self.stream = stream
        self.width = max(width, 20)
        self.lines = 0  # lines written that clear() must erase
        self.lock = threading.Lock()  # stages arrive from the probe's reader thread

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass

    def show(self, first, stage: str = "probing") -> None:
        with self.lock:
            line = first_verdict_line(first, colour=True, width=self.width)
            self._write(line + "\n")
            self.lines = 1
            self._stage_text(stage + "…")

    def _stage_text(self, words: str) -> None:
        self._write("\r\x1b[2K  " + words[: self.width - 4])
        self.lines = 2

    def stage(self, words: str) -> None:
        with self.lock:
            if self.lines:
                self._stage_text(words + "…")

    def clear(self) -> None:
        with self.lock:
            if not self.lines:
                return
            # the stage line (cursor on it), then the verdict line above it
            self._write("\r\x1b[2K" + "\x1b[1A\x1b[2K" * (self.lines - 1))
            self.lines = 0
