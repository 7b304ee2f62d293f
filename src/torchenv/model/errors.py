"""The one root of torchenv's own exceptions, and what each kind means to the command line.

Every error torchenv raises on purpose derives from `TorchenvError` and carries its exit code
(cli/exit_codes.py mirrors these numbers): the CLI prints it as one line, never a traceback. Anything
else that reaches the CLI is a bug in torchenv (exit 3, with where to report it).

    TorchenvError            exit 3 unless a subclass says otherwise
    ├── InputError           exit 2: the user's arguments or input (cli.errors.UsageError)
    │   ├── UserFileError        a file the user named (userfiles.py)
    │   ├── DecodeError          JSON not of the model's shape (model/codec.py; also a ValueError)
    │   ├── SnapshotFileError    a snapshot file (snapshots/files.py)
    │   ├── ExportError          a plan or snapshot that a format cannot express (planners/, snapshots/)
    │   ├── PlanInputError       a target the planner cannot read (planners/target.py)
    │   ├── CreateError          an env path or installer `create` refuses (actions/create.py)
    │   └── NvmlUnavailable      `monitor` on a machine whose GPUs NVML cannot read (monitor/nvml.py)
    ├── ProblemFound         exit 1: a gate that cannot pass (cli.errors.GateFailure)
    └── LaunchError          the shell's code: 127 not found, 126 not executable (monitor/launch.py)
"""

from __future__ import annotations


class TorchenvError(Exception):
    """An error torchenv raises on purpose, shown as one line."""

    exit_code = 3


class InputError(TorchenvError):
    """A problem with the user's arguments or input: one line, exit code 2."""

    exit_code = 2


class ProblemFound(TorchenvError):
    """The environment fails a gate (or could not be read: fail closed): one line, exit code 1."""

    exit_code = 1
