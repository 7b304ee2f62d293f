"""Torch code of `torchenv tune`: runs in the target interpreter (tune_worker.py) or, for the
Python API, in the caller's process. Python 3.8+ syntax; imports torch only inside functions."""
