"""What the profile analysis and its rule families share: names, per-step windows, source sites and
the fixes' wording. Pure."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

LAYER = "compute"
DATALOADER_PREFIX = "enumerate(DataLoader)#"
OPTIMIZER_PREFIX = "Optimizer.step#"
LIBRARY_ROOTS = frozenset(
    {
        "torch",
        "torchvision",
        "torchaudio",
        "torchtext",
        "functorch",
        "triton",
        "transformers",
        "accelerate",
        "lightning",
        "pytorch_lightning",
        "lightning_fabric",
        "timm",
        "deepspeed",
        "apex",
        "numpy",
        "diffusers",
        "datasets",
        "torchenv",
        "peft",
        "xformers",
        "flash_attn",
    }
)
STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"threading", "contextlib", "runpy", "functools"}


@dataclass
class _Site:
    """What one rule saw at one place (op and source function), summed over the steps."""

    what: str
    source: str | None
    us: float = 0.0
    count: int = 0
    extra: dict = field(default_factory=dict)


@dataclass
class _Window:
    name: str
    number: int
    start: float
    end: float
    tid: int | str | None

    @property
    def dur(self) -> float:
        return self.end - self.start


def _user_path(file: str | None) -> bool:
    if not file or file.startswith("<"):
        return False
    path = file.replace("\\", "/")
    if any(part in path for part in ("site-packages/", "dist-packages/", "/lib/python", "<frozen")):
        return False
    root = path.lstrip("./").split("/")[0]
    root = root[:-3] if root.endswith(".py") else root
    return root not in LIBRARY_ROOTS and root not in STDLIB


def _ms(us: float | None) -> float | None:
    return None if us is None else round(us / 1000.0, 4)


def _cc_major(cc: str | None) -> int | None:
    if not cc:
        return None
    try:
        return int(str(cc).split(".")[0])
    except ValueError:
        return None


def _sync_label(op: str) -> str:
    return {
        "aten::item": ".item() (aten::item)",
        "aten::_local_scalar_dense": ".item() / float(tensor) (aten::_local_scalar_dense)",
        "aten::is_nonzero": "`if tensor:` / bool(tensor) (aten::is_nonzero)",
        "aten::nonzero": "nonzero() / boolean-mask indexing (aten::nonzero)",
        "aten::equal": "torch.equal (aten::equal)",
        "aten::masked_select": "masked_select / x[mask] (aten::masked_select)",
    }.get(op, op)


def _sync_fix(what: str, source: str | None) -> str:
    where = f" in {source}" if source else ""
    if "item" in what or "scalar" in what:
        return (
            f"keep the value on the GPU{where}: accumulate `total += loss.detach()` and call `.item()` once every "
            "N steps (or at the end of the epoch)"
        )
    if "is_nonzero" in what:
        return f"replace `if tensor:`{where} by tensor ops (torch.where, masking) or check it every N steps"
    if "nonzero" in what or "masked_select" in what:
        return f"avoid data-dependent shapes{where}: use torch.where(mask, x, 0) or multiply by the mask instead of x[mask]/nonzero()"
    if ".cpu()" in what:
        return f"keep the tensor on the GPU{where}; copy results back every N steps, into a pinned buffer with non_blocking=True"
    if "synchronize" in what:
        return f"remove torch.cuda.synchronize(){where} from the loop (time with CUDA events instead)"
    return f"remove the host-side read of GPU data{where} from the loop, or do it every N steps"


def _library_sync_fix(inside: str, source: str | None) -> str:
    where = f" (called from {source})" if source else ""
    return (
        f"the sync is inside {inside}{where}, library code: not a line of yours to change. Look for an option of "
        "that call that keeps the value on the GPU (torch.optim: capturable=True or fused=True), or make the call "
        "less often"
    )


def _copy_fix(direction: str | None, source: str | None) -> str:
    where = f" in {source}" if source else ""
    if direction == "DtoH":
        return (
            f"copy{where} into a pinned buffer: `buf = torch.empty(shape, pin_memory=True)` once, then "
            "`buf.copy_(t, non_blocking=True)`; or keep the result on the GPU"
        )
    return (
        f"pin the batch and copy asynchronously{where}: DataLoader(..., pin_memory=True) and "
        "`x = x.to(device, non_blocking=True)`"
    )
