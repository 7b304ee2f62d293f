"""verify's text (render/snapshot_text.py), byte for byte as the command printed it before it moved."""

from __future__ import annotations

import pytest

from torchenv.render.snapshot_text import render_verify
from torchenv.snapshots.verify import verify_check

OK = verify_check("verify-python", "host", "ok", "Python", "3.12.3 as recorded", check="python")
FAIL = verify_check(
    "driver-too-old", "host", "fail", "driver", "535.104.05 < 580.65.06 (CUDA 13.0)", check="driver-floor"
)
ENV = verify_check(
    "package-installed-twice", "env", "warn", "package numpy", "2.1.0, recorded 2.0.2", check="double-install"
)


@pytest.mark.parametrize(
    ("checks", "host_only", "expected"),
    [
        (
            [OK, ENV],
            False,
            "ok    host  Python: 3.12.3 as recorded\nWARN  env   package numpy: 2.1.0, recorded 2.0.2\n\n"
            "s.json: this environment matches the snapshot\n",
        ),
        (
            [OK, FAIL],
            False,
            "ok    host  Python: 3.12.3 as recorded\nFAIL  host  driver: 535.104.05 < 580.65.06 (CUDA 13.0)\n\n"
            "s.json: this environment does not match the snapshot\n",
        ),
        ([OK], True, "ok    host  Python: 3.12.3 as recorded\n\ns.json: this host can run it\n"),
        ([FAIL], True, "FAIL  host  driver: 535.104.05 < 580.65.06 (CUDA 13.0)\n\ns.json: this host cannot run it\n"),
        ([], True, "\ns.json: this host can run it\n"),
    ],
)
def test_verify_text(checks, host_only, expected):
    assert render_verify(checks, "s.json", host_only=host_only) == expected
