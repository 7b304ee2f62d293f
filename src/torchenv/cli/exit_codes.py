"""Exit codes, designed once (like pytest's ExitCode)."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # healthy: nothing to fix
    PROBLEMS = 1  # the doctor found problems (degraded or broken)
    USAGE = 2  # bad arguments, unreadable input, or an error inside torchenv
