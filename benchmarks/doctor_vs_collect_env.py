"""Superseded by doctor_speed.py, which times the same commands (doctor --json, --no-torch,
collect_env) in the same interleaved run, beside the floor, the terminal doctor, the first verdict and
the peer doctors. Kept so that older notes' command lines still run:

    python benchmarks/doctor_vs_collect_env.py [--runs 5] [--python PATH] [--out FILE]
"""

from __future__ import annotations

import runpy
from pathlib import Path

if __name__ == "__main__":
    runpy.run_path(str(Path(__file__).with_name("doctor_speed.py")), run_name="__main__")
