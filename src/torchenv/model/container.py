"""Container facts: which runtime started this process, what GPU access was asked for, and what arrived.

Gathered once by `probes/container.py` from files the runtimes write (`/.dockerenv`, `/run/.containerenv`,
`/.singularity.d`, `/proc/1/cgroup`, `/proc/self/mountinfo`), the variables the NVIDIA Container Toolkit
reads (`NVIDIA_VISIBLE_DEVICES`, `NVIDIA_DRIVER_CAPABILITIES`, `NVIDIA_REQUIRE_CUDA`), CDI specs, the
driver files the toolkit mounts and the cgroup limits. The checks in `checks/container.py` are pure
functions of these values; the device nodes themselves are `HostFacts.dev_nodes` (one list, read once).
"""

from __future__ import annotations

from dataclasses import dataclass

from .facts import Unknown

NOT_READ = Unknown("not read")  # the default of facts a producer did not fill in


@dataclass(frozen=True, slots=True)
class CdiSpec:
    """A Container Device Interface spec (`/etc/cdi/*.yaml|json`, `/var/run/cdi/*`), as `nvidia-ctk cdi generate` writes it."""

    path: str
    kind: str  # "nvidia.com/gpu"
    devices: tuple[str, ...]  # the names a runtime can ask for: "0", "GPU-<uuid>", "all"
    driver_version: str | None  # the driver the spec was generated for (its libcuda.so.<version> mount)


@dataclass(frozen=True, slots=True)
class DriverFile:
    """A user-space driver file the NVIDIA Container Toolkit (or apptainer --nv) puts into a container."""

    name: str  # "libcuda.so.1", "libnvidia-ml.so.1", "nvidia-smi"
    path: str
    version: str | None  # from the file it names: libcuda.so.580.159.04 -> "580.159.04"
    mounted: bool  # bind-mounted from the host (seen in /proc/self/mountinfo), not part of the image


@dataclass(frozen=True, slots=True)
class CgroupLimits:
    """The limits of this process's cgroup (the tightest along its path), as the kernel enforces them."""

    version: int  # 1 or 2
    memory_max_bytes: int | None  # None: no limit
    cpu_quota: float | None  # CPUs the CFS quota allows (quota / period); None: no quota
    cpuset_cpus: int | None  # CPUs in the cpuset; None: not readable
    source: str  # the files that answered


@dataclass(frozen=True, slots=True)
class ContainerFacts:
    # The engine that started the process: "docker", "podman", "containerd", "cri-o", "apptainer",
    # "singularity", "lxc", "container" (a container whose engine did not say), or None (not in one).
    runtime: str | None
    evidence: tuple[str, ...]  # what said so, in the order read: "/.dockerenv", "KUBERNETES_SERVICE_HOST", ...
    orchestrator: str | None = None  # "kubernetes"
    engine: str | None = None  # podman's engine="podman-5.2.2" from /run/.containerenv (privileged containers)
    wsl: bool = False  # Docker Desktop's WSL 2 backend: the kernel is Microsoft's
    platform: str | None = None  # hosted notebooks with their own GPU switch: "colab", "kaggle"
    # What was asked for (variables as set; None: unset).
    visible_devices: str | None = None  # NVIDIA_VISIBLE_DEVICES
    driver_capabilities: str | None = None  # NVIDIA_DRIVER_CAPABILITIES
    cuda_version: str | None = None  # the image's CUDA_VERSION
    require_cuda: str | None = None  # NVIDIA_REQUIRE_CUDA
    disable_require: bool = False  # NVIDIA_DISABLE_REQUIRE: the toolkit's CUDA/driver check is off
    # The k8s device plugin's volume-mounts list (/var/run/nvidia-container-devices).
    requested_devices: tuple[str, ...] = ()
    cdi_specs: tuple[CdiSpec, ...] | Unknown = NOT_READ
    # What arrived.
    driver_files: tuple[DriverFile, ...] = ()
    proc_driver: str = "absent"  # "injected": the toolkit's tmpfs; "host": the host's shows through; "absent"
    proc_gpus: tuple[str, ...] = ()  # PCI bus ids under /proc/driver/nvidia/gpus
    compat_libcuda: str | None = None  # CUDA forward compatibility (cuda-compat-*): its libcuda version
    cgroup: CgroupLimits | Unknown = NOT_READ
    mounts_read: bool = False  # /proc/self/mountinfo was readable

    @property
    def in_container(self) -> bool:
        return self.runtime is not None

    def driver_file(self, name: str) -> DriverFile | None:
        return next((f for f in self.driver_files if f.name == name), None)


__all__ = ["CdiSpec", "CgroupLimits", "ContainerFacts", "DriverFile"]
