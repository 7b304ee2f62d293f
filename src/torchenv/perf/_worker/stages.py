# ruff: noqa: UP031  (runs in the target interpreter: Python 3.8+ syntax)
"""The stages of tune's search, in order, for a workload's capabilities: one function per knob says
which candidates apply and, when none can, why (the report shows the reason instead of dropping the
stage). Pure and stdlib-only; part of the perf worker runtime."""

KNOB_NAMES = ("tf32", "amp", "channels_last", "benchmark", "optimizer", "compile", "max-autotune", "determinism")


class Stage:
    def __init__(self, name, title, candidates, skip_reason=None, why=""):
        self.name = name
        self.title = title
        self.candidates = list(candidates)
        self.skip_reason = skip_reason
        self.why = why

    def as_record(self):
        return {
            "name": self.name,
            "title": self.title,
            "candidates": [dict(c) for c in self.candidates],
            "skip_reason": self.skip_reason,
            "why": self.why,
        }


def _tf32(caps, cuda, plain, skip):
    if not cuda:
        return [], "TF32 is an NVIDIA tensor-core format; on CPU float32 stays float32"
    if not caps.get("tf32", True):
        return [], "TF32 needs compute capability 8.0 (Ampere) or newer"
    return [{"tf32": True}], None


def _amp(caps, cuda, plain, skip):
    if caps.get("bf16"):
        return [{"amp": "bf16"}], None
    if cuda and caps.get("fp16") and not plain:
        return [{"amp": "fp16"}], None
    if cuda and plain:
        return [], "bf16 is not supported here, and fp16 needs a GradScaler inside your step()"
    return [], "no native bf16 on this %s" % ("GPU" if cuda else "CPU (no AVX512-BF16/AMX)")


def _channels_last(caps, cuda, plain, skip):
    if plain:
        return [], "a plain step() callable: torchenv cannot change the model's memory format"
    if not caps.get("has_conv"):
        return [], "no 2-D convolutions in the model"
    return [{"channels_last": True}], None


def _benchmark(caps, cuda, plain, skip):
    if not cuda:
        return [], "cudnn.benchmark applies to cuDNN (CUDA) only"
    if not caps.get("has_conv"):
        return [], "no convolutions: cudnn.benchmark has nothing to choose"
    if not caps.get("cudnn_search_measurable"):
        return [], (
            "not measurable here: PyTorch's per-process cuDNN plan cache would serve the plans the earlier "
            "trials chose by heuristics instead of searching; `torchenv bench` measures it in a fresh process"
        )
    return [{"benchmark": True}], None


def _optimizer(caps, cuda, plain, skip):
    if plain:
        return [], "a plain step() callable: torchenv cannot rebuild the optimizer"
    if not caps.get("optimizer"):
        return [], "no optimizer given"
    candidates = []
    if caps.get("fused") and caps.get("default_impl") != "fused":
        candidates.append({"optimizer": "fused"})
    if caps.get("foreach") and caps.get("default_impl") not in ("foreach", "fused"):
        candidates.append({"optimizer": "foreach"})
    if not candidates:
        return [], "%s has no fused/foreach variant to try here" % caps.get("optimizer")
    return candidates, None


def _determinism(caps, cuda, plain, skip):
    return [{"deterministic": True, "benchmark": False}], None


def _compile(caps, cuda, plain, skip):
    if plain:
        return [], "a plain step() callable: torchenv can only compile a model it was given"
    if not caps.get("compile"):
        return [], caps.get("compile_reason") or "torch.compile is not available"
    candidates = [{"compile": "default"}]
    if cuda and "max-autotune" not in skip:  # max-autotune tunes GPU (Triton) kernels; on CPU it adds compile time
        candidates.append({"compile": "max-autotune"})
    return candidates, None


# (name, title, candidates and reason, why it comes here in the order)
STAGES = (
    ("tf32", "TF32 matmuls and convolutions", _tf32, "first: cheap, and the float32 precision every later stage runs at"),
    ("amp", "automatic mixed precision", _amp, "bf16 where supported (no loss scaling needed), else fp16 with a GradScaler"),
    ("channels_last", "channels_last memory format", _channels_last,
     "after AMP: NHWC pays mostly once convolutions run on tensor cores in half precision"),
    ("benchmark", "cudnn.benchmark", _benchmark,
     "after dtype and layout are fixed: its algorithm search is redone for each, so it is paid once"),
    ("optimizer", "fused / foreach optimizer", _optimizer,
     "independent of the model's settings; measured before compile, which does not change it"),
    ("compile", "torch.compile", _compile,
     "after every eager setting: it captures them all; compile time is weighed as break-even steps"),
    ("determinism", "deterministic algorithms (offered, never adopted)", _determinism,
     "last, on the best eager configuration: the cost of reproducible runs. Measured after compile because a "
     "deterministic trial leaves the process slower for later compiled steps (H200: GPT 9.44 -> 14.68 ms)"),
)  # fmt: skip


def plan_stages(caps, skip=()):
    """The stages for a workload's capabilities, in search order; a stage that cannot apply keeps
    its reason (shown in the report) instead of being silently dropped.

    caps: device ("cuda"|"cpu"), tf32 (GPU can do TF32), bf16, fp16 (AMP dtypes usable),
    has_conv (2-D convolutions in the model), plain_step (only a step() callable was given),
    cudnn_search_measurable (cudnn.benchmark's search can be measured: a fresh process per trial),
    optimizer (class name or None), fused, foreach (the optimizer accepts them),
    default_impl ("foreach"|"for-loop"|"fused"|None), compile (bool), compile_reason."""
    skip = set(skip or ())
    cuda = caps.get("device") == "cuda"
    plain = bool(caps.get("plain_step"))
    stages = []
    for name, title, choose, why in STAGES:
        candidates, reason = choose(caps, cuda, plain, skip)
        if reason is None and name in skip:
            reason = "skipped on request (--skip %s)" % name
        stages.append(Stage(name, title, candidates if reason is None else [], reason, why))
    return stages
