"""A snapshot: the versioned fingerprint of one PyTorch environment on one machine.

It is a curated, stable subset of `Facts` (no probe noise such as GPU utilisation or smoke-test
timings) plus what reproducing the environment needs: every distribution with its installer,
source and requirements, the conda records and the user's conda history, and the settings that
change numerics or speed. JSON (or TOML) through `codec`; `kind` and `schema_version` identify it.

Fields that may be null have a default of None, so that the TOML form (which has no null) can
simply leave them out and still decode to the same value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .facts import Unknown
from .finding import Finding, Severity

SNAPSHOT_KIND = "torchenv.snapshot"
SNAPSHOT_SCHEMA_VERSION = 1

# The diff's impact levels, most severe first. `--fail-on LEVEL` fails on that level or above.
LEVELS = ("cuda", "numerics", "speed", "other")


@dataclass(frozen=True, slots=True)
class SnapshotHost:
    os: str
    arch: str
    os_release: str | Unknown
    kernel: str | Unknown
    glibc: str | Unknown
    wsl: bool | Unknown
    cpu_count: int | Unknown
    container: str | Unknown | None = None  # "docker", "kubernetes", ...; None: not in a container


@dataclass(frozen=True, slots=True)
class SnapshotDriver:
    version: str | Unknown
    cuda_driver_version: str | Unknown  # the highest CUDA it supports, e.g. "13.0"
    kernel_module: str | Unknown
    source: str = ""


@dataclass(frozen=True, slots=True)
class SnapshotGpu:
    index: int
    name: str
    cc: tuple[int, int] | Unknown
    memory_mib: int | Unknown


@dataclass(frozen=True, slots=True)
class SnapshotPython:
    version: str
    implementation: str
    executable: str  # noise for the diff (differs between two copies of one env)
    prefix: str
    is_venv: bool
    is_conda: bool


@dataclass(frozen=True, slots=True)
class SnapshotPackage:
    """One installed Python distribution."""

    name: str  # canonical: "torch", "nvidia-cudnn-cu12"
    version: str
    installer: str | Unknown  # "pip", "uv", "conda" (INSTALLER file)
    requires: tuple[str, ...] | Unknown  # Requires-Dist lines, markers included
    # Where it came from when that is knowable: a PEP 610 direct URL ("git+https://…@commit",
    # "editable:file:///…", "file:///…whl") or, for torch's local-tagged wheels, the PyTorch index.
    # None: an ordinary index install whose index nobody recorded.
    source: str | None = None


@dataclass(frozen=True, slots=True)
class SnapshotCondaPackage:
    name: str  # conda name: "pytorch", "cudnn", "python"
    version: str
    build: str
    channel: str | Unknown  # "conda-forge", "pytorch", "defaults", or the URL when not a known host
    subdir: str | None = None  # "linux-64", "noarch"


@dataclass(frozen=True, slots=True)
class SnapshotLibrary:
    """A CUDA-family library the torch process actually mapped."""

    name: str  # "libcudnn"
    owner: str  # the wheel that ships it, "system" or "torch"
    version: str | Unknown


@dataclass(frozen=True, slots=True)
class SnapshotTorch:
    status: str  # "ok", "missing", "import-error", ...
    version: str | Unknown
    variant: str | Unknown | None  # "cu130", "cpu", "rocm"; None when torch is missing
    git_version: str | Unknown
    debug: bool | Unknown
    cuda_available: bool | Unknown
    device_count: int | Unknown
    arch_list: tuple[str, ...] | Unknown
    loaded_libraries: tuple[SnapshotLibrary, ...] | Unknown
    cuda: str | Unknown | None = None  # torch.version.cuda; None for a CPU build
    hip: str | Unknown | None = None
    cudnn_version: int | Unknown | None = None  # cuDNN torch loaded: 91900 for 9.19.0
    nccl_version: str | Unknown | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    kind: str
    schema_version: int
    created: str  # ISO 8601, UTC
    torchenv_version: str
    origin: str  # "this machine", "doctor report ..."
    host: SnapshotHost
    driver: SnapshotDriver
    gpus: tuple[SnapshotGpu, ...] | Unknown
    python: SnapshotPython | Unknown
    packages: tuple[SnapshotPackage, ...] | Unknown
    conda_packages: tuple[SnapshotCondaPackage, ...] | Unknown
    conda_requested: tuple[str, ...] | Unknown  # `# update specs:` of conda-meta/history, removals applied
    torch: SnapshotTorch | Unknown
    settings: dict[str, str | bool | int] | Unknown  # "cudnn.benchmark": False, "float32_matmul_precision": ...
    environment: dict[str, str]  # CUDA_VISIBLE_DEVICES, PYTORCH_CUDA_ALLOC_CONF, NCCL_*, OMP_NUM_THREADS, ...
    probe_seconds: dict[str, float] = field(default_factory=dict)  # noise: how long each probe took


# A difference as a severity: a `cuda` difference decides whether CUDA works at all on one side (an
# error there), `numerics` and `speed` ones leave it working but differently (a warning), `other` ones
# rarely matter (info). Preflight's skew between ranks reads the same severity.
LEVEL_SEVERITY = {
    "cuda": Severity.ERROR,
    "numerics": Severity.WARNING,
    "speed": Severity.WARNING,
    "other": Severity.INFO,
}


@dataclass(frozen=True, slots=True)
class Difference:
    """One way two snapshots differ: a Finding (its id, what it can cause as the explanation, the two
    values as evidence) with where it is and the two values."""

    finding: Finding  # id "torch-variant-differs", ...; severity from the level (LEVEL_SEVERITY)
    level: str  # one of LEVELS
    scope: str  # "host" (the machine), "env" (what is installed), "settings" (env vars, torch defaults)
    subject: str  # what differs: "torch build", "package numpy", "env CUBLAS_WORKSPACE_CONFIG"
    a: str | None  # the value in A; None: absent there
    b: str | None
    weight: int = 0  # order within a level: higher first


VERIFY_STATUSES = ("ok", "warn", "fail", "skip")
VERIFY_CHECKS = (
    "platform",
    "python",
    "glibc",
    "driver-floor",
    "gpu-present",
    "gpu-driver",
    "gpu-arch",
    "env-match",
    "settings-match",
    "double-install",
)
# A check's status as a severity: `fail` means the environment cannot be reproduced here as it is (an
# error), `warn` that it runs but differently or slowly (a warning); `ok` and `skip` are worth knowing
# and need nothing (info). The gate reads the status, never the severity alone: a skipped check is info
# but not a pass.
STATUS_SEVERITY = {"ok": Severity.INFO, "warn": Severity.WARNING, "fail": Severity.ERROR, "skip": Severity.INFO}


@dataclass(frozen=True, slots=True)
class VerifyCheck:
    """One check of `torchenv verify`: a Finding (its title says what was found) with its stage,
    status and subject."""

    finding: Finding  # the doctor's or the diff's id where the outcome means the same, else "verify-<check>"
    check: str  # which check, whatever its outcome: one of VERIFY_CHECKS
    stage: str  # "host" (can this host run it) or "env" (does the installed env match)
    status: str  # one of VERIFY_STATUSES; the finding's severity is STATUS_SEVERITY[status]
    subject: str


def level_rank(level: str) -> int:
    return LEVELS.index(level)


@dataclass(frozen=True, slots=True)
class CondaMeta:
    """What conda-meta/ held: the parsed records and the history file's requested specs."""

    packages: tuple[SnapshotCondaPackage, ...]
    requested: tuple[str, ...] | Unknown
    errors: tuple[str, ...] = ()  # records that could not be read
