# ruff: noqa: UP031  (runs inside the target interpreter: conservative syntax)
"""The torch side of `torchenv profile`: a few steps of the user's training step under
torch.profiler, exported as a gzip Kineto (chrome) trace that torchenv.profile analyses.

Runs inside the target interpreter (the user's environment): Python 3.8+ syntax, only torch and
the standard library, no torchenv import. `capture` returns a plain dict (JSON-safe) that the
worker runtime sends back; the trace itself is a file, kept for Perfetto.
"""

import gzip
import os
import shutil
import tempfile
import time


def device_info(torch, device):
    """Name, compute capability and total memory of a CUDA device; {"type": "cpu"} otherwise."""
    info = {"type": device.type, "name": None, "cc": None, "total_memory_bytes": None}
    if device.type == "cuda":
        try:
            props = torch.cuda.get_device_properties(device)
            info["name"] = props.name
            info["cc"] = "%d.%d" % (props.major, props.minor)
            info["total_memory_bytes"] = int(props.total_memory)
        except Exception as exc:  # a broken device is reported, not raised: the trace may still help
            info["error"] = "%s: %s" % (type(exc).__name__, exc)
    return info


def precision_settings(torch):
    """The float32 matmul/conv settings in force (the FP32-without-tensor-cores rule needs them)."""
    out = {}
    try:
        out["float32_matmul_precision"] = torch.get_float32_matmul_precision()
    except Exception:
        pass
    try:
        out["cuda_matmul_allow_tf32"] = bool(torch.backends.cuda.matmul.allow_tf32)
        out["cudnn_allow_tf32"] = bool(torch.backends.cudnn.allow_tf32)
    except Exception:
        pass
    return out


def _activities(torch, device):
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    return activities


SYNC_MARK = "torchenv.capture.sync"  # torchenv.profile skips the syncs inside this range: ours


def _sync(torch, device):
    if device.type == "cuda":
        with torch.profiler.record_function(SYNC_MARK):
            torch.cuda.synchronize(device)


def _gzip(source, target):
    with open(source, "rb") as src, gzip.open(target, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst)


def trace_file(trace_path=None):
    """Where the gzip chrome trace goes: a temporary file when None; `.gz` appended when missing."""
    if trace_path is None:
        handle, trace_path = tempfile.mkstemp(prefix="torchenv-profile-", suffix=".pt.trace.json.gz")
        os.close(handle)
    trace_path = str(trace_path)
    if not trace_path.endswith(".gz"):
        trace_path += ".gz"
    return trace_path


def export(prof, trace_path):
    """The profiler's chrome trace, gzipped into `trace_path` (torch writes plain JSON)."""
    fd, plain = tempfile.mkstemp(prefix="torchenv-profile-", suffix=".json")
    os.close(fd)
    try:
        prof.export_chrome_trace(plain)
        _gzip(plain, trace_path)
    finally:
        try:
            os.unlink(plain)
        except OSError:
            pass


def capture(
    torch,
    device,
    step,
    steps=5,
    warmup=2,
    trace_path=None,
    with_stack=True,
    record_shapes=True,
    profile_memory=True,
):
    """Run `step()` warmup + steps times under torch.profiler.profile and export the recorded steps.

    The schedule is wait=0, warmup=`warmup`, active=`steps`, repeat=1: the first `warmup` steps run
    under the profiler but are not recorded (lazy initialisation, allocator growth, autotuning), then
    `steps` steps are recorded, each marked ProfilerStep#N by `prof.step()`. `trace_path` is where the
    gzip chrome trace goes (a temporary file when None; a name without .gz gets it appended).

    Returns a dict: trace_path, steps (recorded), warmup, step_wall_s (every step's wall time,
    synchronised, warm-up steps included and flagged by `recorded`), device (see device_info),
    precision (see precision_settings), torch_version, profiler_s (the whole capture's wall time).
    """
    if steps < 1 or warmup < 0:
        raise ValueError("steps must be >= 1 and warmup >= 0")
    trace_path = trace_file(trace_path)
    exported = {}

    def on_trace_ready(prof):
        export(prof, trace_path)
        exported["done"] = True

    schedule = torch.profiler.schedule(wait=0, warmup=warmup, active=steps, repeat=1)
    wall = []
    began = time.perf_counter()
    _sync(torch, device)
    with torch.profiler.profile(
        activities=_activities(torch, device),
        schedule=schedule,
        on_trace_ready=on_trace_ready,
        record_shapes=record_shapes,
        profile_memory=profile_memory,
        with_stack=with_stack,
    ) as prof:
        for _ in range(warmup + steps):
            start = time.perf_counter()
            step()
            _sync(torch, device)
            wall.append(time.perf_counter() - start)
            prof.step()
    return {
        "trace_path": trace_path,
        "exported": bool(exported.get("done")),
        "steps": steps,
        "warmup": warmup,
        "step_wall_s": wall,
        "recorded": [i >= warmup for i in range(len(wall))],
        "device": device_info(torch, device),
        "precision": precision_settings(torch),
        "torch_version": str(torch.__version__),
        "profiler_s": time.perf_counter() - began,
    }
