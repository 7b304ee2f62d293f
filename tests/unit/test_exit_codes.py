"""Exit codes designed once (cli/exit_codes.py) and handled in one place (cli/main.py)."""

from __future__ import annotations

import pytest

from torchenv.cli import doctor as doctor_cli
from torchenv.cli.errors import GateFailure, UsageError
from torchenv.cli.exit_codes import ExitCode
from torchenv.cli.main import main
from torchenv.model.errors import InputError, ProblemFound, TorchenvError


def test_the_codes():
    assert [int(c) for c in (ExitCode.OK, ExitCode.PROBLEMS, ExitCode.USAGE, ExitCode.INTERNAL)] == [0, 1, 2, 3]


def test_one_exception_root_carries_the_code():
    assert issubclass(UsageError, InputError) and issubclass(GateFailure, ProblemFound)
    assert issubclass(InputError, TorchenvError) and issubclass(ProblemFound, TorchenvError)
    assert (UsageError.exit_code, GateFailure.exit_code, TorchenvError.exit_code) == (2, 1, 3)


@pytest.mark.parametrize(
    ("raised", "code", "words"),
    [
        (UsageError("bad flag"), 2, "torchenv: bad flag"),
        (GateFailure("could not read"), 1, "torchenv: could not read"),
        (ZeroDivisionError("oops"), 3, "internal error (ZeroDivisionError: oops). This is a bug in torchenv"),
    ],
)
def test_each_error_is_one_line_and_its_code(monkeypatch, capsys, raised, code, words):
    def run(args):
        raise raised

    monkeypatch.setattr(doctor_cli, "run_doctor", run)
    monkeypatch.delenv("TORCHENV_DEBUG", raising=False)
    assert main(["doctor", "--no-torch"]) == code
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_argparse_usage_errors_are_2(capsys):
    assert main(["doctor", "--format", "html"]) == 2
    assert main([]) == 2


def test_every_own_exception_derives_from_the_root_with_its_code():
    from torchenv.actions.create import CreateError
    from torchenv.model.codec import DecodeError
    from torchenv.monitor.launch import LaunchError
    from torchenv.monitor.nvml import NvmlUnavailable
    from torchenv.planners.export import ExportError as PlanExportError
    from torchenv.planners.target import PlanInputError
    from torchenv.snapshots.export import ExportError as SnapshotExportError
    from torchenv.snapshots.files import SnapshotFileError
    from torchenv.userfiles import UserFileError

    inputs = (UserFileError, DecodeError, CreateError, PlanExportError, SnapshotExportError, SnapshotFileError,
              NvmlUnavailable, PlanInputError)
    for cls in inputs:
        assert issubclass(cls, InputError) and cls("x").exit_code == 2, cls
    for cls in (DecodeError, PlanExportError, SnapshotExportError, PlanInputError):
        assert issubclass(cls, ValueError), cls  # callers that catch ValueError keep working
    assert issubclass(LaunchError, TorchenvError) and LaunchError("x: command not found", 127).exit_code == 127


def test_an_own_error_reaching_main_is_one_line_with_its_code(monkeypatch, capsys):
    from torchenv.monitor.launch import LaunchError
    from torchenv.snapshots.files import SnapshotFileError

    for raised, code in ((SnapshotFileError("a.json: not a torchenv snapshot"), 2), (LaunchError("x: not found", 127), 127)):

        def run(args, raised=raised):
            raise raised

        monkeypatch.setattr(doctor_cli, "run_doctor", run)
        assert main(["doctor", "--no-torch"]) == code
        err = capsys.readouterr().err
        assert err.strip() == f"torchenv: {raised}"
