"""Measures configurations of one workload on one device: the torch side of `tune`'s trials and of
`bench`'s training ladders. It decides nothing: the search (search.py) or bench's fixed plan chooses
what to measure; this returns raw per-step seconds, the first losses and peak memory.

Used by the worker runtime (inside the target interpreter) and by `torchenv.tune(...)` in the
caller's process. Python 3.8+ syntax.
"""

import copy
import gc
import sys
import time

from . import step as S
from .dataloading import ends_its_epochs, epoch_items, read_proc_stat
from .protocol import describe
from .timing import Clock, measure_steps
from .workload import first_tensor, tile, to_device

TIMING = {
    "cuda": dict(numerics_steps=3, warmup_steps=2, min_steps=6, max_steps=40, sample_s=1.0),
    "cpu": dict(numerics_steps=3, warmup_steps=1, min_steps=3, max_steps=20, sample_s=0.8),
}


PERTURBATION = 1e-6


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
        self.clock = Clock(torch, device)
        self.log = log or (lambda text: None)
        self.saved = S.save_flags(torch)
        self.pristine = None
        self.optimizers = None
        if workload.model is not None:
            self.pristine = workload.model
            self.optimizers = S.OptimizerFactory(torch, workload.optimizer, workload.model)
            if self.optimizers.error is None and workload.optimizer is not None:
                try:  # learn the class and arguments (a throwaway optimizer: no state, no memory)
                    self.optimizers.args = S.non_default_args(self.optimizers.build(workload.model))
                except Exception as exc:
                    self.optimizers.error = describe(exc)

    # --- global settings ---------------------------------------------------------------------

    def restore(self):
        """Puts torch's global settings back as they were before the engine started."""
        S.restore_flags(self.torch, self.saved)

    def set_flags(self, config):
        S.set_flags(self.torch, config, self.cuda)

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

    def build(self, config, batch=None, perturb=None):
        """A fresh copy of the model with `config` applied, and its step() returning the loss.
        perturb: relative size of fixed random noise added to the weights (the rounding floor)."""
        torch, w = self.torch, self.workload
        if w.model is None:
            user_step, amp = w.step, config.get("amp")

            def plain_step():
                with S.autocast(self.torch, self.device, amp):
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
        scaler = S.grad_scaler(torch) if config.get("amp") == "fp16" else None
        opt = self.optimizers.build(model, config.get("optimizer") or "default", scaler=scaler is not None)
        run = model
        mode = config.get("compile")
        if mode:
            torch._dynamo.reset()
            run = torch.compile(model) if mode == "default" else torch.compile(model, mode=mode)
        loss_fn, amp = w.loss_fn, config.get("amp")

        def step():
            opt.zero_grad(set_to_none=True)
            with S.autocast(self.torch, self.device, amp):
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
            samples, _ = measure_steps(
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
            samples, _ = measure_steps(self.clock, step, warmup_steps=2, min_steps=4, max_steps=20, sample_s=0.6)
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
            stat0 = read_proc_stat()
            began = time.perf_counter()
            for _ in range(epochs):
                t0 = time.perf_counter()
                it = iter(loader)
                first = None
                n = steady = 0
                for batch in it:
                    now = time.perf_counter() - t0
                    if self.cuda:
                        batch = to_device(torch, batch, self.device, non_blocking=bool(config.get("pin_memory")))
                    t = first_tensor(torch, batch)
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
            stat1 = read_proc_stat()
            out.update(
                items=items,
                batches=batches,
                seconds=seconds,
                items_per_s=items / seconds if seconds > 0 else 0.0,  # raw: ramp and tail included
                windows=windows,
                epoch_items=epoch_items(loader, items / float(batches) if batches else None),
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


def _loss_value(torch, loss):
    if isinstance(loss, torch.Tensor):
        return float(loss.detach().float().item()) if loss.numel() == 1 else None
    if isinstance(loss, (int, float)):
        return float(loss)
    return None
