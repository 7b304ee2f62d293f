"""Checks of the container around torch (pure): was a GPU asked for, did the runtime deliver it, with the
driver pieces CUDA needs, does the image's CUDA fit the host's driver, and do the cgroup limits fit what
DataLoader and torch's thread pools assume. Every fix is the one for the runtime that started this
container (docker and compose, podman, Kubernetes, apptainer, nerdctl, LXD, Colab, Kaggle).

Facts come from `probes/container.py` (`Facts.container`). JSON written before that probe existed, and
pasted reports, have no container facts: the passthrough check then falls back to what `HostFacts` and
the environment variables say, as it did before; the others are skipped.
"""

from __future__ import annotations

import math

from ..compat.driver import MINOR_COMPAT, TOO_OLD, driver_support
from ..model import Facts, Finding, Severity, known
from ..model.container import ContainerFacts
from .common import CONTAINER_GPU_HINTS, listed_gpus
from .registry import Skip, check

TOOLKIT_INSTALL = (
    "the host needs the NVIDIA Container Toolkit: `sudo apt-get install -y nvidia-container-toolkit && "
    "sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker`"
)
COMPOSE_GPUS = "deploy: {resources: {reservations: {devices: [{driver: nvidia, count: all, capabilities: [gpu]}]}}}"
# Images set NVIDIA_VISIBLE_DEVICES=all themselves (nvidia/cuda, pytorch/pytorch); a list of device ids
# is what `--gpus device=...`, a scheduler or the k8s device plugin writes.
NO_DEVICES = ("void", "", "none")


# --- what the facts say ----------------------------------------------------------------------------


def container_facts(facts: Facts) -> ContainerFacts | None:
    """The container probe's facts; for older JSON, the little HostFacts knew (runtime name only)."""
    if known(facts.container):
        return facts.container
    label = facts.host.container if known(facts.host.container) else None
    if not label:
        return None
    return ContainerFacts(
        runtime="container" if label == "kubernetes" else label,
        evidence=(f"HostFacts.container={label}",),
        orchestrator="kubernetes" if label == "kubernetes" else None,
        visible_devices=facts.environment.get("NVIDIA_VISIBLE_DEVICES"),
        driver_capabilities=facts.environment.get("NVIDIA_DRIVER_CAPABILITIES"),
        cuda_version=facts.environment.get("CUDA_VERSION"),
    )


def gpu_nodes(facts: Facts) -> tuple[str, ...]:
    """The GPU device nodes that arrived: /dev/nvidia<N> (and WSL's /dev/dxg)."""
    return tuple(
        n
        for n in facts.host.dev_nodes
        if n == "/dev/dxg" or (n.startswith("/dev/nvidia") and n[len("/dev/nvidia") :].isdigit())
    )


def requested_devices(container: ContainerFacts) -> tuple[str, ...]:
    """Specific GPUs someone asked for (not an image's default `all`)."""
    if container.requested_devices:
        return container.requested_devices
    value = (container.visible_devices or "").strip()
    if value.lower() in (*NO_DEVICES, "all") or value.startswith("/"):
        return ()
    return tuple(v.strip() for v in value.split(",") if v.strip())


def capabilities(container: ContainerFacts) -> set[str] | None:
    """NVIDIA_DRIVER_CAPABILITIES as a set; None when unset or empty (the toolkit's default: utility,compute)."""
    value = (container.driver_capabilities or "").strip()
    if not value:
        return None
    caps = {c.strip().lower() for c in value.split(",") if c.strip()}
    return {"compute", "compat32", "graphics", "utility", "video", "display"} if "all" in caps else caps


def host_gpu_evidence(facts: Facts, container: ContainerFacts) -> list[str]:
    """Signs that the machine under the container has an NVIDIA GPU and driver."""
    evidence = []
    if known(facts.host.pci_gpus) and facts.host.pci_gpus:
        bound = ", ".join(f"{d.address} ({d.driver or 'no driver'})" for d in facts.host.pci_gpus)
        evidence.append(f"the host's PCI bus shows NVIDIA GPU(s) through /sys: {bound}")
    if container.proc_driver == "host":
        driver = f" {facts.driver.version}" if known(facts.driver.version) else ""
        evidence.append(f"the host's NVIDIA driver{driver} shows through /proc/driver/nvidia")
    return evidence


def torch_wants_cuda(facts: Facts) -> bool:
    torch = facts.torch
    return known(torch) and known(torch.cuda) and bool(torch.cuda)


def gpu_start_fix(container: ContainerFacts) -> str:
    """How to start this container again with the GPUs, for the runtime that started it."""
    if container.platform == "colab":
        return (
            "Colab: Runtime → Change runtime type → Hardware accelerator: a GPU (T4, L4, A100), then Save; the "
            "notebook restarts on a GPU machine (files outside Drive are lost)."
        )
    if container.platform == "kaggle":
        return (
            "Kaggle: in the notebook's Settings → Accelerator, choose GPU T4 x2 or GPU P100 (the account must be "
            "phone-verified); the session restarts with the GPU."
        )
    runtime = container.runtime
    if runtime in ("apptainer", "singularity"):
        return (
            f"Run it with `--nv`: `{runtime} exec --nv IMAGE.sif python ...` (or `--nvccli` to let the NVIDIA "
            "Container Toolkit set it up); `--nv` binds the host's libcuda and nvidia-smi into /.singularity.d/libs."
        )
    if container.orchestrator == "kubernetes":
        return (
            "Request the GPU in the pod spec, on this container: `resources: {limits: {nvidia.com/gpu: 1}}` (the "
            "NVIDIA device plugin or GPU Operator must run on the node; clusters without the nvidia runtime as "
            "containerd's default also need `runtimeClassName: nvidia`)."
        )
    if runtime == "podman":
        return (
            "`podman run --device nvidia.com/gpu=all ...` (CDI; the host needs a spec: "
            "`sudo nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml`, listed by `nvidia-ctk cdi list`)."
        )
    if runtime == "docker" and container.wsl:
        return (
            "Docker Desktop (WSL 2 backend): `docker run --gpus all ...`; the GPU comes from the Windows NVIDIA "
            "driver (nothing to install inside WSL); in compose: " + COMPOSE_GPUS + "."
        )
    if runtime == "docker":
        return f"`docker run --gpus all ...`; in compose: `{COMPOSE_GPUS}`; {TOOLKIT_INSTALL}."
    if runtime == "containerd":
        return "`nerdctl run --gpus all ...` (the host needs the NVIDIA Container Toolkit)."
    if runtime == "lxc":
        return "`lxc config device add NAME gpu gpu && lxc config set NAME nvidia.runtime=true`, then restart it."
    return (
        "Start the container with the GPU passed through: `docker run --gpus all ...` (compose: "
        f"`{COMPOSE_GPUS}`), `podman run --device nvidia.com/gpu=all ...`, or on Kubernetes "
        f"`resources: {{limits: {{nvidia.com/gpu: 1}}}}`; {TOOLKIT_INSTALL}."
    )


def runtime_words(container: ContainerFacts) -> str:
    if container.platform:
        return {"colab": "Colab", "kaggle": "Kaggle"}[container.platform] + " notebook"
    name = container.runtime if container.runtime != "container" else ""
    if container.orchestrator:
        name = f"Kubernetes ({name})" if name else "Kubernetes"
    return f"{name} container" if name else "container"


# --- checks ----------------------------------------------------------------------------------------


@check("container-without-gpu-passthrough")
def check_container_passthrough(facts: Facts, knowledge):
    container = container_facts(facts)
    if container is None or not container.in_container:
        raise Skip("not in a container")
    apptainer = container.runtime in ("apptainer", "singularity")
    if apptainer:
        # apptainer binds the host's /dev, so the device nodes are there either way; --nv brings libcuda.
        if container.driver_file("libcuda.so.1") or listed_gpus(facts) or not known(facts.container):
            return
        if not gpu_nodes(facts) and not host_gpu_evidence(facts, container):
            return
    elif gpu_nodes(facts) or listed_gpus(facts) or (known(facts.container) and requested_devices(container)):
        return  # delivered, or asked for and not delivered (container-gpu-not-injected says why)
    hints = tuple(
        k
        for k in CONTAINER_GPU_HINTS
        if k in facts.environment and not (k == "NVIDIA_VISIBLE_DEVICES" and facts.environment[k] in NO_DEVICES)
    )
    host = host_gpu_evidence(facts, container)
    # A CUDA build of torch hints at a GPU only where the host's PCI bus cannot be seen: a readable bus
    # with no NVIDIA GPU on it means there is none to pass through.
    wants = torch_wants_cuda(facts) and not known(facts.host.pci_gpus)
    if not (hints or host or wants or container.platform):
        return  # a CPU container that never asked for a GPU: no-nvidia-gpu covers it
    # A hosted notebook on a CPU runtime is a choice, not a fault, unless something else expected a GPU.
    severity = Severity.ERROR if hints or host or wants else Severity.WARNING
    evidence = [f"{k}={facts.environment[k]}" for k in hints]
    if apptainer:
        evidence.append("no libcuda.so.1 in /.singularity.d/libs or the image's library folders (no --nv)")
    else:
        evidence.append("no /dev/nvidia* device nodes inside the container")
    evidence += host
    if wants:
        evidence.append(f"torch {facts.torch.version} is a CUDA {facts.torch.cuda} build")
    if container.platform:
        evidence.append(f"a {runtime_words(container)} without a GPU accelerator")
    where = runtime_words(container)
    yield Finding(
        id="container-without-gpu-passthrough",
        category="gpu-hidden",
        severity=severity,  # Severity.ERROR, or Severity.WARNING on a CPU runtime of Colab/Kaggle
        layer="hardware",
        title=f"This {where} was started without the GPU"
        + (f" ({container.evidence[0]})" if known(facts.container) and container.evidence else ""),
        evidence=tuple(evidence),
        explanation="A container sees a GPU only when its runtime passes the device nodes and the driver's "
        "libraries in (the NVIDIA Container Toolkit, CDI, or apptainer's --nv). Without that, nvidia-smi may even "
        "be in the image, but torch.cuda.is_available() is False."
        + (" The host has the GPU and its driver: only the passthrough is missing." if host else ""),
        fix=gpu_start_fix(container),
    )


def _inject_fix(container: ContainerFacts) -> str:
    if container.orchestrator == "kubernetes":
        return (
            "The node's container runtime must run the NVIDIA hook: set `runtimeClassName: nvidia` in the pod spec "
            "(the GPU Operator creates it), or make nvidia the default runtime (`sudo nvidia-ctk runtime configure "
            "--runtime=containerd --set-as-default && sudo systemctl restart containerd`); with the device plugin's "
            "CDI strategy, regenerate the node's spec (`sudo nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml`)."
        )
    if container.runtime == "podman":
        return (
            "Regenerate the host's CDI spec (`sudo nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml`) and start "
            "with `podman run --device nvidia.com/gpu=all ...`, not by setting NVIDIA_VISIBLE_DEVICES."
        )
    return (
        "Pass the GPU through the toolkit, not by hand: `docker run --gpus all ...` (or `--runtime=nvidia` when "
        f"setting NVIDIA_VISIBLE_DEVICES yourself) instead of `--device /dev/nvidia0`; {TOOLKIT_INSTALL}."
    )


@check("container-gpu-not-injected")
def check_gpu_not_injected(facts: Facts, knowledge):
    if not known(facts.container):
        raise Skip(f"container facts were not probed: {facts.container.reason}")
    container = facts.container
    if not container.in_container:
        raise Skip("not in a container")
    if container.runtime in ("apptainer", "singularity"):
        raise Skip("apptainer brings the GPU with --nv (container-without-gpu-passthrough)")
    wanted = requested_devices(container)
    nodes = gpu_nodes(facts)
    caps = capabilities(container)
    evidence: list[str] = []
    if wanted and not nodes and not listed_gpus(facts):
        evidence = [
            f"NVIDIA_VISIBLE_DEVICES={container.visible_devices}"
            + (f" (the device plugin's list: {', '.join(wanted)})" if container.requested_devices else ""),
            "no /dev/nvidia* device nodes inside the container",
        ]
        what = "GPUs were requested but the NVIDIA Container Toolkit did not inject them"
    elif nodes and not container.driver_file("libcuda.so.1") and (caps is None or "compute" in caps):
        evidence = [
            f"device nodes are here: {', '.join(nodes)}",
            "no libcuda.so.1 in the container's library folders (/usr/lib/x86_64-linux-gnu, /usr/lib64, ...)",
        ]
        if container.mounts_read and not any(f.mounted for f in container.driver_files):
            evidence.append("/proc/self/mountinfo shows no driver library mounted from the host")
        what = "The GPU device nodes arrived without the driver's libcuda"
    else:
        return
    yield Finding(
        id="container-gpu-not-injected",
        category="gpu-hidden",
        severity=Severity.ERROR,
        layer="hardware",
        title=f"{what} ({runtime_words(container)})",
        evidence=tuple(evidence),
        explanation="The NVIDIA Container Toolkit (its runtime hook or a CDI spec) is what mounts the device nodes, "
        "libcuda.so.1, libnvidia-ml.so.1 and nvidia-smi into a container. A device list in NVIDIA_VISIBLE_DEVICES "
        "with no nodes means the runtime that started the container never ran the hook; nodes without libcuda "
        "mean they were passed by hand (`--device`) or from a stale CDI spec. CUDA then fails with 'no CUDA-capable "
        "device' or 'libcuda.so.1: cannot open shared object file'.",
        fix=_inject_fix(container),
    )


def _capability_fix(container: ContainerFacts) -> str:
    wanted = "compute,utility"
    if container.orchestrator == "kubernetes":
        return f'Set it in the container spec: `env: [{{name: NVIDIA_DRIVER_CAPABILITIES, value: "{wanted}"}}]`.'
    if container.runtime == "podman":
        return f"`podman run --device nvidia.com/gpu=all -e NVIDIA_DRIVER_CAPABILITIES={wanted} ...`."
    return (
        f"`docker run --gpus 'all,\"capabilities={wanted}\"' ...` (or `-e NVIDIA_DRIVER_CAPABILITIES={wanted}`; "
        "compose: `capabilities: [gpu, compute, utility]`); in your own image, "
        f"`ENV NVIDIA_DRIVER_CAPABILITIES={wanted}`."
    )


@check("container-driver-capability")
def check_driver_capabilities(facts: Facts, knowledge):
    if not known(facts.container):
        raise Skip(f"container facts were not probed: {facts.container.reason}")
    container = facts.container
    if not container.in_container or container.runtime in ("apptainer", "singularity"):
        raise Skip("not in a container the NVIDIA Container Toolkit sets up")
    caps = capabilities(container)
    if caps is None:
        raise Skip("NVIDIA_DRIVER_CAPABILITIES is unset: the toolkit's default, utility,compute")
    if not gpu_nodes(facts):
        return  # no GPU arrived at all: container-without-gpu-passthrough or container-gpu-not-injected
    missing = []
    if "compute" not in caps and not container.driver_file("libcuda.so.1"):
        missing.append(("compute", "libcuda.so.1 (CUDA cannot start)"))
    if "utility" not in caps and not container.driver_file("nvidia-smi"):
        missing.append(("utility", "nvidia-smi and libnvidia-ml.so.1 (NVML: no GPU listing, no monitoring)"))
    if not missing:
        return
    compute = any(cap == "compute" for cap, _ in missing)
    yield Finding(
        id="container-driver-capability-missing",
        category="gpu-hidden",
        severity=Severity.ERROR if compute else Severity.WARNING,
        layer="driver",
        title="NVIDIA_DRIVER_CAPABILITIES leaves out "
        + " and ".join(f"'{cap}'" for cap, _ in missing)
        + (": torch cannot use the GPU" if compute else ": no nvidia-smi or NVML inside"),
        evidence=(
            f"NVIDIA_DRIVER_CAPABILITIES={container.driver_capabilities}",
            *(f"without '{cap}' the toolkit does not mount {what}" for cap, what in missing),
        ),
        explanation="The NVIDIA Container Toolkit mounts only the driver pieces the capabilities name: 'compute' "
        "brings libcuda (CUDA, OpenCL), 'utility' brings nvidia-smi and NVML. The device nodes arrive either way, "
        "so the GPU looks present but cannot be used.",
        fix=_capability_fix(container),
    )


@check("container-cuda-driver")
def check_image_cuda(facts: Facts, knowledge):
    if not known(facts.container):
        raise Skip(f"container facts were not probed: {facts.container.reason}")
    container = facts.container
    if not container.in_container or not container.cuda_version:
        raise Skip("not a CUDA image (no CUDA_VERSION)")
    if not known(facts.driver.version):
        raise Skip("the host's driver version is unknown")
    support = driver_support(
        knowledge, container.cuda_version, facts.driver.version, os=facts.host.os, wsl=facts.host.wsl is True
    )
    if support.level != TOO_OLD:
        if support.level == MINOR_COMPAT or support.runs:
            return
        raise Skip(support.reason)
    evidence = [
        f"the image's CUDA_VERSION={container.cuda_version}",
        f"host driver {facts.driver.version} ({facts.driver.source})",
        support.reason,
    ]
    if container.compat_libcuda:
        evidence.append(
            f"the image has CUDA forward compatibility (libcuda {container.compat_libcuda} in /usr/local/cuda/compat): "
            "it works on data-center GPUs only"
        )
    if container.disable_require:
        evidence.append("NVIDIA_DISABLE_REQUIRE is set, so the toolkit did not refuse to start it")
    yield Finding(
        id="container-cuda-newer-than-driver",
        category="driver-too-old",
        severity=Severity.WARNING,
        layer="cuda",
        title=f"The image's CUDA {container.cuda_version} is newer than the host driver {facts.driver.version} supports",
        evidence=tuple(evidence),
        explanation="The CUDA toolkit in the image (nvcc, the system libcudart, anything built against it) needs "
        f"a host driver {support.floor_text}; the driver comes from the host, not the image. torch's own CUDA is "
        "judged separately (driver-too-old): pip wheels bring their runtime. Code using the image's CUDA fails with "
        "'CUDA driver version is insufficient for CUDA runtime version'.",
        fix=f"Use an image whose CUDA this driver runs (`torchenv plan --format dockerfile` picks one), or upgrade "
        f"the host driver to >= {support.needed}; on data-center GPUs the forward-compatibility package "
        f"(`apt-get install cuda-compat-{'-'.join(container.cuda_version.split('.')[:2])}`) also works.",
    )


MIN_SPARE_CPUS = 1  # a quota this far below os.cpu_count() is the case DataLoader and OpenMP get wrong


@check("container-cgroup-limits")
def check_cgroup_limits(facts: Facts, knowledge):
    if not known(facts.container):
        raise Skip(f"container facts were not probed: {facts.container.reason}")
    limits = facts.container.cgroup
    if not known(limits):
        raise Skip(limits.reason)
    cpus = facts.host.cpu_count if known(facts.host.cpu_count) else None
    allowed = [v for v in (limits.cpu_quota, limits.cpuset_cpus) if v is not None]
    usable = min(allowed) if allowed else None
    evidence: list[str] = []
    workers = None
    if usable is not None and cpus is not None and usable <= cpus - MIN_SPARE_CPUS:
        workers = max(1, math.floor(usable))
        if limits.cpu_quota is not None:
            evidence.append(f"CPU quota: {limits.cpu_quota:g} CPUs ({limits.source})")
        if limits.cpuset_cpus is not None and limits.cpuset_cpus < cpus:
            evidence.append(f"cpuset: {limits.cpuset_cpus} CPUs")
        evidence.append(f"os.cpu_count() = {cpus}: what num_workers recipes and OpenMP's thread count start from")
    shm = facts.host.shm_bytes if known(facts.host.shm_bytes) else None
    memory = limits.memory_max_bytes
    if memory is not None and shm is not None and shm > memory:
        evidence.append(
            f"memory limit {memory / (1 << 30):.1f} GiB is below /dev/shm ({shm / (1 << 30):.1f} GiB): batches in "
            "shared memory count against it"
        )
    if not evidence:
        return
    where = runtime_words(facts.container) if facts.container.in_container else "this cgroup"
    fixes = []
    if workers is not None:
        fixes.append(
            f"size the work to the quota: `DataLoader(..., num_workers={max(1, workers - 1)})`, "
            f"`torch.set_num_threads({workers})` (or `OMP_NUM_THREADS={workers}`)"
        )
    if facts.container.orchestrator == "kubernetes":
        fixes.append("or raise `resources.limits.cpu`/`memory` in the pod spec")
    elif facts.container.in_container:
        fixes.append("or start the container with more: `docker run --cpus N --memory SIZE ...`")
    yield Finding(
        id="container-cgroup-limits",
        category="data-loading",
        severity=Severity.WARNING,
        layer="environment",
        title=f"The {where}'s cgroup limits are below what DataLoader and torch's threads assume",
        evidence=tuple(evidence),
        explanation="os.cpu_count() reports the machine's CPUs, not the cgroup's quota or cpuset, so "
        "`num_workers=os.cpu_count()` and torch's intra-op thread pool start far more workers than the quota runs: "
        "they are throttled and data loading slows instead of speeding up. Shared-memory batches count against the "
        "memory limit, and a worker over it is killed ('DataLoader worker ... is killed by signal: Killed').",
        fix="; ".join(fixes) + ".",
    )


@check("cdi-spec")
def check_cdi_spec(facts: Facts, knowledge):
    if not known(facts.container) or not known(facts.container.cdi_specs):
        raise Skip("no CDI specs were read")
    specs = [s for s in facts.container.cdi_specs if s.kind == "nvidia.com/gpu" and s.driver_version]
    if not specs:
        raise Skip("no NVIDIA CDI spec")
    if not known(facts.driver.version):
        raise Skip("the loaded driver's version is unknown")
    stale = [s for s in specs if s.driver_version != facts.driver.version]
    for spec in stale:
        yield Finding(
            id="cdi-spec-stale",
            category="gpu-hidden",
            severity=Severity.WARNING,
            layer="driver",
            title=f"The CDI spec {spec.path} was generated for driver {spec.driver_version}, not the loaded "
            f"{facts.driver.version}",
            evidence=(
                f"{spec.path}: kind {spec.kind}, devices {', '.join(spec.devices) or 'none'}, mounts "
                f"libcuda.so.{spec.driver_version}",
                f"loaded driver {facts.driver.version} ({facts.driver.source})",
            ),
            explanation="A CDI spec lists the exact driver files to mount. After a driver upgrade they no longer "
            "exist, and `podman run --device nvidia.com/gpu=all` (or docker/containerd with CDI) fails to start the "
            "container, or starts it with the old library names missing.",
            fix=f"Regenerate it: `sudo nvidia-ctk cdi generate --output={spec.path}` (toolkit 1.18+ can do this at "
            "boot and on driver changes: `sudo systemctl enable --now nvidia-cdi-refresh.path`).",
        )


__all__ = ["container_facts", "gpu_start_fix", "requested_devices"]
