"""The environment banners and reports of PyTorch applications and tools, read line by line (issue 12).

`producers.read_line` hands every line here first. Each producer's lines are read from its own print
statements: ComfyUI's startup (`comfy/model_management.py`), the AUTOMATIC1111/Forge launcher
(`modules/launch_utils.py`), DeepSpeed's `ds_report` (`deepspeed/env_report.py`), `python -m xformers.info`,
`python -m bitsandbytes`, `nvidia-smi -q`, `accelerate env` / `transformers-cli env` / `huggingface-cli env`,
and Ultralytics' banner and `yolo checks`. A line these rules claim is read whole here (the generic key/value
and inline readers do not see it again), so each rule sets every fact its line states; a line a rule cannot
read fully is left to the generic readers, and yields no fact of its own.

Every rule sits behind a first-character or substring gate; the blocks (`app:...` in `ProducerState.block`)
end on the first line that is not theirs, so the line cache of `lines.classify_text` stays on.
Pure: standard library only.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import torch_version

if TYPE_CHECKING:
    from .lines import TextFacts
    from .producers import ProducerState

_TORCH_VERSION = re.compile(r"(\d+\.\d+\.\d+(?:\.post\d+)?(?:a0|rc\d+)?(?:\.dev\d+)?(?:\+[\w.]+)?)$")

# ComfyUI: logging.info("Device: {}".format(get_torch_device_name(...))) -> "cuda:0 NAME : allocator"
_COMFY_DEVICE = re.compile(r"^Device: cuda:\d+ (.+?) :\s*(?:native|cudaMallocAsync)?$")
_COMFY_XFORMERS = re.compile(r"^xformers version: (\d+\.\d+\.\d+[\w.+]*)$")
# AUTOMATIC1111: a failed run() prints "Command: {command}"; the torch command never ran to the end
_WEBUI_COMMAND = re.compile(r'^Command: "[^"]*python[\w.]*" -m pip install .*\btorch\b')
_CUDA_INDEX = re.compile(r"download\.pytorch\.org/whl/(?:nightly/)?cu\d{2,3}\b")
# DeepSpeed: print(name, "." * (max_dots - len(name)), value)
_DS_ROW = re.compile(
    r"^(torch install path|torch version|torch cuda version|torch hip version|nvcc version|deepspeed info"
    r"|deepspeed wheel compiled w\.)"
    r" \.+ (.+?)$"
)
# xformers.info: print("{:<50} {}".format(f"{name}:", status))
_XF_ROW = re.compile(r"^(pytorch\.version|pytorch\.cuda|gpu\.compute_capability|gpu\.name):\s+(.+?)$")
# bitsandbytes: "[CUDA SETUP: ]PyTorch settings found: CUDA_VERSION=121, Highest Compute Capability: 8.6."
# (a tuple, "(8, 6).", since the 2024 rework); printed only when torch.cuda.is_available()
_BNB_SPECS = re.compile(
    r"^(?:CUDA SETUP: )?PyTorch settings found: (?:CUDA_VERSION=(\d{1,2})(\d), Highest Compute Capability: "
    r"\(?(\d+)[.,]\s?(\d+)\)?\.|ROCM_VERSION=\d+)\s*$"
)
_BNB_HEADER = re.compile(r"^=+ bitsandbytes v(\d+\.\d+\.\d+[\w.]*) =+$")
_BNB_ROW = re.compile(r"^\s*([\w.-]+):\s+(.+?)\s*$")
# nvidia-smi -q: "    Product Name                          : NVIDIA A100-SXM4-40GB"
_SMI_Q_ROW = re.compile(r"^\s*(Product Name|CUDA Version)\s+:\s+(.+?)\s*$")
# accelerate env / transformers env / huggingface-cli env: print(f"- {prop}: {val}")
_HF_ACCELERATOR = re.compile(
    r"^- PyTorch (?:accelerator: (\S+)|version \(accelerator\?\): (\d+\.\d+\.\d+[\w.+]*) \((\w+)\))$"
)
_HF_PACKAGE = re.compile(
    r"^- `?(Accelerate|transformers|Huggingface_hub|huggingface_hub|Safetensors|DeepSpeed)`? version: (\d+\.\d+[\w.+]*)$"
)
# Ultralytics select_device(): f"Ultralytics {__version__} 🚀 Python-{PYTHON_VERSION} torch-{TORCH_VERSION} "
# then "CUDA:{d} ({name}, {MiB}MiB)" (only when torch.cuda.is_available()), "MPS (...)" or "CPU (...)"
_YOLO_BANNER = re.compile(
    r"^Ultralytics (?:YOLOv)?(\d+\.\d+\.\d+)\S*\s+(?:\S+\s+)?Python-(\d\.\d{1,2}\.\d+) torch-(\S+) "
    r"(?:CUDA:\d+ \((.+?), \d+MiB\)|CPU\b|MPS\b)"
)
# `yolo checks`: f"{k:<23}{v}" after check_yolo()'s "Setup complete ✅ (...)"
_YOLO_ROW = re.compile(r"^(OS|Environment|Python|Install|Path|RAM|Disk|CPU|CPU count|GPU|GPU count|CUDA)\s{2,}(.+?)$")


# the shapes of lines._CUDA_EXPECT that the lines claimed here can hold
_GPU_EVIDENCE = re.compile(r"\bcuda:\d+\b|NVIDIA GeForce", re.I)
# the first characters of the lines the rules below read: every other line costs one set lookup
_FIRST_CHARS = frozenset("DxCPtndpg=-US")


def read_line(facts: TextFacts, state: ProducerState, line: str, stripped: str) -> list[str]:
    """The facts an application's own report states on this line; empty when it is none of them."""
    found = _read(facts, state, line, stripped)
    if found and _GPU_EVIDENCE.search(stripped):
        facts.cuda_expected.append(stripped[:160])  # as lines._inline keeps it for the lines it reads
    return found


def _read(facts: TextFacts, state: ProducerState, line: str, stripped: str) -> list[str]:
    block = state.block
    if block is not None and block.startswith("app:"):
        found = _in_block(facts, state, block, line, stripped)
        if found is not None:
            return found
        state.block = None  # not the block's line: it ended
    first = stripped[:1]
    if first not in _FIRST_CHARS:
        return []
    if first == "D" and stripped.startswith("Device: cuda:"):
        return _comfy_device(facts, state, stripped)
    if first == "x" and stripped.startswith("xformers version: "):
        return _package(facts, _COMFY_XFORMERS.match(stripped), "xformers", "ComfyUI")
    if first == "C" and stripped.startswith('Command: "') and "torch" in stripped:
        return _webui_command(facts, stripped)
    if (first == "P" or first == "C") and "PyTorch settings found: " in stripped:
        return _bnb_specs(facts, stripped)
    if first in "tnd" and " ..." in stripped:
        return _deepspeed(facts, state, stripped)
    if (first == "p" and stripped.startswith("pytorch.")) or (first == "g" and stripped.startswith("gpu.")):
        return _xformers(facts, state, stripped)
    if first == "=":
        return _banner(facts, state, stripped)
    if first == "-" and stripped.startswith("- "):
        return _hf_env(facts, state, stripped)
    if first == "U" and stripped.startswith("Ultralytics "):
        return _yolo_banner(facts, state, stripped)
    if first == "S" and stripped.startswith("Setup complete"):
        state.block = "app:yolo-checks"
        return []
    if first == "P" and stripped.startswith("Product Name"):
        return _smi_q(facts, state, stripped, require_gpu_word=True)
    return []


# --- blocks: lines whose meaning depends on the report they are in ---------------------------------


def _in_block(facts: TextFacts, state: ProducerState, block: str, line: str, stripped: str) -> list[str] | None:
    """A line of the block being read (maybe with no fact); None when the block has ended."""
    if block == "app:nvsmi":
        # -q is "Key : value" rows, section titles and "GPU 00000000:00:04.0" heads, all indented but these
        if " : " in stripped or line[:1] in " \t" or stripped.startswith(("GPU ", "Attached GPUs")):
            return _smi_q(facts, state, stripped, require_gpu_word=False)
        return None
    if block.startswith("app:bnb"):
        return _bnb_row(facts, state, block, stripped)
    if block.startswith("app:ds-nocuda"):
        if stripped.startswith("torch hip version"):
            return _deepspeed(facts, state, stripped)
        return None
    if block == "app:yolo-checks":
        return _yolo_row(facts, state, stripped)
    if block == "app:hf-env":
        if stripped.startswith("- Torch: "):
            # huggingface_hub's "N/A" is "not installed", not collect_env's "did not import": no fact
            return [] if stripped[9:].strip() != "N/A" else ["torch not installed (huggingface-cli env)"]
        return _hf_env(facts, state, stripped) if stripped.startswith("- ") else None
    return None


# --- ComfyUI ----------------------------------------------------------------------------------------


def _comfy_device(facts: TextFacts, state: ProducerState, stripped: str) -> list[str]:
    device = _COMFY_DEVICE.match(stripped)
    if not device:
        return []
    _add_gpu(facts, state, device.group(1))
    # get_torch_device_name() ran torch.cuda.get_device_name(): torch reached the GPU
    facts.cuda_available = True if facts.cuda_available is None else facts.cuda_available
    return ["gpu, cuda_available (ComfyUI device)"]


# --- AUTOMATIC1111 / Forge -----------------------------------------------------------------------------


def _webui_command(facts: TextFacts, stripped: str) -> list[str]:
    if not _WEBUI_COMMAND.match(stripped):
        return []
    # The command of a failed run(): torch was asked for, not installed, so no torch version is read.
    if _CUDA_INDEX.search(stripped):
        facts.cuda_expected.append(f"a CUDA torch was being installed (webui launcher): {stripped[:160]}")
    return ["torch install command that failed (webui launcher)"]


# --- DeepSpeed ds_report ------------------------------------------------------------------------------


def _deepspeed(facts: TextFacts, state: ProducerState, stripped: str) -> list[str]:
    row = _DS_ROW.match(stripped)
    if not row:
        return []
    name, value = row.groups()
    if name == "torch install path":
        path = re.match(r"\['(.+?)'\]$", value)
        if not path:
            return []
        facts.torch_location = facts.torch_location or path.group(1)
        site = re.search(r"python(\d\.\d{1,2})[/\\](?:site|dist)-packages", value)
        if site:
            facts.python_version = facts.python_version or site.group(1)
        return ["torch location (ds_report)"]
    if name == "torch version":
        return _torch_version(facts, value, "ds_report")
    if name == "torch cuda version":
        if value == "None":  # torch.version.cuda is None: a ROCm or a CPU build, the hip row says which
            state.block = "app:ds-nocuda"
            return ["cuda_build: none (ds_report)"]
        if re.match(r"\d+\.\d+$", value):
            facts.cuda_build = facts.cuda_build or value
            return ["cuda_build (ds_report)"]
        return []
    if name == "torch hip version":
        no_cuda = state.block == "app:ds-nocuda"
        state.block = None
        if re.match(r"\d+\.\d+", value):
            facts.rocm_build = True
            return ["rocm build (ds_report)"]
        if value == "None" and no_cuda:
            facts.cpu_build = True
            return ["cpu build (ds_report)"]
        return []
    if name == "nvcc version":
        if re.match(r"\d+\.\d+$", value):  # CUDA_HOME/bin/nvcc -V: the system toolkit's release
            facts.system_cuda = facts.system_cuda or value
            return ["system_cuda (ds_report nvcc)"]
        return []
    if name == "deepspeed wheel compiled w.":
        # "torch 2.1, cuda 12.1": the torch and CUDA the wheel was built against, not the installed ones
        return ["deepspeed build (ds_report)"]
    info = re.match(r"(\d+\.\d+\.\d+[\w.+]*),", value)  # deepspeed info: "0.12.6, <hash>, <branch>"
    return _package(facts, info, "deepspeed", "ds_report")


# --- xformers.info ----------------------------------------------------------------------------------


def _xformers(facts: TextFacts, state: ProducerState, stripped: str) -> list[str]:
    row = _XF_ROW.match(stripped)
    if not row:
        return []
    name, value = row.groups()
    if name == "pytorch.version":
        return _torch_version(facts, value, "xformers.info")
    if name == "pytorch.cuda":
        if value not in ("available", "not available"):
            return []
        if facts.cuda_available is None:
            facts.cuda_available = value == "available"
        return ["cuda_available (xformers.info)"]
    if name == "gpu.compute_capability":
        cc = re.match(r"(\d+)\.(\d+)$", value)
        if not cc:
            return []
        facts.cc = facts.cc or (int(cc.group(1)), int(cc.group(2)))  # the current device's, as get_device_capability()
        return ["cc (xformers.info)"]
    _add_gpu(facts, state, value)
    return ["gpu (xformers.info)"]


# --- bitsandbytes -----------------------------------------------------------------------------------


def _bnb_specs(facts: TextFacts, stripped: str) -> list[str]:
    specs = _BNB_SPECS.match(stripped)
    if not specs:
        return []
    facts.cuda_available = True if facts.cuda_available is None else facts.cuda_available
    if specs.group(1) is None:
        facts.rocm_build = True
        return ["rocm build, cuda_available (bitsandbytes)"]
    facts.cuda_build = facts.cuda_build or f"{specs.group(1)}.{specs.group(2)}"
    facts.cc = facts.cc or (int(specs.group(3)), int(specs.group(4)))  # the highest of the visible GPUs
    return ["cuda_build, cc, cuda_available (bitsandbytes)"]


def _bnb_row(facts: TextFacts, state: ProducerState, block: str, stripped: str) -> list[str] | None:
    """show_environment(): "PyTorch: X", then "  CUDA: {torch.version.cuda or 'N/A'}", HIP, XPU; packages."""
    if stripped == "Related packages:":
        return []
    row = _BNB_ROW.match(stripped)
    if not row:
        return None
    key, value = row.groups()
    if key == "CUDA":
        if value == "N/A":
            state.block = "app:bnb:no-cuda"
            return ["cuda_build: none (bitsandbytes)"]
        if re.match(r"\d+\.\d+$", value):
            facts.cuda_build = facts.cuda_build or value
            return ["cuda_build (bitsandbytes)"]
        return []
    if key == "HIP":
        if re.match(r"\d+\.\d+", value):
            facts.rocm_build = True
            return ["rocm build (bitsandbytes)"]
        if value == "N/A" and block == "app:bnb:no-cuda":
            state.block = "app:bnb:no-gpu-build"
        return []
    if key == "XPU":
        if value == "N/A" and block == "app:bnb:no-gpu-build":
            facts.cpu_build = True  # neither CUDA, nor HIP, nor XPU: a CPU build
            state.block = "app:bnb"
            return ["cpu build (bitsandbytes)"]
        return []
    if key == "libc":
        glibc = re.match(r"glibc-(\d+\.\d+)$", value)
        if glibc:
            facts.glibc = facts.glibc or glibc.group(1)
            return ["glibc (bitsandbytes)"]
        return []
    if key in ("accelerate", "diffusers", "numpy", "pip", "peft", "safetensors", "transformers", "triton", "trl"):
        return _package(facts, re.match(r"(\d+\.\d+[\w.+]*)$", value), key, "bitsandbytes")
    return []  # Platform, Python, PyTorch: the generic readers read them


# --- nvidia-smi -q ---------------------------------------------------------------------------------


def _banner(facts: TextFacts, state: ProducerState, stripped: str) -> list[str]:
    if "NVSMI LOG" in stripped:
        state.block = "app:nvsmi"
        return ["nvidia-smi -q"]
    if "bitsandbytes v" in stripped:
        header = _BNB_HEADER.match(stripped)
        if header:
            state.block = "app:bnb"
            facts.packages.append(("bitsandbytes", header.group(1)))
            return ["package (bitsandbytes)"]
    return []


def _smi_q(facts: TextFacts, state: ProducerState, stripped: str, require_gpu_word: bool) -> list[str]:
    row = _SMI_Q_ROW.match(stripped)
    if not row:
        return []  # Driver Version and the rest: the generic readers, or no fact
    key, value = row.groups()
    if key == "CUDA Version":
        if not re.match(r"\d+\.\d+$", value):
            return []
        facts.driver_cuda = facts.driver_cuda or value  # -q's CUDA Version is the driver's, as in the table header
        return ["driver_cuda (nvidia-smi -q)"]
    if require_gpu_word and not re.match(r"(?:NVIDIA|Tesla|Quadro|GeForce|TITAN)\b", value):
        return []  # "Product Name" outside an -q log: a GPU only when it is named as one
    _add_gpu(facts, state, value)
    return ["gpu (nvidia-smi -q)"]


# --- accelerate / transformers / huggingface-cli env -----------------------------------------------------


def _hf_env(facts: TextFacts, state: ProducerState, stripped: str) -> list[str]:
    if "accelerator" in stripped:
        row = _HF_ACCELERATOR.match(stripped)
        if row:
            return _hf_accelerator(facts, *row.groups())
    if " version: " in stripped:
        package = _HF_PACKAGE.match(stripped)
        if package:
            name = package.group(1).lower()
            if package.group(1) == "huggingface_hub":
                state.block = "app:hf-env"  # huggingface-cli env: its "Torch: N/A" means not installed
            facts.packages.append((name.replace("_", "-"), package.group(2)))
            return [f"package ({name} env)"]
    return []


def _hf_accelerator(facts: TextFacts, accelerator: str | None, version: str | None, paren: str | None) -> list[str]:
    found = []
    if version:  # transformers env: "{torch.__version__} ({accelerator})"
        found += _torch_version(facts, version, "transformers env")
        accelerator = paren
    # CUDA is asked first: any other accelerator, or none ("N/A", "NA"), is torch.cuda.is_available() False
    if facts.cuda_available is None:
        facts.cuda_available = accelerator == "CUDA"
    return [*found, "cuda_available (accelerator)"]


# --- Ultralytics --------------------------------------------------------------------------------------


def _yolo_banner(facts: TextFacts, state: ProducerState, stripped: str) -> list[str]:
    banner = _YOLO_BANNER.match(stripped)
    if not banner:
        return []
    ultralytics, python, torch, gpu = banner.groups()
    facts.packages.append(("ultralytics", ultralytics))
    facts.python_version = facts.python_version or python
    found = ["package (ultralytics)", "python (ultralytics)"]
    version = _TORCH_VERSION.match(torch)
    if version:
        torch_version.take_running(facts, version.group(1))
        found.append("torch (ultralytics)")
    if gpu:
        # select_device() saw torch.cuda.is_available(), but a log holds the banners of many runs (a
        # notebook's earlier cell, a DDP worker): which run failed it does not say, so no cuda_available
        _add_gpu(facts, state, gpu)
        found.append("gpu (ultralytics)")
    # "CPU (...)": device=cpu was asked or CUDA is not usable; which one, the banner does not say
    return found


def _yolo_row(facts: TextFacts, state: ProducerState, stripped: str) -> list[str] | None:
    row = _YOLO_ROW.match(stripped)
    if not row:
        return None
    key, value = row.groups()
    if key == "CUDA":
        state.block = None  # the last row of the table
        if re.match(r"\d+\.\d+$", value):
            facts.cuda_build = facts.cuda_build or value  # torch.version.cuda
            return ["cuda_build (yolo checks)"]
        return ["cuda: none (yolo checks)"]
    if key == "GPU" and value == "None":  # printed when not torch.cuda.is_available()
        if facts.cuda_available is None:
            facts.cuda_available = False
        return ["cuda_available (yolo checks)"]
    if key == "GPU count" and value.isdigit():
        facts.device_count = int(value)  # torch.cuda.device_count()
        return ["device_count (yolo checks)"]
    return []


# --- shared ---------------------------------------------------------------------------------------------


def _torch_version(facts: TextFacts, value: str, source: str) -> list[str]:
    """torch.__version__ printed under its own name: a stated fact, as a `PyTorch: X` key is."""
    version = _TORCH_VERSION.match(value)
    if not version:
        return []
    torch_version.take_stated(facts, version.group(1))
    return [f"torch ({source})"]


def _package(facts: TextFacts, match: re.Match | None, name: str, source: str) -> list[str]:
    if not match:
        return []
    facts.packages.append((name, match.group(1)))
    return [f"package {name} ({source})"]


def _add_gpu(facts: TextFacts, state: ProducerState, name: str) -> None:
    name = re.sub(r"\s+", " ", name.strip())
    if name:
        facts.gpus.append(name)
        state.nvidia_seen = state.nvidia_seen or "nvidia" in name.lower() or "geforce" in name.lower()


__all__ = ["read_line"]
