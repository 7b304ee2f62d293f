#!/usr/bin/env python3
"""Refresh the PyPI-derived fields of torchenv's torch_releases.toml.

The only code in torchenv that goes to the network. Stdlib only (urllib + tomllib).

For every torch release in the data file (and, with --add-new, every newer final release on
PyPI) it reads PyPI's simple JSON index and the wheels' PEP 658 core metadata and derives:

* ``released``             - the earliest upload time of the release's files (UTC date);
* ``python``               - CPython versions from the ``cpXY`` tags of the wheels;
* ``pypi_default_variant`` - the CUDA variant of the default Linux x86_64 wheel, from its
  ``nvidia-cuda-runtime-cuXX==X.Y.*`` or ``cuda-toolkit[...]==X.Y.*`` requirement;
* ``cudnn`` / ``nccl``     - that variant's pinned ``nvidia-cudnn-cuXX`` / ``nvidia-nccl-cuXX``;
* ``torchvision`` / ``torchaudio`` - the release of each whose metadata pins ``torch==<version>``.

Fields that PyPI cannot tell (download.pytorch.org variants, per-variant libraries of the
other variants, wheel architectures) are kept as they are.

Usage::

    python tools/refresh_knowledge.py            # rewrite the file, print a diff summary
    python tools/refresh_knowledge.py --check    # validate only; exit 1 on any difference
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "torchenv" / "knowledge" / "data" / "torch_releases.toml"
SIMPLE = "https://pypi.org/simple/{name}/"
ACCEPT = "application/vnd.pypi.simple.v1+json"
PYPI_FIELDS = ("released", "python", "pypi_default_variant", "cudnn", "nccl", "torchvision", "torchaudio")
MIN_TORCH = (1, 12)

_WHEEL_RE = re.compile(r"^(?P<name>[^-]+)-(?P<ver>[^-]+)(?:-\d[^-]*)?-(?P<py>cp\d+)-(?P<abi>[^-]+)-(?P<plat>.+)\.whl$")
_REQ_RE = re.compile(
    r"^Requires-Dist:\s*(?P<name>[A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*\(?\s*(?P<op>==|~=)\s*(?P<ver>[0-9][^);\s,]*)"
)


def _get(url: str, accept: str | None = None, timeout: float = 60.0) -> bytes | None:
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.read()
    except (urllib.error.URLError, TimeoutError, OSError):
        return None


def simple_index(name: str) -> list[dict[str, Any]]:
    raw = _get(SIMPLE.format(name=name), ACCEPT)
    if raw is None:
        raise SystemExit(f"cannot read the PyPI simple index for {name}")
    return json.loads(raw)["files"]


def _files_of(files: list[dict[str, Any]], name: str, version: str) -> list[dict[str, Any]]:
    out = []
    for f in files:
        m = _WHEEL_RE.match(f["filename"])
        if m and m["ver"] == version and not f.get("yanked"):
            out.append(f)
    return out


def _metadata(files: list[dict[str, Any]], prefer: tuple[str, ...]) -> str | None:
    """Core metadata (PEP 658) of the first wheel whose platform tag matches, trying several."""

    def rank(f: dict[str, Any]) -> int:
        plat = _WHEEL_RE.match(f["filename"])["plat"]
        return 0 if any(p in plat for p in prefer) else 1

    for f in sorted(files, key=rank)[:40]:
        raw = _get(f["url"] + ".metadata")
        if raw:
            return raw.decode("utf-8", "replace")
    return None


def _requirements(meta: str) -> dict[str, str]:
    reqs = {}
    for line in meta.splitlines():
        m = _REQ_RE.match(line)
        if m:
            reqs[m["name"].lower()] = m["ver"]
    return reqs


def _final_versions(files: list[dict[str, Any]]) -> list[str]:
    seen = set()
    for f in files:
        m = _WHEEL_RE.match(f["filename"])
        if m and re.fullmatch(r"\d+\.\d+\.\d+", m["ver"]):
            seen.add(m["ver"])
    return sorted(seen, key=lambda v: tuple(int(x) for x in v.split(".")))


def derive_torch(files: list[dict[str, Any]], version: str) -> dict[str, Any]:
    fs = _files_of(files, "torch", version)
    if not fs:
        return {}
    out: dict[str, Any] = {}
    out["released"] = min(f["upload-time"] for f in fs)[:10]
    pys = {(_WHEEL_RE.match(f["filename"])["py"])[2:] for f in fs}
    out["python"] = sorted((f"{p[0]}.{p[1:]}" for p in pys), key=lambda s: tuple(map(int, s.split("."))))
    linux = [f for f in fs if "linux" in f["filename"] and "x86_64" in f["filename"]]
    meta = _metadata(linux, ("x86_64",)) if linux else None
    if meta is None:
        return out
    reqs = _requirements(meta)
    cuda = None
    for key in (
        "nvidia-cuda-runtime-cu11",
        "nvidia-cuda-runtime-cu12",
        "nvidia-cuda-runtime-cu13",
        "nvidia-cuda-runtime",
        "cuda-toolkit",
    ):
        if key in reqs:
            major, minor = reqs[key].split(".")[:2]
            cuda = f"cu{major}{minor}"
    if cuda is None:
        return out  # libraries bundled in the wheel; nothing to read from metadata
    out["pypi_default_variant"] = cuda
    for lib in ("cudnn", "nccl"):
        for key, ver in reqs.items():
            if re.fullmatch(rf"nvidia-{lib}-cu\d+", key):
                out[lib] = {cuda: ver}
    return out


def companion_map(name: str) -> dict[str, str]:
    """torch version -> newest release of ``name`` whose metadata pins torch==that version."""
    files = simple_index(name)
    found: dict[str, str] = {}
    for ver in _final_versions(files):
        major = int(ver.split(".")[0])
        if name == "torchvision" and (major, int(ver.split(".")[1])) < (0, 13):
            continue
        if name == "torchaudio" and (major, int(ver.split(".")[1])) < (0, 12):
            continue
        meta = _metadata(_files_of(files, name, ver), ("x86_64", "linux"))
        if not meta:
            continue
        pin = _requirements(meta).get("torch")
        if pin:
            found[pin] = ver  # ascending order: the newest companion wins
    return found


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


def dump_releases(doc: dict[str, Any]) -> str:
    lines = [
        "# torch releases: PyPI-derived fields are regenerated by tools/refresh_knowledge.py;",
        "# variants come from pytorch/test-infra generate_binary_build_matrix.py history.",
        "",
        "[meta]",
    ]
    lines += [f"{_key(k)} = {_val(v)}" for k, v in doc["meta"].items()]
    for row in doc["release"]:
        lines += ["", "[[release]]"]
        keys = [k for k in FIELD_ORDER if k in row] + [k for k in row if k not in FIELD_ORDER]
        lines += [f"{_key(k)} = {_val(row[k])}" for k in keys]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- main


def refresh(doc: dict[str, Any], add_new: bool, today: str) -> tuple[dict[str, Any], list[str]]:
    torch_files = simple_index("torch")
    vision, audio = companion_map("torchvision"), companion_map("torchaudio")
    rows = {r["version"]: r for r in doc["release"]}
    if add_new:
        for v in _final_versions(torch_files):
            if tuple(int(x) for x in v.split(".")[:2]) >= MIN_TORCH and v not in rows:
                rows[v] = {
                    "version": v,
                    "variants": [],
                    "confidence": "inferred",
                    "note": "added by refresh_knowledge.py; fill variants from test-infra",
                }
    changes: list[str] = []
    for v, row in rows.items():
        new = derive_torch(torch_files, v)
        if v in vision:
            new["torchvision"] = vision[v]
        if v in audio:
            new["torchaudio"] = audio[v]
        if not new:
            changes.append(f"{v}: not found on PyPI")
            continue
        for field in PYPI_FIELDS:
            if field not in new:
                continue
            old = row.get(field)
            value = new[field]
            if field in ("cudnn", "nccl"):
                value = {**(old or {}), **value}
            if old != value:
                changes.append(f"{v}: {field}: {old!r} -> {value!r}")
                row[field] = value
                row["retrieved"] = today
        row.setdefault("source", "https://pypi.org/simple/torch/ (wheel tags, PEP 658 core metadata)")
        row.setdefault("retrieved", today)
    doc["release"] = sorted(rows.values(), key=lambda r: tuple(int(x) for x in r["version"].split(".")))
    return doc, changes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="validate only; exit 1 if PyPI disagrees")
    ap.add_argument("--add-new", action="store_true", help="add torch releases missing from the file")
    ap.add_argument("--file", type=Path, default=DATA)
    args = ap.parse_args(argv)
    doc = tomllib.loads(args.file.read_text(encoding="utf-8"))
    today = dt.date.today().isoformat()
    doc, changes = refresh(doc, add_new=args.add_new and not args.check, today=today)
    for c in changes:
        print(c)
    print(f"{len(changes)} difference(s) against PyPI")
    if args.check:
        return 1 if changes else 0
    if changes:
        args.file.write_text(dump_releases(doc), encoding="utf-8")
        print(f"wrote {args.file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
