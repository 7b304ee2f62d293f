"""One diagnostic type (issue 14.2): diff's differences, verify's checks and explain's matches each carry a
`Finding` and only their command's own context, never a second id/severity/explanation of their own."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from torchenv.checks.explain import ExplainMatch
from torchenv.model.finding import Finding
from torchenv.model.snapshot import Difference, VerifyCheck

DIAGNOSTIC_FIELDS = {"id", "category", "severity", "layer", "title", "evidence", "explanation", "fix", "source"}


@pytest.mark.parametrize("record", [Difference, VerifyCheck, ExplainMatch])
def test_a_command_record_is_a_finding_with_context(record):
    hints = typing.get_type_hints(record)
    assert hints["finding"] is Finding, f"{record.__name__}.finding is not a Finding"
    own = {f.name for f in dataclasses.fields(record)} - {"finding"}
    assert not own & DIAGNOSTIC_FIELDS, f"{record.__name__} repeats {own & DIAGNOSTIC_FIELDS} beside its finding"
