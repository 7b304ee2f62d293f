# ruff: noqa: UP031  (runs in the target interpreter: Python 3.8+ syntax)
"""`torchenv tune` worker: runs INSIDE the target interpreter and imports torch.

Streams one JSON record per line with `torchenv bench`'s protocol (perf/_worker/protocol.py):
`env`, `workload`, `plan`, one `trial` per configuration measured (raw per-step seconds, first
losses, peak memory, the search's decision), `stage`, `result`, optionally `max_batch`,
`loader_trial`s and `loader_result`, then `done`. The decisions are made by the pure search
(torchenv.tune.search), imported from the source tree this script lives in.

Usage: python tune_worker.py WORKLOAD [--device auto|cuda|cpu] [--budget S] [--batch N] ...
where WORKLOAD is resnet50, transformer or /abs/path/file.py:factory. Python 3.8+ syntax.
"""

import argparse
import gc
import importlib.util
import inspect
import os
import sys
import threading
import time

STARTED = time.monotonic()
SRC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
if SRC not in sys.path:
    sys.path.insert(0, SRC)

from torchenv.tune._worker import engine as E  # noqa: E402

protocol = E.perf_module("protocol")
emit = protocol.emit

SIZES = {  # the bench suite's reference sizes on GPU (ResNet-50 batch 128); small on CPU for CI
    ("resnet50", "cuda"): dict(batch=128, hw=224),
    ("resnet50", "cpu"): dict(batch=8, hw=64),
    ("transformer", "cuda"): dict(batch=8, gpt=dict(d_model=1024, n_head=16, n_layer=4, seq=1024, vocab=8192)),
    ("transformer", "cpu"): dict(batch=4, gpt=dict(d_model=128, n_head=4, n_layer=1, seq=64, vocab=1024)),
}
LOADER_BATCH = 32


def builtin(torch, name, device, batch=None, loader=False):
    nn = torch.nn
    workloads = E.perf_module("workloads")
    size = dict(SIZES[(name, device.type)])
    b = int(batch or size["batch"])
    torch.manual_seed(0)
    try:
        with torch.device(device):  # parameters initialised on the device (fast on a GPU)
            model = workloads.resnet50(nn) if name == "resnet50" else workloads.gpt(torch, nn, **size["gpt"])
    except (TypeError, AttributeError):  # torch < 2.0: no device context manager
        model = workloads.resnet50(nn) if name == "resnet50" else workloads.gpt(torch, nn, **size["gpt"])
    model = model.to(device)
    dataset = None
    if name == "resnet50":
        hw = size["hw"]
        x = torch.randn(b, 3, hw, hw, device=device)
        y = torch.randint(0, 1000, (b,), device=device)
        items, unit = b, "images/s"
        description = "ResNet-50, batch %d, 3×%d×%d synthetic, SGD(lr=0.1, momentum=0.9)" % (b, hw, hw)

        def optimizer(params):
            return torch.optim.SGD(params, lr=0.1, momentum=0.9)

        loss_fn = nn.functional.cross_entropy
        if loader:
            from torchenv.tune._worker.datasets import SyntheticImages

            dataset = SyntheticImages()
    else:
        cfg = size["gpt"]
        x = torch.randint(0, cfg["vocab"], (b, cfg["seq"]), device=device)
        y = torch.randint(0, cfg["vocab"], (b, cfg["seq"]), device=device)
        items, unit = b * cfg["seq"], "tokens/s"
        description = "GPT block ×%d, d_model %d, seq %d, batch %d, AdamW(lr=1e-4)" % (
            cfg["n_layer"],
            cfg["d_model"],
            cfg["seq"],
            b,
        )

        def optimizer(params):
            return torch.optim.AdamW(params, lr=1e-4)

        def loss_fn(logits, target):
            return nn.functional.cross_entropy(logits.flatten(0, 1).float(), target.flatten())

    return E.Workload(
        model=model,
        inputs=(x,),
        target=y,
        loss_fn=loss_fn,
        optimizer=optimizer,
        items=items,
        unit=unit,
        description=description,
        batch_size=b,
        dataset=dataset,
        loader_batch_size=LOADER_BATCH,
    )


def from_factory(torch, spec, device, batch=None):
    path, _, name = spec.rpartition(":")
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # the user's file may import its neighbours
    module_name = "_torchenv_user_" + os.path.splitext(os.path.basename(path))[0]
    loaded = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(loaded)
    sys.modules[module_name] = module
    loaded.loader.exec_module(module)
    factory = getattr(module, name, None)
    if factory is None or not callable(factory):
        raise LookupError("%s has no callable %r" % (path, name))
    try:
        accepted = set(inspect.signature(factory).parameters)
    except (TypeError, ValueError):
        accepted = set()
    kwargs = {}
    if "device" in accepted:
        kwargs["device"] = device
    if "batch_size" in accepted and batch:
        kwargs["batch_size"] = int(batch)
    obj = factory(**kwargs)
    workload = E.normalize(torch, obj, device)
    if workload.description == "your workload":
        workload.description = "%s:%s" % (os.path.basename(path), name)
    return workload


def environment(torch, device):
    info = protocol.torch_environment(torch, device)
    if device.type != "cuda":
        try:
            info["cpu_bf16"] = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except Exception:
            info["cpu_bf16"] = False
    return info


def _watchdog(deadline, state):
    """--budget is a hard bound: a trial still running at the deadline (a compile that took longer
    than estimated) is reported as stopped, and the worker ends with what it has measured."""
    while time.monotonic() < deadline:
        time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
    search = state.get("search")
    trial = getattr(search, "in_flight", None)
    if trial is not None:
        emit(
            "trial",
            **dict(
                trial,
                status="skipped",
                decision="stopped",
                reason="still running when the budget ran out (raise --budget)",
            ),
        )
    emit("note", text="the budget ran out: the search stopped at %s" % (trial["label"] if trial else "its end"))
    emit("done", stopped=True)
    sys.stdout.flush()
    os._exit(0)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("workload")
    parser.add_argument("--device", default="auto", choices=("auto", "cuda", "cpu"))
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--budget", type=float, default=300.0)
    parser.add_argument("--batch", type=int)
    parser.add_argument("--tolerance", type=float, default=0.05)
    parser.add_argument("--min-gain", type=float, default=0.02)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--skip", default="")
    parser.add_argument("--numerics-steps", type=int)
    parser.add_argument("--max-batch", action="store_true")
    parser.add_argument("--memory-margin", type=float, default=0.1)
    parser.add_argument("--loader", action="store_true")
    parser.add_argument("--loader-epoch-s", type=float, default=3.0)
    parser.add_argument("--no-compile", action="store_true")
    args = parser.parse_args(argv)

    emit("begin", section="import")
    began = time.perf_counter()
    try:
        import torch
    except BaseException as exc:
        emit("fatal", stage="import", error=protocol.describe(exc))
        return 3
    emit("end", section="import", seconds=round(time.perf_counter() - began, 3))
    gc.freeze()  # torch's own objects are never garbage: each trial's gc.collect() skips them
    if args.device == "cpu" or (args.device == "auto" and not torch.cuda.is_available()):
        device = torch.device("cpu")
    elif not torch.cuda.is_available():
        emit("fatal", stage="cuda-init", error="--device cuda asked for, but torch.cuda.is_available() is False")
        return 3
    else:
        device = torch.device("cuda", args.index)
        torch.cuda.set_device(device)
        torch.zeros(1, device=device)
    emit("env", data=environment(torch, device))

    emit("begin", section="workload")
    try:
        if ":" in args.workload:
            workload = from_factory(torch, args.workload, device, args.batch)
        else:
            workload = builtin(torch, args.workload, device, args.batch, loader=args.loader)
    except BaseException as exc:
        emit("fatal", stage="workload", error=protocol.describe(exc))
        return 3
    emit("end", section="workload")

    from torchenv.tune._worker import driver

    options = driver.Options(
        budget_s=args.budget,
        tolerance=args.tolerance,
        min_gain=args.min_gain,
        expected_steps=args.steps,
        skip=[s for s in args.skip.split(",") if s],
        numerics_steps=args.numerics_steps,
        max_batch=args.max_batch,
        memory_margin=args.memory_margin,
        loader=args.loader,
        loader_epoch_s=args.loader_epoch_s,
        no_compile_reason="skipped on request (--no-compile)" if args.no_compile else None,
        started=STARTED,
    )
    state = {}
    watchdog = threading.Thread(target=_watchdog, args=(STARTED + args.budget, state), daemon=True)
    watchdog.start()
    try:
        driver.run(torch, device, workload, emit, options, state=state)
    except Exception as exc:
        emit("error", section="tune", error=protocol.describe(exc))
    emit("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
