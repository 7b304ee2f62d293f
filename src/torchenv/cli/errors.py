"""Errors the CLI turns into one line and an exit code, never a traceback (model/errors.py is the root)."""

from ..model.errors import InputError, ProblemFound, TorchenvError


class UsageError(InputError):
    """A problem with the user's arguments or input: one line, exit code 2."""


class GateFailure(ProblemFound):
    """A gate that cannot pass (fail closed): the environment it checks could not be read. One line, exit 1."""


def could_not_read(what: str) -> GateFailure:
    return GateFailure(f"could not read the environment: {what}")


__all__ = ["GateFailure", "TorchenvError", "UsageError", "could_not_read"]
