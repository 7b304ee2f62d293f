"""How the torch probe is started: its argv and environment (standard library only).

Kept apart from `target.py` (which parses the records into model facts) so the command line can
start the probe before it imports anything else of torchenv (`cli/doctor_early.py`): the child's
`import torch` is the long pole of the doctor, and every millisecond before its start is added to it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

SCRIPT = Path(__file__).parent / "_scripts" / "target_probe.py"
MARK = "@@torchenv@@ "

# The folder torchenv itself is imported from: on PYTHONPATH when torchenv runs from a source checkout,
# but not part of the environment being diagnosed.
OWN_IMPORT_ROOT = os.path.realpath(Path(__file__).resolve().parent.parent.parent)


def target_argv(python: str, *, with_torch: bool = True, smoke: bool = True, import_companions: bool = False) -> list[str]:
    argv = [python, str(SCRIPT)]
    if not with_torch:
        argv.append("--no-torch")
    else:
        if smoke:
            argv.append("--smoke")
        if import_companions:
            argv.append("--import-companions")
    return argv


def target_cwd() -> str:
    """A neutral working directory: a stray torch.py in the user's cwd must not shadow torch there."""
    return tempfile.gettempdir()


def probe_environment(environ: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ if environ is None else environ)
    if env.get("PYTHONPATH"):
        # Absolute, because the probe runs in another directory than the user's (symlinks kept).
        kept = [
            os.path.abspath(p)
            for p in env["PYTHONPATH"].split(os.pathsep)
            if p and os.path.realpath(p) != OWN_IMPORT_ROOT
        ]
        if kept:
            env["PYTHONPATH"] = os.pathsep.join(kept)
        else:
            env.pop("PYTHONPATH")
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONSTARTUP", None)
    return env
