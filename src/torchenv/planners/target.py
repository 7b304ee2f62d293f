"""Targets for a plan: this machine's facts, or a machine described on the command line (pure)."""

from __future__ import annotations

import re

from ..compat.platform import is_jetson, normalize_arch, normalize_os
from ..model import Facts, known
from ..model.errors import InputError
from ..model.plan import GpuTarget, Target


class PlanInputError(InputError, ValueError):
    """A described target or a pin that cannot be understood (the CLI shows it as a usage error)."""


_PYTHON_RE = re.compile(r"^\s*(?:python|py|cp)?\s*(\d)\.?(\d{1,2})(?:\.\d+)*\s*(t)?\s*$", re.I)
_CC_RE = re.compile(r"^\s*(?:sm_?)?(\d{1,2})\.(\d)\s*$|^\s*sm_?(\d{1,2})(\d)\s*$", re.I)
_DRIVER_RE = re.compile(r"^\s*(\d{3})(\.\d{1,3}){0,2}\s*$")


def parse_python(text: str) -> str:
    """ "3.12", "3.12.1", "py312", "cp312" -> "3.12"; "3.13t", "cp313t" -> "3.13t" (free-threaded)."""
    m = _PYTHON_RE.match(text or "")
    if not m:
        raise PlanInputError(f"--python {text!r}: expected a version like 3.12 (or 3.13t for free-threaded)")
    return f"{m[1]}.{int(m[2])}" + ("t" if m[3] else "")


def parse_cc(text: str) -> tuple[int, int]:
    """ "8.6", "sm_86", "sm86" -> (8, 6)."""
    m = _CC_RE.match(text or "")
    if not m:
        raise PlanInputError(f"--cc {text!r}: expected a compute capability like 8.6 (or sm_86)")
    major, minor = (m[1], m[2]) if m[1] else (m[3], m[4])
    return int(major), int(minor)


def parse_driver(text: str) -> str:
    if not _DRIVER_RE.match(text or ""):
        raise PlanInputError(f"--driver {text!r}: expected an NVIDIA driver version like 535 or 580.65.06")
    return text.strip()


def resolve_gpu(knowledge, name: str) -> tuple[GpuTarget, str | None]:
    """A GPU name as people type it ("H100", "4090", "Jetson Orin"), and a note when a family was assumed.

    A family resolves when all its models share a compute capability; an ambiguous one lists the
    choices; an unknown one raises with suggestions.
    """
    found = knowledge.resolve_gpu(name)
    if not found.models:
        suggestions = knowledge.suggest_gpus(name, 3)
        hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        raise PlanInputError(f"--gpu {name!r}: not a GPU torchenv knows{hint} (or give --cc X.Y)")
    if found.ambiguous:
        choices = ", ".join(f"{m.name!r} (cc {m.cc[0]}.{m.cc[1]})" for m in found.models[:8])
        raise PlanInputError(f"--gpu {name!r} names GPUs of different compute capabilities: {choices}; pick one")
    first = found.models[0]
    if found.exact or len(found.models) == 1:
        return GpuTarget(name=first.name, cc=first.cc), None
    names = ", ".join(m.name for m in found.models)
    same_peaks = len({tuple(sorted(m.peak_tflops.items())) for m in found.models}) == 1
    peaks = "the same datasheet peaks" if same_peaks else f"different peaks ({first.name}'s are assumed)"
    note = f"--gpu {name!r} covers {names}: all cc {first.cc[0]}.{first.cc[1]}, with {peaks}"
    return GpuTarget(name=first.name, cc=first.cc), note


def check_cc(knowledge, cc: tuple[int, int]) -> tuple[int, int]:
    """Refuse compute capabilities no NVIDIA GPU has (a typo would plan PTX for a GPU that does not exist)."""
    known_ccs = knowledge.known_ccs()
    if known_ccs and cc not in known_ccs:
        listed = " ".join(f"{a}.{b}" for a, b in sorted(known_ccs))
        raise PlanInputError(f"--cc {cc[0]}.{cc[1]}: no NVIDIA GPU has this compute capability (known: {listed})")
    return cc


def describe_target(
    knowledge,
    *,
    gpus: list[str] | tuple[str, ...] = (),
    cc: list[str] | tuple[str, ...] = (),
    driver: str | None = None,
    python: str | None = None,
    os: str | None = None,
    arch: str | None = None,
    no_gpu: bool = False,
) -> Target:
    cc = [c for c in cc if c.strip().lower() not in ("none", "cpu")] if cc else []
    if no_gpu and (gpus or cc or driver):
        raise PlanInputError(
            "--no-gpu (or --cc none) describes a machine without an NVIDIA GPU: drop --gpu/--cc/--driver"
        )
    resolved = [resolve_gpu(knowledge, name) for name in gpus]
    jetson = any(is_jetson(g.name) for g, _ in resolved)
    if jetson and arch is None:
        arch = "aarch64"  # every Jetson is an aarch64 board
    wsl = isinstance(os, str) and os.strip().lower() == "wsl"
    osname = "linux" if wsl else normalize_os(os or "linux")
    if osname is None:
        raise PlanInputError(f"--os {os!r}: expected linux, wsl, windows or macos")
    archname = normalize_arch(arch or ("arm64" if osname == "macos" else "x86_64"), osname)
    if archname is None:
        raise PlanInputError(f"--arch {arch!r}: expected x86_64 or aarch64")
    targets = [g for g, _ in resolved]
    notes = [note for _, note in resolved if note]
    for text in cc:
        value = check_cc(knowledge, parse_cc(text))
        names = [g.name for g in knowledge.gpus_with_cc(value)]
        label = f"a cc {value[0]}.{value[1]} GPU" + (f" ({', '.join(names[:2])})" if names else "")
        targets.append(GpuTarget(name=label, cc=value))
    if osname == "macos" and (targets or driver):
        raise PlanInputError("macOS has no NVIDIA CUDA support: drop --gpu/--cc/--driver for --os macos")
    if jetson and (osname != "linux" or archname != "aarch64"):
        raise PlanInputError("Jetson boards run Linux on aarch64 (L4T): drop --os/--arch or give linux/aarch64")
    return Target(
        os=osname,
        arch=archname,
        python=parse_python(python) if python else None,
        driver=parse_driver(driver) if driver else None,
        gpus=tuple(targets),
        origin="described",
        notes=tuple(notes),
        wsl=wsl,
    )


def target_from_facts(facts: Facts, knowledge=None) -> Target:
    """This machine (or a saved report) as a plan target."""
    host = facts.host
    osname = normalize_os(host.os) or host.os
    archname = normalize_arch(host.arch, osname) or host.arch
    notes: list[str] = []
    python = None
    if known(facts.python):
        m = re.match(r"(\d+)\.(\d+)", facts.python.version)
        python = f"{m[1]}.{m[2]}" if m else None
    driver = facts.driver.version if known(facts.driver.version) else None
    gpus: list[GpuTarget] = []
    if known(facts.gpus.gpus):
        for gpu in facts.gpus.gpus:
            cc = gpu.cc if known(gpu.cc) else None
            if cc is None and knowledge is not None:
                cc = knowledge.resolve_gpu(gpu.name).cc  # a family of one compute capability is enough
            gpus.append(GpuTarget(name=gpu.name, cc=cc))
    elif known(host.pci_gpus) and host.pci_gpus:
        for dev in host.pci_gpus:
            gpus.append(GpuTarget(name=f"NVIDIA GPU at PCI {dev.address} (device {dev.device_id})", cc=None))
        notes.append("the NVIDIA driver is not loaded: GPU models and the driver version are unknown")
    if not gpus and known(facts.torch) and facts.torch.devices:
        gpus = [GpuTarget(name=d.name, cc=d.cc) for d in facts.torch.devices]
    if archname == "aarch64" and _is_l4t(host) and not any(is_jetson(g.name) for g in gpus):
        # A Jetson's iGPU is often invisible to collect_env/nvidia-smi; the L4T kernel says what the board is.
        cc = next((g.cc for g in gpus if g.cc), None)
        gpus = [GpuTarget(name=f"Jetson (L4T kernel {host.kernel})", cc=cc)]
    if driver is None and gpus and not any(is_jetson(g.name) for g in gpus):
        notes.append("driver version unknown: the plan states the driver it needs")
    return Target(
        os=osname,
        arch=archname,
        python=python,
        driver=driver,
        gpus=tuple(gpus),
        origin="this machine" if facts.origin == "this machine" else facts.origin,
        notes=tuple(notes),
        wsl=facts.host.wsl is True,
    )


def _is_l4t(host) -> bool:
    """NVIDIA's L4T (Jetson) kernels are named "<version>-tegra"."""
    return any(known(v) and isinstance(v, str) and "tegra" in v.lower() for v in (host.kernel, host.os_release))


def with_overrides(target: Target, *, python: str | None = None, driver: str | None = None) -> Target:
    from dataclasses import replace

    changes = {}
    if python:
        changes["python"] = parse_python(python)
    if driver:
        changes["driver"] = parse_driver(driver)
    return replace(target, **changes) if changes else target
