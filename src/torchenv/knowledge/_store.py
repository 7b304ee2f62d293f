"""Loading the TOML data and answering queries over it (pure; no network, no machine state)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from .models import DriverFloor, GpuGeneration, GpuModel, GpuResolution, TorchRelease

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10 needs the tomli backport
    import tomli as tomllib  # type: ignore[no-redef]

DATA_DIR = Path(__file__).resolve().parent / "data"
FILES = ("cuda_drivers.toml", "torch_releases.toml", "wheel_arches.toml", "gpus.toml", "gpu_generations.toml")
_OSES = {"linux": "linux", "windows": "windows", "win32": "windows", "win": "windows"}
_CUDA_RE = re.compile(r"^\s*(?:cuda\s*|cu)?(\d+)\.(\d+)(?:\.(\d+))?(?:\.\d+)*\s*$", re.I)
_VARIANT_RE = re.compile(r"^cu(\d{2,3})$")
_GPU_PREFIXES = ("nvidia", "geforce", "tesla")
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")


def _version(text: object) -> Version | None:
    if not isinstance(text, str):
        return None
    try:
        return Version(text.strip())
    except InvalidVersion:
        return None


def normalize_gpu_name(name: str) -> str:
    words = re.sub(r"[^0-9a-z]+", " ", name.lower()).split()
    while words and words[0] in _GPU_PREFIXES:
        words.pop(0)
    return " ".join(words)


def _gpu_tokens(name: str) -> tuple[str, ...]:
    """Case, spacing and vendor prefixes ignored; letters and digits split: "RTX4090" == "rtx 4090"."""
    words = _LETTER_DIGIT.sub(" ", re.sub(r"[^0-9a-z]+", " ", name.lower())).split()
    return tuple(w for w in words if w not in _GPU_PREFIXES)


def _contains_in_order(tokens: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    """Every wanted token appears, in order ("jetson orin" is in "jetson agx orin")."""
    rest = iter(tokens)
    return bool(wanted) and all(any(t == w for t in rest) for w in wanted)


@dataclass(frozen=True, slots=True)
class _WheelRow:
    spec: SpecifierSet
    variant: str
    arches: tuple[str, ...]
    arch: str = "x86_64"  # the CPU architecture of the wheel: aarch64 (SBSA) builds carry their own lists


class Knowledge:
    """Read-only view of the data files. Build it with :func:`load_knowledge`."""

    def __init__(self, docs: dict[str, dict[str, Any]]):
        metas = {d["meta"]["knowledge_version"] for d in docs.values()}
        self.version: str = sorted(metas)[-1]
        self.schema_version: int = max(int(d["meta"]["schema_version"]) for d in docs.values())
        drivers = docs["cuda_drivers.toml"]
        self._toolkits = [r for r in drivers.get("toolkit", [])]
        self._toolkit_versions = [(Version(r["cuda"]), r) for r in self._toolkits]  # parsed once: asked per candidate
        self._minor = {int(r["major"]): r for r in drivers.get("minor_compat", [])}
        self._releases = tuple(
            sorted((self._release(r) for r in docs["torch_releases.toml"]["release"]), key=lambda r: Version(r.version))
        )
        self._by_version = {Version(r.version): r for r in self._releases}
        self._wheels = tuple(
            _WheelRow(SpecifierSet(r["torch"]), r["variant"].lower(), tuple(r["arches"]), r.get("arch", "x86_64"))
            for r in docs["wheel_arches.toml"].get("wheel", [])
        )
        self._gpus = tuple(self._gpu(r) for r in docs["gpus.toml"].get("gpu", []))
        self._gpu_index: dict[str, GpuModel] = {}
        self._gpu_tokens: dict[tuple[str, ...], GpuModel] = {}
        for gpu in self._gpus:
            for key in (gpu.name, *gpu.aliases):
                self._gpu_index.setdefault(normalize_gpu_name(key), gpu)
                self._gpu_tokens.setdefault(_gpu_tokens(key), gpu)
        self._generations = tuple(
            self._generation(r) for r in docs.get("gpu_generations.toml", {}).get("generation", [])
        )

    # ------------------------------------------------------------------ builders
    @staticmethod
    def _release(r: dict[str, Any]) -> TorchRelease:
        return TorchRelease(
            version=r["version"],
            released=r.get("released", ""),
            python=tuple(r.get("python", ())),
            variants=tuple(r.get("variants", ())),
            pypi_default_variant=r.get("pypi_default_variant"),
            cudnn=dict(r.get("cudnn", {})),
            nccl=dict(r.get("nccl", {})),
            torchvision=r.get("torchvision"),
            torchaudio=r.get("torchaudio"),
            source=r.get("source", ""),
            confidence=r.get("confidence", "transcribed"),
            note=r.get("note", ""),
            python_freethreaded=tuple(r.get("python_freethreaded", ())),
        )

    @staticmethod
    def _generation(r: dict[str, Any]) -> GpuGeneration:
        ccs = tuple((int(c.split(".")[0]), int(c.split(".")[1])) for c in r.get("ccs", ()))
        return GpuGeneration(
            architecture=r["architecture"],
            ccs=ccs,
            min_branch=r.get("min_driver_branch"),
            min_driver=r.get("min_driver"),
            max_branch=r.get("max_driver_branch"),
            note=r.get("note", ""),
            source=r.get("source", ""),
        )

    @staticmethod
    def _gpu(r: dict[str, Any]) -> GpuModel:
        return GpuModel(
            name=r["name"],
            aliases=tuple(r.get("aliases", ())),
            cc=(int(r["cc"][0]), int(r["cc"][1])),
            architecture=r.get("architecture", ""),
            memory_gb=r.get("memory_gb"),
            peak_tflops={k: float(v) for k, v in r.get("peak_tflops", {}).items()},
            memory_bandwidth_gbs=r.get("memory_bandwidth_gbs"),
            source=r.get("source", ""),
            confidence=r.get("confidence", "transcribed"),
        )

    # ------------------------------------------------------------------ CUDA drivers
    def cuda_driver_floor(self, cuda: str, os: str = "linux") -> DriverFloor | None:
        """Minimum driver for a CUDA toolkit ("12.4" = GA, "12.4.1" = Update 1, "cu124" ok)."""
        if not isinstance(cuda, str) or not isinstance(os, str):
            return None
        osname = _OSES.get(os.strip().lower())
        m = _CUDA_RE.match(cuda)
        if m is None and (vm := _VARIANT_RE.match(cuda.strip().lower())):
            digits = vm[1]
            m = _CUDA_RE.match(f"{digits[:-1]}.{digits[-1]}")
        if osname is None or m is None:
            return None
        major, minor = int(m[1]), int(m[2])
        patch = int(m[3]) if m[3] is not None else None
        rows = [(v.micro, r) for v, r in self._toolkit_versions if (v.major, v.minor) == (major, minor)]
        if not rows:
            return None
        rows.sort(key=lambda t: t[0])
        if patch is None:
            row = rows[0][1]
        else:
            fitting = [r for p, r in rows if p <= patch]
            row = fitting[-1] if fitting else rows[0][1]
        compat = self._minor.get(major, {})
        label = f"{major}.{minor}" if patch is None else row["cuda"]
        confidence = "inferred" if osname in row.get("inferred_fields", ()) else "transcribed"
        return DriverFloor(
            cuda=label,
            full_support=row.get(osname),
            minor_compat=compat.get(osname),
            source=row["source"],
            os=osname,
            label=row.get("label", ""),
            confidence=confidence,
        )

    # ------------------------------------------------------------------ torch releases
    def torch_releases(self) -> tuple[TorchRelease, ...]:
        return self._releases

    def torch_release(self, version: str) -> TorchRelease | None:
        """``"2.11.0+cu130"``, ``"2.5.1"`` or ``"2.5"`` (newest patch of that minor)."""
        v = _version(version)
        if v is None:
            return None
        public = Version(v.public)  # drops only the local "+cu130" part; dev/rc builds stay distinct
        if len(v.release) == 2 and public == Version(".".join(map(str, v.release))):
            same = [r for k, r in self._by_version.items() if k.release[:2] == v.release]
            return same[-1] if same else None
        return self._by_version.get(public)

    # ------------------------------------------------------------------ wheel arches
    def wheel_arches(self, torch_version: str, variant: str, arch: str = "x86_64") -> tuple[str, ...] | None:
        """The arch list of a wheel; aarch64 rows where recorded, else None for aarch64 (never x86's by guess)."""
        v = _version(torch_version)
        if v is None or not isinstance(variant, str):
            return None
        base = Version(v.base_version)
        want = variant.strip().lower().lstrip("+")
        for row in self._wheels:
            if row.variant == want and row.arch == arch and row.spec.contains(base, prereleases=True):
                return row.arches
        return None

    def wheel_variants(self) -> tuple[tuple[str, str], ...]:
        """(specifier, variant) of every wheel_arches row, for consistency checks."""
        return tuple((str(r.spec), r.variant) for r in self._wheels)

    # ------------------------------------------------------------------ GPUs
    def gpus(self) -> tuple[GpuModel, ...]:
        return self._gpus

    def gpu_by_name(self, name: str) -> GpuModel | None:
        if not isinstance(name, str):
            return None
        return self._gpu_index.get(normalize_gpu_name(name))

    def suggest_gpus(self, name: str, n: int = 3) -> list[str]:
        if not isinstance(name, str) or not isinstance(n, int) or n <= 0:
            return []
        query = normalize_gpu_name(name)
        if not query:
            return []
        out: list[str] = []
        for key, gpu in self._gpu_index.items():  # substrings first: "rtx 409" -> "rtx 4090"
            if query in key and gpu.name not in out:
                out.append(gpu.name)
        for key in difflib.get_close_matches(query, list(self._gpu_index), n=n * 3, cutoff=0.5):
            gpu = self._gpu_index[key]
            if gpu.name not in out:
                out.append(gpu.name)
        return out[:n]

    def resolve_gpu(self, name: str) -> GpuResolution:
        """A GPU name the way people type it: exact model first, else every model of that family.

        "H100" covers H100 SXM5/PCIe/NVL (one compute capability, so it resolves); "RTX 6000" covers
        a Turing, an Ada and a Blackwell card (ambiguous: the caller lists the choices).
        """
        if not isinstance(name, str):
            return GpuResolution("", (), False)
        tokens = _gpu_tokens(name)
        exact = self._gpu_tokens.get(tokens)
        if exact is not None:
            return GpuResolution(name, (exact,), True)
        family: list[GpuModel] = []
        for key, gpu in self._gpu_tokens.items():
            if _contains_in_order(key, tokens) and gpu not in family:
                family.append(gpu)
        return GpuResolution(name, tuple(family), False)

    def generations(self) -> tuple[GpuGeneration, ...]:
        return self._generations

    def generation_for(self, *, cc: tuple[int, int] | None = None, architecture: str | None = None):
        """The generation of a compute capability (or of an architecture name); None when not recorded."""
        for gen in self._generations:
            if cc is not None and tuple(cc) in gen.ccs:
                return gen
            if cc is None and architecture and gen.architecture.lower() == architecture.lower():
                return gen
        return None

    def known_ccs(self) -> frozenset[tuple[int, int]]:
        """Compute capabilities NVIDIA has shipped (generations and GPU models): others are refused."""
        return frozenset(c for g in self._generations for c in g.ccs) | frozenset(g.cc for g in self._gpus)

    def gpus_with_cc(self, cc: tuple[int, int]) -> list[GpuModel]:
        if not (isinstance(cc, tuple) and len(cc) == 2):
            return []
        return [g for g in self._gpus if g.cc == cc]


def read_docs(data_dir: Path) -> dict[str, dict[str, Any]]:
    return {
        name: tomllib.loads((data_dir / name).read_text(encoding="utf-8"))
        for name in FILES
        if (data_dir / name).exists() or name != "gpu_generations.toml"
    }


@lru_cache(maxsize=8)
def _load(data_dir: str) -> Knowledge:
    return Knowledge(read_docs(Path(data_dir)))


def load_knowledge(data_dir: str | Path | None = None) -> Knowledge:
    """Load (and cache) the knowledge base from ``data_dir`` (default: the packaged data)."""
    return _load(str(Path(data_dir).resolve()) if data_dir is not None else str(DATA_DIR))


__all__ = ["Knowledge", "load_knowledge", "normalize_gpu_name"]
