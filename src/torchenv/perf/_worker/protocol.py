# ruff: noqa: UP031  (runs inside the target interpreter: conservative syntax)
"""The worker's side of the JSON contract: one record per line on stdout, prefixed with MARK.

Part of the perf worker runtime (runs inside the target interpreter, imports nothing of torchenv's
beyond its own package). Python 3.8+ syntax.
"""

import json
import os
import sys
import time

MARK = "@@torchenv-bench@@ "
START = time.time()


def emit(event, **fields):
    record = {"event": event, "t": round(time.time() - START, 4)}
    record.update(fields)
    sys.stdout.write(MARK + json.dumps(record, default=str) + "\n")
    sys.stdout.flush()


def describe(exc):
    """One line for an exception; an out-of-memory error says so plainly (its text runs to pages)."""
    text = str(exc).strip().splitlines()
    first = text[0][:500] if text else ""
    if "out of memory" in first.lower():
        return "out of memory (%s)" % type(exc).__name__
    return "%s: %s" % (type(exc).__name__, first)


def wait_for_word(path, timeout, poll_s=0.01):
    """The parent's word in the file `path` (written whole by perf/run.py:say_word), stripped; None
    when the time is up or the parent is gone first. How a worker waits for its parent's decision."""
    began = time.perf_counter()
    parent = os.getppid()
    while time.perf_counter() - began < timeout and os.getppid() == parent:
        try:
            with open(path) as handle:
                text = handle.read().strip()
        except OSError:
            text = ""
        if text:
            return text
        time.sleep(poll_s)
    return None
