"""`torchenv monitor` as data: the --json summary (the envelope every command uses: schema_version,
kind "torchenv.monitor"), and the --jsonl / --csv sample streams, one record per sample (JSONL) or
per sample and GPU (CSV), written as the samples come."""

from __future__ import annotations

import csv
import io
import json

from ..model.codec import to_json
from ..monitor.model import MONITOR_SCHEMA_VERSION, GpuSample, MonitorReport, Sample
from ..perf.causes import decode_reasons
from .envelope import envelope

KIND = "torchenv.monitor"
SAMPLE_KIND = "torchenv.monitor.sample"


def monitor_to_dict(report: MonitorReport) -> dict:
    # monitor judges from NVML samples alone: no knowledge base, so knowledge_version is null
    return envelope(
        KIND,
        to_json(report),
        schema_version=MONITOR_SCHEMA_VERSION,
        knowledge_version=None,
        torchenv_version=report.torchenv_version,
    )


def render_monitor_json(report: MonitorReport) -> str:
    return json.dumps(monitor_to_dict(report), indent=2)


def sample_to_dict(sample: Sample) -> dict:
    body = to_json(sample)
    for gpu, data in zip(sample.gpus, body["gpus"], strict=True):
        for key in [k for k, v in data.items() if v is None]:
            del data[key]  # a stream of mostly-null fields is noise; absent means not measured
        if gpu.clock_reasons is not None:
            data["clock_reasons_decoded"] = decode_reasons(gpu.clock_reasons)
    return {"kind": SAMPLE_KIND, **body}


def jsonl_line(sample: Sample) -> str:
    return json.dumps(sample_to_dict(sample), separators=(",", ":")) + "\n"


CSV_GPU_FIELDS = tuple(f for f in GpuSample.__dataclass_fields__ if f != "index")
CSV_HEADER = (
    "t_s",
    "gpu",
    *CSV_GPU_FIELDS,
    "clock_reasons_decoded",
    "own_memory_mib",
    "own_processes",
    "other_processes",
    "own_cpu_pct",
    "full",
)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def csv_header() -> str:
    return _csv_line(CSV_HEADER)


def csv_lines(sample: Sample) -> str:
    out = []
    for g in sample.gpus:
        own = [p for p in sample.processes if p.gpu == g.index and p.own]
        others = [p for p in sample.processes if p.gpu == g.index and not p.own]
        own_memory = sum(p.memory_mib for p in own if p.memory_mib is not None) if own else None
        row = [
            sample.t_s,
            g.index,
            *(getattr(g, f) for f in CSV_GPU_FIELDS),
            "|".join(decode_reasons(g.clock_reasons)) if g.clock_reasons is not None else None,
            own_memory,
            len(own) if sample.full else None,
            len(others) if sample.full else None,
            sample.own_cpu_pct,
            int(sample.full),
        ]
        out.append(_csv_line([_cell(v) for v in row]))
    return "".join(out)


def _csv_line(cells) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()
