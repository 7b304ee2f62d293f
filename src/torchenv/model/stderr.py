"""The line of a child's stderr that says why it failed (pure): warnings and markers are noise."""

from __future__ import annotations

import re

# A Python warning as `warnings` prints it ("path.py:276: UserWarning: Failed to initialize NumPy: …"),
# followed by the indented source line it points at: noise, never the reason a worker failed.
WARNING_LINE = re.compile(r"^\S.*:\d+: [A-Z]\w*Warning: ")
LEFT_OUT = re.compile(r"^\[torchenv: \d+ bytes of output left out\]$")


def failure_line(stderr: str) -> str:
    """The last line of a worker's stderr that says something: warnings (and the source line each
    names), blank lines and the runner's own "left out" marker are skipped; "" when nothing is left."""
    kept = []
    after_warning = False
    for line in stderr.splitlines():
        if WARNING_LINE.match(line):
            after_warning = True
            continue
        if after_warning and line.startswith((" ", "\t")):
            after_warning = False
            continue
        after_warning = False
        if line.strip() and not LEFT_OUT.match(line.strip()):
            kept.append(line.strip())
    return kept[-1] if kept else ""


__all__ = ["failure_line"]
