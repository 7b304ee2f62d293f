"""How a configuration (torchenv's knobs: see knobs.py) is applied to torch: global flags saved,
set and restored, autocast and GradScaler, and the optimizer built in its default, foreach or fused
form. The one place bench's ladder and tune's trials get their settings from. Imports only torch
(passed in) and stdlib.
"""

import contextlib
import inspect
import os
import warnings


class ForeachSGD:
    """SGD with momentum, the arithmetic of torch.optim.SGD's foreach path (its default on CUDA),
    without torch.optim: constructing a torch.optim optimizer the first time imports torch._dynamo
    (1.1 s on the 2-core CI machine, about 2 s on the H100 host), which `bench --quick` cannot afford.
    Built-in workloads ask for it with the optimizer spec "sgd-momentum"."""

    def __init__(self, torch, params, lr, momentum=0.9):
        self.torch = torch
        self.params = [p for p in params if p.requires_grad]
        self.lr = lr
        self.momentum = momentum
        self.buffers = None

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            p.grad = None

    def step(self):
        torch = self.torch
        with torch.no_grad():
            live = [p for p in self.params if p.grad is not None]
            grads = [p.grad for p in live]
            if self.buffers is None:  # as torch: the first step's buffer is the gradient itself
                self.buffers = [torch.clone(g).detach() for g in grads]
            else:
                torch._foreach_mul_(self.buffers, self.momentum)
                torch._foreach_add_(self.buffers, grads)
            torch._foreach_add_(live, self.buffers, alpha=-self.lr)


class SgdMomentum:
    """The built-in workloads' optimizer spec: SGD(lr, momentum 0.9). Its default form is ForeachSGD
    (no torch.optim import); foreach/fused variants and GradScaler get torch.optim.SGD."""

    def __init__(self, lr):
        self.lr = lr


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
        if isinstance(spec, SgdMomentum):
            self.klass = torch.optim.SGD
        elif isinstance(spec, torch.optim.Optimizer):
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
        if isinstance(spec, SgdMomentum):
            return torch.optim.SGD(params, lr=spec.lr, momentum=0.9)
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

    def build(self, model, variant="default", scaler=False):
        """The optimizer for `model` in its `variant` form ("default", "foreach", "fused"). A GradScaler
        needs a torch.optim optimizer, so the light ForeachSGD stands in only without one."""
        if variant == "default" and not scaler and isinstance(self.spec, SgdMomentum):
            return ForeachSGD(self.torch, model.parameters(), lr=self.spec.lr, momentum=0.9)
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


def save_flags(torch):
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


def restore_flags(torch, saved):
    """Puts torch's global settings back as `save_flags` found them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.backends.cuda.matmul.allow_tf32 = saved["matmul_tf32"]
        torch.backends.cudnn.allow_tf32 = saved["cudnn_tf32"]
        torch.backends.cudnn.benchmark = saved["benchmark"]
        torch.backends.cudnn.deterministic = saved["cudnn_deterministic"]
        torch.use_deterministic_algorithms(saved["deterministic"])
    if saved["cublas"] is None:
        os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
    else:
        os.environ["CUBLAS_WORKSPACE_CONFIG"] = saved["cublas"]


def set_flags(torch, config, cuda):
    """The global settings of a configuration; {} is torchenv's FP32 reference (TF32 off for cuDNN too)."""
    det = bool(config.get("deterministic"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tf32 = bool(config.get("tf32"))
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        torch.backends.cudnn.benchmark = bool(config.get("benchmark"))
        torch.backends.cudnn.deterministic = det
        if det and cuda:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        if det or torch.are_deterministic_algorithms_enabled():
            torch.use_deterministic_algorithms(det)


def autocast(torch, device, amp):
    if not amp:
        return contextlib.nullcontext()
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[amp]
    return torch.autocast(device_type=device.type, dtype=dtype)


def grad_scaler(torch):
    try:
        return torch.amp.GradScaler("cuda")
    except (AttributeError, TypeError):
        return torch.cuda.amp.GradScaler()


def non_default_args(opt):
    if isinstance(opt, ForeachSGD):
        return {"lr": opt.lr, "momentum": opt.momentum}
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
