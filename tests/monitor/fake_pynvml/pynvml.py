"""Stands in for nvidia-ml-py in the CLI tests: put this folder first on PYTHONPATH and point
FAKE_NVML_RECORDING at a recording; FAKE_NVML_INIT_ERROR=9 makes nvmlInit fail (Driver Not Loaded); FAKE_NVML_SPEED=10 replays the
recording ten times faster than real time."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fake_nvml import NVMLError, load

_error = os.environ.get("FAKE_NVML_INIT_ERROR")
_speed = float(os.environ.get("FAKE_NVML_SPEED", "1"))
_fake = load(
    os.environ["FAKE_NVML_RECORDING"],
    init_error=int(_error) if _error else None,
    clock=lambda: time.monotonic() * _speed,
)


def __getattr__(name):
    return getattr(_fake, name)


__all__ = ["NVMLError"]
