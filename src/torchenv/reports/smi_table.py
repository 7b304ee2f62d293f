"""Parse the plain `nvidia-smi` table (the boxed summary every user pastes).

It gives the driver version, the highest CUDA the driver supports, and per GPU: name (sometimes
cut with "..."), persistence mode, memory used/total, utilisation, uncorrected ECC count and MIG
mode. Pure and total: unrecognised text gives None, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import GpuFacts, Unknown

_HEADER = re.compile(
    r"NVIDIA-SMI\s+(?P<smi>[\d.]+)\s+(?:Driver Version:\s*(?P<driver>[\d.]+))?\s*(?:CUDA Version:\s*(?P<cuda>[\d.]+|N/A))?",
    re.I,
)
_DRIVER = re.compile(r"Driver Version:\s*([\d.]+)", re.I)
_CUDA = re.compile(r"CUDA Version:\s*([\d.]+)", re.I)
_FIRST_ROW = re.compile(r"^\|\s*(\d+)\s+(.+?)\s+(On|Off|WDDM|TCC|MCDM|N/A)\s*\|(.*?)\|(.*?)\|?\s*$")
_SECOND_ROW = re.compile(r"^\|.*?\|\s*(\d+)\s*MiB\s*/\s*(\d+)\s*MiB\s*\|\s*(\d+|N/A)\s*%?\s*(.*?)\|?\s*$")
_MIG_ROW = re.compile(r"^\|\s*\|\s*\|\s*(Enabled|Disabled|N/A)\s*\|?\s*$", re.I)
_PROCESS = re.compile(r"^\|\s+(\d+|N/A)\s+(\S+)\s+(\S+)\s+(\d+)\s+([CGM+]{1,3})\s+.*?(\d+|N/A)\s*(MiB)?\s*\|?\s*$")

NOT_IN_TABLE = "not in the nvidia-smi table"


@dataclass(frozen=True, slots=True)
class SmiTable:
    driver_version: str | None
    cuda_driver_version: str | None  # "CUDA Version" in the header: the highest CUDA the driver supports
    gpus: tuple[GpuFacts, ...]
    windows: bool  # WDDM/TCC driver models only exist on Windows


def looks_like_smi_table(text: str) -> bool:
    return bool(re.search(r"NVIDIA-SMI\s+[\d.]+", text)) and "Driver Version" in text


def parse_smi_table(text: str) -> SmiTable | None:
    if not looks_like_smi_table(text):
        return None
    driver = _DRIVER.search(text)
    cuda = _CUDA.search(text)
    lines = text.splitlines()
    rows: list[dict] = []
    processes: dict[int, int] = {}
    in_processes = False
    for position, raw in enumerate(lines):
        line = raw.rstrip()
        if "Processes:" in line:
            in_processes = True
            continue
        if in_processes:
            process = _PROCESS.match(line)
            if process and process.group(1).isdigit():
                index = int(process.group(1))
                processes[index] = processes.get(index, 0) + 1
            continue
        first = _FIRST_ROW.match(line)
        if not first:
            continue
        name = first.group(2).strip()
        if not name or name.startswith("GPU") or name.lower().startswith("name"):
            continue
        row = {"index": int(first.group(1)), "name": name, "persistence": first.group(3), "ecc": first.group(5)}
        for following in lines[position + 1 : position + 3]:
            second = _SECOND_ROW.match(following.rstrip())
            if second and "used" not in row:
                row["used"], row["total"] = int(second.group(1)), int(second.group(2))
                row["util"] = second.group(3)
                continue
            mig = _MIG_ROW.match(following.rstrip())
            if mig:
                row["mig"] = mig.group(1)
        rows.append(row)
    windows = any(r["persistence"] in ("WDDM", "TCC", "MCDM") for r in rows)
    gpus = tuple(_gpu(row, processes, in_processes) for row in rows)
    cuda_version = cuda.group(1) if cuda else None
    return SmiTable(
        driver_version=driver.group(1) if driver else None,
        cuda_driver_version=cuda_version,
        gpus=gpus,
        windows=windows,
    )


def _gpu(row: dict, processes: dict[int, int], processes_listed: bool) -> GpuFacts:
    persistence = {"On": True, "Off": False}.get(row["persistence"], Unknown(f"nvidia-smi showed {row['persistence']}"))
    ecc_text = (row.get("ecc") or "").strip()
    ecc_errors: int | Unknown = (
        int(ecc_text) if ecc_text.isdigit() else Unknown(f"nvidia-smi showed {ecc_text or 'nothing'}")
    )
    mig = row.get("mig")
    util = row.get("util")
    return GpuFacts(
        index=row["index"],
        name=row["name"],
        uuid=Unknown(NOT_IN_TABLE),
        cc=Unknown("the nvidia-smi table has no compute capability"),
        memory_total_mib=row.get("total", Unknown(NOT_IN_TABLE)),
        memory_used_mib=row.get("used", Unknown(NOT_IN_TABLE)),
        pcie_gen_current=Unknown(NOT_IN_TABLE),
        pcie_gen_max=Unknown(NOT_IN_TABLE),
        pcie_width_current=Unknown(NOT_IN_TABLE),
        pcie_width_max=Unknown(NOT_IN_TABLE),
        mig_enabled={"enabled": True, "disabled": False}.get((mig or "").lower(), Unknown(NOT_IN_TABLE)),
        persistence_mode=persistence,
        ecc_enabled=Unknown(NOT_IN_TABLE),
        ecc_uncorrected_errors=ecc_errors,
        compute_processes=processes.get(row["index"], 0) if processes_listed else Unknown(NOT_IN_TABLE),
        other_processes_memory_mib=Unknown(NOT_IN_TABLE),
        utilization_percent=int(util) if util and util.isdigit() else Unknown(NOT_IN_TABLE),
    )
