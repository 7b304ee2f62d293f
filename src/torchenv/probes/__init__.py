"""Edge layer: the only code that reads the machine. `gather_facts` (probes/gather.py) runs every
probe once.

The names below load on first use, so that `torchenv.probes.runner` and `.target_launch` (standard
library only) can be imported by the command line's first moments without the model and every probe.
"""

from __future__ import annotations

__all__ = ["RunResult", "Runner", "gather_facts"]


def __getattr__(name: str):
    if name == "gather_facts":
        from .gather import gather_facts

        return gather_facts
    if name in ("Runner", "RunResult"):
        from . import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
