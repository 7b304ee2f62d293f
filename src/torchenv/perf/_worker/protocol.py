# ruff: noqa: UP031  (runs inside the target interpreter: conservative syntax)
"""The worker's side of the JSON contract: one record per line on stdout, prefixed with MARK.

Runs inside the target interpreter (no torchenv import). Python 3.8+ syntax.
"""

import json
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
    text = str(exc).strip().splitlines()
    return "%s: %s" % (type(exc).__name__, text[0][:500] if text else "")
