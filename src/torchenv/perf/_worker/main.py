"""Starts the perf worker runtime inside the target interpreter: `python main.py bench|tune|profile …`.

The runtime is this folder, a package of its own. It is loaded under a private name so that nothing
of torchenv goes on the user's sys.path and no module named `timing` or `search` can shadow a user's
(or be shadowed by one); inside it every import is a plain relative import. Python 3.8+ syntax.
"""

import importlib
import importlib.util
import os
import sys

PACKAGE = "torchenv_perf_worker"


def load_runtime():
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        PACKAGE, os.path.join(here, "__init__.py"), submodule_search_locations=[here]
    )
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    spec.loader.exec_module(package)
    return importlib.import_module(PACKAGE + ".entry")


if __name__ == "__main__":
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
    entry = load_runtime()
    entry.leave(entry.main())
