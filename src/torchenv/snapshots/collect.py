"""Take a snapshot of this machine: the probes gather the Facts and, for a conda environment, its
conda-meta directory (probes.conda_meta); this module only composes them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from ..model import known
from ..model.snapshot import Snapshot
from ..probes.conda_meta import read_conda_meta
from .build import snapshot_from_facts


def take_snapshot(
    *,
    python: str | None = None,
    timeout: float = 120.0,
    environ: Mapping[str, str] | None = None,
    root: Path = Path("/"),
    runner=None,
    now: datetime | None = None,
    with_torch: bool = True,
) -> Snapshot:
    from .. import __version__
    from ..probes import gather_facts

    facts = gather_facts(
        python=python,
        with_torch=with_torch,
        smoke=False,  # a snapshot records the environment; the doctor proves the GPU computes
        import_companions=False,
        timeout=timeout,
        environ=environ,
        root=root,
        runner=runner,
    )
    conda = None
    if known(facts.python) and facts.python.conda_prefix:
        conda = read_conda_meta(facts.python.conda_prefix, root)
    return snapshot_from_facts(facts, conda=conda, created=now, torchenv_version=__version__)
