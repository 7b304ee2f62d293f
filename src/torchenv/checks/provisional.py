"""The doctor's first verdict, from files only (probes/first_look.py), before any process answered.

It says only what files can settle, in the verdict words of the full report, and says "pending"
where the answer needs torch itself (a CUDA build on a machine with a driver: only CUDA's
initialisation and the smoke test can tell). The rules follow checks/policy.py (a CPU build on a
machine without an NVIDIA GPU is healthy unless CUDA is required); tests/unit/test_first_verdict.py
holds it to the full doctor's verdict on recorded machines.

Standard library only: it is imported in the command line's first milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FirstVerdict:
    verdict: str  # "healthy" | "degraded" | "broken" | "pending"
    summary: str
    evidence: tuple[str, ...]


def first_verdict(look, *, require_cuda: bool = False) -> FirstVerdict:
    """`look`: a probes.first_look.FirstLook (duck-typed: this module imports nothing)."""
    evidence = [f"torch: {look.torch_where}" if look.torch_version is None else _torch_text(look) + f" ({look.torch_where})"]
    if look.driver_version:
        evidence.append(f"driver {look.driver_version} ({look.driver_source})")
    evidence.append(
        "PCI bus not readable" if look.pci_gpus is None else f"{look.pci_gpus} NVIDIA GPU(s) on the PCI bus"
    )
    numbered = [n for n in look.dev_nodes if n[len("/dev/nvidia") :].isdigit()]
    evidence.append(f"{len(numbered)} /dev/nvidiaN node(s)" if look.dev_nodes else "no /dev/nvidia* nodes")
    evidence = tuple(evidence)

    gpu_seen = bool(look.pci_gpus) or bool(numbered) or bool(look.driver_version)
    gpu_absent = look.pci_gpus == 0 and not look.dev_nodes and not look.driver_version
    missing = look.torch_version is None and look.torch_where.startswith("torch is not on")
    if missing:
        return FirstVerdict("broken", "torch is not installed in this interpreter", evidence)
    if look.torch_version is None:
        return FirstVerdict("pending", "torch's version file was not found; asking the interpreter", evidence)
    gpu_build = bool(look.torch_cuda or look.torch_hip)
    stack = _torch_text(look)
    if not gpu_build:
        if gpu_absent:
            if require_cuda:
                return FirstVerdict("broken", f"CUDA required, but {stack} is a CPU build and there is no NVIDIA GPU", evidence)
            return FirstVerdict("healthy", f"CPU only: {stack} on a machine without an NVIDIA GPU", evidence)
        if gpu_seen:
            return FirstVerdict("broken", f"{stack} is a CPU build, but this machine has an NVIDIA GPU", evidence)
        return FirstVerdict("pending", f"{stack} is a CPU build; whether this machine has a GPU is unknown", evidence)
    if gpu_absent:
        if require_cuda:
            return FirstVerdict("broken", f"CUDA required, but this machine has no NVIDIA GPU ({stack})", evidence)
        return FirstVerdict("degraded", f"CPU only: {stack} can work, but this machine has no NVIDIA GPU", evidence)
    if look.torch_cuda and look.pci_gpus and not look.driver_version and not look.dev_nodes:
        return FirstVerdict("broken", f"{stack}: the NVIDIA GPU has no loaded driver", evidence)
    return FirstVerdict("pending", f"{stack}: waiting for CUDA's initialisation and the smoke test", evidence)


def _torch_text(look) -> str:
    if look.torch_cuda:
        return f"torch {look.torch_version} (CUDA {look.torch_cuda})"
    if look.torch_hip:
        return f"torch {look.torch_version} (ROCm {look.torch_hip})"
    return f"torch {look.torch_version} (CPU build)"
