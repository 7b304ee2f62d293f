# ruff: noqa: UP031, RUF046  (runs in the target interpreter: Python 3.8+ syntax)
"""The torch side of `torchenv tune`: applies a configuration to a workload and measures it.

Used by the worker script (inside the target interpreter) and by `torchenv.tune(...)` in the
caller's process. It decides nothing: the search (torchenv.tune.search, pure) chooses what to
measure, this returns raw per-step seconds, the first losses and peak memory.

Reuses `torchenv bench`'s timing harness and reference models (perf/_worker/timing.py and
workloads.py), loaded by path under private names so nothing named `timing` or `workloads` is
added to the caller's sys.modules. Python 3.8+ syntax.
"""

import contextlib
import copy
import gc
import importlib.util
import inspect
import math
import os
import sys
import time
import warnings

PERF_WORKER = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "perf", "_worker"))


def perf_module(name):
    """bench's worker module `name` (timing, workloads, protocol), loaded once by path."""
    key = "_torchenv_perf_worker_" + name
    module = sys.modules.get(key)
    if module is None:
        spec = importlib.util.spec_from_file_location(key, os.path.join(PERF_WORKER, name + ".py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return module


def describe(exc):
    text = str(exc).strip().splitlines()
    first = text[0][:400] if text else ""
    if "out of memory" in first.lower():
        return "out of memory (%s)" % type(exc).__name__
    return "%s: %s" % (type(exc).__name__, first)


# Per-device timing of one trial: numerics steps (losses compared with FP32, the first step also
# carries one-time costs), then bench's measure_steps (warm-up, then per-step CUDA events).
TIMING = {
    "cuda": dict(numerics_steps=3, warmup_steps=2, min_steps=6, max_steps=40, sample_s=1.0),
    "cpu": dict(numerics_steps=3, warmup_steps=1, min_steps=3, max_steps=20, sample_s=0.8),
}


PERTURBATION = 1e-6


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
        inputs = tuple(_to(torch, x, device) for x in inputs)
        target = _to(torch, target, device)
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


def _to(torch, value, device, non_blocking=False):
    if isinstance(value, torch.Tensor):
        return value.to(device, non_blocking=non_blocking)
    if isinstance(value, (tuple, list)):
        return type(value)(_to(torch, v, device, non_blocking) for v in value)
    if isinstance(value, dict):
        return {k: _to(torch, v, device, non_blocking) for k, v in value.items()}
    return value


def _first_tensor(torch, value):
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for v in value:
            t = _first_tensor(torch, v)
            if t is not None:
                return t
    if isinstance(value, dict):
        for v in value.values():
            t = _first_tensor(torch, v)
            if t is not None:
                return t
    return None


def tile(torch, tensor, batch):
    """`tensor` repeated along dim 0 to `batch` rows (a larger batch from the sample one)."""
    if tensor is None or not isinstance(tensor, torch.Tensor) or tensor.dim() == 0:
        return tensor
    reps = int(math.ceil(batch / float(tensor.shape[0])))
    return tensor.repeat(reps, *([1] * (tensor.dim() - 1)))[:batch]


class OptimizerFactory:
    """Builds the user's optimizer for a model copy, and its fused/foreach variants."""

    def __init__(self, torch, spec, original_model=None):
        self.torch = torch
        self.spec = spec
        self.original_params = list(original_model.parameters()) if original_model is not None else []
        self.klass = None
        self.error = None
        self.args = None  # the constructor arguments that differ from the class defaults
        if spec is None:
            return
        if isinstance(spec, torch.optim.Optimizer):
            self.klass = type(spec)
        elif inspect.isclass(spec) and issubclass(spec, torch.optim.Optimizer):
            self.klass = spec
        elif callable(spec):
            self.klass = None  # known after the first build
        else:
            self.error = "optimizer: expected a factory params -> Optimizer, an Optimizer class or instance"

    def _base(self, model):
        torch, spec = self.torch, self.spec
        params = list(model.parameters())
        if spec is None:
            return torch.optim.SGD(params, lr=0.01, momentum=0.9)
        if isinstance(spec, torch.optim.Optimizer):
            index = {id(p): i for i, p in enumerate(self.original_params)}
            groups = []
            for group in spec.param_groups:
                g = {k: v for k, v in group.items() if k != "params"}
                g["params"] = [params[index[id(p)]] for p in group["params"] if id(p) in index]
                groups.append(g)
            return type(spec)(groups, **self._kwargs(type(spec), spec.defaults))
        if inspect.isclass(spec):
            return spec(params)
        opt = spec(params)
        self.klass = type(opt)
        return opt

    @staticmethod
    def _kwargs(klass, defaults, extra=None):
        try:
            accepted = set(inspect.signature(klass.__init__).parameters)
        except (TypeError, ValueError):
            accepted = set(defaults)
        kwargs = {k: v for k, v in defaults.items() if k in accepted}
        kwargs.update(extra or {})
        return kwargs

    def build(self, model, variant="default"):
        base = self._base(model)
        if variant == "default":
            return base
        klass = type(base)
        extra = {"fused": True, "foreach": False} if variant == "fused" else {"foreach": True, "fused": False}
        defaults = {k: v for k, v in base.defaults.items() if k not in ("fused", "foreach")}
        groups = [{k: v for k, v in g.items() if k not in ("fused", "foreach")} for g in base.param_groups]
        return klass(groups, **self._kwargs(klass, defaults, extra))

    def caps(self, device_type):
        """name, fused, foreach, default_impl of the optimizer (None when not given)."""
        if self.spec is None or self.error:
            return {"optimizer": None, "fused": False, "foreach": False, "default_impl": None}
        klass = self.klass
        if klass is None:
            return {"optimizer": "optimizer", "fused": True, "foreach": True, "default_impl": None}
        try:
            params = set(inspect.signature(klass.__init__).parameters)
        except (TypeError, ValueError):
            params = set()
        return {
            "optimizer": klass.__name__,
            "optimizer_module": klass.__module__,
            "optimizer_args": self.args,
            "fused": "fused" in params,
            "foreach": "foreach" in params,
            "default_impl": "foreach" if device_type == "cuda" else "for-loop",
        }


class Engine:
    """Measures configurations of one workload on one device."""

    def __init__(self, torch, device, workload, numerics_steps=None, timing=None, log=None):
        self.torch = torch
        self.device = device
        self.cuda = device.type == "cuda"
        self.workload = workload
        self.timing = dict(TIMING["cuda" if self.cuda else "cpu"])
        self.timing.update(timing or {})
        if numerics_steps:
            self.timing["numerics_steps"] = int(numerics_steps)
        self.clock = perf_module("timing").Clock(torch, device)
        self.log = log or (lambda text: None)
        self.saved = self._save_flags()
        self.pristine = None
        self.optimizers = None
        if workload.model is not None:
            self.pristine = workload.model
            self.optimizers = OptimizerFactory(torch, workload.optimizer, workload.model)
            if self.optimizers.error is None and workload.optimizer is not None:
                try:  # learn the class and arguments (a throwaway optimizer: no state, no memory)
                    self.optimizers.args = _non_default_args(self.optimizers.build(workload.model))
                except Exception as exc:
                    self.optimizers.error = describe(exc)

    # --- global settings ---------------------------------------------------------------------

    def _save_flags(self):
        torch = self.torch
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return {
                "matmul_tf32": torch.backends.cuda.matmul.allow_tf32,
                "cudnn_tf32": torch.backends.cudnn.allow_tf32,
                "benchmark": torch.backends.cudnn.benchmark,
                "cudnn_deterministic": torch.backends.cudnn.deterministic,
                "deterministic": torch.are_deterministic_algorithms_enabled(),
                "cublas": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
            }

    def restore(self):
        """Puts torch's global settings back as they were before the engine started."""
        torch, s = self.torch, self.saved
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.backends.cuda.matmul.allow_tf32 = s["matmul_tf32"]
            torch.backends.cudnn.allow_tf32 = s["cudnn_tf32"]
            torch.backends.cudnn.benchmark = s["benchmark"]
            torch.backends.cudnn.deterministic = s["cudnn_deterministic"]
            torch.use_deterministic_algorithms(s["deterministic"])
        if s["cublas"] is None:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
        else:
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = s["cublas"]

    def set_flags(self, config):
        torch = self.torch
        det = bool(config.get("deterministic"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tf32 = bool(config.get("tf32"))
            torch.backends.cuda.matmul.allow_tf32 = tf32
            torch.backends.cudnn.allow_tf32 = tf32
            torch.backends.cudnn.benchmark = bool(config.get("benchmark"))
            torch.backends.cudnn.deterministic = det
            if det and self.cuda:
                os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(det)

    # --- capabilities ------------------------------------------------------------------------

    def caps(self, no_compile_reason=None):
        torch = self.torch
        w = self.workload
        caps = {"device": self.device.type, "plain_step": w.model is None}
        if self.cuda:
            cc = torch.cuda.get_device_capability(self.device)
            caps["tf32"] = cc >= (8, 0)
            caps["bf16"] = bool(torch.cuda.is_bf16_supported())
            caps["fp16"] = True
        else:
            try:
                caps["bf16"] = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
            except Exception:
                caps["bf16"] = False
            caps["fp16"] = False
        caps["has_conv"] = bool(w.model is not None and any(isinstance(m, torch.nn.Conv2d) for m in w.model.modules()))
        # Every trial runs in this one process, whose cuDNN plan cache already holds the plans the
        # earlier trials chose: a cudnn.benchmark trial would be served those, not search.
        caps["cudnn_search_measurable"] = False
        if w.model is not None:
            caps.update(self.optimizers.caps(self.device.type))
        if no_compile_reason:
            caps["compile"], caps["compile_reason"] = False, no_compile_reason
        elif not hasattr(torch, "compile"):
            caps["compile"], caps["compile_reason"] = False, "torch.compile needs torch 2.0 or newer"
        elif sys.platform == "win32" and not self.cuda:
            caps["compile"], caps["compile_reason"] = False, "torch.compile on Windows CPU needs MSVC; not tried"
        else:
            caps["compile"] = True
        return caps

    # --- building one configuration -----------------------------------------------------------

    def autocast(self, amp):
        if not amp:
            return contextlib.nullcontext()
        dtype = {"bf16": self.torch.bfloat16, "fp16": self.torch.float16}[amp]
        return self.torch.autocast(device_type=self.device.type, dtype=dtype)

    def _grad_scaler(self):
        torch = self.torch
        try:
            return torch.amp.GradScaler("cuda")
        except (AttributeError, TypeError):
            return torch.cuda.amp.GradScaler()

    def build(self, config, batch=None, perturb=None):
        """A fresh copy of the model with `config` applied, and its step() returning the loss.
        perturb: relative size of fixed random noise added to the weights (the rounding floor)."""
        torch, w = self.torch, self.workload
        if w.model is None:
            user_step, amp = w.step, config.get("amp")

            def plain_step():
                with self.autocast(amp):
                    return user_step()

            return plain_step, None
        model = copy.deepcopy(self.pristine)
        if perturb:
            generator = torch.Generator(device="cpu").manual_seed(1234)
            with torch.no_grad():
                for p in model.parameters():
                    if p.is_floating_point():
                        noise = torch.randn(p.shape, generator=generator).to(p.device, p.dtype)
                        p.add_(p * noise * perturb)
        inputs, target = w.inputs, w.target
        if batch is not None and batch != w.batch_size:
            inputs = tuple(tile(torch, x, batch) for x in inputs)
            target = tile(torch, target, batch)
        if config.get("channels_last"):
            model = model.to(memory_format=torch.channels_last)
            inputs = tuple(
                x.contiguous(memory_format=torch.channels_last) if isinstance(x, torch.Tensor) and x.dim() == 4 else x
                for x in inputs
            )
        opt = self.optimizers.build(model, config.get("optimizer") or "default")
        scaler = self._grad_scaler() if config.get("amp") == "fp16" else None
        run = model
        mode = config.get("compile")
        if mode:
            torch._dynamo.reset()
            run = torch.compile(model) if mode == "default" else torch.compile(model, mode=mode)
        loss_fn, amp = w.loss_fn, config.get("amp")

        def step():
            opt.zero_grad(set_to_none=True)
            with self.autocast(amp):
                out = run(*inputs)
                loss = loss_fn(out, target) if target is not None else loss_fn(out)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            else:
                loss.backward()
                opt.step()
            return loss

        return step, (model, opt, run)

    def _losses(self, step, n):
        """Runs the first n steps from the shared initial state; their losses and the first step's time."""
        torch = self.torch
        torch.manual_seed(0)
        losses, first = [], None
        for i in range(n):
            t0 = self.clock.now()
            loss = step()
            value = _loss_value(torch, loss)
            if i == 0:
                first = self.clock.now() - t0
            losses.append(value)
        return losses, first

    def free(self):
        gc.collect()
        if self.cuda:
            self.torch.cuda.empty_cache()

    # --- measuring ---------------------------------------------------------------------------

    def measure(self, config, purpose="search"):
        """One trial. purpose "reference"/"determinism" runs the numerics steps twice (the
        reference's run-to-run noise; whether deterministic settings really reproduce)."""
        torch = self.torch
        began = time.perf_counter()
        out = {"status": "ok"}
        try:
            self.set_flags(config)
            if self.cuda:
                torch.cuda.reset_peak_memory_stats(self.device)
            step, _built = self.build(config)
            n = self.timing["numerics_steps"]
            losses, first = self._losses(step, n)
            if self.workload.model is None:
                out["numerics_reason"] = "a plain step() cannot be reset to the same initial state"
                losses = None
            out["losses"], out["first_step_s"] = losses, first
            if purpose in ("reference", "determinism") and self.workload.model is not None:
                step2, built2 = self.build(config)
                out["losses_repeat"], _ = self._losses(step2, n)
                del step2, built2
            if purpose == "reference" and self.workload.model is not None:
                # The rounding floor: the same run from weights moved by ~1e-6 (float32 rounding
                # level). Short training runs can be chaotic; a knob is judged against this.
                step2, built2 = self.build(config, perturb=PERTURBATION)
                out["losses_perturbed"], _ = self._losses(step2, n)
                del step2, built2
            t = self.timing
            samples, _ = perf_module("timing").measure_steps(
                self.clock,
                step,
                warmup_steps=t["warmup_steps"],
                min_steps=t["min_steps"],
                max_steps=t["max_steps"],
                sample_s=t["sample_s"],
            )
            out["samples_s"] = samples
            if self.cuda:
                out["memory_bytes"] = int(torch.cuda.max_memory_allocated(self.device))
            del step
        except Exception as exc:
            out = {"status": "failed", "reason": describe(exc)}
        finally:
            if config.get("compile"):
                try:
                    torch._dynamo.reset()
                except Exception:
                    pass
            self.set_flags({})
            self.free()
        out["seconds"] = time.perf_counter() - began
        return out

    def peak_memory(self, config, batch, steps=2):
        """Peak reserved memory of `steps` training steps at `batch` (None: out of memory)."""
        torch = self.torch
        try:
            self.set_flags(config)
            self.free()
            torch.cuda.reset_peak_memory_stats(self.device)
            step, built = self.build(config, batch=batch)
            for _ in range(steps):
                step()
            torch.cuda.synchronize(self.device)
            peak = int(torch.cuda.max_memory_reserved(self.device))
            del step, built
            return peak, None
        except Exception as exc:
            return None, describe(exc)
        finally:
            self.set_flags({})
            self.free()

    def throughput_at(self, config, batch):
        step, built = self.build(config, batch=batch)
        try:
            self.set_flags(config)
            samples, _ = perf_module("timing").measure_steps(
                self.clock, step, warmup_steps=2, min_steps=4, max_steps=20, sample_s=0.6
            )
            return samples
        finally:
            del step, built
            self.set_flags({})
            self.free()

    def max_batch(self, config, margin, limit_fn, predict_fn):
        """The largest batch that fits with `margin` of the device memory kept free."""
        torch, w = self.torch, self.workload
        if not self.cuda:
            return {"status": "skipped", "reason": "a GPU memory limit: not measured on CPU"}
        if w.model is None or w.batch_size is None:
            return {"status": "skipped", "reason": "needs model= and a batched sample"}
        config = dict(config, compile=None, benchmark=False)
        total = int(torch.cuda.get_device_properties(self.device).total_memory)
        limit = limit_fn(total, margin)
        points, probes = [], []
        b0 = int(w.batch_size)
        for b in (b0, 2 * b0):
            peak, error = self.peak_memory(config, b)
            probes.append({"batch": b, "peak_bytes": peak, "error": error})
            if peak is None:
                break
            points.append((b, peak))
        batch = predict_fn(points, limit) if len(points) >= 2 else (b0 if points else None)
        chosen = None
        for _ in range(4):
            if batch is None or batch < 1:
                break
            peak, error = self.peak_memory(config, batch)
            probes.append({"batch": batch, "peak_bytes": peak, "error": error})
            if peak is not None and peak <= limit:
                chosen = (batch, peak)
                break
            batch = int(batch * 0.9) - int(batch * 0.9) % 8 if batch > 16 else batch - 1
        if chosen is None:
            return {
                "status": "failed",
                "reason": "no batch fitted under the limit",
                "probes": probes,
                "limit_bytes": limit,
                "total_bytes": total,
            }
        samples = self.throughput_at(config, chosen[0])
        per_item = float(w.items or b0) / b0
        return {
            "status": "ok",
            "batch": chosen[0],
            "peak_bytes": chosen[1],
            "limit_bytes": limit,
            "total_bytes": total,
            "margin": margin,
            "probes": probes,
            "samples_s": samples,
            "items": per_item * chosen[0],
            "config": config,
        }

    # --- the DataLoader ----------------------------------------------------------------------

    def measure_loader(self, make_loader, config, epoch_s=1.0, max_batches=400, epochs=2):
        """Samples/s delivered by a DataLoader built with `config` over `epochs` epochs of about
        `epoch_s` seconds (or `max_batches`), each ending by itself when the loader comes from
        loader_factory(epoch_s=...), else cut there; batches are copied to the device
        (non_blocking when pinned). Start-up of each epoch, the items inside each epoch's window
        after its first batch (see torchenv.tune.loader.loader_rate) and /proc/stat are recorded."""
        torch = self.torch
        out = {"status": "ok"}
        loader = None
        try:
            loader = make_loader(config)
            # An epoch that ends by itself is only cut as a safety net (a stalled loader).
            self_ending = ends_its_epochs(loader)
            cut_s = epoch_s * 3 + 10 if self_ending else epoch_s
            batch_cap = None if self_ending else max_batches
            startup, windows, items, batches = [], [], 0, 0
            stat0 = _read_proc_stat()
            began = time.perf_counter()
            for _ in range(epochs):
                t0 = time.perf_counter()
                it = iter(loader)
                first = None
                n = steady = 0
                for batch in it:
                    now = time.perf_counter() - t0
                    if self.cuda:
                        batch = _to(torch, batch, self.device, non_blocking=bool(config.get("pin_memory")))
                    t = _first_tensor(torch, batch)
                    size = int(t.shape[0]) if t is not None and t.dim() > 0 else 1
                    if first is None:
                        first = now
                    elif now <= epoch_s:
                        steady += size  # inside the window, after the ramp
                    items += size
                    n += 1
                    if n == batch_cap or time.perf_counter() - t0 >= cut_s:
                        break
                batches += n
                if not config.get("persistent_workers"):
                    del it  # shuts the workers down: part of a non-persistent epoch's cost
                startup.append(first)
                windows.append({"startup_s": first, "window_s": epoch_s, "steady_items": steady})
            if self.cuda:
                torch.cuda.synchronize(self.device)
            seconds = time.perf_counter() - began
            stat1 = _read_proc_stat()
            out.update(
                items=items,
                batches=batches,
                seconds=seconds,
                items_per_s=items / seconds if seconds > 0 else 0.0,  # raw: ramp and tail included
                windows=windows,
                epoch_items=_epoch_items(loader, items / float(batches) if batches else None),
                startup_s=startup,
                proc_stat=[stat0, stat1],
            )
        except Exception as exc:
            out = {"status": "failed", "reason": describe(exc)}
        finally:
            iterator = getattr(loader, "_iterator", None)
            if iterator is not None and hasattr(iterator, "_shutdown_workers"):
                try:
                    iterator._shutdown_workers()
                except Exception:
                    pass
            loader = None
            gc.collect()
        return out


def _non_default_args(opt):
    try:
        signature = inspect.signature(type(opt).__init__).parameters
    except (TypeError, ValueError):
        return None
    args = {}
    for key, value in opt.defaults.items():
        if key in ("fused", "foreach") or key not in signature:
            continue
        default = signature[key].default
        if default is inspect.Parameter.empty or repr(default) != repr(value):
            if isinstance(value, (int, float, bool, str, tuple, type(None))):
                args[key] = value
            else:
                return None
    return args


def _loss_value(torch, loss):
    if isinstance(loss, torch.Tensor):
        return float(loss.detach().float().item()) if loss.numel() == 1 else None
    if isinstance(loss, (int, float)):
        return float(loss)
    return None


def _read_proc_stat():
    try:
        with open("/proc/stat") as handle:
            return handle.readline()
    except OSError:
        return None


class EpochDeadline:
    """Wraps a loader's sampler (or batch sampler) so that each epoch ends by itself after
    `seconds`, or after `max_items` draws: the DataLoader pulls indices lazily, so the batches
    already handed to workers finish and the epoch ends the way a real one does.

    Why not simply break out of the loop after `seconds`: a cut epoch leaves up to
    num_workers × prefetch_factor batches in flight. Non-persistent workers are then killed with
    their work, and persistent ones must finish and discard all of it before the next epoch can
    start (`_reset` drains the queues), which charged prefetch_factor=4 with persistent workers up
    to a second per epoch on the 16-core H100 host: an artefact of measuring, not of training."""

    def __init__(self, base, seconds, max_items=None):
        self.base = base
        self.seconds = float(seconds)
        self.max_items = max_items

    def real_length(self):
        """The length of a real (uncut) epoch, in the base's units; None when it has none."""
        try:
            return int(len(self.base))
        except (TypeError, ValueError, NotImplementedError):
            return None

    def __iter__(self):
        deadline = time.perf_counter() + self.seconds
        items = iter(self.base)
        n = 0
        while (self.max_items is None or n < self.max_items) and time.perf_counter() < deadline:
            try:
                item = next(items)
            except StopIteration:
                return
            n += 1
            yield item


def loader_factory(
    torch, template=None, dataset=None, batch_size=None, device_cuda=False, epoch_s=None, max_batches=400
):
    """make_loader(config) -> DataLoader: the user's loader (or dataset) rebuilt with the knobs.
    With `epoch_s`, its epochs end by themselves (EpochDeadline) unless the dataset is iterable
    (no sampler to wrap: those epochs are cut by the measuring loop)."""
    data = torch.utils.data
    DataLoader = data.DataLoader
    if template is not None:
        dataset = template.dataset
        kwargs = dict(
            collate_fn=template.collate_fn,
            drop_last=template.drop_last,
            worker_init_fn=template.worker_init_fn,
            timeout=template.timeout,
        )
        if template.batch_size is None:
            kwargs["batch_sampler"] = template.batch_sampler
        else:
            kwargs.update(batch_size=template.batch_size, sampler=template.sampler)
    else:
        kwargs = dict(batch_size=batch_size or 32, sampler=None, drop_last=True)
    iterable = isinstance(dataset, data.IterableDataset)
    if iterable and template is not None:  # an iterable dataset takes no sampler
        kwargs.pop("sampler", None)
        if kwargs.pop("batch_sampler", None) is not None:
            kwargs["batch_size"] = None
    if epoch_s is not None and not iterable:
        if kwargs.get("batch_sampler") is not None:
            kwargs["batch_sampler"] = EpochDeadline(kwargs["batch_sampler"], epoch_s, max_batches)
        else:
            base = kwargs.get("sampler") or data.SequentialSampler(dataset)
            kwargs["sampler"] = EpochDeadline(base, epoch_s, max_batches * int(kwargs["batch_size"] or 1))
    elif template is None:
        kwargs.pop("sampler")
        kwargs["shuffle"] = False

    def make(config):
        nw = int(config.get("num_workers") or 0)
        extra = dict(num_workers=nw, pin_memory=bool(config.get("pin_memory")) and device_cuda)
        if nw > 0:
            extra.update(
                prefetch_factor=int(config.get("prefetch_factor") or 2),
                persistent_workers=bool(config.get("persistent_workers")),
            )
        return DataLoader(dataset, **dict(kwargs, **extra))

    return make


def _epoch_items(loader, items_per_batch):
    """Samples in one real epoch of `loader` (None when unknown: an iterable dataset, a sampler
    without a length)."""
    sampler = getattr(loader, "sampler", None)
    if isinstance(sampler, EpochDeadline):
        return sampler.real_length()
    batches = getattr(loader, "batch_sampler", None)
    if isinstance(batches, EpochDeadline):
        length = batches.real_length()
        return int(length * items_per_batch) if length and items_per_batch else None
    return None


def ends_its_epochs(loader):
    """True when the loader's epochs end by themselves (see EpochDeadline)."""
    return isinstance(getattr(loader, "sampler", None), EpochDeadline) or isinstance(
        getattr(loader, "batch_sampler", None), EpochDeadline
    )
