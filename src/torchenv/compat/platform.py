"""Platform ↔ variants: which torch builds exist for an OS and CPU architecture (pure).

Data: knowledge/data/platform_wheels.toml (Linux x86_64 has the full matrix; Windows, macOS and
aarch64 get subsets), read here and nowhere else. Jetson boards are their own platform: NVIDIA's
JetPack wheels (the [[jetpack]] rows), never the generic aarch64 (SBSA) builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from ..knowledge.platforms import platform_data
from ..model.versions import cuda_of_variant
from ..model.versions import version_numbers as _numbers

INDEX = "https://download.pytorch.org/whl/"


# ---------------------------------------------------------------------------------------------------
# Platforms other than Linux x86_64 (data: data/platform_wheels.toml), used by `torchenv plan`.

PYPI_INDEX = "https://pypi.org/simple"
_ARCHES = {"x86_64": "x86_64", "amd64": "x86_64", "x64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}
_OS_NAMES = {
    "linux": "linux",
    "windows": "windows",
    "win32": "windows",
    "win": "windows",
    "macos": "macos",
    "darwin": "macos",
    "osx": "macos",
    "mac": "macos",
}


@dataclass(frozen=True, slots=True)
class PlatformRule:
    os: str
    arch: str
    torch: str  # PEP 440 specifier over the release
    cuda: str  # "all", "none", ">=cu128"
    pypi_default: str  # "release", "cpu", "mps", "cu130"
    note: str
    source: str
    confidence: str


def normalize_os(name: str) -> str | None:
    return _OS_NAMES.get(name.strip().lower()) if isinstance(name, str) else None


def normalize_arch(name: str, os: str = "linux") -> str | None:
    """ "arm64"/"aarch64" -> "aarch64" on Linux and Windows, "arm64" on macOS; "amd64" -> "x86_64"."""
    if not isinstance(name, str):
        return None
    arch = _ARCHES.get(name.strip().lower())
    if arch == "aarch64" and os == "macos":
        return "arm64"
    return arch


def _platform_data() -> dict:
    return platform_data()  # read by the knowledge layer: compat judges, it does not read files


@lru_cache(maxsize=4096)
def _contains(spec: str, version: str) -> bool:
    try:
        return SpecifierSet(spec).contains(Version(Version(version).base_version), prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return False


def platform_rule(torch: str, os: str, arch: str) -> PlatformRule | None:
    """The rule for a torch release on an os/arch; None when no build exists there."""
    for row in _platform_data().get("platform", []):
        if row["os"] == os and row["arch"] == arch and _contains(row["torch"], torch):
            return PlatformRule(
                os=row["os"],
                arch=row["arch"],
                torch=row["torch"],
                cuda=row["cuda"],
                pypi_default=row["pypi_default"],
                note=row.get("note", ""),
                source=row["source"],
                confidence=row.get("confidence", "transcribed"),
            )
    return None


def pypi_pythons(torch: str, os: str, arch: str) -> tuple[str, ...] | None:
    """CPython versions with a PyPI wheel for this release on os/arch (None: not recorded)."""
    for row in _platform_data().get("pypi", []):
        if row["os"] == os and row["arch"] == arch and _contains(row["torch"], torch):
            return tuple(row["python"])
    return None


def pythons_for(release, os: str, arch: str) -> tuple[str, ...]:
    """The Python versions a release supports on os/arch: the PyPI wheel tags there, else the release's list."""
    return pypi_pythons(release.version, os, arch) or tuple(release.python)


def variants_on(release, os: str, arch: str) -> list[str]:
    """Build variants of a release that exist on os/arch: "cpu", "mps" and/or "cuXYZ" (no ROCm)."""
    rule = platform_rule(release.version, os, arch)
    if rule is None:
        return []
    if rule.pypi_default == "mps":
        return ["mps"]
    out = ["cpu"]
    cuda = [v for v in release.variants if cuda_of_variant(v)]
    if rule.cuda == "none":
        cuda = []
    elif rule.cuda.startswith(">="):
        floor = _numbers(cuda_of_variant(rule.cuda[2:]) or "0")
        cuda = [v for v in cuda if _numbers(cuda_of_variant(v) or "0") >= floor]
    if rule.pypi_default.startswith("cu") and rule.pypi_default not in cuda:
        cuda.append(rule.pypi_default)
    return out + sorted(cuda, key=lambda v: _numbers(cuda_of_variant(v) or "0"))


def pypi_default_variant(release, os: str, arch: str) -> str | None:
    """What a plain `pip install torch==X` from PyPI gives on os/arch."""
    rule = platform_rule(release.version, os, arch)
    if rule is None:
        return None
    return release.pypi_default_variant if rule.pypi_default == "release" else rule.pypi_default


def index_url_for(variant: str, os: str = "linux") -> str:
    """The index that serves a variant: PyPI for the macOS builds, download.pytorch.org otherwise."""
    if variant == "mps" or (variant == "cpu" and os == "macos"):
        return PYPI_INDEX
    return INDEX + variant


# ---------------------------------------------------------------------------------------------------
# Python ↔ release, free-threaded builds included.


def is_freethreaded(python: str | None) -> bool:
    """ "3.13t" is the free-threaded (no-GIL) build of CPython 3.13: its wheels carry the cp313t tag."""
    return bool(python) and python.endswith("t")


def python_support(release, python: str | None, os: str, arch: str) -> tuple[bool, tuple[str, ...]]:
    """(does `release` have wheels for `python` on os/arch, the Pythons it has of that kind).

    A free-threaded Python ("3.13t") needs a cpXYt wheel: those are recorded for Linux x86_64 from
    PyPI's filenames (the `python_freethreaded` field); elsewhere they count as absent.
    """
    if is_freethreaded(python):
        have = tuple(f"{p}t" for p in release.python_freethreaded) if (os, arch) == ("linux", "x86_64") else ()
    else:
        have = pythons_for(release, os, arch)
    return (python in have if python else bool(have)), have


# ---------------------------------------------------------------------------------------------------
# Jetson: integrated GPUs on NVIDIA's L4T, where torch comes from the JetPack wheels.


@dataclass(frozen=True, slots=True)
class JetpackBuild:
    jetpack: str  # "6"
    l4t: str  # "r36"
    cuda: str  # "12.6"
    python: tuple[str, ...]
    torch: str
    torchvision: str | None
    ccs: tuple[tuple[int, int], ...]
    index_url: str | None  # a PEP 503 index serving the wheels
    wheel_url: str | None  # or the one wheel NVIDIA publishes for that JetPack
    note: str
    source: str
    confidence: str

    @property
    def variant(self) -> str:
        return f"jp{self.jetpack}-cu{self.cuda.replace('.', '')}"


def jetpack_builds() -> tuple[JetpackBuild, ...]:
    """The JetPack torch builds, newest JetPack first."""
    rows = []
    for row in _platform_data().get("jetpack", []):
        rows.append(
            JetpackBuild(
                jetpack=str(row["jetpack"]),
                l4t=row.get("l4t", ""),
                cuda=row["cuda"],
                python=tuple(row["python"]),
                torch=row["torch"],
                torchvision=row.get("torchvision"),
                ccs=tuple((int(c.split(".")[0]), int(c.split(".")[1])) for c in row["ccs"]),
                index_url=row.get("index_url"),
                wheel_url=row.get("wheel_url"),
                note=row.get("note", ""),
                source=row["source"],
                confidence=row.get("confidence", "transcribed"),
            )
        )
    return tuple(sorted(rows, key=lambda b: _numbers(b.jetpack), reverse=True))


def is_jetson(gpu_name: str | None) -> bool:
    return bool(gpu_name) and "jetson" in gpu_name.lower()
