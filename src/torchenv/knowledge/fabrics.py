"""What a fabric should give: data/fabrics.toml (NVLink generations, expected all-reduce bus
bandwidth inside a node and per NIC across nodes), loaded through one injectable object. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ._store import DATA_DIR, tomllib

FABRICS_FILE = "fabrics.toml"


@dataclass(frozen=True, slots=True)
class NvlinkGeneration:
    architecture: str
    generation: int
    links: int
    source: str


@dataclass(frozen=True, slots=True)
class Expectation:
    """Expected peak all-reduce busbw inside one node on one kind of fabric."""

    id: str
    fabric: str  # "nvlink" | "pcie"
    busbw_gbs: float
    source: str
    confidence: str = "transcribed"
    collective: str = "all_reduce"
    generation: int | None = None  # NVLink generation
    nvls: bool = False
    pcie_gen: int | None = None
    gpus_min: int | None = None  # GPUs on the node the figure holds for
    gpus_max: int | None = None
    per_links: int | None = None  # active NVLinks per GPU the figure holds for
    note: str = ""

    def fits(self, gpus: int) -> bool:
        return (self.gpus_min is None or gpus >= self.gpus_min) and (self.gpus_max is None or gpus <= self.gpus_max)


@dataclass(frozen=True, slots=True)
class NetworkExpectation:
    id: str
    busbw_gbs_per_100gbits: float
    source: str
    confidence: str = "transcribed"
    note: str = ""


class FabricKnowledge:
    """Read-only view of fabrics.toml. Build it with :func:`load_fabrics`."""

    def __init__(self, doc: dict[str, Any]):
        self.version: str = str(doc["meta"]["knowledge_version"])
        self.nvlinks = tuple(
            NvlinkGeneration(r["architecture"], int(r["generation"]), int(r["links"]), r["source"])
            for r in doc.get("nvlink", [])
        )
        self.expectations = tuple(
            Expectation(
                id=r["id"],
                fabric=r["fabric"],
                busbw_gbs=float(r["busbw_gbs"]),
                source=r["source"],
                confidence=r.get("confidence", "transcribed"),
                collective=r.get("collective", "all_reduce"),
                generation=r.get("generation"),
                nvls=bool(r.get("nvls", False)),
                pcie_gen=r.get("pcie_gen"),
                gpus_min=r.get("gpus_min"),
                gpus_max=r.get("gpus_max"),
                per_links=r.get("per_links"),
                note=r.get("note", ""),
            )
            for r in doc.get("expected", [])
        )
        self.networks = {
            r["id"]: NetworkExpectation(
                r["id"], float(r["busbw_gbs_per_100gbits"]), r["source"], r.get("confidence", "transcribed"), r.get("note", "")
            )
            for r in doc.get("network", [])
        }

    def nvlink_generation(self, architecture: str | None) -> NvlinkGeneration | None:
        if not architecture:
            return None
        return next((n for n in self.nvlinks if n.architecture.lower() == architecture.lower()), None)

    def expected_nvlink(self, generation: int, *, nvls: bool, gpus: int) -> Expectation | None:
        rows = [e for e in self.expectations if e.fabric == "nvlink" and e.generation == generation and e.fits(gpus)]
        exact = [e for e in rows if e.nvls == nvls]
        return (exact or [e for e in rows if not e.nvls] or [None])[0]

    def expected_pcie(self, pcie_gen: int, *, gpus: int) -> Expectation | None:
        rows = [e for e in self.expectations if e.fabric == "pcie" and e.pcie_gen == pcie_gen and e.fits(gpus)]
        return rows[0] if rows else None

    def network(self, rdma: bool) -> NetworkExpectation | None:
        return self.networks.get("rdma-per-nic" if rdma else "sockets-per-nic")


def read_fabrics_doc(data_dir: Path = DATA_DIR) -> dict[str, Any]:
    return tomllib.loads((data_dir / FABRICS_FILE).read_text(encoding="utf-8"))


@lru_cache(maxsize=4)
def _load(data_dir: str) -> FabricKnowledge:
    return FabricKnowledge(read_fabrics_doc(Path(data_dir)))


def load_fabrics(data_dir: str | Path | None = None) -> FabricKnowledge:
    """Load (and cache) fabrics.toml from ``data_dir`` (default: the packaged data)."""
    return _load(str(Path(data_dir).resolve()) if data_dir is not None else str(DATA_DIR))


__all__ = ["Expectation", "FabricKnowledge", "NetworkExpectation", "NvlinkGeneration", "load_fabrics"]
