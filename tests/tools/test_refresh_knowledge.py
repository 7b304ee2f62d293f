"""tools/refresh_knowledge.py and tools/lazy_wheel.py, without the network.

Wheels are zips built here and served by a local http.server on 127.0.0.1 (one that honours Range,
one that ignores it, one that 404s); index listings are JSON written here.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import re
import struct
import sys
import threading
import zipfile
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

TOOLS = Path(__file__).resolve().parents[2] / "tools"


def _load(name: str):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


rk = _load("refresh_knowledge")
lw = rk.lazy_wheel

# ---------------------------------------------------------------- building wheels


def metadata_text(name: str, version: str, requires: list[str]) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    return "\n".join(lines) + "\n\nA long description " + "x" * 3000 + "\n"


def build_wheel(name: str, version: str, requires: list[str], method=zipfile.ZIP_DEFLATED, filler: int = 0) -> bytes:
    """A wheel-shaped zip: some payload, then the dist-info (as wheels put it last)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        if filler:  # incompressible payload the lazy reader must not download
            z.writestr(f"{name}/_C.so", hashlib.sha256(b"seed").digest() * (filler // 32), zipfile.ZIP_STORED)
        z.writestr(f"{name}/__init__.py", "x = 1\n" * 50, zipfile.ZIP_DEFLATED)
        z.writestr(f"{name}-{version}.dist-info/METADATA", metadata_text(name, version, requires), method)
        z.writestr(f"{name}-{version}.dist-info/RECORD", "", zipfile.ZIP_DEFLATED)
        z.comment = b"a zip comment"
    return buf.getvalue()


def build_zip64(members: dict[str, bytes]) -> bytes:
    """A ZIP64 archive written by hand: 0xFFFFFFFF placeholders, ZIP64 extra fields, ZIP64 EOCD and locator."""
    out = bytearray()
    central = bytearray()
    for name, data in members.items():
        raw = zlib.compressobj(9, zlib.DEFLATED, -15)
        comp = raw.compress(data) + raw.flush()
        crc = zlib.crc32(data)
        offset = len(out)
        nb = name.encode()
        local_extra = struct.pack("<HHQQ", 1, 16, len(data), len(comp))
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 45, 0, 8, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(nb), 20)
        out += nb + local_extra + comp
        extra = struct.pack("<HHQQQ", 1, 24, len(data), len(comp), offset)
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            45,
            45,
            0,
            8,
            0,
            0,
            crc,
            0xFFFFFFFF,
            0xFFFFFFFF,
            len(nb),
            len(extra),
            0,
            0,
            0,
            0,
            0xFFFFFFFF,
        )
        central += nb + extra
    cd_offset = len(out)
    out += central
    z64_at = len(out)
    n = len(members)
    out += struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, n, n, len(central), cd_offset)
    out += struct.pack("<4sIQI", b"PK\x06\x07", 0, z64_at, 1)
    out += struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return bytes(out)


# ---------------------------------------------------------------- a local server


class Server:
    """Serves ``files`` (path -> bytes). Paths under /norange/ ignore Range, /nolength/ also send no
    Content-Length, /missing/ answer 404; everything else honours Range (``bytes=a-b``, ``a-``, ``-n``)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.log: list[tuple[str, str | None, int]] = []  # (path, Range header, body bytes sent)
        files, log = self.files, self.log

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, code, body, headers=()):
                self.send_response(code)
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                log.append((self.path, self.headers.get("Range"), len(body)))  # before the client can go on
                self.wfile.write(body)

            def do_GET(self):
                path = self.path
                if path.startswith("/missing/") or path not in files:
                    self._send(404, b"not found", [("Content-Length", "9")])
                    return
                body = files[path]
                if path.startswith("/nolength/"):
                    self.close_connection = True
                    self._send(200, body)
                    return
                rng = self.headers.get("Range")
                if path.startswith("/norange/") or not rng:
                    self._send(200, body, [("Content-Length", str(len(body)))])
                    return
                m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng)
                size = len(body)
                if m[1] == "":
                    start, end = max(0, size - int(m[2])), size - 1
                else:
                    start, end = int(m[1]), min(size - 1, int(m[2]) if m[2] else size - 1)
                if start >= size:
                    self._send(416, b"", [("Content-Range", f"bytes */{size}")])
                    return
                part = body[start : end + 1]
                headers = [("Content-Range", f"bytes {start}-{end}/{size}"), ("Content-Length", str(len(part)))]
                self._send(206, part, headers)

        class Quiet(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that stops reading at its cap resets the connection: expected here

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def sent(self, path: str) -> int:
        return sum(n for p, _, n in self.log if p == path)


@pytest.fixture
def server():
    s = Server()
    s.thread.start()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def _wheel_name(name, version, py="cp312-cp312", plat="manylinux_2_28_x86_64"):
    return f"{name}-{version}-{py}-{plat}.whl"


# ---------------------------------------------------------------- the lazy reader


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
@pytest.mark.parametrize("size_known", [True, False])
@pytest.mark.parametrize("tail, requests", [(None, 1), (100, 3)])  # all in the first tail read / one read each
def test_reads_metadata_by_ranges_without_the_payload(server, method, size_known, tail, requests):
    data = build_wheel("torch", "2.11.0", ["nvidia-cudnn-cu13==9.19.0.56"], method=method, filler=2_000_000)
    server.files["/w/torch.whl"] = data
    limits = lw.Limits() if tail is None else lw.Limits(tail=tail)
    url = server.url + "/w/torch.whl"
    size = len(data) if size_known else None
    member = lw.read_wheel_metadata(url, filename="torch-2.11.0-cp312-cp312-x.whl", size=size, limits=limits)
    assert member.name == "torch-2.11.0.dist-info/METADATA"
    assert member.data.decode() == metadata_text("torch", "2.11.0", ["nvidia-cudnn-cu13==9.19.0.56"])
    assert not member.whole_body
    assert all(r is not None and r.startswith("bytes=") for _, r, _ in server.log)
    assert server.sent("/w/torch.whl") == member.received < 100_000 < len(data)  # the 2 MB payload stayed there
    assert member.requests == len(server.log) == requests


def test_reads_a_zip64_archive(server):
    meta = metadata_text("torchaudio", "2.11.1", ["torch>=2.11"]).encode()
    data = build_zip64({"torchaudio/lib.so": b"\0" * 5000, "torchaudio-2.11.1.dist-info/METADATA": meta})
    with zipfile.ZipFile(io.BytesIO(data)) as z:  # the hand-built archive is a valid zip
        assert z.read("torchaudio-2.11.1.dist-info/METADATA") == meta
    server.files["/w/a.whl"] = data
    assert lw.read_wheel_metadata(server.url + "/w/a.whl").data == meta


def test_server_ignoring_range_still_works_under_the_cap(server):
    data = build_wheel("torchvision", "0.29.2", ["torch>=2.14.0"])
    server.files["/norange/v.whl"] = data
    member = lw.read_wheel_metadata(server.url + "/norange/v.whl", size=len(data))
    assert member.whole_body and b"torch>=2.14.0" in member.data
    assert member.requests == 1  # the whole body is kept; no second download


@pytest.mark.parametrize("prefix", ["/norange/", "/nolength/"])
def test_server_ignoring_range_is_capped(server, prefix):
    data = build_wheel("torch", "2.15.0", [], filler=400_000)
    server.files[prefix + "t.whl"] = data
    limits = lw.Limits(max_whole_file=100_000)
    with pytest.raises(lw.LazyWheelError, match="cap"):
        lw.read_wheel_metadata(server.url + prefix + "t.whl", limits=limits)


def test_missing_wheel_is_a_reason_not_a_crash(server):
    with pytest.raises(lw.LazyWheelError, match="HTTP 404"):
        lw.read_wheel_metadata(server.url + "/missing/x.whl", size=1000)


def test_not_a_zip_and_damaged_member(server):
    server.files["/w/junk.whl"] = b"not a zip at all" * 100
    with pytest.raises(lw.LazyWheelError, match="End Of Central Directory"):
        lw.read_wheel_metadata(server.url + "/w/junk.whl")
    data = bytearray(build_wheel("torch", "2.11.0", ["a"], method=zipfile.ZIP_STORED))
    at = data.find(b"Requires-Dist: a")
    data[at] ^= 0xFF  # the stored METADATA no longer matches its CRC-32
    server.files["/w/bad.whl"] = bytes(data)
    with pytest.raises(lw.LazyWheelError, match="CRC"):
        lw.read_wheel_metadata(server.url + "/w/bad.whl")


def test_central_directory_cap(server):
    server.files["/w/t.whl"] = build_wheel("torch", "2.11.0", [])
    with pytest.raises(lw.LazyWheelError, match="central directory of"):
        lw.read_wheel_metadata(server.url + "/w/t.whl", limits=lw.Limits(max_central_directory=10))


def test_pep658_first_then_range_read_when_it_404s(server):
    data = build_wheel("torch", "2.11.0", ["x"])
    meta = metadata_text("torch", "2.11.0", ["x"]).encode()
    server.files["/w/a.whl"] = data
    server.files["/w/a.whl.metadata"] = meta
    server.files["/w/b.whl"] = data  # no b.whl.metadata: 404
    http = rk.Http()
    files = [
        {"filename": _wheel_name("torch", "2.11.0"), "url": server.url + "/w/a.whl", "size": len(data),
         "upload-time": "2026-03-23T00:00:00Z", "core-metadata": {"sha256": hashlib.sha256(meta).hexdigest()}},
        {"filename": _wheel_name("torch", "2.11.0", "cp313-cp313"), "url": server.url + "/w/b.whl",
         "size": len(data), "upload-time": "2026-03-23T00:00:00Z", "core-metadata": True},
    ]  # fmt: skip
    a, b = rk.parse_wheels(files)
    got = rk.read_metadata(http, a)
    assert (got.method, got.text) == ("pep658", meta.decode())
    got = rk.read_metadata(http, b)
    assert got.method == "range-read" and got.text == meta.decode()
    b_unadvertised = rk.parse_wheels([{**files[1], "core-metadata": False}])[0]
    server.log.clear()
    assert rk.read_metadata(http, b_unadvertised).method == "range-read"
    assert not any(p.endswith(".metadata") for p, _, _ in server.log)  # not advertised: not asked


# ---------------------------------------------------------------- wheel tags


def test_free_threaded_minors_from_filenames():
    names = [
        "torch-2.12.1-cp313-cp313-manylinux_2_28_x86_64.whl",
        "torch-2.12.1-cp314-cp314-manylinux_2_28_x86_64.whl",
        "torch-2.12.1-cp314-cp314t-manylinux_2_28_x86_64.whl",
        "torch-2.12.1-cp313-cp313t-win_amd64.whl",  # not Linux x86_64
        "torch-2.12.1-cp315-cp315t-manylinux_2_28_aarch64.whl",  # not x86_64
        "torch-2.12.1-cp312-none-macosx_11_0_arm64.whl",
    ]
    wheels = rk.parse_wheels([{"filename": n, "url": n, "upload-time": "2026-06-17T00:00:00Z"} for n in names])
    gil, free = rk.python_minors(wheels)
    assert gil == ["3.12", "3.13", "3.14"]  # the GIL builds only
    assert free == ["3.14"]
    assert rk.python_minors(wheels[:2]) == (["3.13", "3.14"], [])


def test_build_tags_and_pure_python_tags():
    names = [
        "torch-2.10.0-cp312-cp312-manylinux_2_28_x86_64.whl",
        "torch-2.10.0-3-cp312-cp312-manylinux_2_28_x86_64.whl",
        "torch-2.10.0-3-cp313-cp313t-manylinux_2_28_x86_64.whl",
        "torchaudio-2.11.1-py3-none-manylinux_2_28_x86_64.whl",
    ]
    wheels = rk.parse_wheels([{"filename": n, "url": n, "upload-time": "x"} for n in names])
    best = rk.metadata_candidates(wheels[:3])[0]
    assert best.filename == names[1]  # highest build number, GIL build
    assert wheels[3].version == Version("2.11.1") and wheels[3].cpython is None and wheels[3].linux_x86_64


# ---------------------------------------------------------------- companion pairing


def _read(version, spec):
    meta = rk.MetadataRead("Metadata-Version: 2.1\n", "range-read", "w.whl", "")
    return rk.CompanionRead(Version(version), meta, None if spec is None else SpecifierSet(spec))


def _unread(version):
    return rk.CompanionRead(Version(version), rk.MetadataRead(None, None, "w.whl", "HTTP 404"), None)


TORCH = [Version(v) for v in ("2.9.0", "2.10.0", "2.11.0", "2.12.0", "2.14.0", "2.14.1", "2.15.0")]


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("==2.11.0", {"2.11.0"}),
        ("==2.14.*", {"2.14.0", "2.14.1"}),
        (">=2.11", {"2.11.0"}),  # torchaudio 2.11.1: built for 2.11, not for 2.12 although pip accepts it
        (">=2.14.0", {"2.14.0", "2.14.1"}),
        ("~=2.14.0", {"2.14.0", "2.14.1"}),
        (">=2.14.0,<3", {"2.14.0", "2.14.1"}),
        ("<3", set()),
        ("", set()),
    ],
)
def test_built_for(spec, expected):
    assert rk.built_for(SpecifierSet(spec), TORCH) == {Version(v) for v in expected}


def test_ge_pins_pair_with_their_minor():
    reads = [_read("2.10.0", "==2.10.0"), _read("2.11.0", None), _read("2.11.1", ">=2.11")]
    got = rk.pair_companions("torchaudio", reads, TORCH)
    assert got[Version("2.11.0")].value == "2.11.1"
    assert "torchaudio 2.11.1 requires torch>=2.11" in got[Version("2.11.0")].why
    assert got[Version("2.10.0")].value == "2.10.0"
    assert got[Version("2.12.0")].value is None
    assert not any(p.unverified for p in got.values())
    vision = [_read("0.29.0", "==2.14.0"), _read("0.29.1", ">=2.14.0"), _read("0.29.2", ">=2.14.0")]
    got = rk.pair_companions("torchvision", vision, TORCH)
    assert [got[Version(t)].value for t in ("2.14.0", "2.14.1", "2.15.0")] == ["0.29.2", "0.29.2", None]


def test_unread_companion_marks_the_torch_rows_it_could_change():
    reads = [_read("0.25.0", "==2.10.0"), _unread("0.26.0"), _read("0.27.0", "==2.12.0")]
    got = rk.pair_companions("torchvision", reads, TORCH)
    assert [t for t, p in got.items() if p.unverified] == [Version("2.10.0"), Version("2.11.0")]
    assert "0.26.0 metadata not read (HTTP 404)" in got[Version("2.11.0")].unverified[0]
    assert not got[Version("2.12.0")].unverified  # paired with a newer release that was read
    got = rk.pair_companions("torchvision", [*reads, _unread("0.28.0")], TORCH)
    assert all(got[t].unverified for t in TORCH if t >= Version("2.12.0"))  # no readable neighbour above


def test_requirements_follow_markers():
    meta = metadata_text(
        "torch",
        "2.15.0",
        [
            'cuda-toolkit[cublas,cudart]==13.2.2; platform_system == "Linux"',
            'nvidia-cudnn-cu13==9.26.0.51; platform_system == "Linux"',
            'nvidia-nccl-cu13==2.30.7; platform_system == "Windows"',
            "optree>=0.13.0; extra == 'optree'",
        ],
    )
    tm = rk.torch_metadata(rk.requirements(meta, "3.12"))
    assert (tm.variant, tm.cudnn, tm.nccl) == ("cu132", "9.26.0.51", None)
    old = metadata_text("torch", "1.13.0", ["nvidia-cuda-runtime-cu11 (==11.7.99)", "nvidia-cudnn-cu11 (==8.5.0.96)"])
    assert rk.torch_metadata(rk.requirements(old)) == rk.TorchMetadata("cu117", "8.5.0.96", None)


# ---------------------------------------------------------------- the summary never lies


def _entry(filename, uploaded="2026-03-23T10:00:00Z"):
    return {"filename": filename, "url": "https://files.example/" + filename, "size": 10, "upload-time": uploaded}


INDEXES = {
    "torch": [
        _entry(_wheel_name("torch", "2.11.0")),
        _entry(_wheel_name("torch", "2.11.0", "cp313-cp313")),
        _entry(_wheel_name("torch", "2.11.0", "cp313-cp313t")),
        _entry(_wheel_name("torch", "2.12.0"), "2026-05-13T10:00:00Z"),
    ],
    "torchvision": [
        _entry(_wheel_name("torchvision", "0.26.0")),
        _entry(_wheel_name("torchvision", "0.27.0"), "2026-05-13T10:00:00Z"),
    ],
    "torchaudio": [
        _entry(_wheel_name("torchaudio", "2.11.0")),
        _entry("torchaudio-2.11.1-py3-none-manylinux_2_28_x86_64.whl", "2026-10-28T10:00:00Z"),
    ],
}
REQUIRES = {
    "torch-2.11.0": ["cuda-toolkit[cudart]==13.0.2", "nvidia-cudnn-cu13==9.19.0.56", "nvidia-nccl-cu13==2.28.9"],
    "torch-2.12.0": ["cuda-toolkit[cudart]==13.0.2", "nvidia-cudnn-cu13==9.20.0.48", "nvidia-nccl-cu13==2.29.7"],
    "torchvision-0.26.0": ["torch==2.11.0"],
    "torchvision-0.27.0": ["torch==2.12.0"],
    "torchaudio-2.11.0": [],
    "torchaudio-2.11.1": ["torch>=2.11"],
}
ROWS = [
    {"version": "2.11.0", "released": "2026-03-23", "python": ["3.12", "3.13"], "python_freethreaded": ["3.13"],
     "variants": ["cpu", "cu126", "cu130"], "pypi_default_variant": "cu130",
     "cudnn": {"cu126": "9.10.2.21", "cu130": "9.19.0.56"}, "nccl": {"cu130": "2.28.9"},
     "torchvision": "0.26.0", "torchaudio": "2.11.1", "source": "s", "retrieved": "2026-11-22"},
    {"version": "2.12.0", "released": "2026-05-13", "python": ["3.12"], "python_freethreaded": [],
     "variants": ["cpu", "cu130"], "pypi_default_variant": "cu130", "cudnn": {"cu130": "9.20.0.48"},
     "nccl": {"cu130": "2.29.7"}, "torchvision": "0.27.0", "note": "kept", "source": "s", "retrieved": "2026-11-22"},
]  # fmt: skip


def fake_reader(fail: set[str] = frozenset()):
    def read(wheel):
        key = f"{wheel.name}-{wheel.version}"
        if key in fail:
            return rk.MetadataRead(None, None, wheel.filename, "PEP 658 .metadata: HTTP 404; range read: HTTP 404")
        meta = metadata_text(wheel.name, str(wheel.version), REQUIRES[key])
        return rk.MetadataRead(meta, "range-read", wheel.filename, "3 range requests, 1000 bytes")

    return read


def _doc(rows=ROWS):
    return {"meta": {"knowledge_version": "x", "schema_version": 1}, "release": json.loads(json.dumps(rows))}


def test_all_verified_and_unchanged_says_how_many():
    report = rk.refresh(_doc(), INDEXES, fake_reader(), add_new=False)
    out = rk.render_summary(report, "2026-12-03")
    assert report.changes == []
    assert "rows verified:       2 (pep658 0, range-read 2)" in out
    assert out.strip().endswith("RESULT: 0 difference(s); all 2 rows verified")


def test_unverified_rows_are_listed_and_never_zero_differences():
    report = rk.refresh(_doc(), INDEXES, fake_reader(fail={"torch-2.12.0", "torchaudio-2.11.1"}), add_new=False)
    out = rk.render_summary(report, "2026-12-03")
    assert "0 difference" not in out
    assert "rows NOT verified:   2" in out
    assert "2.12.0: pypi_default_variant, cudnn, nccl: torch METADATA not read:" in out
    assert "2.11.0: torchaudio: torchaudio 2.11.1 metadata not read" in out
    assert "RESULT: INCOMPLETE - 2 of 2 rows NOT verified" in out
    assert report.changes == []  # nothing is changed from what was not read


def test_differences_are_per_row_and_field():
    rows = json.loads(json.dumps(ROWS))
    rows[0].update(torchaudio="2.11.0", python_freethreaded=[])
    rows[0]["cudnn"]["cu130"] = "9.0"
    report = rk.refresh(_doc(rows), INDEXES, fake_reader(), add_new=False)
    shown = [str(c) for c in report.changes]
    assert shown == [
        '2.11.0: python_freethreaded: [] -> ["3.13"]',
        '2.11.0: cudnn.cu130: "9.0" -> "9.19.0.56"',
        '2.11.0: torchaudio: "2.11.0" -> "2.11.1"  (torchaudio 2.11.1 requires torch>=2.11)',
    ]
    assert "RESULT: 3 difference(s); all 2 rows verified" in rk.render_summary(report, "d")


# ---------------------------------------------------------------- end to end over HTTP, and the writer


def _publish(server: Server) -> None:
    for name, entries in INDEXES.items():
        files = []
        for e in entries:
            wheel_name, version = e["filename"].split("-")[:2]
            data = build_wheel(wheel_name, version, REQUIRES[f"{wheel_name}-{version}"])
            path = f"/files/{e['filename']}"
            server.files[path] = data
            files.append({**e, "url": server.url + path, "size": len(data)})
        body = json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": files}).encode()
        server.files[f"/simple/{name}/"] = body


def test_check_over_http_and_write_keeps_hand_edits(server, tmp_path, capsys):
    _publish(server)
    rows = json.loads(json.dumps(ROWS))
    rows[1]["torchvision"] = "0.26.0"  # wrong: 0.27.0 pins torch==2.12.0
    del rows[1]["python_freethreaded"]
    path = tmp_path / "torch_releases.toml"
    path.write_text(rk.dump_releases(_doc(rows)), encoding="utf-8")
    args = ["--file", str(path), "--index", server.url + "/simple/", "--jobs", "2"]

    assert rk.main(["--check", *args], today="2026-12-03") == 1
    out = capsys.readouterr().out
    assert "rows verified:       2 (pep658 0, range-read 2)" in out
    assert '2.12.0: torchvision: "0.26.0" -> "0.27.0"' in out

    # the file is re-read right before writing: hand edits made meanwhile (another variant's
    # cudnn / nccl, a comment) are kept
    http = rk.Http()
    indexes = {n: rk.read_index(http, server.url + "/simple/", n) for n in ("torch", *rk.COMPANIONS)}
    report = rk.refresh(rk.tomllib.loads(path.read_text()), indexes, lambda w: rk.read_metadata(http, w), False)
    text = path.read_text().replace('cudnn = { cu130 = "9.20.0.48" }', 'cudnn = { cu130 = "9.20.0.48", cu126 = "9.1" }')
    text = text.replace('nccl = { cu130 = "2.29.7" }', 'nccl = { cu130 = "2.29.7", cu126 = "2.21" }')
    path.write_text(text.replace('[[release]]\nversion = "2.12.0"', '# hand note\n[[release]]\nversion = "2.12.0"'))
    assert len(rk.write_refresh(path, report, [], "2026-12-03")) == 2
    assert report.conflicts == []
    written = path.read_text()
    assert "# hand note" in written
    assert 'cudnn = { cu130 = "9.20.0.48", cu126 = "9.1" }' in written
    assert 'nccl = { cu130 = "2.29.7", cu126 = "2.21" }' in written
    assert 'python = ["3.12"]\npython_freethreaded = []\n' in written  # inserted in the writer's field order
    assert 'torchvision = "0.27.0"' in written and 'note = "kept"' in written
    capsys.readouterr()
    assert rk.main(["--check", *args], today="2026-12-03") == 0
    assert "RESULT: 0 difference(s); all 2 rows verified" in capsys.readouterr().out


def test_check_exits_1_when_rows_cannot_be_verified(server, tmp_path, capsys):
    _publish(server)
    del server.files["/files/" + _wheel_name("torch", "2.12.0")]  # 404 for that wheel
    path = tmp_path / "t.toml"
    path.write_text(rk.dump_releases(_doc()), encoding="utf-8")
    args = ["--check", "--file", str(path), "--index", server.url + "/simple/"]
    assert rk.main(args) == 1
    out = capsys.readouterr().out
    assert "0 difference" not in out and "HTTP 404 for the wheel" in out
    assert rk.main([*args, "--allow-unverified"]) == 0


def test_patch_text_deletes_and_adds_rows_in_order():
    doc = _doc()
    doc["release"][1]["inferred_fields"] = ["torchvision"]
    text = rk.dump_releases(doc)
    changes = [rk.Change("2.12.0", "torchvision", None, "0.27.0", rk.MISSING)]
    new, applied, conflicts = rk.apply_changes(doc, changes, [rk.new_row("2.11.5")], "2026-12-03")
    assert applied == changes and conflicts == []
    patched = rk.patch_text(text, doc, new)
    assert 'torchvision = "0.27.0"' not in patched and "inferred_fields" not in patched
    assert patched.index('version = "2.11.0"') < patched.index('version = "2.11.5"') < patched.index('"2.12.0"')
    assert rk.dump_releases(new) == patched  # the writer's style throughout


def test_next_wheel_is_tried_when_one_cannot_be_read():
    wheels = rk.parse_wheels(INDEXES["torch"][:2])

    def reader(wheel):
        if wheel.cpython == "3.13":  # the preferred (newest CPython) wheel
            return rk.MetadataRead(None, None, wheel.filename, "range read: HTTP 404 for the wheel")
        return rk.MetadataRead("Metadata-Version: 2.1\n", "range-read", wheel.filename, "1 range requests, 9 bytes")

    got = rk.read_release_metadata(reader, wheels)
    assert got.ok and got.wheel == _wheel_name("torch", "2.11.0")
    assert got.tries == (_wheel_name("torch", "2.11.0", "cp313-cp313") + ": range read: HTTP 404 for the wheel",)
    failed = rk.read_release_metadata(lambda w: rk.MetadataRead(None, None, w.filename, "HTTP 500"), wheels)
    assert not failed.ok and failed.detail.count("HTTP 500") == 2


def test_unreadable_index_is_one_line(server):
    with pytest.raises(SystemExit, match=r"cannot read the index page .*/simple/torch/: HTTP 404"):
        rk.read_index(rk.Http(), server.url + "/simple/", "torch")
