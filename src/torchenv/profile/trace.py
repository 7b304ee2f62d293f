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
from dataclasses import dataclass, field
from typing import Any

MAX_TRACE_BYTES = 2 * 1024**3  # a trace larger than this (on disk or decompressed) is refused
MAX_FOLDER_FILES = 256
READ_CHUNK = 1 << 20
TRACE_SUFFIXES = (".json", ".json.gz")
GZIP_MAGIC = b"\x1f\x8b"


class TraceError(ValueError):
    """The trace cannot be read or is not a Kineto/chrome trace: one line, no traceback."""


# --------------------------------------------------------------------------- typed records


@dataclass(frozen=True, slots=True)
class CpuOp:
    """A `cpu_op` (aten::mm, autograd nodes, ...) on a host thread. Times in microseconds."""

    name: str
    ts: float
    dur: float
    tid: int | str
    input_types: tuple[str, ...] = ()
    input_dims: tuple[Any, ...] = ()

    @property
    def end(self) -> float:
        return self.ts + self.dur


@dataclass(frozen=True, slots=True)
class Annotation:
    """A `user_annotation`: record_function ranges (DataLoader `__next__`, `Optimizer.step#SGD.step`, ...)."""

    name: str
    ts: float
    dur: float
    tid: int | str

    @property
    def end(self) -> float:
        return self.ts + self.dur


@dataclass(frozen=True, slots=True)
class StepMark:
    """`ProfilerStep#N`, written by `prof.step()`."""

    number: int
    ts: float
    dur: float
    tid: int | str

    @property
    def name(self) -> str:
        return f"ProfilerStep#{self.number}"

    @property
    def end(self) -> float:
        return self.ts + self.dur


@dataclass(frozen=True, slots=True)
class RuntimeCall:
    """A CUDA runtime or driver API call on a host thread (cudaLaunchKernel, cudaMemcpyAsync, ...)."""

    name: str
    ts: float
    dur: float
    tid: int | str
    correlation: int | None

    @property
    def end(self) -> float:
        return self.ts + self.dur


@dataclass(frozen=True, slots=True)
class GpuEvent:
    """A kernel, memcpy or memset on a device stream."""

    kind: str  # "kernel" | "memcpy" | "memset"
    name: str
    ts: float
    dur: float
    device: int | None
    stream: int | None
    correlation: int | None
    bytes: int | None = None

    @property
    def end(self) -> float:
        return self.ts + self.dur

    @property
    def pageable(self) -> bool:
        return self.kind == "memcpy" and "pageable" in self.name.lower()

    @property
    def direction(self) -> str | None:
        """ "HtoD", "DtoH", "DtoD", ... from `Memcpy HtoD (Pageable -> Device)`."""
        match = re.search(r"\b([A-Za-z]to[A-Za-z])\b", self.name)
        return match.group(1) if match else None

    @property
    def nccl(self) -> bool:
        return self.kind == "kernel" and "nccl" in self.name.lower()


@dataclass(frozen=True, slots=True)
class PythonFrame:
    """A `python_function` event (with_stack=True): `file(line): function`. The line is the frame's
    line when the event was recorded: the def line for a frame entered while the profiler ran, the
    line then running for one already running when it started; never the line of a call (the exact
    line comes from the source file: torchenv.profile.sources)."""

    name: str
    ts: float
    dur: float
    tid: int | str
    id: int | None
    parent: int | None
    file: str | None
    line: int | None
    function: str | None

    @property
    def end(self) -> float:
        return self.ts + self.dur

    @property
    def where(self) -> str:
        if self.file is None:
            return self.name
        return f"{self.function}() at {self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class MemoryEvent:
    """A `[memory]` instant event (profile_memory=True): an allocation (bytes > 0) or a free."""

    ts: float
    bytes: int
    total_allocated: int | None
    total_reserved: int | None
    device_type: int | None  # 0 CPU, 1 CUDA
    device_id: int | None


@dataclass(frozen=True, slots=True)
class DeviceProperties:
    index: int | None
    name: str | None
    cc_major: int | None
    cc_minor: int | None
    total_memory_bytes: int | None

    @property
    def cc(self) -> str | None:
        if self.cc_major is None:
            return None
        return f"{self.cc_major}.{self.cc_minor or 0}"


@dataclass(frozen=True, slots=True)
class Trace:
    """One rank's trace, decoded once."""

    path: str
    rank: int | None
    world_size: int | None
    backend: str | None
    devices: tuple[DeviceProperties, ...]
    steps: tuple[StepMark, ...]
    cpu_ops: tuple[CpuOp, ...]
    annotations: tuple[Annotation, ...]
    runtime: tuple[RuntimeCall, ...]
    gpu: tuple[GpuEvent, ...]
    python: tuple[PythonFrame, ...]
    memory: tuple[MemoryEvent, ...]
    with_stack: bool | None = None
    skipped_events: int = 0  # events of a known category whose fields were not usable
    notes: tuple[str, ...] = ()

    @property
    def has_gpu(self) -> bool:
        return bool(self.gpu)


@dataclass(frozen=True, slots=True)
class TraceSet:
    """What `--trace` named: one trace or a folder of per-rank traces."""

    path: str
    traces: tuple[Trace, ...]
    notes: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------- reading


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


def _decode(events: list, meta: dict, name: str, rank_hint: int | None) -> Trace:
    steps: list[StepMark] = []
    cpu_ops: list[CpuOp] = []
    annotations: list[Annotation] = []
    runtime: list[RuntimeCall] = []
    gpu: list[GpuEvent] = []
    python: list[PythonFrame] = []
    memory: list[MemoryEvent] = []
    skipped = 0
    for event in events:
        if not isinstance(event, dict):
            skipped += 1
            continue
        ph = event.get("ph")
        cat = event.get("cat")
        cat = cat.lower() if isinstance(cat, str) else ""
        ev_name = event.get("name")
        if not isinstance(ev_name, str):
            ev_name = ""
        args = event.get("args")
        if not isinstance(args, dict):
            args = {}
        ts = _number(event.get("ts"))
        if ph == "i" or ph == "I":
            if ev_name == "[memory]" and ts is not None:
                size = _int(args.get("Bytes"))
                if size is None:
                    skipped += 1
                    continue
                memory.append(
                    MemoryEvent(
                        ts=ts,
                        bytes=size,
                        total_allocated=_int(args.get("Total Allocated")),
                        total_reserved=_int(args.get("Total Reserved")),
                        device_type=_int(args.get("Device Type")),
                        device_id=_int(args.get("Device Id")),
                    )
                )
            continue
        if ph != "X":
            continue
        dur = _number(event.get("dur"))
        known = cat in CPU_CATS or cat in RUNTIME_CATS or cat in KERNEL_CATS or cat in MEMCPY_CATS
        known = known or cat in MEMSET_CATS or cat in ("user_annotation", "python_function")
        if not known:
            continue
        if ts is None or dur is None or dur < 0:
            skipped += 1
            continue
        tid = _tid(event.get("tid"))
        if cat in CPU_CATS:
            cpu_ops.append(
                CpuOp(
                    ev_name,
                    ts,
                    dur,
                    tid,
                    _str_tuple(args.get("Input type")),
                    tuple(args.get("Input Dims")) if isinstance(args.get("Input Dims"), list) else (),
                )
            )
        elif cat == "user_annotation":
            step = _STEP.match(ev_name)
            if step:
                steps.append(StepMark(int(step.group(1)), ts, dur, tid))
            else:
                annotations.append(Annotation(ev_name, ts, dur, tid))
        elif cat in RUNTIME_CATS:
            runtime.append(RuntimeCall(ev_name, ts, dur, tid, _int(args.get("correlation"))))
        elif cat == "python_function":
            match = _FRAME.match(ev_name)
            python.append(
                PythonFrame(
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
            )
        else:
            kind = "kernel" if cat in KERNEL_CATS else "memcpy" if cat in MEMCPY_CATS else "memset"
            device = _int(args.get("device"))
            if device is None:
                device = _int(event.get("pid"))
            stream = _int(args.get("stream"))
            if stream is None:
                stream = _int(event.get("tid"))
            gpu.append(
                GpuEvent(kind, ev_name, ts, dur, device, stream, _int(args.get("correlation")), _int(args.get("bytes")))
            )
    dist = meta.get("distributedInfo") if isinstance(meta.get("distributedInfo"), dict) else {}
    rank = _int(dist.get("rank"))
    if rank is None:
        rank = _int(meta.get("rank"))
    if rank is None:
        rank = rank_hint
    notes: list[str] = []
    if skipped:
        notes.append(f"{skipped} events without usable fields were skipped")
    if not (steps or cpu_ops or gpu or annotations or runtime):
        raise TraceError(f"{name}: no profiler events (no cpu_op, kernel or ProfilerStep events in traceEvents)")
    with_stack = meta.get("with_stack")
    return Trace(
        path=name,
        rank=rank,
        world_size=_int(dist.get("world_size")),
        backend=dist.get("backend") if isinstance(dist.get("backend"), str) else None,
        devices=_devices(meta.get("deviceProperties")),
        steps=tuple(sorted(steps, key=lambda s: s.ts)),
        cpu_ops=tuple(sorted(cpu_ops, key=lambda e: e.ts)),
        annotations=tuple(sorted(annotations, key=lambda e: e.ts)),
        runtime=tuple(sorted(runtime, key=lambda e: e.ts)),
        gpu=tuple(sorted(gpu, key=lambda e: e.ts)),
        python=tuple(sorted(python, key=lambda e: e.ts)),
        memory=tuple(sorted(memory, key=lambda e: e.ts)),
        with_stack=bool(with_stack) if isinstance(with_stack, (bool, int)) else (True if python else None),
        skipped_events=skipped,
        notes=tuple(notes),
    )


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
