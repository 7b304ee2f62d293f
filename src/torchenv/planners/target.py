"""Targets for a plan: this machine's facts, or a machine described on the command line (pure)."""

from __future__ import annotations

import re

from ..knowledge.wheels import normalize_arch, normalize_os
from ..model import Facts, known
from ..model.plan import GpuTarget, Target


class PlanInputError(ValueError):
    """A described target or a pin that cannot be understood (the CLI shows it as a usage error)."""


_PYTHON_RE = re.compile(r"^\s*(?:python|py|cp)?\s*(\d)\.?(\d{1,2})(?:\.\d+)*\s*$", re.I)
_CC_RE = re.compile(r"^\s*(?:sm_?)?(\d{1,2})\.(\d)\s*$|^\s*sm_?(\d{1,2})(\d)\s*$", re.I)
_DRIVER_RE = re.compile(r"^\s*(\d{3})(\.\d{1,3}){0,2}\s*$")


def parse_python(text: str) -> str:
    """ "3.12", "3.12.1", "py312", "cp312" -> "3.12"."""
    m = _PYTHON_RE.match(text or "")
    if not m:
        raise PlanInputError(f"--python {text!r}: expected a version like 3.12")
    return f"{m[1]}.{int(m[2])}"


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


def resolve_gpu(knowledge, name: str) -> GpuTarget:
    """A GPU name fuzzy-matched against the knowledge base; unknown names raise with suggestions."""
    gpu = knowledge.gpu_by_name(name)
    if gpu is None:
        suggestions = knowledge.suggest_gpus(name, 3)
        hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        raise PlanInputError(f"--gpu {name!r}: not a GPU torchenv knows{hint} (or give --cc X.Y)")
    return GpuTarget(name=gpu.name, cc=gpu.cc)


def describe_target(
    knowledge,
    *,
    gpus: list[str] | tuple[str, ...] = (),
    cc: list[str] | tuple[str, ...] = (),
    driver: str | None = None,
    python: str | None = None,
    os: str | None = None,
    arch: str | None = None,
) -> Target:
    osname = normalize_os(os or "linux")
    if osname is None:
        raise PlanInputError(f"--os {os!r}: expected linux, windows or macos")
    archname = normalize_arch(arch or ("arm64" if osname == "macos" else "x86_64"), osname)
    if archname is None:
        raise PlanInputError(f"--arch {arch!r}: expected x86_64 or aarch64")
    targets = [resolve_gpu(knowledge, name) for name in gpus]
    for text in cc:
        value = parse_cc(text)
        names = [g.name for g in knowledge.gpus_with_cc(value)]
        label = f"a cc {value[0]}.{value[1]} GPU" + (f" ({', '.join(names[:2])})" if names else "")
        targets.append(GpuTarget(name=label, cc=value))
    notes = []
    if osname == "macos" and (targets or driver):
        raise PlanInputError("macOS has no NVIDIA CUDA support: drop --gpu/--cc/--driver for --os macos")
    return Target(
        os=osname,
        arch=archname,
        python=parse_python(python) if python else None,
        driver=parse_driver(driver) if driver else None,
        gpus=tuple(targets),
        origin="described",
        notes=tuple(notes),
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
            if cc is None and knowledge is not None and (model := knowledge.gpu_by_name(gpu.name)):
                cc = model.cc
            gpus.append(GpuTarget(name=gpu.name, cc=cc))
    elif known(host.pci_gpus) and host.pci_gpus:
        for dev in host.pci_gpus:
            gpus.append(GpuTarget(name=f"NVIDIA GPU at PCI {dev.address} (device {dev.device_id})", cc=None))
        notes.append("the NVIDIA driver is not loaded: GPU models and the driver version are unknown")
    if driver is None and gpus:
        notes.append("driver version unknown: the plan states the driver it needs")
    return Target(
        os=osname,
        arch=archname,
        python=python,
        driver=driver,
        gpus=tuple(gpus),
        origin="this machine" if facts.origin == "this machine" else facts.origin,
        notes=tuple(notes),
    )


def with_overrides(target: Target, *, python: str | None = None, driver: str | None = None) -> Target:
    from dataclasses import replace

    changes = {}
    if python:
        changes["python"] = parse_python(python)
    if driver:
        changes["driver"] = parse_driver(driver)
    return replace(target, **changes) if changes else target
