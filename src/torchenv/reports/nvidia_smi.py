"""Parse `nvidia-smi --query-gpu ... --format=csv` (with or without header and units)."""

from __future__ import annotations

import csv
import io
import re

from ..model import GpuFacts, Unknown

# The fields torchenv asks for, in order; a captured CSV may carry any subset under its header.
QUERY_FIELDS = (
    "index",
    "name",
    "uuid",
    "compute_cap",
    "memory.total",
    "memory.used",
    "pcie.link.gen.current",
    "pcie.link.gen.max",
    "pcie.link.width.current",
    "pcie.link.width.max",
    "mig.mode.current",
    "persistence_mode",
    "ecc.mode.current",
    "ecc.errors.uncorrected.volatile.total",
    "utilization.gpu",
    "driver_version",
)


def _number(value: str | None) -> int | Unknown:
    if value is None:
        return Unknown("not in the nvidia-smi output")
    match = re.match(r"^\s*(\d+)", value)
    return int(match.group(1)) if match else Unknown(f"nvidia-smi said {value.strip()!r}")


def _flag(value: str | None) -> bool | Unknown:
    if value is None:
        return Unknown("not in the nvidia-smi output")
    lowered = value.strip().lower()
    if lowered in ("enabled", "on", "yes"):
        return True
    if lowered in ("disabled", "off", "no"):
        return False
    return Unknown(f"nvidia-smi said {value.strip()!r}")


def _cc(value: str | None) -> tuple[int, int] | Unknown:
    match = re.match(r"^\s*(\d+)\.(\d+)\s*$", value or "")
    if not match:
        return Unknown("compute capability not in the nvidia-smi output")
    return int(match.group(1)), int(match.group(2))


def parse_query_gpu_csv(text: str, fields: tuple[str, ...] = QUERY_FIELDS) -> tuple[list[GpuFacts], str | None]:
    """Return the GPUs and the driver version (if the query had it)."""
    # Normalise line ends first: csv raises on a lone carriage return inside a field.
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    try:
        rows = [row for row in csv.reader(io.StringIO(text), skipinitialspace=True) if row and any(row)]
    except csv.Error:
        return [], None
    if rows and rows[0] and rows[0][0].strip().split(" ")[0] in ("index", "name"):
        fields = tuple(cell.strip().split(" [")[0] for cell in rows[0])
        rows = rows[1:]
    gpus = []
    driver = None
    for position, row in enumerate(rows):
        if len(row) != len(fields):
            continue
        cell = {f: v.strip() for f, v in zip(fields, row, strict=True)}
        driver = cell.get("driver_version") or driver
        gpus.append(
            GpuFacts(
                index=int(cell["index"]) if cell.get("index", "").isdigit() else position,
                name=cell.get("name") or "unknown GPU",
                uuid=cell.get("uuid") or Unknown("not in the nvidia-smi output"),
                cc=_cc(cell.get("compute_cap")),
                memory_total_mib=_number(cell.get("memory.total")),
                memory_used_mib=_number(cell.get("memory.used")),
                pcie_gen_current=_number(cell.get("pcie.link.gen.current")),
                pcie_gen_max=_number(cell.get("pcie.link.gen.max")),
                pcie_width_current=_number(cell.get("pcie.link.width.current")),
                pcie_width_max=_number(cell.get("pcie.link.width.max")),
                mig_enabled=_flag(cell.get("mig.mode.current")),
                persistence_mode=_flag(cell.get("persistence_mode")),
                ecc_enabled=_flag(cell.get("ecc.mode.current")),
                ecc_uncorrected_errors=_number(cell.get("ecc.errors.uncorrected.volatile.total")),
                compute_processes=Unknown("not in the nvidia-smi query"),
                other_processes_memory_mib=Unknown("not in the nvidia-smi query"),
                utilization_percent=_number(cell.get("utilization.gpu")),
            )
        )
    return gpus, driver
