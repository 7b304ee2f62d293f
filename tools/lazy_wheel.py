"""Read one member of a remote wheel by HTTP range requests, without downloading the wheel.

Used by ``refresh_knowledge.py`` when an index serves no PEP 658 ``.metadata`` file: a torch wheel is
close to a gigabyte, its ``*.dist-info/METADATA`` a few kilobytes. Stdlib only.

How (the zip format, APPNOTE.TXT sections 4.3.x):

1. ``Range: bytes=<size - tail>-`` reads the last bytes of the file. The End Of Central Directory
   record (``PK\\x05\\x06``, 22 bytes plus a comment of at most 65,535) is in there; so is, right
   before it, the ZIP64 locator (``PK\\x06\\x07``) when the archive is ZIP64, which points at the
   ZIP64 EOCD record (``PK\\x06\\x06``) holding the 64-bit size and offset of the central directory.
2. One range request reads the central directory; its entries give each member's name, method,
   CRC-32, sizes (64-bit ones in the ZIP64 extra field ``0x0001``) and local header offset.
3. One range request reads the member's local file header (30 bytes + name + its own extra field,
   which may differ from the central one) and the compressed bytes after it.
4. Stored members are taken as they are; deflated ones are inflated with ``zlib`` (raw, wbits -15);
   the CRC-32 and size must match the central directory.

Every request is bounded: a socket timeout, a deadline for the whole read, a cap on each response
and on the bytes of one wheel. A server that ignores ``Range`` (``200`` with the whole body) still
works when the file fits under ``Limits.max_whole_file``; a larger file is refused after the headers
(its ``Content-Length``) or after that many bytes, never downloaded whole.

Failures raise :class:`LazyWheelError` whose message is a short reason, printed by the caller as the
reason a row could not be verified.
"""

from __future__ import annotations

import re
import struct
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Opener = Callable[..., Any]  # urllib.request.urlopen's signature: (request, timeout=...) -> response

_EOCD = struct.Struct("<4sHHHHIIH")  # signature, disk, cd disk, entries here, entries, cd size, cd offset, comment len
_ZIP64_LOCATOR = struct.Struct("<4sIQI")  # signature, disk of zip64 eocd, its offset, disks
_ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")  # ..., entries here, entries, cd size, cd offset
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")  # 46 bytes; see _entries
_LOCAL = struct.Struct("<4sHHHHHIIIHH")  # 30 bytes

SIG_EOCD = b"PK\x05\x06"
SIG_ZIP64_LOCATOR = b"PK\x06\x07"
SIG_ZIP64_EOCD = b"PK\x06\x06"
SIG_CENTRAL = b"PK\x01\x02"
SIG_LOCAL = b"PK\x03\x04"

_CHUNK = 1 << 16


class LazyWheelError(Exception):
    """A remote member could not be read; ``str(error)`` is the reason, one line."""


@dataclass(frozen=True)
class Limits:
    timeout: float = 30.0  # socket timeout of each request
    deadline: float = 120.0  # seconds for all requests of one wheel
    tail: int = 65_536 + _EOCD.size + _ZIP64_LOCATOR.size + _ZIP64_EOCD.size  # covers the longest comment
    max_central_directory: int = 32 << 20
    max_member: int = 8 << 20  # compressed and uncompressed size of the member read
    max_whole_file: int = 16 << 20  # a server that ignores Range: read the body only up to this
    max_total: int = 64 << 20  # all bytes received for one wheel


@dataclass
class Member:
    name: str
    data: bytes
    requests: int
    received: int  # bytes of body received, all requests together
    whole_body: bool  # the server ignored Range and sent the whole file

    @property
    def how(self) -> str:
        if self.whole_body:
            return f"server ignored Range; whole file read ({self.received} bytes, under the cap)"
        return f"{self.requests} range requests, {self.received} bytes"


@dataclass
class RangeReader:
    """Byte ranges of one URL, each by its own bounded request (or from a whole body, see above)."""

    url: str
    size: int | None = None  # from the index when it says; else from Content-Range
    limits: Limits = field(default_factory=Limits)
    opener: Opener = urllib.request.urlopen
    clock: Callable[[], float] = time.monotonic
    requests: int = 0
    received: int = 0
    _whole: bytes | None = None
    _tail: tuple[int, bytes] | None = None  # (offset, bytes) of the tail read first; later reads inside it are free
    _started: float | None = None

    # ---------------------------------------------------------------- public
    def tail(self, n: int) -> tuple[int, bytes]:
        """(offset, bytes) of the last ``n`` bytes (fewer when the file is shorter)."""
        if self._whole is not None:
            start = max(0, len(self._whole) - n)
            return start, self._whole[start:]
        if self.size is not None:
            start = max(0, self.size - n)
            data = self.read(start, self.size - start)
        else:
            start, data = self._request(f"bytes=-{n}", None, n)
        self._tail = (start, data)
        return start, data

    def read(self, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        if self._whole is not None:
            return self._slice(start, length)
        if self._tail is not None and self._tail[0] <= start and start + length <= self._tail[0] + len(self._tail[1]):
            return self._tail[1][start - self._tail[0] : start - self._tail[0] + length]
        if self.size is not None and start + length > self.size:
            raise LazyWheelError(f"range {start}+{length} runs past the end of the {self.size}-byte file")
        got_start, data = self._request(f"bytes={start}-{start + length - 1}", start, length)
        if self._whole is not None:  # the server ignored Range just now
            return self._slice(start, length)
        if got_start != start or len(data) != length:
            raise LazyWheelError(f"server answered range {start}+{length} with {got_start}+{len(data)}")
        return data

    # ---------------------------------------------------------------- internals
    def _slice(self, start: int, length: int) -> bytes:
        assert self._whole is not None
        if start + length > len(self._whole):
            raise LazyWheelError(f"range {start}+{length} runs past the end of the {len(self._whole)}-byte file")
        return self._whole[start : start + length]

    def _request(self, header: str, start: int | None, length: int) -> tuple[int, bytes]:
        now = self.clock()
        if self._started is None:
            self._started = now
        elif now - self._started > self.limits.deadline:
            raise LazyWheelError(f"gave up after {self.limits.deadline:.0f} s")
        req = urllib.request.Request(self.url, headers={"Range": header, "Accept-Encoding": "identity"})
        self.requests += 1
        try:
            resp = self.opener(req, timeout=self.limits.timeout)
        except urllib.error.HTTPError as e:
            if e.code == 416:
                raise LazyWheelError(f"HTTP 416 for Range {header}") from None
            raise LazyWheelError(f"HTTP {e.code} for the wheel") from None
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            raise LazyWheelError(f"cannot reach the wheel: {getattr(e, 'reason', e)}") from None
        with resp:
            status = getattr(resp, "status", None) or resp.getcode()
            if status == 206:
                first, total = _content_range(resp.headers.get("Content-Range", ""))
                if total is not None and self.size is None:
                    self.size = total
                data = self._body(resp, length, "range response")
                return first, data
            if status == 200:
                declared = resp.headers.get("Content-Length")
                cap = self.limits.max_whole_file
                if declared is not None and declared.isdigit() and int(declared) > cap:
                    raise LazyWheelError(
                        f"server ignored Range (HTTP 200) and the wheel is {int(declared)} bytes, over the {cap}-byte cap"
                    )
                body = self._body(resp, cap, "whole body (server ignored Range)")
                self._whole = body
                self.size = len(body)
                if start is None:  # a suffix request
                    first = max(0, len(body) - length)
                    return first, body[first:]
                return start, body[start : start + length]
            raise LazyWheelError(f"HTTP {status} for a range request")

    def _body(self, resp: Any, cap: int, what: str) -> bytes:
        chunks: list[bytes] = []
        got = 0
        while True:
            if self._started is not None and self.clock() - self._started > self.limits.deadline:
                raise LazyWheelError(f"gave up after {self.limits.deadline:.0f} s")
            chunk = resp.read(min(_CHUNK, cap + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
            self.received += len(chunk)
            if got > cap:
                raise LazyWheelError(f"{what} is over the {cap}-byte cap")
            if self.received > self.limits.max_total:
                raise LazyWheelError(f"over the {self.limits.max_total}-byte budget for one wheel")
        return b"".join(chunks)


def _content_range(value: str) -> tuple[int, int | None]:
    m = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", value)
    if not m:
        raise LazyWheelError(f"unreadable Content-Range {value!r}")
    return int(m[1]), None if m[3] == "*" else int(m[3])


# -------------------------------------------------------------------- the zip structures


@dataclass(frozen=True)
class Entry:
    name: str
    flags: int
    method: int
    crc: int
    compressed: int
    size: int
    offset: int


def _central_directory(reader: RangeReader) -> tuple[bytes, int]:
    """(central directory bytes, shift) where shift corrects offsets of a zip with data prepended."""
    tail_start, tail = reader.tail(reader.limits.tail)
    at = tail.rfind(SIG_EOCD)
    while at >= 0 and at + _EOCD.size > len(tail):
        at = tail.rfind(SIG_EOCD, 0, at)
    if at < 0:
        raise LazyWheelError("no End Of Central Directory record: not a zip file")
    _, disk, cd_disk, _, entries, cd_size, cd_offset, _ = _EOCD.unpack_from(tail, at)
    record_at = tail_start + at  # where the record that states cd_size/cd_offset sits
    loc = at - _ZIP64_LOCATOR.size
    if loc >= 0 and tail[loc : loc + 4] == SIG_ZIP64_LOCATOR:
        _, _, z64_offset, _ = _ZIP64_LOCATOR.unpack_from(tail, loc)
        z64_at = tail_start + loc - _ZIP64_EOCD.size  # where it must be, absent prepended data
        if z64_at >= tail_start and tail[z64_at - tail_start : z64_at - tail_start + 4] == SIG_ZIP64_EOCD:
            raw = tail[z64_at - tail_start : z64_at - tail_start + _ZIP64_EOCD.size]
        else:
            z64_at = z64_offset
            raw = reader.read(z64_offset, _ZIP64_EOCD.size)
        if raw[:4] != SIG_ZIP64_EOCD:
            raise LazyWheelError("ZIP64 locator points at no ZIP64 End Of Central Directory record")
        _, _, _, _, disk, cd_disk, _, entries, cd_size, cd_offset = _ZIP64_EOCD.unpack(raw)
        record_at = z64_at
    elif 0xFFFFFFFF in (cd_size, cd_offset) or entries == 0xFFFF:
        raise LazyWheelError("ZIP64 archive without a ZIP64 locator")
    if disk or cd_disk:
        raise LazyWheelError("multi-disk zip archives are not supported")
    if cd_size > reader.limits.max_central_directory:
        raise LazyWheelError(
            f"central directory of {cd_size} bytes is over the {reader.limits.max_central_directory}-byte cap"
        )
    cd_start = record_at - cd_size  # where the directory really is
    if cd_start < 0:
        raise LazyWheelError("central directory size larger than the file")
    shift = cd_start - cd_offset
    if cd_start >= tail_start:
        data = tail[cd_start - tail_start : cd_start - tail_start + cd_size]
    else:
        data = reader.read(cd_start, cd_size)
    return data, shift


def _entries(cd: bytes) -> list[Entry]:
    out: list[Entry] = []
    pos = 0
    while pos + _CENTRAL.size <= len(cd) and cd[pos : pos + 4] == SIG_CENTRAL:
        (_, _, _, flags, method, _, _, crc, csize, usize, nlen, xlen, clen, _, _, _, offset) = _CENTRAL.unpack_from(
            cd, pos
        )
        name_raw = cd[pos + _CENTRAL.size : pos + _CENTRAL.size + nlen]
        extra = cd[pos + _CENTRAL.size + nlen : pos + _CENTRAL.size + nlen + xlen]
        usize, csize, offset = _zip64_extra(extra, usize, csize, offset)
        name = name_raw.decode("utf-8" if flags & 0x800 else "cp437", "replace")
        out.append(Entry(name, flags, method, crc, csize, usize, offset))
        pos += _CENTRAL.size + nlen + xlen + clen
    if pos != len(cd):
        raise LazyWheelError(f"central directory damaged at byte {pos} of {len(cd)}")
    return out


def _zip64_extra(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    """Replace 0xFFFFFFFF placeholders by the 64-bit values of the ZIP64 extra field (id 0x0001)."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + length]
        if tag == 0x0001:
            values = [struct.unpack_from("<Q", body, i)[0] for i in range(0, len(body) - len(body) % 8, 8)]
            if usize == 0xFFFFFFFF and values:
                usize = values.pop(0)
            if csize == 0xFFFFFFFF and values:
                csize = values.pop(0)
            if offset == 0xFFFFFFFF and values:
                offset = values.pop(0)
            break
        pos += 4 + length
    if 0xFFFFFFFF in (usize, csize, offset):
        raise LazyWheelError("ZIP64 sizes missing from a member's extra field")
    return usize, csize, offset


def _member_bytes(reader: RangeReader, entry: Entry, shift: int) -> bytes:
    if entry.flags & 0x1:
        raise LazyWheelError(f"{entry.name} is encrypted")
    if entry.method not in (0, 8):
        raise LazyWheelError(f"{entry.name}: compression method {entry.method} is not supported")
    cap = reader.limits.max_member
    if entry.compressed > cap or entry.size > cap:
        raise LazyWheelError(f"{entry.name} is over the {cap}-byte cap")
    start = entry.offset + shift
    name_len = len(entry.name.encode("utf-8" if entry.flags & 0x800 else "cp437", "replace"))
    guess = _LOCAL.size + name_len + 256  # the local extra field is usually short; read on if not
    head = reader.read(start, min(guess + entry.compressed, reader.size - start if reader.size else 1 << 62))
    if head[:4] != SIG_LOCAL:
        raise LazyWheelError(f"no local file header for {entry.name} at offset {start}")
    nlen, xlen = _LOCAL.unpack_from(head)[9:11]
    data_at = _LOCAL.size + nlen + xlen
    data = head[data_at : data_at + entry.compressed]
    if len(data) < entry.compressed:
        data += reader.read(start + data_at + len(data), entry.compressed - len(data))
    if entry.method == 0:
        out = data
    else:
        inflater = zlib.decompressobj(-15)
        try:
            out = inflater.decompress(data, cap + 1)
        except zlib.error as e:
            raise LazyWheelError(f"{entry.name}: cannot inflate ({e})") from None
        if len(out) > cap:
            raise LazyWheelError(f"{entry.name} inflates past the {cap}-byte cap")
        if not inflater.eof:
            raise LazyWheelError(f"{entry.name}: deflate stream is truncated")
    if len(out) != entry.size or zlib.crc32(out) != entry.crc:
        raise LazyWheelError(f"{entry.name}: size or CRC-32 does not match the central directory")
    return out


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def dist_info_metadata(names: list[str], wheel_filename: str | None = None) -> str:
    """The ``<name>-<version>.dist-info/METADATA`` member; the wheel's own one when several."""
    found = [n for n in names if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
    if wheel_filename and len(found) > 1:
        parts = wheel_filename.split("-")
        want = _canonical(f"{parts[0]}-{parts[1]}") if len(parts) >= 2 else ""
        mine = [n for n in found if _canonical(n.split("/")[0][: -len(".dist-info")]) == want]
        found = mine or found
    if len(found) != 1:
        raise LazyWheelError(f"{len(found)} *.dist-info/METADATA members in the wheel")
    return found[0]


def read_member(
    url: str,
    pick: Callable[[list[str]], str],
    *,
    size: int | None = None,
    limits: Limits | None = None,
    opener: Opener = urllib.request.urlopen,
) -> Member:
    """Read the member that ``pick`` chooses from the names in the remote zip's central directory."""
    reader = RangeReader(url, size=size, limits=limits or Limits(), opener=opener)
    cd, shift = _central_directory(reader)
    entries = _entries(cd)
    wanted = pick([e.name for e in entries])
    entry = next(e for e in entries if e.name == wanted)
    data = _member_bytes(reader, entry, shift)
    return Member(entry.name, data, reader.requests, reader.received, reader._whole is not None)


def read_wheel_metadata(
    url: str,
    *,
    filename: str | None = None,
    size: int | None = None,
    limits: Limits | None = None,
    opener: Opener = urllib.request.urlopen,
) -> Member:
    """``*.dist-info/METADATA`` of the wheel at ``url`` (``filename`` disambiguates; ``size`` saves a guess)."""
    return read_member(url, lambda names: dist_info_metadata(names, filename), size=size, limits=limits, opener=opener)
