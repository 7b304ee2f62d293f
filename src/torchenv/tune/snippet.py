"""The recommended configuration as code to paste into a training script. Pure."""

from __future__ import annotations

from typing import Any


def render_snippet(
    config: dict[str, Any] | None,
    *,
    device: str = "cuda",
    optimizer: str | None = None,
    optimizer_args: dict[str, Any] | None = None,
    plain_step: bool = False,
    loader: dict[str, Any] | None = None,
    break_even_steps: int | None = None,
    compile_s: float | None = None,
    unchecked: bool = False,
) -> str:
    """Python source applying `config` (knobs as in torchenv.perf._worker.knobs.BASE) and, if given, the
    DataLoader settings. Always valid Python (the tests compile it)."""
    c = dict(config or {})
    lines = ["import torch", "", *_global_lines(c, unchecked), *_loader_lines(loader)]
    if plain_step:
        return "\n".join([*lines, "", *_plain_loop(c, device)]) + "\n"
    lines += ["", *_model_lines(c, device, optimizer, optimizer_args, compile_s, break_even_steps)]
    lines += ["", *_training_loop(c, device, bool(loader and loader.get("pin_memory")))]
    return "\n".join(lines) + "\n"


def _global_lines(c: dict[str, Any], unchecked: bool) -> list[str]:
    lines = []
    if unchecked and (c.get("tf32") or c.get("amp")):
        lines.append("# NOTE: numerics were not checked (a plain step() cannot be reset): compare your loss curve.")
    if c.get("tf32"):
        lines += [
            "# TF32 tensor cores for float32 matmuls and convolutions",
            "torch.backends.cuda.matmul.allow_tf32 = True",
            "torch.backends.cudnn.allow_tf32 = True",
        ]
    if c.get("benchmark"):
        lines += ["torch.backends.cudnn.benchmark = True  # fixed input shapes: let cuDNN pick the fastest algorithms"]
    return lines


def _loader_lines(loader: dict[str, Any] | None) -> list[str]:
    if not loader:
        return []
    nw = int(loader.get("num_workers") or 0)
    args = [f"num_workers={nw}"]
    if loader.get("pin_memory"):
        args.append("pin_memory=True")
    if nw > 0:
        args.append(f"prefetch_factor={int(loader.get('prefetch_factor') or 2)}")
        if loader.get("persistent_workers"):
            args.append("persistent_workers=True")
    return [
        "",
        f"loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True, {', '.join(args)})",
    ]


def _autocast(c: dict[str, Any], device: str, indent: str) -> str:
    dtype = "bfloat16" if c["amp"] == "bf16" else "float16"
    return f"{indent}with torch.autocast({device!r}, dtype=torch.{dtype}):"


def _plain_loop(c: dict[str, Any], device: str) -> list[str]:
    if c.get("amp"):
        return ["for batch in loader:", _autocast(c, device, "    "), "        step(batch)"]
    return ["for batch in loader:", "    step(batch)"]


def _model_lines(c, device, optimizer, optimizer_args, compile_s, break_even_steps) -> list[str]:
    lines = ["model = model.to(memory_format=torch.channels_last)"] if c.get("channels_last") else []
    opt = optimizer or "SGD"
    if "." not in opt:
        opt = f"torch.optim.{opt}"
    variant = c.get("optimizer") or "default"
    args = [f"{k}={v!r}" for k, v in (optimizer_args or {}).items()]
    if variant in ("fused", "foreach"):
        args.append(f"{variant}=True")
    comment = "" if optimizer_args is not None else "  # plus your own arguments"
    lines.append(f"optimizer = {opt}({', '.join(['model.parameters()', *args])}){comment}")
    if c.get("amp") == "fp16":
        lines.append("scaler = torch.amp.GradScaler(" + repr(device) + ")")
    if c.get("compile"):
        note = ""
        if compile_s is not None:
            note = f"  # compiling took {compile_s:.0f} s"
            if break_even_steps is not None:
                note += f"; paid back after {break_even_steps} steps"
        mode = "" if c["compile"] == "default" else f", mode={c['compile']!r}"
        lines.append(f"model = torch.compile(model{mode}){note}")
    return lines


def _training_loop(c: dict[str, Any], device: str, pinned: bool) -> list[str]:
    move = ", non_blocking=True" if pinned else ""
    to = f"inputs.to({device!r}{move}"
    if c.get("channels_last"):
        to += ", memory_format=torch.channels_last"
    lines = [
        "for inputs, target in loader:",
        f"    inputs, target = {to}), target.to({device!r}{move})",
        "    optimizer.zero_grad(set_to_none=True)",
    ]
    indent = "    "
    if c.get("amp"):
        lines.append(_autocast(c, device, "    "))
        indent = "        "
    lines.append(f"{indent}loss = loss_fn(model(inputs), target)")
    if c.get("amp") == "fp16":
        return [*lines, "    scaler.scale(loss).backward()", "    scaler.step(optimizer)", "    scaler.update()"]
    return [*lines, "    loss.backward()", "    optimizer.step()"]


def render_determinism_snippet(device: str = "cuda") -> str:
    lines = [
        "import os, torch",
        "",
        "# reproducible runs (set before CUDA starts):",
    ]
    if device == "cuda":
        lines.append('os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")')
    lines += [
        "torch.manual_seed(0)",
        "torch.use_deterministic_algorithms(True)",
        "torch.backends.cudnn.benchmark = False",
        "torch.backends.cudnn.deterministic = True",
    ]
    return "\n".join(lines) + "\n"
