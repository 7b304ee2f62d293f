"""The one place torchenv reads and writes the files a user names (snapshots, reports for
`doctor --from`, logs for `explain --file`, HTML reports to extend, outputs of -o/--html/--json).

Reading: `read_bounded` opens without blocking, refuses anything but a regular file (a FIFO, a
device such as /dev/zero, a socket, a folder) with one line, and never reads more than its cap,
so no input can hang torchenv or eat its memory. `parse_json` bounds the nesting depth before the
parser recurses.

Writing: `write_output` replaces a regular file atomically (a temporary file beside it, fsync,
os.replace: a reader never sees half a file, and a failed write leaves the old one as it was).
A path that exists and is not a regular file is never replaced: a character device (/dev/null,
/dev/stdout) or a FIFO with a reader is written to directly, anything else is refused. A device
that fails the write (/dev/full) is one line, never a retry loop or a growing file.

Every problem is a `UserFileError` whose text is one line naming the path. Standard library only.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import tempfile
from typing import Any

from .model.errors import InputError

MAX_JSON_DEPTH = 64  # torchenv's own files nest ~8 deep; Python's parser would recurse ~1000
READ_CHUNK = 1 << 20


class UserFileError(InputError):
    """A file the user named that cannot be read or written: one line, exit 2."""


def _strerror(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


# --- reading --------------------------------------------------------------------------------------


def read_bounded(path: str | os.PathLike, *, limit: int, keep: str = "all", what: str = "file") -> tuple[bytes, int]:
    """(data, size) of a regular file, at most `limit` bytes of it.

    keep="all": a larger file is refused. keep="head": its first `limit` bytes. keep="tail": its
    first 64 KiB and its last bytes (where a log's error is), `limit` in all."""
    name = os.fspath(path)
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise UserFileError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise UserFileError(f"{name}: is a directory, not a {what}") from None
    except OSError as exc:
        raise UserFileError(f"{name}: cannot read it ({_strerror(exc)})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UserFileError(f"{name}: is {_kind(info.st_mode)}, not a {what}; torchenv reads only regular files")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        size = info.st_size
        with os.fdopen(fd, "rb", closefd=True) as handle:
            fd = -1
            if keep == "tail" and size > limit:
                head = handle.read(64 * 1024)
                handle.seek(max(0, size - (limit - len(head))))
                return head + b"\n" + _read_at_most(handle, limit - len(head)), size
            data = _read_at_most(handle, limit + 1)
    except UserFileError:
        raise
    except OSError as exc:
        raise UserFileError(f"{name}: cannot read it ({_strerror(exc)})") from None
    finally:
        if fd >= 0:
            os.close(fd)
    size = max(size, len(data))  # /proc and /sys files say 0
    if len(data) > limit:
        if keep == "all":
            raise UserFileError(f"{name}: {_size(size)} is too large for a {what} (at most {_size(limit)})")
        data = data[:limit]
    return data, size


def _read_at_most(handle, limit: int) -> bytes:
    parts, got = [], 0
    while got < limit:
        chunk = handle.read(min(READ_CHUNK, limit - got))
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def read_stream_bounded(stream, *, limit: int) -> tuple[bytes, int]:
    """(data, size) of a pipe (stdin): at most `limit + 1` bytes kept, the rest read and counted."""
    data = _read_at_most(stream, limit + 1)
    total = len(data)
    if total > limit:
        while chunk := stream.read(READ_CHUNK):
            total += len(chunk)
    return data, total


def read_text_bounded(path: str | os.PathLike, *, limit: int, what: str = "file") -> str:
    data, _ = read_bounded(path, limit=limit, what=what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserFileError(f"{os.fspath(path)}: binary data, not a {what}") from None


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_depth(text: str, stop_at: int = MAX_JSON_DEPTH) -> int:
    """The deepest nesting of objects/arrays in `text` (strings skipped); stops counting past `stop_at`."""
    depth = deepest = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_at:
                    return deepest
        elif token in "]}":
            depth -= 1
    return deepest


def parse_json(text: str, *, name: str = "input", max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads with the nesting bounded: deeper input is a ValueError naming the bound."""
    if json_depth(text, max_depth) > max_depth:
        raise ValueError(f"{name}: JSON nested more than {max_depth} levels deep")
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(f"{name}: JSON nested too deeply") from None


# --- writing --------------------------------------------------------------------------------------


def check_output_path(path: str | os.PathLike, option: str = "") -> None:
    """Before any work: refuse an output path that cannot be written (a folder, a missing or
    read-only folder, a socket, a FIFO nobody reads). One line naming the option."""
    label = f"{option} {os.fspath(path)}".strip()
    name = os.fspath(path)
    try:
        info = os.stat(name)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise UserFileError(f"{label}: {_strerror(exc)}") from None
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise UserFileError(f"{label}: is a directory")
        if stat.S_ISREG(info.st_mode):
            if not os.access(name, os.W_OK):  # a file the user protected is not replaced behind their back
                raise UserFileError(f"{label}: the file is read-only")
            _check_directory(name, label)
            return
        if stat.S_ISCHR(info.st_mode):
            if not os.access(name, os.W_OK):
                raise UserFileError(f"{label}: not writable")
            return
        if stat.S_ISFIFO(info.st_mode):
            return  # whether a reader is there is learned when writing (never blocks)
        raise UserFileError(f"{label}: is {_kind(info.st_mode)}; torchenv writes only files, devices and pipes")
    _check_directory(name, label)


def _check_directory(name: str, label: str) -> None:
    """The folder must take a new file: tried for real (a temporary file made and removed), because
    permission bits do not tell (root, read-only mounts, /proc)."""
    directory = os.path.dirname(os.path.abspath(name))
    if not os.path.isdir(directory):
        raise UserFileError(f"{label}: directory {directory} does not exist")
    try:
        fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(name)}.", suffix=".check")
    except OSError as exc:
        raise UserFileError(f"{label}: cannot write in {directory} ({_strerror(exc)})") from None
    os.close(fd)
    try:
        os.unlink(temp)
    except OSError:
        pass


def is_regular_or_absent(path: str | os.PathLike) -> bool:
    try:
        return stat.S_ISREG(os.stat(os.fspath(path)).st_mode)
    except FileNotFoundError:
        return True
    except OSError:
        return False


def write_output(path: str | os.PathLike, text: str, option: str = "") -> str:
    """Write `text` to `path`: atomically for a regular file (or a new one), directly for a device or a
    FIFO with a reader; never replaces a non-regular file. Returns how it was written ("file",
    "device", "pipe")."""
    check_output_path(path, option)
    label = f"{option} {os.fspath(path)}".strip()
    name = os.fspath(path)
    data = text.encode("utf-8")
    if is_regular_or_absent(name):
        _write_atomically(name, data, label)
        return "file"
    flags = os.O_WRONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(name, flags)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise UserFileError(f"{label}: a FIFO that no process is reading; not writing to it") from None
        raise UserFileError(f"{label}: cannot write it ({_strerror(exc)})") from None
    try:
        info = os.fstat(fd)
        if not (stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode)):  # changed under us
            raise UserFileError(f"{label}: is {_kind(info.st_mode)}; not writing to it")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            if written <= 0:
                raise UserFileError(f"{label}: the device accepted no data")
            view = view[written:]
    except OSError as exc:
        raise UserFileError(f"{label}: cannot write it ({_strerror(exc)})") from None
    finally:
        os.close(fd)
    return "pipe" if stat.S_ISFIFO(info.st_mode) else "device"


def _write_atomically(name: str, data: bytes, label: str) -> None:
    directory = os.path.dirname(os.path.abspath(name))
    try:
        fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(name)}.", suffix=".tmp")
    except OSError as exc:
        raise UserFileError(f"{label}: cannot write in {directory} ({_strerror(exc)})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            mode = os.stat(name).st_mode & 0o777
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        try:
            os.chmod(temp, mode)
        except OSError:
            pass
        os.replace(temp, name)
    except BaseException as exc:
        try:
            os.unlink(temp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise UserFileError(f"{label}: cannot write it ({_strerror(exc)})") from None
        raise
