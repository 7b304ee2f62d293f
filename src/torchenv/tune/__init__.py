"""`torchenv tune`: finds the fastest settings for the user's own training step and DataLoader.

The search, the numerics guard, the DataLoader search and the report are pure (never import
torch); `_worker/` holds the torch code, run in a worker process of the target env by the CLI or in
the caller's process by the Python API `torchenv.tune(...)`. Nothing is imported eagerly here, so
the worker can import the pure modules on any Python 3.8+.
"""

import sys
import types


class _CallableModule(types.ModuleType):
    """`torchenv.tune` is this package once imported, so the package itself is callable:
    `torchenv.tune(model=..., sample=..., ...)` is `torchenv.tune.api.tune(...)`."""

    def __call__(self, *args, **kwargs):
        from .api import tune

        return tune(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
