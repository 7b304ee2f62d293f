"""Reading a Kineto (torch.profiler) / chrome trace: one bounded read, one decode into typed records.

Accepts a trace file (`.json` or `.json.gz`, the object form with `traceEvents` or the bare event
array), or a folder of per-rank trace files. The rank comes from `distributedInfo.rank`, else from a
`rank<N>` in the file name, else (a single file) it is None: single-GPU traces without a rank field
are the common case (HTA trips on them: HTA issues #102, #104, #238), not an error.

Every problem with the input is a `TraceError` with one line; nothing else escapes `read_trace` or
`parse_trace` for bad input. Pure: stdlib only, no torch.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import stat
import zlib
from typing import Any

from .trace_model import (
    Annotation,
    CpuOp,
    DeviceProperties,
    GpuEvent,
    MemoryEvent,
    PythonFrame,
    RuntimeCall,
    StepMark,
    Trace,
    TraceError,
    TraceSet,
)

MAX_TRACE_BYTES = 2 * 1024**3  # a trace larger than this (on disk or decompressed) is refused
MAX_FOLDER_FILES = 256
READ_CHUNK = 1 << 20
TRACE_SUFFIXES = (".json", ".json.gz")
GZIP_MAGIC = b"\x1f\x8b"


def read_trace(path: str | os.PathLike, *, limit: int = MAX_TRACE_BYTES) -> TraceSet:
    """Read a trace file or a folder of per-rank trace files. Raises TraceError (one line)."""
    name = os.fspath(path)
    try:
        info = os.stat(name)
    except FileNotFoundError:
        raise TraceError(f"{name}: no such file or folder") from None
    except OSError as exc:
        raise TraceError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        return _read_folder(name, limit)
    trace = _read_file(name, limit, rank_hint=None)
    return TraceSet(path=name, traces=(trace,), notes=trace.notes)


def _read_folder(folder: str, limit: int) -> TraceSet:
    try:
        entries = sorted(os.listdir(folder))
    except OSError as exc:
        raise TraceError(f"{folder}: cannot list the folder ({exc.strerror or exc})") from None
    files = [os.path.join(folder, e) for e in entries if e.endswith(TRACE_SUFFIXES) and not e.startswith(".")]
    files = [f for f in files if os.path.isfile(f)]
    if not files:
        raise TraceError(f"{folder}: no trace files (*.json, *.json.gz) in this folder")
    if len(files) > MAX_FOLDER_FILES:
        raise TraceError(f"{folder}: {len(files)} trace files; at most {MAX_FOLDER_FILES} are read")
    traces = [_read_file(f, limit, rank_hint=_rank_from_name(f)) for f in files]
    notes: list[str] = []
    if len(traces) > 1 and any(t.rank is None for t in traces):
        # no rank anywhere: number them in file order, and say so
        traces = [_with_rank(t, i) if t.rank is None else t for i, t in enumerate(traces)]
        notes.append(
            "some trace files carry no rank (no distributedInfo, no rank<N> in the name): numbered in file order"
        )
    ranks = [t.rank for t in traces]
    duplicates = sorted({r for r in ranks if r is not None and ranks.count(r) > 1})
    if duplicates:
        notes.append(f"rank {', '.join(map(str, duplicates))} appears in more than one file: each file analysed")
    traces.sort(key=lambda t: (t.rank if t.rank is not None else -1, t.path))
    for t in traces:
        notes.extend(f"{os.path.basename(t.path)}: {n}" for n in t.notes)
    return TraceSet(path=folder, traces=tuple(traces), notes=tuple(notes))


def _with_rank(trace: Trace, rank: int) -> Trace:
    from dataclasses import replace

    return replace(trace, rank=rank)


def _rank_from_name(path: str) -> int | None:
    match = re.search(r"rank[_-]?(\d+)", os.path.basename(path), re.IGNORECASE)
    return int(match.group(1)) if match else None


def _read_file(name: str, limit: int, rank_hint: int | None) -> Trace:
    data = read_bytes(name, limit)
    return parse_trace(data, name=name, rank_hint=rank_hint)


def read_bytes(name: str, limit: int = MAX_TRACE_BYTES) -> bytes:
    """The file's bytes, gunzipped when it is gzip; refused past `limit` (on disk or decompressed)."""
    try:
        info = os.stat(name)
    except OSError as exc:
        raise TraceError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise TraceError(f"{name}: not a regular file")
    if info.st_size > limit:
        raise TraceError(f"{name}: {_size(info.st_size)}, larger than the {_size(limit)} torchenv reads")
    if info.st_size == 0:
        raise TraceError(f"{name}: empty file")
    try:
        with open(name, "rb") as handle:
            head = handle.read(2)
            handle.seek(0)
            if head == GZIP_MAGIC:
                return _gunzip(handle, name, limit)
            return handle.read(limit + 1)
    except TraceError:
        raise
    except OSError as exc:
        raise TraceError(f"{name}: cannot read ({exc.strerror or exc})") from None


def _gunzip(handle, name: str, limit: int) -> bytes:
    parts: list[bytes] = []
    got = 0
    try:
        with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
            while True:
                chunk = stream.read(READ_CHUNK)
                if not chunk:
                    break
                got += len(chunk)
                if got > limit:
                    raise TraceError(f"{name}: decompresses to more than the {_size(limit)} torchenv reads")
                parts.append(chunk)
    except TraceError:
        raise
    except EOFError:
        raise TraceError(f"{name}: truncated gzip file (it ends before the compressed data does)") from None
    except (gzip.BadGzipFile, zlib.error, OSError) as exc:
        raise TraceError(f"{name}: corrupt gzip file ({exc})") from None
    return b"".join(parts)


def _size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


# --------------------------------------------------------------------------- decoding


def parse_trace(data: bytes | str | dict | list, *, name: str = "trace", rank_hint: int | None = None) -> Trace:
    """Decode one trace document (bytes, text, or the already-loaded JSON value). Raises TraceError."""
    doc = _load_json(data, name) if isinstance(data, (bytes, bytearray, str)) else data
    if isinstance(doc, list):
        events, meta = doc, {}
    elif isinstance(doc, dict):
        events = doc.get("traceEvents")
        meta = doc
        if not isinstance(events, list):
            raise TraceError(f"{name}: not a Kineto/chrome trace (no traceEvents list)")
    else:
        raise TraceError(f"{name}: not a Kineto/chrome trace (a JSON {type(doc).__name__}, not an object)")
    return _decode(events, meta, name, rank_hint)


def _load_json(data: bytes | str, name: str) -> Any:
    if isinstance(data, (bytes, bytearray)):
        if not data.strip():
            raise TraceError(f"{name}: empty file")
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TraceError(f"{name}: not a trace (not UTF-8 text at byte {exc.start})") from None
    else:
        text = data
    if not text.strip():
        raise TraceError(f"{name}: empty file")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()) - 1:
            raise TraceError(f"{name}: truncated JSON (it ends at line {exc.lineno} before the trace does)") from None
        raise TraceError(f"{name}: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise TraceError(f"{name}: not a trace (JSON nested too deeply)") from None
    except ValueError as exc:  # e.g. integers with too many digits
        raise TraceError(f"{name}: not JSON ({exc})") from None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _tid(value: Any) -> int | str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, (int, str)):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    return str(value)[:64]


def _str_tuple(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v if isinstance(v, str) else "" for v in value)


_FRAME = re.compile(r"^(?P<file>.+?)\((?P<line>\d+)\): (?P<function>.+)$")
_STEP = re.compile(r"^ProfilerStep#(\d+)$")
CPU_CATS = {"cpu_op", "operator"}
RUNTIME_CATS = {"cuda_runtime", "cuda_driver", "runtime", "driver"}
KERNEL_CATS = {"kernel"}
MEMCPY_CATS = {"gpu_memcpy", "memcpy"}
MEMSET_CATS = {"gpu_memset", "memset"}


_COMPLETE_CATS = (
    CPU_CATS | RUNTIME_CATS | KERNEL_CATS | MEMCPY_CATS | MEMSET_CATS | {"user_annotation", "python_function"}
)


def _decode(events: list, meta: dict, name: str, rank_hint: int | None) -> Trace:
    buckets: dict[str, list] = {key: [] for key in ("steps", "cpu_ops", "annotations", "runtime", "gpu", "python")}
    buckets["memory"] = []
    skipped = 0
    for event in events:
        if not isinstance(event, dict):
            skipped += 1
            continue
        decoded = _decode_event(event)
        if decoded is _SKIPPED:
            skipped += 1
        elif decoded is not None:
            buckets[decoded[0]].append(decoded[1])
    if not any(buckets[key] for key in ("steps", "cpu_ops", "gpu", "annotations", "runtime")):
        raise TraceError(f"{name}: no profiler events (no cpu_op, kernel or ProfilerStep events in traceEvents)")
    dist = meta.get("distributedInfo") if isinstance(meta.get("distributedInfo"), dict) else {}
    with_stack = meta.get("with_stack")
    ordered = {key: tuple(sorted(rows, key=lambda e: e.ts)) for key, rows in buckets.items()}
    return Trace(
        path=name,
        rank=_first_int(dist.get("rank"), meta.get("rank"), rank_hint),
        world_size=_int(dist.get("world_size")),
        backend=dist.get("backend") if isinstance(dist.get("backend"), str) else None,
        devices=_devices(meta.get("deviceProperties")),
        **ordered,
        with_stack=bool(with_stack) if isinstance(with_stack, (bool, int)) else (True if ordered["python"] else None),
        skipped_events=skipped,
        notes=(f"{skipped} events without usable fields were skipped",) if skipped else (),
    )


_SKIPPED = ("skipped", None)  # an event of a kind we read whose fields are unusable (counted, not raised)


def _decode_event(event: dict) -> tuple[str, Any] | None:
    """(bucket, record) for one event, None for a kind we do not read, _SKIPPED for an unusable one."""
    cat = event.get("cat")
    cat = cat.lower() if isinstance(cat, str) else ""
    ev_name = event.get("name") if isinstance(event.get("name"), str) else ""
    args = event.get("args") if isinstance(event.get("args"), dict) else {}
    ts = _number(event.get("ts"))
    ph = event.get("ph")
    if ph in ("i", "I"):
        return _memory_event(ev_name, ts, args)
    if ph != "X" or cat not in _COMPLETE_CATS:
        return None
    dur = _number(event.get("dur"))
    if ts is None or dur is None or dur < 0:
        return _SKIPPED
    tid = _tid(event.get("tid"))
    if cat in CPU_CATS:
        dims = args.get("Input Dims")
        return "cpu_ops", CpuOp(
            ev_name, ts, dur, tid, _str_tuple(args.get("Input type")), tuple(dims) if isinstance(dims, list) else ()
        )
    if cat == "user_annotation":
        step = _STEP.match(ev_name)
        if step:
            return "steps", StepMark(int(step.group(1)), ts, dur, tid)
        return "annotations", Annotation(ev_name, ts, dur, tid)
    if cat in RUNTIME_CATS:
        return "runtime", RuntimeCall(ev_name, ts, dur, tid, _int(args.get("correlation")))
    if cat == "python_function":
        return "python", _python_frame(ev_name, ts, dur, tid, args)
    kind = "kernel" if cat in KERNEL_CATS else "memcpy" if cat in MEMCPY_CATS else "memset"
    device = _first_int(args.get("device"), event.get("pid"))
    stream = _first_int(args.get("stream"), event.get("tid"))
    return "gpu", GpuEvent(
        kind, ev_name, ts, dur, device, stream, _int(args.get("correlation")), _int(args.get("bytes"))
    )


def _memory_event(ev_name: str, ts: float | None, args: dict) -> tuple[str, Any] | None:
    if ev_name != "[memory]" or ts is None:
        return None
    size = _int(args.get("Bytes"))
    if size is None:
        return _SKIPPED
    return "memory", MemoryEvent(
        ts=ts,
        bytes=size,
        total_allocated=_int(args.get("Total Allocated")),
        total_reserved=_int(args.get("Total Reserved")),
        device_type=_int(args.get("Device Type")),
        device_id=_int(args.get("Device Id")),
    )


def _python_frame(ev_name: str, ts: float, dur: float, tid: int | str, args: dict) -> PythonFrame:
    match = _FRAME.match(ev_name)
    return PythonFrame(
        ev_name,
        ts,
        dur,
        tid,
        _int(args.get("Python id")),
        _int(args.get("Python parent id")),
        match.group("file") if match else None,
        int(match.group("line")) if match else None,
        match.group("function") if match else None,
    )


def _first_int(*values: Any) -> int | None:
    """The first value that reads as an int (the trace's field, then its fallbacks)."""
    return next((number for number in map(_int, values) if number is not None), None)


def _devices(value: Any) -> tuple[DeviceProperties, ...]:
    if not isinstance(value, list):
        return ()
    out = []
    for d in value:
        if not isinstance(d, dict):
            continue
        name = d.get("name")
        out.append(
            DeviceProperties(
                index=_int(d.get("id")),
                name=name if isinstance(name, str) else None,
                cc_major=_int(d.get("computeMajor")),
                cc_minor=_int(d.get("computeMinor")),
                total_memory_bytes=_int(d.get("totalGlobalMem")),
            )
        )
    return tuple(out)
