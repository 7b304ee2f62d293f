#!/usr/bin/env python3
"""Refresh the PyPI-derived fields of torchenv's torch_releases.toml, saying what it verified and how.

The only code in torchenv that goes to the network (urllib; ``packaging`` for wheel names,
requirements and specifiers; ``lazy_wheel.py`` beside this file for reading a remote zip).

For every torch release in the data file (and, with --add-new, every newer final release on the
index) it reads the index's JSON listing (PEP 691) and the wheels' core metadata, and derives:

* ``released``             - the earliest upload time of the release's wheels (UTC date);
* ``python``               - CPython minors with a GIL wheel (``cpXY`` interpreter, ABI not ``cpXYt``);
* ``python_freethreaded``  - CPython minors with a free-threaded (``cpXYt`` ABI) Linux x86_64 wheel,
  ``[]`` when there is none;
* ``pypi_default_variant`` - the CUDA variant of the default Linux x86_64 wheel, from its
  ``nvidia-cuda-runtime-cuXX==X.Y.*`` or ``cuda-toolkit[...]==X.Y.*`` requirement;
* ``cudnn`` / ``nccl``     - that variant's pinned ``nvidia-cudnn-cuXX`` / ``nvidia-nccl-cuXX``
  (only that variant's key is touched; keys of other variants are kept);
* ``torchvision`` / ``torchaudio`` - the companion release built for that torch (see
  :func:`built_for` and :func:`pair_companions` for the rule).

How metadata is read, per wheel: the PEP 658 ``<wheel>.metadata`` file when the index advertises
one (``core-metadata`` / ``data-dist-info-metadata``); when it does not, or that URL fails, the
wheel's ``*.dist-info/METADATA`` by HTTP range requests (``lazy_wheel.py``: the zip's tail, its
central directory, one member; a few hundred kilobytes to a megabyte instead of the whole wheel).

Every row ends up *verified* (each PyPI-derived field was compared, by ``pep658`` or
``range-read``) or *NOT verified* (with the reason); fields are changed only from what was read.
Fields that PyPI cannot tell (download.pytorch.org variants, notes, per-variant libraries of
the other variants, wheel architectures) are kept as they are.

Usage::

    python tools/refresh_knowledge.py                 # rewrite the file, print what was verified and changed
    python tools/refresh_knowledge.py --check         # validate only
    python tools/refresh_knowledge.py --add-new       # also add torch releases missing from the file

Exit status: 0 when every row was verified (and, with --check, nothing differs); 1 when a field
differs under --check, or when any row could not be verified (unless --allow-unverified);
2 when the index cannot be read at all.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import email.parser
import email.policy
import hashlib
import json
import os
import re
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

if str(Path(__file__).resolve().parent) not in sys.path:  # tools/ is not a package
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import lazy_wheel

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "torchenv" / "knowledge" / "data" / "torch_releases.toml"
INDEX = "https://pypi.org/simple/"
ACCEPT = "application/vnd.pypi.simple.v1+json"
PYPI_FIELDS = (
    "released",
    "python",
    "python_freethreaded",
    "pypi_default_variant",
    "cudnn",
    "nccl",
    "torchvision",
    "torchaudio",
)
COMPANIONS = ("torchvision", "torchaudio")
MIN_TORCH = (1, 12)
COMPANION_WINDOW_DAYS = 60  # companions uploaded this long before the first torch row may still pair with it
WHEELS_TRIED = 3  # per release, when a wheel's metadata cannot be read
SOURCE = "https://pypi.org/simple/torch/ (wheel tags; METADATA of the Linux x86_64 wheel: PEP 658 or HTTP range read)"

PEP658 = "pep658"
RANGE = "range-read"


# ---------------------------------------------------------------- network (injectable)


class FetchError(Exception):
    """One line: why a URL could not be read."""


@dataclass
class Http:
    """The one door to the network. Tests pass an ``opener`` that serves recorded bytes."""

    opener: Callable[..., Any] = urllib.request.urlopen
    timeout: float = 30.0
    max_index: int = 64 << 20
    max_metadata: int = 4 << 20
    limits: lazy_wheel.Limits = field(default_factory=lazy_wheel.Limits)

    def get(self, url: str, accept: str | None = None, cap: int | None = None) -> bytes:
        cap = cap or self.max_metadata
        req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
        try:
            with self.opener(req, timeout=self.timeout) as resp:
                data = resp.read(cap + 1)
        except urllib.error.HTTPError as e:
            raise FetchError(f"HTTP {e.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            raise FetchError(f"cannot reach it: {getattr(e, 'reason', e)}") from None
        if len(data) > cap:
            raise FetchError(f"response over the {cap}-byte cap")
        return data


def read_index(http: Http, index: str, name: str) -> list[dict[str, Any]]:
    """The file entries of the PEP 691 JSON listing of ``name``."""
    url = index.rstrip("/") + f"/{name}/"
    try:
        raw = http.get(url, ACCEPT, cap=http.max_index)
        return json.loads(raw)["files"]
    except FetchError as e:
        raise SystemExit(f"cannot read the index page {url}: {e}") from None
    except (ValueError, KeyError):
        raise SystemExit(f"{url} did not answer with the PEP 691 JSON listing ({ACCEPT})") from None


# ---------------------------------------------------------------- wheels on the index


@dataclass(frozen=True)
class Wheel:
    filename: str
    url: str
    size: int | None
    uploaded: str
    name: str
    version: Version
    build: int  # build tag number, 0 when none (pip prefers the highest)
    interpreters: frozenset[str]
    abis: frozenset[str]
    platforms: frozenset[str]
    core_metadata: Any  # the index's core-metadata value: False/None (absent), True, or {"sha256": ...}

    @property
    def linux_x86_64(self) -> bool:
        return any(p.endswith("x86_64") and "linux" in p for p in self.platforms)

    @property
    def freethreaded(self) -> bool:
        return any(re.fullmatch(r"cp\d+t", a) for a in self.abis)

    @property
    def cpython(self) -> str | None:
        """``"3.12"`` for a ``cp312`` interpreter tag; None for ``py3`` and the like."""
        for tag in sorted(self.interpreters):
            m = re.fullmatch(r"cp3(\d+)", tag)
            if m:
                return f"3.{m[1]}"
        return None


def parse_wheels(files: Iterable[dict[str, Any]]) -> list[Wheel]:
    out = []
    for f in files:
        filename = f.get("filename", "")
        if not filename.endswith(".whl") or f.get("yanked"):
            continue
        try:
            name, version, build, tags = parse_wheel_filename(filename)
        except (InvalidWheelFilename, InvalidVersion):
            continue
        meta = f.get("core-metadata", f.get("data-dist-info-metadata", False))
        out.append(
            Wheel(
                filename=filename,
                url=f["url"],
                size=f.get("size"),
                uploaded=f.get("upload-time") or "",
                name=str(name),
                version=version,
                build=build[0] if build else 0,
                interpreters=frozenset(t.interpreter for t in tags),
                abis=frozenset(t.abi for t in tags),
                platforms=frozenset(t.platform for t in tags),
                core_metadata=meta,
            )
        )
    return out


def final_versions(wheels: Iterable[Wheel]) -> list[Version]:
    return sorted({w.version for w in wheels if not (w.version.is_prerelease or w.version.is_devrelease)})


def _minor_key(s: str) -> tuple[int, ...]:
    return tuple(int(x) for x in s.split("."))


def python_minors(wheels: Iterable[Wheel]) -> tuple[list[str], list[str]]:
    """(GIL CPython minors on any platform, free-threaded ``cpXYt`` minors on Linux x86_64)."""
    gil, free = set(), set()
    for w in wheels:
        py = w.cpython
        if py is None:
            continue
        if w.freethreaded:
            if w.linux_x86_64:
                free.add(py)
        else:
            gil.add(py)
    return sorted(gil, key=_minor_key), sorted(free, key=_minor_key)


def metadata_candidates(wheels: Iterable[Wheel]) -> list[Wheel]:
    """The wheels whose METADATA to read, best first: Linux x86_64, GIL, highest build, newest CPython."""

    def rank(w: Wheel) -> tuple:
        py = w.cpython
        return (not w.linux_x86_64, w.freethreaded, -w.build, tuple(-x for x in _minor_key(py)) if py else (1,))

    return sorted(wheels, key=rank)


# ---------------------------------------------------------------- reading metadata


@dataclass(frozen=True)
class MetadataRead:
    text: str | None
    method: str | None  # PEP658 / RANGE / None when not read
    wheel: str  # the filename read (or last tried)
    detail: str  # how: requests and bytes, or why not
    tries: tuple[str, ...] = ()  # reasons of the wheels that failed before

    @property
    def ok(self) -> bool:
        return self.text is not None


def read_metadata(http: Http, wheel: Wheel) -> MetadataRead:
    """PEP 658 when the index advertises it; else (or when it fails) the zip member by range requests."""
    why_not_658 = "the index does not advertise PEP 658 metadata"
    if wheel.core_metadata:
        try:
            raw = http.get(wheel.url + ".metadata")
            want = wheel.core_metadata.get("sha256") if isinstance(wheel.core_metadata, dict) else None
            if want and hashlib.sha256(raw).hexdigest() != want:
                raise FetchError("sha256 does not match the index")
            return MetadataRead(raw.decode("utf-8", "replace"), PEP658, wheel.filename, f"{len(raw)} bytes")
        except FetchError as e:
            why_not_658 = f"PEP 658 .metadata: {e}"
    try:
        member = lazy_wheel.read_wheel_metadata(
            wheel.url, filename=wheel.filename, size=wheel.size, limits=http.limits, opener=http.opener
        )
    except lazy_wheel.LazyWheelError as e:
        return MetadataRead(None, None, wheel.filename, f"{why_not_658}; range read: {e}")
    return MetadataRead(member.data.decode("utf-8", "replace"), RANGE, wheel.filename, member.how)


def read_release_metadata(
    reader: Callable[[Wheel], MetadataRead], wheels: list[Wheel], tries: int = WHEELS_TRIED
) -> MetadataRead:
    failures: list[str] = []
    last = MetadataRead(None, None, "", "no wheel to read")
    for wheel in metadata_candidates(wheels)[:tries]:
        last = reader(wheel)
        if last.ok:
            return dataclasses.replace(last, tries=tuple(failures))
        failures.append(f"{last.wheel}: {last.detail}")
    if failures:
        return MetadataRead(None, None, last.wheel, "; ".join(failures))
    return last


# ---------------------------------------------------------------- what metadata says (pure)


def requirements(meta: str, python: str | None = None) -> list[Requirement]:
    """``Requires-Dist`` lines that apply to CPython ``python`` on Linux x86_64, no extras."""
    msg = email.parser.Parser(policy=email.policy.compat32).parsestr(meta, headersonly=True)
    py = python or "3.12"
    env = {
        "python_version": py,
        "python_full_version": py + ".0",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "sys_platform": "linux",
        "os_name": "posix",
        "platform_python_implementation": "CPython",
        "implementation_name": "cpython",
        "extra": "",
    }
    out = []
    for line in msg.get_all("Requires-Dist") or []:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is None or req.marker.evaluate(env):
            out.append(req)
    return out


def _exact(spec: SpecifierSet) -> str | None:
    """``X`` of ``==X`` / ``==X.*`` / ``===X``; None when the requirement is not an exact pin."""
    for s in spec:
        if s.operator in ("==", "==="):
            return s.version.removesuffix(".*")
    return None


_CUDA_PACKAGES = (  # in order of preference
    "cuda-toolkit",
    "nvidia-cuda-runtime",
    "nvidia-cuda-runtime-cu13",
    "nvidia-cuda-runtime-cu12",
    "nvidia-cuda-runtime-cu11",
)


@dataclass(frozen=True)
class TorchMetadata:
    variant: str | None  # cuXYZ; None when the wheel bundles its CUDA libraries
    cudnn: str | None
    nccl: str | None


def torch_metadata(reqs: list[Requirement]) -> TorchMetadata:
    by_name = {canonicalize_name(r.name): r for r in reqs}
    variant = None
    for key in _CUDA_PACKAGES:
        if key in by_name and (pin := _exact(by_name[key].specifier)):
            major, minor = pin.split(".")[:2]
            variant = f"cu{major}{minor}"
            break
    libs: dict[str, str | None] = {"cudnn": None, "nccl": None}
    for lib in libs:
        for name, req in by_name.items():
            if re.fullmatch(rf"nvidia-{lib}(-cu\d+)?", name):
                libs[lib] = _exact(req.specifier)
    return TorchMetadata(variant, libs["cudnn"], libs["nccl"])


def torch_requirement(reqs: list[Requirement]) -> SpecifierSet | None:
    for r in reqs:
        if canonicalize_name(r.name) == "torch":
            return r.specifier
    return None


# ---------------------------------------------------------------- companion pairing (pure)


def built_for(spec: SpecifierSet, torch_versions: Iterable[Version]) -> set[Version]:
    """The torch releases a companion whose ``Requires-Dist: torch`` is ``spec`` was built for.

    * an exact pin (``==2.5.1``, ``==2.5.*``, ``===2.5.1``): every release the specifier contains;
    * a range (``>=2.11``, ``~=2.11.0``, ``>=2.14.0,<3``): the releases it contains *of the minor of
      its lower bound* only - torchaudio 2.11.1 (``torch>=2.11``) is built for torch 2.11.x, not for
      2.12 even though pip would accept it there;
    * no lower bound (``<3``, ``!=2.0.0``, or no torch requirement at all): none.
    """
    versions = [v for v in torch_versions if spec.contains(v)]
    if _exact(spec) is not None:
        return set(versions)
    floors = [Version(s.version.removesuffix(".*")) for s in spec if s.operator in (">=", "~=", ">")]
    if not floors:
        return set()
    minor = max(floors).release[:2]
    return {v for v in versions if v.release[:2] == minor}


@dataclass(frozen=True)
class CompanionRead:
    version: Version
    read: MetadataRead
    spec: SpecifierSet | None  # its torch requirement; None when it has none (or was not read)


@dataclass
class Pairing:
    value: str | None  # the companion version; None when no release is built for that torch
    why: str  # the pin that decided it, or why there is none
    unverified: list[str] = field(default_factory=list)  # companions whose unread metadata could change it


def pair_companions(name: str, reads: list[CompanionRead], torch_versions: list[Version]) -> dict[Version, Pairing]:
    """torch version -> the ``name`` release built for it.

    The rule: among the releases of ``name`` whose ``Requires-Dist: torch`` specifier contains the
    torch version and that were built for it (:func:`built_for`), the newest. So ``==2.14.0`` pairs
    only with 2.14.0; ``>=2.14.0`` pairs with every 2.14.x and wins over an older ``==2.14.0``
    release; torch 2.15.0 gets no companion from a ``>=2.14.0`` release.

    A release whose metadata could not be read could have changed the answer. Companion releases
    follow torch releases in order, so such a release is assumed to be built for a torch between
    the ones its nearest readable neighbours were built for (inclusive); each torch in that span
    whose pairing is missing or older than the unread release is marked unverified.
    """
    targets = {c.version: built_for(c.spec, torch_versions) for c in reads if c.read.ok and c.spec is not None}
    specs = {c.version: c.spec for c in reads}
    out: dict[Version, Pairing] = {}
    for t in torch_versions:
        cands = [c for c, ts in targets.items() if t in ts]
        if cands:
            best = max(cands)
            out[t] = Pairing(str(best), f"{name} {best} requires torch{specs[best]}")
        else:
            out[t] = Pairing(None, f"no {name} release is built for torch {t}")
    known = sorted(c for c, ts in targets.items() if ts)
    for c in reads:
        if c.read.ok:
            continue
        below = [k for k in known if k < c.version]
        above = [k for k in known if k > c.version]
        lo = max(targets[below[-1]]) if below else None
        hi = min(targets[above[0]]) if above else None
        for t in torch_versions:
            if (lo is None or t >= lo) and (hi is None or t <= hi):
                current = out[t].value
                if current is None or Version(current) < c.version:
                    out[t].unverified.append(f"{name} {c.version} metadata not read ({c.read.detail})")
    return out


def read_companions(
    name: str,
    files: list[dict[str, Any]],
    reader: Callable[[Wheel], MetadataRead],
    since: str,
    jobs: int = 1,
) -> list[CompanionRead]:
    """Metadata of every final ``name`` release with wheels uploaded on or after ``since`` (a date)."""
    wheels = parse_wheels(files)
    releases = []
    for v in final_versions(wheels):
        ws = [w for w in wheels if w.version == v]
        if min(w.uploaded for w in ws)[:10] >= since:
            releases.append((v, ws))
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        reads = list(pool.map(lambda vw: read_release_metadata(reader, vw[1]), releases))
    out = []
    for (v, _), r in zip(releases, reads, strict=True):
        spec = torch_requirement(requirements(r.text)) if r.ok and r.text is not None else None
        out.append(CompanionRead(v, r, spec))
    return out


# ---------------------------------------------------------------- per-row verification


MISSING = object()  # a field or key that is absent (shown as "(absent)"; as a new value: delete it)


@dataclass(frozen=True)
class Change:
    version: str
    field: str
    key: str | None  # the variant key of cudnn / nccl; None for whole fields
    old: Any
    new: Any
    why: str = ""

    def __str__(self) -> str:
        name = f"{self.field}.{self.key}" if self.key else self.field
        why = f"  ({self.why})" if self.why else ""
        return f"{self.version}: {name}: {_show(self.old)} -> {_show(self.new)}{why}"


def _show(v: Any) -> str:
    return "(absent)" if v is MISSING else _val(v)


@dataclass
class RowCheck:
    version: str
    added: bool = False
    method: str | None = None  # how the torch metadata was read
    wheel: str = ""
    how: str = ""
    tries: tuple[str, ...] = ()  # wheels whose metadata could not be read before one could
    unverified: dict[str, str] = field(default_factory=dict)  # field -> why it could not be checked
    not_derivable: dict[str, str] = field(default_factory=dict)  # field -> why PyPI cannot tell it
    changes: list[Change] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return not self.unverified


@dataclass
class Report:
    index: str
    rows: list[RowCheck]
    companions: dict[str, list[CompanionRead]]
    advertised_658: tuple[int, int]  # torch files advertising PEP 658 metadata, of all torch files
    conflicts: list[str] = field(default_factory=list)  # filled in by write_refresh

    @property
    def changes(self) -> list[Change]:
        return [c for r in self.rows for c in r.changes]


def _compare(check: RowCheck, row: dict[str, Any], fld: str, new: Any, why: str = "") -> None:
    old = row.get(fld, MISSING)
    if old != new:
        check.changes.append(Change(check.version, fld, None, old, new, why))


def _compare_key(check: RowCheck, row: dict[str, Any], fld: str, key: str, new: Any) -> None:
    old = (row.get(fld) or {}).get(key, MISSING)
    if old != new:
        check.changes.append(Change(check.version, fld, key, old, new))


def check_row(
    row: dict[str, Any],
    wheels: list[Wheel],
    meta: MetadataRead | None,
    pairings: dict[str, Pairing | None],
) -> RowCheck:
    """Compare one row with what the index says (pure). ``meta`` None: no wheel to read."""
    check = RowCheck(row["version"])
    if not wheels:
        for fld in PYPI_FIELDS:
            check.unverified[fld] = "no wheels of this release on the index"
        return check
    _compare(check, row, "released", min(w.uploaded for w in wheels)[:10])
    gil, free = python_minors(wheels)
    _compare(check, row, "python", gil)
    _compare(check, row, "python_freethreaded", free)

    if meta is None or not meta.ok:
        why = f"torch METADATA not read: {meta.detail if meta else 'no Linux x86_64 wheel'}"
        for fld in ("pypi_default_variant", "cudnn", "nccl"):
            check.unverified[fld] = why
    else:
        check.method, check.wheel, check.how, check.tries = meta.method, meta.wheel, meta.detail, meta.tries
        py = next((w.cpython for w in wheels if w.filename == meta.wheel), None)
        tm = torch_metadata(requirements(meta.text or "", py))
        if tm.variant is None:
            why = "CUDA libraries bundled in the wheel (no nvidia-* / cuda-toolkit requirement)"
            for fld in ("pypi_default_variant", "cudnn", "nccl"):
                check.not_derivable[fld] = why
        else:
            _compare(check, row, "pypi_default_variant", tm.variant)
            for lib in ("cudnn", "nccl"):
                _compare_key(check, row, lib, tm.variant, getattr(tm, lib) or MISSING)

    for name in COMPANIONS:
        pairing = pairings.get(name)
        if pairing is None:
            check.unverified[name] = f"{name} index not read"
        elif pairing.unverified:
            check.unverified[name] = "; ".join(pairing.unverified)
        else:
            _compare(check, row, name, pairing.value if pairing.value is not None else MISSING, pairing.why)
    return check


def refresh(
    doc: dict[str, Any],
    indexes: dict[str, list[dict[str, Any]]],
    reader: Callable[[Wheel], MetadataRead],
    add_new: bool,
    index: str = INDEX,
    jobs: int = 1,
) -> Report:
    """Check every row of ``doc`` (and new releases with ``add_new``) against the index listings.

    ``indexes`` maps torch/torchvision/torchaudio to their JSON file entries; ``reader`` reads one
    wheel's metadata (:func:`read_metadata` bound to an :class:`Http`, or a fake in tests).
    """
    torch_wheels = parse_wheels(indexes["torch"])
    rows = [dict(r) for r in doc["release"]]
    known = {Version(r["version"]) for r in rows}
    added = []
    if add_new:
        for v in final_versions(torch_wheels):
            if v.release[:2] >= MIN_TORCH and v not in known:
                added.append(new_row(str(v)))
    all_rows = rows + added
    by_version = {
        Version(r["version"]): [w for w in torch_wheels if w.version == Version(r["version"])] for r in all_rows
    }
    torch_versions = sorted(set(by_version) | set(final_versions(torch_wheels)))
    dated = [min(w.uploaded for w in ws)[:10] for ws in by_version.values() if ws]
    since = (dt.date.fromisoformat(min(dated)) - dt.timedelta(days=COMPANION_WINDOW_DAYS)).isoformat() if dated else ""

    def torch_meta(ws: list[Wheel]) -> MetadataRead | None:
        linux = [w for w in ws if w.linux_x86_64]
        return read_release_metadata(reader, linux) if linux else None

    with ThreadPoolExecutor(max(1, jobs)) as pool:
        metas = list(pool.map(torch_meta, [by_version[Version(r["version"])] for r in all_rows]))
    companions: dict[str, list[CompanionRead]] = {}
    pairings: dict[str, dict[Version, Pairing]] = {}
    for name in COMPANIONS:
        if name in indexes:
            companions[name] = read_companions(name, indexes[name], reader, since, jobs)
            pairings[name] = pair_companions(name, companions[name], torch_versions)
    checks = []
    for row, meta in zip(all_rows, metas, strict=True):
        v = Version(row["version"])
        check = check_row(row, by_version[v], meta, {n: p.get(v) for n, p in pairings.items()})
        check.added = any(row is a for a in added)
        checks.append(check)
    advertised = sum(1 for w in torch_wheels if w.core_metadata)
    return Report(index, checks, companions, (advertised, len(torch_wheels)))


def new_row(version: str) -> dict[str, Any]:
    return {
        "version": version,
        "variants": [],
        "confidence": "inferred",
        "note": "added by refresh_knowledge.py; fill variants from test-infra",
    }


# ---------------------------------------------------------------- summary


def _grouped(reasons: dict[str, str]) -> list[tuple[str, str]]:
    """``{field: why}`` as ``[("a, b", why)]``, fields that share a reason together."""
    by_why: dict[str, list[str]] = {}
    for fld, why in reasons.items():
        by_why.setdefault(why, []).append(fld)
    return [(", ".join(fields), why) for why, fields in by_why.items()]


def render_summary(report: Report, today: str) -> str:
    rows = report.rows
    ok = [r for r in rows if r.verified]
    bad = [r for r in rows if not r.verified]
    by_method = {m: sum(1 for r in ok if r.method == m) for m in (PEP658, RANGE)}
    listing_only = sum(1 for r in ok if r.method is None)
    changes = report.changes
    changed_rows = sorted({c.version for c in changes}, key=Version)
    adv, total = report.advertised_658
    out = [
        f"refresh_knowledge {today}: index {report.index}",
        f"PEP 658 metadata advertised for {adv} of {total} torch wheels; the rest read by HTTP range requests",
        "",
        "torch rows",
    ]
    for r in rows:
        state = "verified" if r.verified else "NOT verified"
        how = f"{r.method} {r.wheel} ({r.how})" if r.method else "-"
        if r.tries:
            how += f" after {len(r.tries)} wheel(s) failed: {'; '.join(r.tries)}"
        out.append(f"  {r.version:<8} {state:<13} {how}{'  [added]' if r.added else ''}")
        for c in r.changes:
            out.append(f"      {str(c).split(': ', 1)[1]}")
        for fields, why in _grouped(r.unverified):
            out.append(f"      {fields}: not verified: {why}")
    out += ["", "companion releases (their METADATA decides torchvision / torchaudio)"]
    for name, reads in report.companions.items():
        counts = {m: sum(1 for c in reads if c.read.method == m) for m in (PEP658, RANGE)}
        failed = [c for c in reads if not c.read.ok]
        out.append(
            f"  {name}: {len(reads)} releases, read {len(reads) - len(failed)} "
            f"(pep658 {counts[PEP658]}, range-read {counts[RANGE]}), not read {len(failed)}"
        )
        for c in reads:
            pin = f"torch{c.spec}" if c.spec is not None else "no torch requirement" if c.read.ok else c.read.detail
            out.append(f"      {c.version}: {pin}")
    out += [
        "",
        "summary",
        f"  rows checked:        {len(rows)} ({sum(r.added for r in rows)} added)",
        f"  rows verified:       {len(ok)} (pep658 {by_method[PEP658]}, range-read {by_method[RANGE]}"
        + (f", wheel listing only {listing_only}" if listing_only else "")
        + ")",
        f"  rows NOT verified:   {len(bad)}",
    ]
    for r in bad:
        for fields, why in _grouped(r.unverified):
            out.append(f"    {r.version}: {fields}: {why}")
    out.append(f"  fields changed:      {len(changes)} in {len(changed_rows)} rows")
    for c in changes:
        out.append(f"    {c}")
    nd: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for r in rows:
        if r.not_derivable:
            why = "; ".join(sorted(set(r.not_derivable.values())))
            nd.setdefault((why, tuple(r.not_derivable)), []).append(r.version)
    for (why, fields), versions in nd.items():
        out.append(f"  not derivable from PyPI, kept as they are: {', '.join(fields)} of {', '.join(versions)}: {why}")
    for c in report.conflicts:
        out.append(f"  NOT written (the file changed meanwhile): {c}")
    if bad:
        out.append(
            f"RESULT: INCOMPLETE - {len(bad)} of {len(rows)} rows NOT verified (listed above); "
            f"{len(changes)} field(s) changed in the {len(ok)} rows verified"
        )
    else:
        out.append(f"RESULT: {len(changes)} difference(s); all {len(rows)} rows verified")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- TOML writing (tiny, fixed schema)


def _val(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_val(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_val(x)}" for k, x in v.items()) + " }" if v else "{}"
    raise TypeError(type(v))


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


FIELD_ORDER = (
    "version",
    "released",
    "python",
    "python_freethreaded",
    "variants",
    "pypi_default_variant",
    "cudnn",
    "nccl",
    "torchvision",
    "torchaudio",
    "confidence",
    "note",
    "source",
    "retrieved",
)


def _row_lines(row: dict[str, Any]) -> list[str]:
    keys = [k for k in FIELD_ORDER if k in row] + [k for k in row if k not in FIELD_ORDER]
    return [f"{_key(k)} = {_val(row[k])}" for k in keys]


def dump_releases(doc: dict[str, Any]) -> str:
    """The whole file in the writer's style (used for a file that does not exist yet)."""
    lines = [
        "# torch releases: PyPI-derived fields are regenerated by tools/refresh_knowledge.py;",
        "# variants come from pytorch/test-infra generate_binary_build_matrix.py history.",
        "",
        "[meta]",
    ]
    lines += [f"{_key(k)} = {_val(v)}" for k, v in doc["meta"].items()]
    for row in doc["release"]:
        lines += ["", "[[release]]", *_row_lines(row)]
    return "\n".join(lines) + "\n"


def apply_changes(
    doc: dict[str, Any], changes: list[Change], added: list[dict[str, Any]], today: str
) -> tuple[dict[str, Any], list[Change], list[str]]:
    """``doc`` (as read just now) with ``changes`` applied; returns (doc, applied, conflicts).

    A change applies only where the file still holds the value it was compared with; cudnn/nccl
    changes touch their variant key only, so keys added by hand meanwhile are kept.
    """
    doc = json.loads(json.dumps(doc))  # deep copy (TOML values here are JSON values)
    rows = {r["version"]: r for r in doc["release"]}
    applied, conflicts = [], []
    for c in changes:
        row = rows.get(c.version)
        if row is None:
            conflicts.append(f"{c} (row {c.version} is gone)")
            continue
        now = (row.get(c.field) or {}).get(c.key, MISSING) if c.key else row.get(c.field, MISSING)
        if now != c.old:
            conflicts.append(f"{c} (the file now says {_show(now)})")
            continue
        if c.key:
            libs = dict(row.get(c.field) or {})
            if c.new is MISSING:
                libs.pop(c.key, None)
            else:
                libs[c.key] = c.new
            row[c.field] = libs
        elif c.new is MISSING:
            row.pop(c.field, None)
            if c.field in row.get("inferred_fields", []):
                row["inferred_fields"] = [f for f in row["inferred_fields"] if f != c.field]
                if not row["inferred_fields"]:
                    del row["inferred_fields"]
        else:
            row[c.field] = c.new
        row["retrieved"] = today
        applied.append(c)
    for new in added:
        if new["version"] in rows:
            conflicts.append(f"{new['version']}: not added (a row was added meanwhile)")
            continue
        row = {**new, "source": SOURCE, "retrieved": today}
        for c in changes:
            if c.version == new["version"] and c.new is not MISSING:
                if c.key:
                    row.setdefault(c.field, {})[c.key] = c.new
                else:
                    row[c.field] = c.new
        ordered = {k: row[k] for k in FIELD_ORDER if k in row} | {k: v for k, v in row.items() if k not in FIELD_ORDER}
        doc["release"].append(ordered)
        rows[new["version"]] = ordered
        applied.extend(c for c in changes if c.version == new["version"])
    doc["release"].sort(key=lambda r: Version(r["version"]))
    return doc, applied, conflicts


_FIELD_LINE = re.compile(r"^\s*(\"[^\"]+\"|[A-Za-z0-9_-]+)\s*=")


def patch_text(text: str, old: dict[str, Any], new: dict[str, Any]) -> str:
    """Edit ``text`` (which parses to ``old``) into a text that parses to ``new``, line by line.

    Only the lines of changed fields are rewritten (in the writer's style); comments, blank lines,
    key order and fields the tool does not know stay as they are. Rows present only in ``new`` are
    inserted in version order.
    """
    lines = text.splitlines()
    blocks = [i for i, line in enumerate(lines) if line.strip() == "[[release]]"]
    old_rows = {r["version"]: r for r in old["release"]}
    edits: list[tuple[int, int, int, list[str]]] = []  # (start, end, order, replacement) over the original lines
    spans: dict[str, tuple[int, int]] = {}
    for n, start in enumerate(blocks):
        end = blocks[n + 1] if n + 1 < len(blocks) else len(lines)
        while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
            end -= 1  # the blank lines and comments that precede the next block belong to it
        body = tomllib.loads("\n".join(lines[start + 1 : end]))
        spans[body["version"]] = (start, end)
    for new_row in new["release"]:
        version = new_row["version"]
        if version not in spans:
            continue
        start, end = spans[version]
        before = old_rows[version]
        fields_at: dict[str, tuple[int, int]] = {}
        i = start + 1
        while i < end:
            m = _FIELD_LINE.match(lines[i])
            if not m:
                i += 1
                continue
            j = i + 1
            while j <= end:  # a value may span lines (a multi-line array)
                try:
                    tomllib.loads("\n".join(lines[i:j]))
                    break
                except tomllib.TOMLDecodeError:
                    j += 1
            fields_at[json.loads(m[1]) if m[1].startswith('"') else m[1]] = (i, j)
            i = j
        for fld in [k for k in before if k not in new_row]:
            a, b = fields_at[fld]
            edits.append((a, b, len(edits), []))
        for fld, value in new_row.items():
            if before.get(fld, MISSING) == value:
                continue
            line = f"{_key(fld)} = {_val(value)}"
            if fld in fields_at:
                a, b = fields_at[fld]
                edits.append((a, b, len(edits), [line]))
                continue
            order = [k for k in FIELD_ORDER if k in fields_at]
            rank = FIELD_ORDER.index(fld) if fld in FIELD_ORDER else len(FIELD_ORDER)
            prior = [k for k in order if FIELD_ORDER.index(k) < rank]
            at = fields_at[prior[-1]][1] if prior else start + 1
            if not prior and fld not in FIELD_ORDER:
                at = max(b for _, b in fields_at.values())
            edits.append((at, at, len(edits), [line]))
    # rows to insert: before the first block with a higher version, else at the end
    for new_row in new["release"]:
        version = new_row["version"]
        if version in spans:
            continue
        later = [s for v, (s, _) in spans.items() if Version(v) > Version(version)]
        at = min(later) if later else len(lines)
        block = ["[[release]]", *_row_lines(new_row), ""] if later else ["", "[[release]]", *_row_lines(new_row)]
        edits.append((at, at, len(edits), block))
    for a, b, _, repl in sorted(edits, key=lambda e: e[:3], reverse=True):  # later edits first
        lines[a:b] = repl
    patched = "\n".join(lines) + "\n"
    if tomllib.loads(patched) != new:
        raise RuntimeError("patching the TOML text did not give the intended data; nothing written")
    return patched


def write_refresh(path: Path, report: Report, added: list[dict[str, Any]], today: str) -> list[Change]:
    """Re-read ``path`` right now, apply the report's changes to it and write it back atomically."""
    text = path.read_text(encoding="utf-8")
    current = tomllib.loads(text)
    new, applied, conflicts = apply_changes(current, report.changes, added, today)
    report.conflicts = conflicts
    if not applied:
        return applied
    patched = patch_text(text, current, new)
    if path.read_text(encoding="utf-8") != text:
        raise SystemExit(f"{path} changed while it was being written; run the tool again")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(patched)
    os.replace(tmp, path)
    return applied


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None, http: Http | None = None, today: str | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--check", action="store_true", help="validate only; exit 1 if the index disagrees")
    ap.add_argument("--add-new", action="store_true", help="add torch releases missing from the file")
    ap.add_argument("--allow-unverified", action="store_true", help="exit 0 even when rows could not be verified")
    ap.add_argument("--file", type=Path, default=DATA)
    ap.add_argument("--index", default=INDEX, help="PEP 691 JSON simple index (default: %(default)s)")
    ap.add_argument("--jobs", type=int, default=4, help="parallel metadata reads (default: %(default)s)")
    args = ap.parse_args(argv)
    http = http or Http()
    today = today or dt.date.today().isoformat()
    doc = tomllib.loads(args.file.read_text(encoding="utf-8"))
    indexes = {name: read_index(http, args.index, name) for name in ("torch", *COMPANIONS)}
    report = refresh(
        doc, indexes, lambda w: read_metadata(http, w), add_new=args.add_new, index=args.index, jobs=args.jobs
    )
    added = [new_row(r.version) for r in report.rows if r.added]
    wrote = False
    if not args.check and report.changes:
        wrote = bool(write_refresh(args.file, report, added, today))
    sys.stdout.write(render_summary(report, today))
    if wrote:
        print(f"wrote {args.file}")
    unverified = any(not r.verified for r in report.rows)
    if unverified and not args.allow_unverified:
        return 1
    if args.check and report.changes:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
