"""Turns a sample stream recorded on a device (`torchenv monitor --jsonl S.jsonl --json > R.json`) into a
recording the fake NVML replays, so real streams can replace the synthesised ones:

    python tests/monitor/recordings/from_jsonl.py S.jsonl R.json > tests/monitor/recordings/NAME.json

The job's processes become PID "job" (resolved to the test's job); the others keep their PIDs.
Between full ticks (--fast) the slow fields are carried from the last full one.
"""

from __future__ import annotations

import json
import sys

FIELDS = {
    "kernel_busy_pct": "util",
    "memory_busy_pct": "mem_util",
    "memory_used_mib": "memory_used_mib",
    "memory_reserved_mib": "memory_reserved_mib",
    "power_w": "power_w",
    "power_limit_w": "power_limit_w",
    "sm_clock_mhz": "sm_clock_mhz",
    "clock_reasons": "reasons",
    "temperature_c": "temperature_c",
    "pcie_rx_mbs": "pcie_rx_mbs",
    "pcie_tx_mbs": "pcie_tx_mbs",
    "nvlink_rx_mbs": "nvlink_rx_mbs",
    "nvlink_tx_mbs": "nvlink_tx_mbs",
}
GPM = {
    "sm_active_pct": "sm_active",
    "sm_occupancy_pct": "sm_occupancy",
    "tensor_active_pct": "tensor",
    "dram_active_pct": "dram",
    "fp32_active_pct": "fp32",
    "fp16_active_pct": "fp16",
}


def gpu_spec(info: dict) -> dict:
    unsupported = info.get("unsupported", {})
    return {
        "name": info["name"],
        "uuid": info.get("uuid"),
        "minor": info.get("minor", info["index"]),
        "cc": info.get("cc") or [0, 0],
        "memory_total_mib": info.get("memory_total_mib") or 0,
        "sm_clock_max_mhz": info.get("sm_clock_max_mhz") or 0,
        "power_default_limit_w": info.get("power_default_limit_w") or 0,
        "gpm": bool(info.get("gpm")),
        "nvlink": "nvlink_rx_mbs" not in unsupported,
        "pcie": "gpm" if info.get("gpm") else "throughput",
        "clock_reasons": "clock_reasons" not in unsupported,
        "process_utilization": "process_sm_pct" not in unsupported,
    }


def convert(samples: list[dict], summary: dict) -> dict:
    infos = [g["info"] for g in summary["gpus"]]
    last: dict[int, dict] = {}
    ticks = []
    for sample in samples:
        gpus = []
        for g in sample["gpus"]:
            row = dict(last.get(g["index"], {}))
            row.update({FIELDS[k]: v for k, v in g.items() if k in FIELDS})
            gpm = {GPM[k]: v for k, v in g.items() if k in GPM}
            if gpm:
                row["gpm"] = gpm
            if sample.get("full", True):
                row["processes"] = [
                    {
                        "pid": "job" if p["own"] else p["pid"],
                        "memory_mib": p.get("memory_mib"),
                        "sm_pct": p.get("sm_pct"),
                    }
                    for p in sample.get("processes", [])
                    if p["gpu"] == g["index"]
                ]
            last[g["index"]] = row
            gpus.append(row)
        ticks.append({"t": sample["t_s"], "gpus": gpus})
    for event in summary.get("events", []):
        if event["kind"] == "xid":
            tick = min(ticks, key=lambda t: abs(t["t"] - event["t_s"]))
            tick.setdefault("events", []).append({"gpu": event["gpu"], "xid": event["value"]})
    command = " ".join(summary.get("command") or [])
    return {
        "description": f"recorded: {command} ({summary.get('started_at')})",
        "gpus": [gpu_spec(i) for i in infos],
        "ticks": ticks,
    }


def main(argv: list[str]) -> int:
    with open(argv[0]) as handle:
        samples = [json.loads(line) for line in handle if line.strip()]
    with open(argv[1]) as handle:
        summary = json.load(handle)
    json.dump(convert(samples, summary), sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
