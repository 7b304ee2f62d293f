"""Checks of the bottom layers: is there an NVIDIA GPU, a loaded driver, and can CUDA see it."""

from __future__ import annotations

import re

from ..compat.gpu import driver_drives_gpu
from ..model import Facts, Finding, Severity, known
from .common import (
    container_expects_gpu,
    gpu_ccs,
    gpu_present,
    listed_gpus,
)
from .fixes import doctor_plan, gpu_machine_plan, plan_command
from .registry import Skip, check


def _gpu_install_advice(facts: Facts, knowledge) -> str:
    plan = gpu_machine_plan(facts, knowledge)
    command = plan_command(plan, facts, force=False)
    if command is None:
        return "On a machine with an NVIDIA GPU, install a CUDA build of torch (see `torchenv plan --gpu NAME`)."
    needs = f"driver >= {plan.min_driver}" if plan.min_driver else f"a driver for CUDA {plan.cuda}"
    return (
        f"On a machine with an NVIDIA GPU: `{command}` (needs {needs}; `torchenv plan --gpu NAME` for a "
        "specific GPU), then `torchenv doctor` there."
    )


@check("no-nvidia-gpu")
def check_no_gpu(facts: Facts, knowledge):
    present = gpu_present(facts)
    if present is None:
        raise Skip("neither the PCI bus, NVML, nvidia-smi nor /dev could be read")
    if present or facts.host.wsl is True or container_expects_gpu(facts):
        return  # hidden, not missing: container-without-gpu-passthrough or the wsl checks say why
    evidence = []
    if known(facts.host.pci_gpus):
        evidence.append("no NVIDIA display or 3D controller on the PCI bus (/sys/bus/pci/devices)")
    evidence.append("no /dev/nvidia* device nodes" if not facts.host.dev_nodes else "no GPU device nodes")
    if facts.driver.nvml_error:
        evidence.append(f"NVML: {facts.driver.nvml_error}")
    fix = _gpu_install_advice(facts, knowledge)
    if facts.host.container:
        fix = (
            f"If the host has a GPU, start this {facts.host.container} container with `--gpus all` "
            "(NVIDIA Container Toolkit on the host; see container-without-gpu-passthrough). " + fix
        )
    # A warning, not an error: torch still works on the CPU; only GPU acceleration is out of reach.
    yield Finding(
        id="no-nvidia-gpu",
        category="no-gpu",
        severity=Severity.WARNING,
        layer="hardware",
        title="No NVIDIA GPU on this machine: PyTorch can only use the CPU here",
        evidence=tuple(evidence),
        explanation="CUDA needs an NVIDIA GPU that the operating system exposes. None was found, so "
        "torch.cuda.is_available() will be False whatever is installed.",
        fix=fix,
    )


@check("nvidia-driver-not-loaded")
def check_driver_loaded(facts: Facts, knowledge):
    if facts.host.wsl is True:
        raise Skip("WSL uses the Windows driver (see the wsl checks)")
    pci = facts.host.pci_gpus if known(facts.host.pci_gpus) else ()
    if not pci and not listed_gpus(facts):
        raise Skip("no NVIDIA GPU seen")
    if known(facts.driver.version) or listed_gpus(facts):
        return
    if facts.driver.nvml_error and "mismatch" in facts.driver.nvml_error.lower():
        return  # driver-library-mismatch explains it
    bound = sorted({d.driver or "none" for d in pci})
    evidence = [f"PCI {d.address} (device {d.device_id}) bound to kernel driver: {d.driver or 'none'}" for d in pci]
    evidence.append("no /sys/module/nvidia/version and no /proc/driver/nvidia/version")
    if facts.driver.nvml_error:
        evidence.append(f"NVML: {facts.driver.nvml_error}")
    nouveau = "nouveau" in bound
    yield Finding(
        id="nvidia-driver-not-loaded",
        category="no-driver",
        severity=Severity.ERROR,
        layer="driver",
        title="An NVIDIA GPU is installed but the NVIDIA driver is not loaded",
        evidence=tuple(evidence),
        explanation=(
            "The open-source nouveau driver holds the GPU; CUDA needs NVIDIA's driver."
            if nouveau
            else "The GPU is on the PCI bus but no NVIDIA kernel module is loaded, so CUDA cannot reach it."
        ),
        fix="Install NVIDIA's driver (Ubuntu: `sudo ubuntu-drivers install`; others: your distribution's "
        "nvidia-driver package or https://www.nvidia.com/Download/index.aspx), then reboot. If it is installed, "
        "load it with `sudo modprobe nvidia` and check `dmesg | grep -i nvidia` (Secure Boot can block it).",
    )


@check("driver-library-mismatch")
def check_driver_library_mismatch(facts: Facts, knowledge):
    driver = facts.driver
    mismatch = bool(driver.nvml_error and "mismatch" in driver.nvml_error.lower())
    evidence = []
    if mismatch:
        evidence.append(f"NVML: {driver.nvml_error}")
    if known(driver.version) and known(driver.userspace_version) and driver.version != driver.userspace_version:
        mismatch = True
        evidence.append(f"kernel module {driver.version} ({driver.source}) but libnvidia-ml {driver.userspace_version}")
    if not mismatch:
        if not known(driver.version) or not known(driver.userspace_version):
            raise Skip("the kernel module's or NVML's driver version is unknown")
        return
    yield Finding(
        id="driver-library-mismatch",
        category="no-driver",
        severity=Severity.ERROR,
        layer="driver",
        title="NVIDIA driver/library version mismatch: the driver was updated but the old kernel module is still loaded",
        evidence=tuple(evidence),
        explanation="The user-space driver libraries were upgraded (often by unattended upgrades) while the "
        "running kernel still has the previous module loaded. NVML and CUDA refuse to talk across versions.",
        fix="Reboot. Without a reboot: stop everything using the GPU, then "
        "`sudo rmmod nvidia_uvm nvidia_drm nvidia_modeset nvidia && sudo modprobe nvidia`. "
        "To stop it recurring, hold the driver packages (`sudo apt-mark hold 'nvidia-*'`).",
    )


@check("nvidia-smi-unresponsive")
def check_smi_unresponsive(facts: Facts, knowledge):
    messages = [m for m in (facts.driver.nvml_error, facts.driver.smi_error) if m and "did not answer" in m]
    if not messages:
        return
    yield Finding(
        id="nvidia-smi-unresponsive",
        category="no-driver",
        severity=Severity.ERROR,
        layer="driver",
        title="The NVIDIA driver does not answer: NVML or nvidia-smi hung and was killed",
        evidence=tuple(messages),
        explanation="A query that normally takes milliseconds did not return. The GPU or driver is wedged "
        "(an Xid error, a GPU that fell off the bus) or a process is stuck in the driver.",
        fix="Look for Xid errors with `sudo dmesg | grep -i xid`; stop stuck GPU processes "
        "(`sudo fuser -v /dev/nvidia*`); if it persists, reset the GPU (`sudo nvidia-smi -r -i 0`, no processes "
        "may be using it) or reboot.",
    )


def _visible_devices_entries(value: str) -> list[str]:
    return [e.strip() for e in value.split(",")]


def _missing_device(entry: str, gpus) -> str | None:
    """Why a UUID or MIG entry names no device here (None: it does, or the facts cannot tell).

    CUDA takes a GPU UUID or any unique prefix of one (`GPU-8932f937`), and MIG instances as
    `MIG-<uuid>` or `MIG-GPU-<uuid>/<gi>/<ci>`; an entry that matches nothing ends the list."""
    if not gpus or not all(known(g.uuid) and g.uuid for g in gpus):
        return None
    lowered = entry.lower()
    if lowered.startswith("gpu-"):
        matches = [g for g in gpus if g.uuid.lower().startswith(lowered)]
        if not matches:
            return "no GPU here has this UUID"
        if len(matches) > 1:
            return "this UUID prefix matches more than one GPU"
        return None
    if lowered.startswith("mig-gpu-"):
        parent = lowered[len("mig-") :].split("/", 1)[0]
        matches = [g for g in gpus if g.uuid.lower().startswith(parent)]
        if not matches:
            return "no GPU here has the UUID this MIG instance names"
        if all(g.mig_enabled is False for g in matches):
            return "the GPU it names does not have MIG mode enabled"
        return None
    if lowered.startswith("mig-") and all(g.mig_enabled is False for g in gpus):
        return "no GPU here has MIG mode enabled, so no MIG instance exists"
    return None


@check("cuda-visible-devices")
def check_cuda_visible_devices(facts: Facts, knowledge):
    if "CUDA_VISIBLE_DEVICES" not in facts.environment:
        raise Skip("CUDA_VISIBLE_DEVICES is not set")
    value = facts.environment["CUDA_VISIBLE_DEVICES"]
    gpus = listed_gpus(facts)
    count = len(gpus) if gpus else None
    entries = _visible_devices_entries(value)
    valid = re.compile(r"^(\d+|GPU-[0-9a-fA-F-]+|MIG-[\w/-]+)$")
    evidence = [f"CUDA_VISIBLE_DEVICES={value!r}"]
    if count is not None:
        evidence.append(f"{count} GPU(s) on the machine: " + ", ".join(f"{g.index}: {g.name}" for g in gpus))
    # CUDA reads entries left to right and stops at the first one that is invalid or out of range.
    usable = 0
    bad: str | None = None
    missing: str | None = None
    for entry in entries:
        if not valid.match(entry):
            bad = entry
            break
        if entry.isdigit() and count is not None and int(entry) >= count:
            bad = entry
            break
        missing = None if entry.isdigit() else _missing_device(entry, gpus)
        if missing:
            bad = entry
            break
        usable += 1
    if missing and bad is not None:
        uuids = [f"{g.index}: {g.uuid}" for g in gpus]
        mig = [g for g in gpus if g.mig_enabled is True]
        example = ",".join(g.uuid for g in gpus[: max(usable, 1)])
        yield Finding(
            id="cuda-visible-devices-unknown-device",
            category="gpu-hidden",
            severity=Severity.ERROR if usable == 0 else Severity.WARNING,
            layer="cuda",
            title=f"CUDA_VISIBLE_DEVICES names a device that does not exist here ({bad}): "
            + (
                "no GPU is visible to CUDA"
                if usable == 0
                else f"only the {usable} entr{'y' if usable == 1 else 'ies'} before it are"
            ),
            evidence=(
                *evidence,
                f"{bad}: {missing}",
                "GPU UUIDs (NVML): " + ", ".join(uuids),
                *(("MIG mode enabled on: " + ", ".join(str(g.index) for g in mig),) if mig else ()),
            ),
            explanation="CUDA matches each UUID (or unique UUID prefix) and MIG id against the devices the driver "
            "has; one that matches nothing ends the list, so it and every entry after it are dropped. A UUID copied "
            "from another machine, a node the job scheduler did not give you, or a MIG instance that was destroyed "
            "leaves torch.cuda.is_available() False with no word about why.",
            fix=f"Use a UUID this machine has: `export CUDA_VISIBLE_DEVICES={example}` (or an index, e.g. `=0`); "
            "`nvidia-smi -L` lists the GPUs and MIG instances. If a scheduler sets it, ask for the GPUs it assigned.",
        )
        return
    if value.strip() == "" or usable == 0:
        yield Finding(
            id="cuda-visible-devices-hides-all",
            category="gpu-hidden",
            severity=Severity.ERROR,
            layer="cuda",
            title="CUDA_VISIBLE_DEVICES hides every GPU from CUDA",
            evidence=tuple(evidence),
            explanation="CUDA only sees the devices this variable lists, and stops at the first entry that "
            "is empty, invalid or out of range. As set, no GPU is visible to torch.",
            fix="`unset CUDA_VISIBLE_DEVICES`, or list real indices or UUIDs, e.g. `export CUDA_VISIBLE_DEVICES=0` "
            "(`nvidia-smi -L` lists them). Look for where it is set: your shell profile, the job scheduler, "
            "a launcher script, or os.environ in code.",
        )
    elif bad is not None:
        yield Finding(
            id="cuda-visible-devices-malformed",
            category="gpu-hidden",
            severity=Severity.WARNING,
            layer="cuda",
            title=f"CUDA_VISIBLE_DEVICES has an invalid entry {bad!r}: CUDA ignores it and everything after it",
            evidence=tuple(evidence),
            explanation=f"Only the first {usable} entr{'y' if usable == 1 else 'ies'} will be visible.",
            fix="Use comma-separated indices or UUIDs, e.g. `export CUDA_VISIBLE_DEVICES=0,1` (`nvidia-smi -L` lists them).",
        )


@check("wsl")
def check_wsl(facts: Facts, knowledge):
    if facts.host.wsl is not True:
        raise Skip("not WSL")
    if facts.origin != "this machine":
        raise Skip("device nodes and loader paths are only readable on the machine itself")
    if "/dev/dxg" not in facts.host.dev_nodes:
        yield Finding(
            id="wsl-no-gpu-passthrough",
            category="wsl",
            severity=Severity.ERROR,
            layer="driver",
            title="WSL without GPU access: /dev/dxg is missing",
            evidence=("WSL kernel", "no /dev/dxg"),
            explanation="CUDA in WSL 2 reaches the GPU through /dev/dxg, provided by the Windows driver. "
            "It is missing under WSL 1 or with an old Windows driver or WSL kernel.",
            fix="In Windows: install the current NVIDIA driver for Windows (not a Linux driver inside WSL), run "
            "`wsl --update`, make sure the distro is WSL 2 (`wsl --set-version <distro> 2`), then `wsl --shutdown`.",
        )
    libraries = facts.system_libraries if known(facts.system_libraries) else ()
    foreign = [lib for lib in libraries if lib.name == "libcuda" and not lib.path.startswith("/usr/lib/wsl/")]
    if foreign:
        yield Finding(
            id="wsl-linux-driver-installed",
            category="wsl",
            severity=Severity.ERROR,
            layer="driver",
            title="A Linux NVIDIA driver's libcuda is installed inside WSL and shadows the Windows one",
            evidence=tuple(f"{lib.path} (via {lib.via})" for lib in foreign),
            explanation="Under WSL the only working libcuda is the one the Windows driver maps into "
            "/usr/lib/wsl/lib. A libcuda from a Linux driver package breaks CUDA initialisation.",
            fix="Remove the Linux driver inside WSL (`sudo apt-get remove --purge 'nvidia-driver-*' "
            "'libnvidia-compute-*'`), install only the CUDA toolkit 'WSL-Ubuntu' package if you need nvcc, "
            "then `sudo ldconfig`.",
        )
    elif known(facts.system_libraries) and not any(lib.name == "libcuda" for lib in libraries):
        yield Finding(
            id="wsl-libcuda-not-found",
            category="wsl",
            severity=Severity.WARNING,
            layer="driver",
            title="WSL: libcuda is not on the loader path",
            evidence=("no libcuda in ldconfig's cache or on LD_LIBRARY_PATH",),
            explanation="The Windows driver provides libcuda in /usr/lib/wsl/lib; the loader must find it.",
            fix="`echo /usr/lib/wsl/lib | sudo tee /etc/ld.so.conf.d/ld.wsl.conf && sudo ldconfig`",
        )


@check("mig-enabled")
def check_mig(facts: Facts, knowledge):
    gpus = [g for g in listed_gpus(facts) if g.mig_enabled is True]
    if not gpus:
        return
    torch_sees_none = known(facts.torch) and known(facts.torch.device_count) and facts.torch.device_count == 0
    yield Finding(
        id="mig-enabled",
        category="gpu-hidden",
        severity=Severity.WARNING if torch_sees_none else Severity.INFO,
        layer="cuda",
        title="MIG mode is on: CUDA sees MIG instances, not whole GPUs",
        evidence=tuple(f"GPU {g.index} {g.name}: MIG enabled" for g in gpus),
        explanation="With MIG on, a process can only use one MIG instance, and only when one exists and is "
        "selected. A GPU with MIG on and no instances is invisible to CUDA.",
        fix="List instances with `nvidia-smi -L` and select one: `export CUDA_VISIBLE_DEVICES=MIG-<uuid>`; "
        "or, if you own the machine, turn MIG off: `sudo nvidia-smi -i <gpu> -mig 0`.",
    )


@check("driver-gpu-generation")
def check_driver_gpu_generation(facts: Facts, knowledge):
    """A driver branch outside a GPU generation's range does not drive that GPU at all."""
    if not known(facts.driver.version):
        raise Skip("driver version unknown")
    ccs = gpu_ccs(facts, knowledge)
    if not ccs:
        raise Skip("no GPU compute capability known")
    for name, cc in ccs:
        verdict = driver_drives_gpu(knowledge, facts.driver.version, cc)
        if verdict.drives:
            continue
        if verdict.level == "too-old":
            fix = f"Install a driver of the R{verdict.min_branch} branch or newer (the GPU needs it to be seen at all)."
        else:
            fix = (
                f"Install the R{verdict.max_branch} legacy driver branch, the last one that supports {verdict.architecture} "
                f"GPUs, and a torch build whose CUDA it runs (`torchenv plan --gpu {name!r} --driver {verdict.max_branch}`)."
            )
        shared = dict(
            severity=Severity.ERROR,
            layer="driver",
            title=f"Driver {facts.driver.version} does not support {name} ({verdict.architecture})",
            evidence=(
                f"{name}: compute capability {cc[0]}.{cc[1]}, {verdict.architecture}",
                f"driver {facts.driver.version} ({facts.driver.source})",
                f"{verdict.reason} ({verdict.source.split(' ;')[0]})",
            ),
            explanation="Each driver branch supports a range of GPU generations: a branch older than the GPU does "
            "not know it, and NVIDIA moves old generations to legacy branches that newer drivers no longer include. "
            "Outside that range nvidia-smi shows no device (or the module refuses to load) and CUDA sees none.",
            fix=fix,
        )
        if verdict.level == "too-old":
            yield Finding(id="driver-predates-gpu", category="driver-too-old", **shared)
        else:
            yield Finding(id="driver-dropped-gpu", category="gpu-arch-unsupported", **shared)


@check("driver-branch-old")
def check_driver_branch(facts: Facts, knowledge):
    """Info: what a newer driver would unlock (the plan's driver_upgrade, the same answer `torchenv plan` gives)."""
    if not known(facts.driver.version):
        raise Skip("driver version unknown")
    plan = doctor_plan(facts, knowledge)
    upgrade = plan.driver_upgrade
    if not plan.ok or upgrade is None:
        return
    yield Finding(
        id="driver-branch-old",
        category="driver-too-old",
        severity=Severity.INFO,
        layer="driver",
        title=f"Driver {facts.driver.version} limits you to torch {plan.torch}+{plan.variant} (a newer driver: {upgrade.torch}+{upgrade.variant})",
        evidence=(
            f"driver {facts.driver.version}",
            f"the newest build that fits this machine with any driver is torch {upgrade.torch}+{upgrade.variant}, "
            f"which needs driver >= {upgrade.min_driver}",
        ),
        explanation="Newer CUDA variants need newer drivers. The newest build your driver supports is "
        f"torch {plan.torch}+{plan.variant}.",
        fix=f"Upgrading the driver to >= {upgrade.min_driver} gives: {upgrade.gain}.",
    )
