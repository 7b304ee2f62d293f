"""Which published torch wheel fits a machine: a pure query over the knowledge base.

Used by the doctor's fixes ("which build to get instead") and, later, by `torchenv plan`.
A wheel fits when its Python tag matches, the driver meets the CUDA variant's full-support floor
(so PTX JIT works too) and the GPU's architecture runs its code without PTX JIT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from .arch import arch_runs_on

INDEX = "https://download.pytorch.org/whl/"


@dataclass(frozen=True, slots=True)
class WheelChoice:
    torch: str
    variant: str  # "cu130", "cpu"
    index_url: str
    torchvision: str | None
    torchaudio: str | None


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text))


def cuda_of_variant(variant: str) -> str | None:
    """`cu130` -> `13.0`, `cu118` -> `11.8`, `cu92` -> `9.2`; None for cpu/rocm."""
    match = re.fullmatch(r"cu(\d+)(\d)", variant)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def wheels_for(
    knowledge,
    *,
    cc: tuple[int, int] | None = None,
    driver: str | None = None,
    python: str | None = None,
    os: str = "linux",
    cpu: bool = False,
) -> list[WheelChoice]:
    """Every fitting (torch, variant), newest torch first and, within it, the newest CUDA first."""
    choices = []
    for release in reversed(knowledge.torch_releases()):
        if python and python not in release.python:
            continue
        variants = ["cpu"] if cpu else [v for v in release.variants if cuda_of_variant(v)]
        variants.sort(key=lambda v: _numbers(cuda_of_variant(v) or "0"), reverse=True)
        for variant in variants:
            if not cpu and not _fits(knowledge, release.version, variant, cc=cc, driver=driver, os=os):
                continue
            choices.append(
                WheelChoice(release.version, variant, INDEX + variant, release.torchvision, release.torchaudio)
            )
    return choices


def _fits(knowledge, torch: str, variant: str, *, cc, driver, os) -> bool:
    cuda = cuda_of_variant(variant)
    if driver:
        floor = knowledge.cuda_driver_floor(cuda, os)
        if floor is None or floor.full_support is None or _numbers(driver) < _numbers(floor.full_support):
            return False
    if cc:
        arches = knowledge.wheel_arches(torch, variant)
        if not arches:
            return False
        match = arch_runs_on(arches, cc)
        if match is None or match.how == "ptx-jit":
            return False
    return True


def best_wheel(knowledge, **kwargs) -> WheelChoice | None:
    choices = wheels_for(knowledge, **kwargs)
    return choices[0] if choices else None


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
    return _read_platform_data(str(Path(__file__).resolve().parent / "data" / "platform_wheels.toml"))


@lru_cache(maxsize=2)
def _read_platform_data(path: str) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover
        import tomli as tomllib  # type: ignore[no-redef]
    with open(path, "rb") as handle:
        return tomllib.load(handle)


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
