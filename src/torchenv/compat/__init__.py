"""The one place that judges compatibility (pure): every command asks it, nobody else compares versions.

* driver ↔ CUDA, per OS and WSL (`driver.driver_support`);
* driver ↔ GPU generation, and compute capability ↔ a wheel's arch list (`gpu`);
* platform ↔ variants, Python ↔ release incl. free-threaded builds, Jetson (`platform`).

Each answer carries the floor or row it was judged against and that row's source. `checks/`
(doctor), `planners/` (plan, create), `snapshots/verify.py` and explain's conditions call it.
"""

from .driver import FULL, MINOR_COMPAT, TOO_OLD, UNKNOWN, DriverSupport, driver_support, driver_table
from .gpu import NATIVE, NONE, PTX_JIT, SAME_MAJOR, GpuCode, GpuDriverSupport, driver_drives_gpu, gpu_code

__all__ = [
    "FULL",
    "MINOR_COMPAT",
    "NATIVE",
    "NONE",
    "PTX_JIT",
    "SAME_MAJOR",
    "TOO_OLD",
    "UNKNOWN",
    "DriverSupport",
    "GpuCode",
    "GpuDriverSupport",
    "driver_drives_gpu",
    "driver_support",
    "driver_table",
    "gpu_code",
]
