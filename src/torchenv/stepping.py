"""`torchenv.step()`: marks the end of one training step for the torchenv tool running the job.

Under `torchenv profile -- python train.py …` it advances the profiler's schedule: the perf worker
runtime registers a module named HOOK_MODULE in sys.modules (torchenv_perf_worker's plan_script)
and each call goes to its `step()`; after the last recorded step that call ends the script. Under
`torchenv monitor` it appends a step mark to the monitor's file (torchenv.monitor.steps). Anywhere
else it does nothing and returns at once. Standard library only: it runs inside the user's job.
"""

from __future__ import annotations

import sys

from .monitor.steps import step as _monitor_step

HOOK_MODULE = "torchenv_profile_hook"  # the name the worker runtime registers (plan_script.HOOK_MODULE)


def step() -> None:
    """Marks the end of one training step (a no-op unless run under `torchenv profile` or `monitor`)."""
    hook = sys.modules.get(HOOK_MODULE)
    if hook is not None:
        hook.step()
    _monitor_step()
