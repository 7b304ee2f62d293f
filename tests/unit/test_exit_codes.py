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
