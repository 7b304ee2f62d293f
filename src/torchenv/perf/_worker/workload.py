# ruff: noqa: UP031, RUF046  (runs in the target interpreter: Python 3.8+ syntax)
"""A user's training workload, normalised: model + one batch + loss + optimizer, or a plain step().

From a built-in (workloads.builtin), a factory in the user's file (`file.py:factory`, loaded here), or
the Python API's arguments. Part of the perf worker runtime: imports only torch (passed in) and stdlib.
"""

import importlib.util
import inspect
import math
import os
import sys


class Workload:
    """A normalised training workload: model + one batch + loss + optimizer, or a plain step()."""

    def __init__(
        self,
        model=None,
        inputs=(),
        target=None,
        loss_fn=None,
        optimizer=None,
        step=None,
        items=None,
        unit=None,
        description=None,
        batch_size=None,
        loader=None,
        dataset=None,
        loader_batch_size=None,
    ):
        self.model = model
        self.inputs = tuple(inputs)
        self.target = target
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.step = step
        self.batch_size = batch_size
        self.items = items
        self.unit = unit or "samples/s"
        self.description = description or "your workload"
        self.loader = loader
        self.dataset = dataset
        self.loader_batch_size = loader_batch_size  # a bare dataset's DataLoader batch (default: batch_size)


def _get(obj, name, default=None):
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def split_sample(sample):
    """(inputs, target) from a sample batch: a tensor, (inputs, target), or ((x1, x2), target)."""
    if isinstance(sample, (tuple, list)):
        if len(sample) == 2:
            inputs, target = sample
        elif len(sample) == 1:
            inputs, target = sample[0], None
        else:
            raise ValueError("sample: expected (inputs, target), got a sequence of %d items" % len(sample))
    else:
        inputs, target = sample, None
    if not isinstance(inputs, (tuple, list)):
        inputs = (inputs,)
    return tuple(inputs), target


def normalize(torch, obj, device, loss_fn=None, optimizer=None, step=None):
    """A Workload from a factory's return value (dict or object) or the API's arguments."""
    if isinstance(obj, Workload):
        return obj
    model = _get(obj, "model")
    step = step or _get(obj, "step")
    loader = _get(obj, "loader")
    sample = _get(obj, "sample")
    if sample is None and _get(obj, "inputs") is not None:
        sample = (_get(obj, "inputs"), _get(obj, "target"))
    if sample is None and loader is not None and model is not None:
        sample = next(iter(loader))
    loss_fn = loss_fn or _get(obj, "loss_fn")
    optimizer = optimizer or _get(obj, "optimizer")
    if model is None and step is None and loader is None:
        raise ValueError("the workload needs model= (with sample= or loader=), a step= callable, or a loader=")
    inputs, target = ((), None)
    if model is not None:
        if sample is None:
            raise ValueError("model= needs sample= (one batch) or loader=")
        if loss_fn is None:
            raise ValueError("model= needs loss_fn=(output, target) -> loss")
        inputs, target = split_sample(sample)
        model = model.to(device)
        inputs = tuple(to_device(torch, x, device) for x in inputs)
        target = to_device(torch, target, device)
    batch = _get(obj, "batch_size")
    if batch is None and inputs and hasattr(inputs[0], "shape") and len(inputs[0].shape) > 0:
        batch = int(inputs[0].shape[0])
    if batch is None and loader is not None:
        batch = getattr(loader, "batch_size", None)
    items = _get(obj, "items_per_step") or batch
    return Workload(
        model=model,
        inputs=inputs,
        target=target,
        loss_fn=loss_fn,
        optimizer=optimizer,
        step=step,
        items=items,
        unit=_get(obj, "unit"),
        description=_get(obj, "description"),
        batch_size=batch,
        loader=loader,
        dataset=_get(obj, "dataset"),
        loader_batch_size=_get(obj, "loader_batch_size"),
    )


def to_device(torch, value, device, non_blocking=False):
    if isinstance(value, torch.Tensor):
        return value.to(device, non_blocking=non_blocking)
    if isinstance(value, (tuple, list)):
        return type(value)(to_device(torch, v, device, non_blocking) for v in value)
    if isinstance(value, dict):
        return {k: to_device(torch, v, device, non_blocking) for k, v in value.items()}
    return value


def first_tensor(torch, value):
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for v in value:
            t = first_tensor(torch, v)
            if t is not None:
                return t
    if isinstance(value, dict):
        for v in value.values():
            t = first_tensor(torch, v)
            if t is not None:
                return t
    return None


def tile(torch, tensor, batch):
    """`tensor` repeated along dim 0 to `batch` rows (a larger batch from the sample one)."""
    if tensor is None or not isinstance(tensor, torch.Tensor) or tensor.dim() == 0:
        return tensor
    reps = int(math.ceil(batch / float(tensor.shape[0])))
    return tensor.repeat(reps, *([1] * (tensor.dim() - 1)))[:batch]


def from_factory(torch, spec, device, batch=None):
    """The workload a user's `file.py:factory` returns. The factory may take `device` and `batch_size`."""
    path, _, name = spec.rpartition(":")
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # the user's file may import its neighbours
    module_name = "_torchenv_user_" + os.path.splitext(os.path.basename(path))[0]
    loaded = importlib.util.spec_from_file_location(module_name, path)
    if loaded is None:
        raise LookupError("%s is not a Python file" % path)
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
    workload = normalize(torch, factory(**kwargs), device)
    if workload.description == "your workload":
        workload.description = "%s:%s" % (os.path.basename(path), name)
    return workload
