"""Stands in for nvidia-ml-py in the CLI tests: put this folder first on PYTHONPATH and point
FAKE_NVML_RECORDING at a recording; FAKE_NVML_INIT_ERROR=9 makes nvmlInit fail (Driver Not Loaded)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fake_nvml import NVMLError, load  # noqa: E402

_error = os.environ.get("FAKE_NVML_INIT_ERROR")
_fake = load(os.environ["FAKE_NVML_RECORDING"], init_error=int(_error) if _error else None)


def __getattr__(name):
    return getattr(_fake, name)


__all__ = ["NVMLError"]
