"""Performance: `torchenv bench` (and the harness `tune` builds on).

Torch code runs only in `_worker/` scripts executed inside the target interpreter; everything else
here (statistics, ratios, likely causes, report assembly) is pure and never imports torch.
"""

from .causes import Context, context_from
from .report import Hardware, build_report
from .run import WorkerRun, run_suite, run_worker, worker_argv
from .stats import summarize

__all__ = [
    "Context",
    "Hardware",
    "WorkerRun",
    "build_report",
    "context_from",
    "run_suite",
    "run_worker",
    "summarize",
    "worker_argv",
]
