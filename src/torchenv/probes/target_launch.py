"""How the torch probe is started: its argv and environment (standard library only).

Kept apart from `target.py` (which parses the records into model facts) so the command line can
start the probe before it imports anything else of torchenv (`cli/doctor_early.py`): the child's
`import torch` is the long pole of the doctor, and every millisecond before its start is added to it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

SCRIPT = Path(__file__).parent / "_scripts" / "target_probe.py"
MARK = "@@torchenv@@ "

# The folder torchenv itself is imported from: on PYTHONPATH when torchenv runs from a source checkout,
# but not part of the environment being diagnosed.
OWN_IMPORT_ROOT = os.path.realpath(Path(__file__).resolve().parent.parent.parent)


# "0" keeps the probe off torchenv's own bytecode folder (it then compiles torch as the user's processes do).
BYTECODE_OPT_OUT = "TORCHENV_PROBE_BYTECODE"


def target_argv(
    python: str,
    *,
    with_torch: bool = True,
    smoke: bool = True,
    import_companions: bool = False,
    bytecode_folder: str | None = None,
) -> list[str]:
    argv = [python, str(SCRIPT)]
    if not with_torch:
        argv.append("--no-torch")
    else:
        if smoke:
            argv.append("--smoke")
        if import_companions:
            argv.append("--import-companions")
        if bytecode_folder:
            argv += ["--bytecode-folder", bytecode_folder]
    return argv


def probe_bytecode_folder(environ: Mapping[str, str] | None = None) -> str | None:
    """Where the probe may keep torch's compiled bytecode when the interpreter keeps none itself.

    Images that set PYTHONDONTWRITEBYTECODE=1 and ship torch without __pycache__ make every `import torch`
    compile torch again: 3.2-4.3 s instead of 1.6-2.0 s on the lent H200 (benchmarks/results/h200-round6).
    The probe then reads torch through this folder (torchenv's own cache, never the user's files); the
    `torch-import-uncached` finding still reports the user's own state. None when opted out.
    """
    env = os.environ if environ is None else environ
    if env.get(BYTECODE_OPT_OUT, "").strip().lower() in ("0", "no", "off", "false"):
        return None
    home = env.get("HOME") or os.path.expanduser("~")
    if sys.platform == "win32":
        base = env.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
        return os.path.join(base, "torchenv", "Cache", "bytecode")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Caches", "torchenv", "bytecode")
    return os.path.join(env.get("XDG_CACHE_HOME") or os.path.join(home, ".cache"), "torchenv", "bytecode")


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
