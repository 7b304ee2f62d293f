"""Exit codes, designed once (like pytest's ExitCode) and handled in one place (cli/main.py)."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # healthy: nothing to fix
    PROBLEMS = 1  # the command found problems (degraded or broken; a gate failed)
    USAGE = 2  # bad arguments or unreadable input
    INTERNAL = 3  # a bug in torchenv (an uncaught exception): says where to report it
