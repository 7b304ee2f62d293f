"""Small pure helpers the checks share: version arithmetic, fact look-ups, fix commands."""

from __future__ import annotations

import re
import shlex

from ..model import Facts, GpuFacts, TorchFacts, Unknown, known
from ..model.versions import version_numbers
from .registry import Skip

PYTORCH_INDEX = "https://download.pytorch.org/whl/"


def version_tuple(text: str) -> tuple[int, ...]:
    """`580.159.04` -> (580, 159, 4); `2.11.0+cu130` -> (2, 11, 0): model.versions decodes it."""
    return version_numbers(text)


def base_version(text: str) -> str:
    return text.split("+", 1)[0]


def torch_variant(torch: TorchFacts) -> str | None:
    """The wheel variant: `cu130`, `cpu`, `rocm6.2`; from the local tag, else from torch.version.cuda."""
    version = torch.version if known(torch.version) else ""
    if "+" in version:
        return version.split("+", 1)[1]
    if known(torch.hip) and torch.hip:
        return "rocm"
    if known(torch.cuda):
        if torch.cuda is None:
            return "cpu"
        major_minor = version_tuple(torch.cuda)[:2]
        return "cu" + "".join(str(p) for p in major_minor)
    return None


def require_torch(facts: Facts) -> TorchFacts:
    if not known(facts.torch):
        raise Skip(f"torch was not probed: {facts.torch.reason}")
    return facts.torch


def require_imported_torch(facts: Facts) -> TorchFacts:
    torch = require_torch(facts)
    if not known(torch.version):
        raise Skip("torch did not import")
    return torch


def listed_gpus(facts: Facts) -> tuple[GpuFacts, ...]:
    return facts.gpus.gpus if known(facts.gpus.gpus) else ()


def gpu_present(facts: Facts) -> bool | None:
    """True/False when the facts say so; None when nothing was learnable."""
    if listed_gpus(facts):
        return True
    if known(facts.torch) and facts.torch.devices:
        return True
    if known(facts.host.pci_gpus) and facts.host.pci_gpus:
        return True
    if any(n.startswith("/dev/nvidia") and n[len("/dev/nvidia") :].isdigit() for n in facts.host.dev_nodes):
        return True
    pci_known_empty = known(facts.host.pci_gpus) and not facts.host.pci_gpus
    gpus_known_empty = known(facts.gpus.gpus) and not facts.gpus.gpus
    if pci_known_empty or gpus_known_empty or (facts.origin == "this machine" and not facts.host.dev_nodes):
        return False
    return None


def python_command(facts: Facts) -> str:
    executable = facts.python.executable if known(facts.python) else "python"
    return shlex.quote(executable)


def pip_install(facts: Facts, *requirements: str, index_url: str | None = None, extra: str = "") -> str:
    parts = [python_command(facts), "-m", "pip", "install"]
    if extra:
        parts.append(extra)
    parts += [shlex.quote(r) for r in requirements]
    if index_url:
        parts += ["--index-url", index_url]
    return " ".join(parts)


def index_url(variant: str) -> str:
    return PYTORCH_INDEX + variant


def python_minor(facts: Facts) -> str | None:
    if not known(facts.python) or not re.match(r"^\d+\.\d+", facts.python.version):
        return None
    return ".".join(facts.python.version.split(".")[:2])


def gpu_ccs(facts: Facts, knowledge) -> list[tuple[str, tuple[int, int]]]:
    """(name, compute capability) per GPU, from NVML/nvidia-smi, torch, or the knowledge base by name."""
    found: list[tuple[str, tuple[int, int]]] = []
    for gpu in listed_gpus(facts):
        if known(gpu.cc):
            found.append((gpu.name, gpu.cc))
        else:
            cc = knowledge.resolve_gpu(gpu.name).cc
            if cc is not None:
                found.append((gpu.name, tuple(cc)))
    if not found and known(facts.torch):
        found = [(d.name, d.cc) for d in facts.torch.devices]
    return found


CONTAINER_GPU_HINTS = ("NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES", "CUDA_VERSION")


def container_expects_gpu(facts: Facts) -> tuple[str, ...]:
    """The variables a CUDA container image sets, when in a container without GPU device nodes."""
    if not facts.host.container or any(n.startswith("/dev/nvidia") for n in facts.host.dev_nodes):
        return ()
    return tuple(k for k in CONTAINER_GPU_HINTS if k in facts.environment)


def unknown_reason(value: object) -> str:
    return value.reason if isinstance(value, Unknown) else ""
