"""`python -m torchenv.preflight`: the rank worker (see torchenv.preflight._worker.rank)."""

import os
import sys

from ._worker.rank import main

if __name__ == "__main__":
    code = main()
    # Everything is reported: skip the interpreter's teardown (NCCL communicators, CUDA contexts, gloo
    # threads), which can take seconds or hang when a peer is gone.
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)
