"""Facts: typed, serialisable values that the probes (or a pasted report) gathered once.

Everything downstream (checks, planners, renderers) is a pure function of these values, so the
same checks run on this machine, on another machine's saved JSON and on a parsed report.

A fact that could not be learned is `Unknown(reason)`, never `None` or "N/A": the reason tells
the user what to run to learn it, and a check that needs it is skipped instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Unknown:
    """A fact that was not learned, and why."""

    reason: str

    def __bool__(self) -> bool:  # an unknown fact is never truthy evidence
        return False


def known(value: object) -> bool:
    return not isinstance(value, Unknown)


# --- hardware and operating system ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PciDevice:
    """An NVIDIA display/3D controller seen on the PCI bus, driver or not."""

    address: str
    device_id: str
    driver: str | None  # the kernel driver bound to it, e.g. "nvidia", "nouveau", None


@dataclass(frozen=True, slots=True)
class HostFacts:
    os: str  # "linux", "windows", "macos"
    arch: str  # "x86_64", "aarch64"
    os_release: str | Unknown
    kernel: str | Unknown
    glibc: str | Unknown
    container: str | Unknown | None  # "docker", "podman", "kubernetes", "container", None
    wsl: bool | Unknown
    shm_bytes: int | Unknown
    cpu_count: int | Unknown
    pci_gpus: tuple[PciDevice, ...] | Unknown
    dev_nodes: tuple[str, ...]  # /dev/nvidia*, /dev/dxg
    source: str = ""


# --- driver and GPUs ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DriverFacts:
    version: str | Unknown  # kernel module version, e.g. "580.159.04"
    source: str  # which source answered: "/sys/module/nvidia/version", "nvml", ...
    kernel_module: str | Unknown  # "open", "proprietary"
    userspace_version: str | Unknown  # libnvidia-ml's idea of the version (NVML)
    cuda_driver_version: str | Unknown  # highest CUDA the driver supports, e.g. "13.0"
    nvml_error: str | None = None  # e.g. "Driver/library version mismatch"
    smi_error: str | None = None  # nvidia-smi failed or hung: what it said


@dataclass(frozen=True, slots=True)
class GpuFacts:
    index: int
    name: str
    uuid: str | Unknown
    cc: tuple[int, int] | Unknown
    memory_total_mib: int | Unknown
    memory_used_mib: int | Unknown
    pcie_gen_current: int | Unknown
    pcie_gen_max: int | Unknown
    pcie_width_current: int | Unknown
    pcie_width_max: int | Unknown
    mig_enabled: bool | Unknown
    persistence_mode: bool | Unknown
    ecc_enabled: bool | Unknown
    ecc_uncorrected_errors: int | Unknown
    compute_processes: int | Unknown
    other_processes_memory_mib: int | Unknown
    utilization_percent: int | Unknown = Unknown("not read")


@dataclass(frozen=True, slots=True)
class GpuInventory:
    source: str  # "nvml", "nvidia-smi", "collect_env", ...
    gpus: tuple[GpuFacts, ...] | Unknown


# --- software outside Python ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SystemLibrary:
    """A CUDA-family shared library the dynamic loader can find outside any wheel."""

    name: str  # "libcudnn", "libcublas", "libcudart", "libnccl", "libcuda"
    version: str | Unknown
    path: str
    via: str  # "ldconfig", "LD_LIBRARY_PATH"


@dataclass(frozen=True, slots=True)
class CudaToolkit:
    path: str
    version: str | Unknown
    source: str  # "version.json", "nvcc"


# --- the Python environment ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Distribution:
    name: str  # canonical name, e.g. "torch", "nvidia-cudnn-cu12"
    version: str
    location: str  # the sys.path entry (or conda prefix) it lives in
    installer: str | Unknown  # "pip", "uv", "conda", ...
    requires: tuple[str, ...] | Unknown = Unknown("not read")  # Requires-Dist lines of its METADATA
    direct_url: str | None = None  # PEP 610: "file:///…whl", "git+https://…@commit", "editable:file:///…"


@dataclass(frozen=True, slots=True)
class CondaPackage:
    name: str
    version: str
    build: str
    channel: str | Unknown


@dataclass(frozen=True, slots=True)
class JupyterKernel:
    name: str
    spec: str  # path of its kernel.json
    display_name: str
    python: str | None  # argv[0]: the interpreter the kernel runs ("python" means whatever is on PATH)


@dataclass(frozen=True, slots=True)
class PythonEnv:
    executable: str
    version: str  # "3.11.7"
    implementation: str
    prefix: str
    base_prefix: str
    is_venv: bool
    conda_prefix: str | None
    user_site: str | Unknown
    user_site_enabled: bool
    sys_path: tuple[str, ...]
    distributions: tuple[Distribution, ...] | Unknown
    conda_packages: tuple[CondaPackage, ...] | Unknown
    jupyter_kernels: tuple[JupyterKernel, ...] = ()


@dataclass(frozen=True, slots=True)
class ShellTools:
    """What the user's shell would run: `python`/`pip` on PATH and the interpreters they belong to."""

    python_on_path: str | None
    pip_on_path: str | None
    pip_interpreter: str | Unknown  # the interpreter named in pip's shebang


# --- torch as the target interpreter sees it -------------------------------------------------


@dataclass(frozen=True, slots=True)
class TorchDevice:
    index: int
    name: str
    cc: tuple[int, int]
    total_memory_mib: int
    multi_processor_count: int


@dataclass(frozen=True, slots=True)
class LoadedLibrary:
    """A CUDA-family library the torch process actually mapped (/proc/self/maps)."""

    name: str  # "libcudnn", ...
    path: str
    owner: str  # a distribution name ("nvidia-cudnn-cu12"), "system" or "torch"
    version: str | Unknown


@dataclass(frozen=True, slots=True)
class SmokeResult:
    device: int
    op: str  # "matmul", "conv2d"
    ok: bool
    rel_error: float | Unknown
    milliseconds: float | Unknown
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Companion:
    """torchvision or torchaudio as the target interpreter sees them."""

    name: str
    version: str | None  # None: not installed
    import_error: str | None = None
    requires_torch: str | None = None  # the pin in its metadata, e.g. "==2.11.0"


# How far the torch probe got; a crash or hang names the last stage reached.
TORCH_STAGES = (
    "env",
    "import",
    "build",
    "settings",
    "cuda-init",
    "devices",
    "smoke",
    "cudnn",
    "libraries",
    "companions",
    "done",
)


@dataclass(frozen=True, slots=True)
class TorchFacts:
    status: str  # "ok", "missing", "import-error", "crashed", "hung", "probe-error"
    stage: str  # last stage reached, one of TORCH_STAGES
    error: str | None
    version: str | Unknown
    cuda: str | Unknown | None  # torch.version.cuda; None for a CPU or ROCm build
    hip: str | Unknown | None
    git_version: str | Unknown
    debug: bool | Unknown
    cuda_available: bool | Unknown
    cuda_unavailable_reason: str | None
    device_count: int | Unknown
    devices: tuple[TorchDevice, ...]
    arch_list: tuple[str, ...] | Unknown
    cudnn_enabled: bool | Unknown
    cudnn_version: int | Unknown | None  # 91900 for 9.19.0
    nccl_version: str | Unknown | None
    loaded_libraries: tuple[LoadedLibrary, ...] | Unknown
    smoke: tuple[SmokeResult, ...] | Unknown
    cuda_init_seconds: float | Unknown
    location: str | Unknown  # torch/__init__.py's directory
    companions: tuple[Companion, ...] | Unknown
    wall_seconds: float = 0.0
    signal: str | None = None  # "SIGSEGV" when the process died of a signal
    stderr_tail: str = ""
    cudnn_error: str | None = None  # why torch.backends.cudnn.version() failed
    stage_seconds: dict[str, float] = field(default_factory=dict)  # how long each probe stage took
    # Numerics/speed defaults as the interpreter starts them ("cudnn.benchmark", "float32_matmul_precision", ...)
    settings: dict[str, str | bool | int | None] | Unknown = Unknown("not probed")
    # Bytes the interpreter printed besides the probe's records (stdout and stderr): a torch, a .pth
    # file or a sitecustomize that prints on import.
    output_bytes: int = 0
    # After the import: is torch/__init__.py's bytecode cached, and are bytecode writes off (-B /
    # PYTHONDONTWRITEBYTECODE)? Without a cache every `import torch` compiles torch's Python again.
    bytecode_cached: bool | Unknown = Unknown("not probed")
    bytecode_writes_off: bool | Unknown = Unknown("not probed")
    # The folder the probe read torch's bytecode through when the user's interpreter keeps none
    # (probes/target_launch.probe_bytecode_folder); its import time is then not the user's.
    bytecode_probe_folder: str | None = None


# --- the whole picture ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Facts:
    host: HostFacts
    driver: DriverFacts
    gpus: GpuInventory
    environment: dict[str, str]  # CUDA/NVIDIA/PyTorch-related variables only
    system_libraries: tuple[SystemLibrary, ...] | Unknown
    cuda_toolkits: tuple[CudaToolkit, ...] | Unknown
    python: PythonEnv | Unknown
    shell: ShellTools | Unknown
    torch: TorchFacts | Unknown
    origin: str = "this machine"  # or "collect_env report", "torchenv JSON from ..."
    explicit_python: bool = False  # the user named the interpreter (--python), so it may differ from the active env
    probe_seconds: dict[str, float] = field(default_factory=dict)
    # The container around the process (runtime, GPU request and delivery, cgroup limits); JSON written
    # before it existed decodes as not probed.
    container: ContainerFacts | Unknown = Unknown("not probed")


# Imported last: model/container.py uses Unknown from this module.
from .container import ContainerFacts  # noqa: E402
