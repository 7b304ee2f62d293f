"""torchenv knowledge: versioned data (with provenance) about CUDA drivers, torch wheels and GPUs.

Pure: reads only the TOML files in ``data/``. ``tools/refresh_knowledge.py`` refreshes them.
"""

from __future__ import annotations

from ._store import Knowledge, load_knowledge, normalize_gpu_name
from .arch import Arch, ArchMatch, arch_runs_on, parse_arch
from .models import DriverFloor, GpuModel, TorchRelease

__all__ = [
    "Arch",
    "ArchMatch",
    "DriverFloor",
    "GpuModel",
    "Knowledge",
    "TorchRelease",
    "arch_runs_on",
    "load_knowledge",
    "normalize_gpu_name",
    "parse_arch",
]
