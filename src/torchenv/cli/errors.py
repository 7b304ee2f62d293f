"""Errors the CLI turns into exit code 2 with one line, never a traceback."""


class UsageError(Exception):
    """A problem with the user's arguments or input: one line, exit code 2."""


class GateFailure(Exception):
    """A gate that cannot pass (fail closed): the environment it checks could not be read. One line, exit 1."""


def could_not_read(what: str) -> GateFailure:
    return GateFailure(f"could not read the environment: {what}")
