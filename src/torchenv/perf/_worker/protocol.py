# ruff: noqa: UP031  (runs inside the target interpreter: conservative syntax)
"""The worker's side of the JSON contract: one record per line on stdout, prefixed with MARK.

Runs inside the target interpreter (no torchenv import). Python 3.8+ syntax.
"""

import json
import os
import sys
import time

MARK = "@@torchenv-bench@@ "
START = time.time()


def emit(event, **fields):
    record = {"event": event, "t": round(time.time() - START, 4)}
    record.update(fields)
    sys.stdout.write(MARK + json.dumps(record, default=str) + "\n")
    sys.stdout.flush()


def describe(exc):
    text = str(exc).strip().splitlines()
    return "%s: %s" % (type(exc).__name__, text[0][:500] if text else "")


def torch_environment(torch, device):
    """What both workers report about the torch build and the device they measure (`env` record)."""
    info = {
        "torch": str(torch.__version__),
        "cuda": getattr(torch.version, "cuda", None),
        "debug": bool(getattr(torch.version, "debug", False)),
        "device": device.type,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "python": "%d.%d.%d" % sys.version_info[:3],
    }
    try:
        info["cudnn"] = torch.backends.cudnn.version()
    except Exception:
        info["cudnn"] = None
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(
            device_name=props.name,
            cc=list(torch.cuda.get_device_capability(device)),
            sm_count=props.multi_processor_count,
            memory_mib=props.total_memory // (1024 * 1024),
        )
    else:
        info["device_name"] = cpu_name()
    return info


def cpu_name():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "CPU"
