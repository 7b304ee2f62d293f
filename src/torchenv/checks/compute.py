"""Checks of the top layer: does real work run right, and is the GPU in a state to run it fast."""

from __future__ import annotations

from ..model import Facts, Finding, Severity, known
from .common import listed_gpus, require_torch
from .registry import Skip, check

SLOW_CUDA_INIT_SECONDS = 10.0
OTHERS_MEMORY_SHARE = 0.5


@check("smoke-test")
def check_smoke(facts: Facts, knowledge):
    torch = require_torch(facts)
    if not known(torch.smoke):
        raise Skip(torch.smoke.reason)
    for result in torch.smoke:
        name = next((d.name for d in torch.devices if d.index == result.device), f"GPU {result.device}")
        if result.error:
            yield Finding(
                id="smoke-test-failed",
                category="compute-failure",
                severity=Severity.ERROR,
                layer="compute" if result.op == "matmul" else "cudnn",
                title=f"A {result.op} on cuda:{result.device} ({name}) raised an error",
                evidence=(result.error.splitlines()[0][:500],),
                explanation="torch sees the GPU but real work on it fails. The error names the cause: "
                "'no kernel image' (architecture), CUBLAS_/CUDNN_STATUS_* (libraries), or an illegal access "
                "(hardware or driver).",
                fix=f'Run `torchenv explain "{result.error.splitlines()[0][:120]}"` for the cause and fix.',
            )
        elif not result.ok:
            error = result.rel_error if known(result.rel_error) else float("nan")
            yield Finding(
                id="smoke-test-wrong-result",
                category="compute-failure",
                severity=Severity.ERROR,
                layer="compute" if result.op == "matmul" else "cudnn",
                title=f"A {result.op} on cuda:{result.device} ({name}) gave a wrong result",
                evidence=(f"relative error against a float64 CPU reference: {error:.3g} (limit 1e-3)",),
                explanation="Silent wrong results: faulty GPU memory, overclocking, a broken library, or a driver bug.",
                fix="Check `nvidia-smi -q -d ECC,PAGE_RETIREMENT` and `sudo dmesg | grep -i xid`; reset clocks "
                "(`sudo nvidia-smi -rgc -rmc`); rerun the doctor. If it persists on one GPU, report it to its vendor.",
            )


@check("gpu-memory-held-by-others")
def check_memory_held(facts: Facts, knowledge):
    gpus = listed_gpus(facts)
    if not gpus:
        raise Skip("no GPU inventory")
    for gpu in gpus:
        if not known(gpu.memory_total_mib) or not known(gpu.memory_used_mib) or not gpu.memory_total_mib:
            continue
        share = gpu.memory_used_mib / gpu.memory_total_mib
        if share < OTHERS_MEMORY_SHARE:
            continue
        processes = gpu.compute_processes if known(gpu.compute_processes) else "some"
        yield Finding(
            id="gpu-memory-held-by-others",
            category="out-of-memory",
            severity=Severity.WARNING,
            layer="compute",
            title=f"GPU {gpu.index} ({gpu.name}): {share:.0%} of its memory is already in use",
            evidence=(f"{gpu.memory_used_mib} of {gpu.memory_total_mib} MiB used by {processes} other process(es)",),
            explanation="Memory held by other processes (another job, a forgotten notebook kernel, a zombie "
            "process) is not available to yours: expect 'CUDA out of memory' well below the card's size.",
            fix="See who holds it: `nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv`; "
            "stop what you don't need, or pick another GPU with CUDA_VISIBLE_DEVICES.",
        )


@check("pcie-link")
def check_pcie(facts: Facts, knowledge):
    gpus = listed_gpus(facts)
    if not gpus:
        raise Skip("no GPU inventory")
    for gpu in gpus:
        width_known = known(gpu.pcie_width_current) and known(gpu.pcie_width_max) and gpu.pcie_width_max
        gen_known = known(gpu.pcie_gen_current) and known(gpu.pcie_gen_max) and gpu.pcie_gen_max
        if width_known and gpu.pcie_width_current < gpu.pcie_width_max:
            # An idle GPU may narrow its link to save power; a busy one should not.
            busy = known(gpu.utilization_percent) and gpu.utilization_percent > 0
            yield Finding(
                id="pcie-link-degraded",
                category="performance",
                severity=Severity.WARNING if busy else Severity.INFO,
                layer="hardware",
                title=f"GPU {gpu.index} ({gpu.name}) runs its PCIe link at x{gpu.pcie_width_current} of x{gpu.pcie_width_max}",
                evidence=(f"PCIe width x{gpu.pcie_width_current} (max x{gpu.pcie_width_max})",),
                explanation="Fewer lanes cut host<->GPU bandwidth (data loading, pinned copies) in proportion. "
                "Causes: a slot wired for fewer lanes, a riser, a badly seated card, or a BIOS setting.",
                fix="Move the card to a full x16 slot or reseat it; check the BIOS PCIe settings. "
                "`torchenv bench` measures the copy bandwidth you get.",
            )
        elif gen_known and gpu.pcie_gen_current < gpu.pcie_gen_max:
            yield Finding(
                id="pcie-link-below-max-generation",
                category="performance",
                severity=Severity.INFO,
                layer="hardware",
                title=f"GPU {gpu.index} ({gpu.name}) PCIe link at Gen{gpu.pcie_gen_current} of Gen{gpu.pcie_gen_max}",
                evidence=(f"PCIe generation {gpu.pcie_gen_current} (max {gpu.pcie_gen_max}), read while idle",),
                explanation="Idle GPUs lower their link generation to save power, so this is normal at rest. "
                "If it stays low under load, the slot or platform limits the link.",
                fix="Check under load: `nvidia-smi --query-gpu=pcie.link.gen.current --format=csv -l 1` while training.",
            )


@check("persistence-mode")
def check_persistence(facts: Facts, knowledge):
    if facts.host.os != "linux":
        raise Skip("persistence mode is a Linux setting")
    gpus = [g for g in listed_gpus(facts) if g.persistence_mode is False]
    if not gpus:
        return
    yield Finding(
        id="persistence-mode-off",
        category="performance",
        severity=Severity.INFO,
        layer="driver",
        title="Persistence mode is off: each new CUDA process pays the driver's start-up cost",
        evidence=tuple(f"GPU {g.index} {g.name}: persistence mode off" for g in gpus),
        explanation="Without a persistence daemon the driver tears the GPU state down when the last process "
        "exits; the next CUDA init takes seconds longer. Harmless on desktops.",
        fix="`sudo systemctl enable --now nvidia-persistenced` (or `sudo nvidia-smi -pm 1`).",
    )


@check("ecc-errors")
def check_ecc(facts: Facts, knowledge):
    gpus = [g for g in listed_gpus(facts) if known(g.ecc_uncorrected_errors) and g.ecc_uncorrected_errors > 0]
    if not gpus:
        return
    yield Finding(
        id="ecc-uncorrected-errors",
        category="compute-failure",
        severity=Severity.WARNING,
        layer="hardware",
        title="Uncorrectable ECC memory errors since the last driver load",
        evidence=tuple(f"GPU {g.index} {g.name}: {g.ecc_uncorrected_errors} uncorrectable errors" for g in gpus),
        explanation="Uncorrectable errors kill the process that hit them ('uncorrectable ECC error encountered') "
        "and may mean failing memory.",
        fix="Check `nvidia-smi -q -d ECC,PAGE_RETIREMENT,ROW_REMAPPER`; a GPU reset or reboot retires/remaps the "
        "rows; repeated errors: contact your vendor.",
    )


@check("slow-cuda-init")
def check_cuda_init(facts: Facts, knowledge):
    torch = require_torch(facts)
    if not known(torch.cuda_init_seconds):
        raise Skip("CUDA was not initialised")
    if torch.cuda_init_seconds < SLOW_CUDA_INIT_SECONDS:
        return
    yield Finding(
        id="slow-cuda-init",
        category="performance",
        severity=Severity.INFO,
        layer="cuda",
        title=f"CUDA took {torch.cuda_init_seconds:.1f} s to initialise",
        evidence=(f"first CUDA call: {torch.cuda_init_seconds:.1f} s",),
        explanation="Usual causes: persistence mode off, PTX JIT for an architecture without machine code, "
        "or CUDA_MODULE_LOADING=EAGER loading every kernel at start.",
        fix="Enable persistence mode (`sudo nvidia-smi -pm 1`) and leave CUDA_MODULE_LOADING unset (LAZY is the default).",
    )
