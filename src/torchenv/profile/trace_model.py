"""The typed records a Kineto / chrome trace decodes into (profile/trace.py reads and decodes them).

Pure: stdlib only, no torch. Times are microseconds as the trace has them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


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
