"""Errors the CLI turns into exit code 2 with one line, never a traceback."""


class UsageError(Exception):
    """A problem with the user's arguments or input: one line, exit code 2."""
