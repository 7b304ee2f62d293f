"""Pure: two snapshots -> the differences that matter, ranked by impact, each with what it can cause.

Levels, most severe first: `cuda` (decides whether CUDA works at all: driver branch, torch variant,
arch list, GPU model, visible devices), `numerics` (cuDNN/cuBLAS, TF32 and matmul precision,
determinism), `speed` (NCCL, allocator, threads, benchmark mode) and `other` (everything else that
is installed). Noise never shows: creation times, probe timings, interpreter and prefix paths,
the tool's own version, a GPU's reported memory when the model is the same.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from ..knowledge.arch import arch_runs_on
from ..model import Finding, Unknown, known
from ..model.snapshot import LEVEL_SEVERITY, Difference, Snapshot, SnapshotPackage, level_rank
from ..model.versions import cudnn_text
from ..reports.conda_meta import pypi_name
from .build import installed_by


@dataclass(frozen=True, slots=True)
class DiffResult:
    differences: tuple[Difference, ...]
    ignored: tuple[str, ...]  # noise that differed and was left out, e.g. "created", "probe timings"

    def at_or_above(self, level: str) -> list[Difference]:
        return [d for d in self.differences if level_rank(d.level) <= level_rank(level)]

    def counts(self) -> dict[str, int]:
        counts = Counter(d.level for d in self.differences)
        from ..model.snapshot import LEVELS

        return {level: counts.get(level, 0) for level in LEVELS}


Add = Callable[..., None]


# Every difference's finding id -> (category, layer); each id has a page in docs/findings/. Where a
# difference means what a doctor finding means, it carries the doctor's id (gpu-arch-not-in-wheel).
KINDS: dict[str, tuple[str, str]] = {
    "snapshot-part-unreadable": ("other", "environment"),
    "platform-differs": ("other", "environment"),
    "wsl-differs": ("wsl", "driver"),
    "glibc-differs": ("other", "environment"),
    "os-release-differs": ("other", "environment"),
    "container-differs": ("other", "environment"),
    "kernel-differs": ("other", "driver"),
    "cpu-count-differs": ("performance", "hardware"),
    "driver-presence-differs": ("no-driver", "driver"),
    "driver-branch-differs": ("driver-too-old", "driver"),
    "driver-version-differs": ("other", "driver"),
    "driver-cuda-differs": ("driver-too-old", "driver"),
    "driver-module-differs": ("other", "driver"),
    "gpu-model-differs": ("gpu-arch-unsupported", "hardware"),
    "gpu-count-differs": ("performance", "hardware"),
    "torch-status-differs": ("torch-broken", "torch"),
    "cuda-available-differs": ("other", "torch"),
    "torch-variant-differs": ("other", "torch"),
    "torch-cuda-differs": ("other", "torch"),
    "torch-version-differs": ("other", "torch"),
    "torch-build-differs": ("other", "torch"),
    "arch-list-differs": ("gpu-arch-unsupported", "torch"),
    "gpu-arch-not-in-wheel": ("gpu-arch-unsupported", "torch"),
    "gpu-arch-ptx-jit": ("gpu-arch-unsupported", "torch"),
    "cudnn-version-differs": ("other", "cudnn"),
    "nccl-version-differs": ("distributed", "cuda"),
    "torch-debug-differs": ("performance", "torch"),
    "loaded-library-differs": ("library-conflict", "cuda"),
    "torch-setting-differs": ("other", "compute"),
    "env-var-differs": ("other", "environment"),
    "python-implementation-differs": ("python-unsupported", "environment"),
    "python-version-differs": ("python-unsupported", "environment"),
    "python-patch-differs": ("other", "environment"),
    "env-kind-differs": ("other", "environment"),
    "package-presence-differs": ("other", "environment"),
    "package-version-differs": ("other", "environment"),
    "package-installer-differs": ("duplicate-install", "environment"),
    "package-source-differs": ("other", "environment"),
    "conda-package-presence-differs": ("other", "environment"),
    "conda-version-differs": ("other", "environment"),
    "conda-build-differs": ("other", "environment"),
    "conda-channel-differs": ("other", "environment"),
}


def _shown(value: str | None) -> str:
    return value if value is not None else "(absent)"


def difference(
    id: str, level: str, scope: str, subject: str, a: str | None, b: str | None, impact: str, weight: int = 0
) -> Difference:
    """A difference with its finding: severity from the level (model.snapshot.LEVEL_SEVERITY), what
    it can cause as the explanation, the two sides as evidence."""
    category, layer = KINDS[id]
    finding = Finding(
        id=id,
        category=category,
        severity=LEVEL_SEVERITY[level],
        layer=layer,
        title=f"{subject}: {_shown(a)} → {_shown(b)}",
        evidence=(f"A: {_shown(a)}", f"B: {_shown(b)}"),
        explanation=impact,
        fix=None,  # which side is right is the user's call; `torchenv export` rebuilds one from the other
    )
    return Difference(finding, level, scope, subject, a, b, weight)


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return f"{value[0]}.{value[1]}"
    if isinstance(value, (tuple, list)):
        return " ".join(str(v) for v in value) or "(empty)"
    return str(value)


def _major(version: str) -> str:
    return version.split(".", 1)[0]


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _public(version: str) -> str:
    return version.split("+", 1)[0]


def diff_snapshots(a: Snapshot, b: Snapshot) -> DiffResult:
    found: list[Difference] = []

    def add(id: str, level: str, scope: str, subject: str, va, vb, impact: str, weight: int = 0) -> None:
        found.append(difference(id, level, scope, subject, _text(va), _text(vb), impact, weight))

    _unreadable(a, b, add)
    _host(a, b, add)
    _driver(a, b, add)
    _gpus(a, b, add)
    torch_compared = _torch(a, b, add)
    _settings(a, b, add)
    _environment(a, b, add)
    _python(a, b, add)
    _packages(a, b, add, skip_torch_version=torch_compared)
    _conda(a, b, add)
    ordered = sorted(found, key=lambda d: (level_rank(d.level), -d.weight, d.subject))
    return DiffResult(tuple(ordered), tuple(_noise(a, b)))


# --- what one side could not read ----------------------------------------------------------------


def _unread(value: Unknown) -> str:
    return f"unknown ({value.reason[:200]})"


# (field, level, scope, subject, how a readable side reads, impact, weight); the first row speaks for the rest
_UNREADABLE = (
    (
        "python",
        "cuda",
        "env",
        "Python environment",
        lambda v: f"Python {v.version} ({v.executable})",
        "one side's environment could not be read: nothing about what is installed there can be compared",
        101,
    ),
    (
        "packages",
        "cuda",
        "env",
        "installed packages",
        lambda v: f"{len(v)} distributions",
        "one side's package list could not be read: every package may differ",
        100,
    ),
    (
        "torch",
        "cuda",
        "env",
        "torch build",
        lambda v: f"{v.status} ({v.version})",
        "one side's torch could not be read: its version, CUDA variant and libraries are unknown",
        100,
    ),
    (
        "gpus",
        "cuda",
        "host",
        "GPUs",
        lambda v: ", ".join(g.name for g in v) or "none",
        "one side's GPUs could not be listed: the GPU model and count may differ",
        76,
    ),
    (
        "settings",
        "numerics",
        "settings",
        "torch settings",
        lambda v: "read",
        "one side's torch numerics/speed defaults could not be read",
        64,
    ),
)


def _unreadable(a: Snapshot, b: Snapshot, add: Add) -> None:
    """Unknown against a known value is a difference, never a match (fail closed): an interpreter that
    could not be probed, a package list or a torch build that could not be read, GPUs not listed."""
    python_told = known(a.python) != known(b.python)  # an unreadable interpreter explains its packages and torch
    torch_ok = all(known(s.torch) and s.torch.status == "ok" for s in (a, b))
    for name, level, scope, subject, describe, impact, weight in _UNREADABLE:
        va, vb = getattr(a, name), getattr(b, name)
        if known(va) == known(vb) or (python_told and name in ("packages", "torch")):
            continue
        if name == "settings" and not torch_ok:
            continue
        shown = [describe(v) if known(v) else _unread(v) for v in (va, vb)]
        add("snapshot-part-unreadable", level, scope, subject, shown[0], shown[1], impact, weight)


# --- the machine -----------------------------------------------------------------------------------


def _host(a: Snapshot, b: Snapshot, add: Add) -> None:
    ha, hb = a.host, b.host
    if (ha.os, ha.arch) != (hb.os, hb.arch):
        add(
            "platform-differs",
            "cuda",
            "host",
            "platform",
            f"{ha.os} {ha.arch}",
            f"{hb.os} {hb.arch}",
            "wheels and conda packages are built per platform: nothing installs as-is, and CUDA builds exist only for linux/windows x86_64 and linux aarch64",
            98,
        )
    if known(ha.wsl) and known(hb.wsl) and ha.wsl != hb.wsl:
        add(
            "wsl-differs",
            "cuda",
            "host",
            "WSL",
            ha.wsl,
            hb.wsl,
            "under WSL2 the GPU is reached through the Windows driver (/usr/lib/wsl/lib/libcuda.so); a Linux driver inside WSL breaks CUDA",
            40,
        )
    if known(ha.glibc) and known(hb.glibc) and ha.glibc != hb.glibc:
        add(
            "glibc-differs",
            "other",
            "host",
            "glibc",
            ha.glibc,
            hb.glibc,
            "manylinux wheels need a glibc at least as new as their tag (torch: manylinux_2_28); an older one makes pip refuse them",
            50,
        )
    if known(ha.os_release) and known(hb.os_release) and ha.os_release != hb.os_release:
        add(
            "os-release-differs",
            "other",
            "host",
            "operating system",
            ha.os_release,
            hb.os_release,
            "system libraries and compilers differ (matters for source builds and torch.compile's C++ toolchain)",
            35,
        )
    if ha.container != hb.container and not (isinstance(ha.container, Unknown) or isinstance(hb.container, Unknown)):
        add(
            "container-differs",
            "other",
            "host",
            "container",
            ha.container or "none",
            hb.container or "none",
            "containers see the driver only through the NVIDIA container toolkit (--gpus), and often have a small /dev/shm that starves DataLoader workers",
            25,
        )
    if known(ha.kernel) and known(hb.kernel) and ha.kernel != hb.kernel:
        add(
            "kernel-differs",
            "other",
            "host",
            "kernel",
            ha.kernel,
            hb.kernel,
            "the NVIDIA kernel module is built for one kernel; otherwise rarely matters",
            10,
        )
    if known(ha.cpu_count) and known(hb.cpu_count) and ha.cpu_count != hb.cpu_count:
        add(
            "cpu-count-differs",
            "speed",
            "host",
            "CPU count",
            ha.cpu_count,
            hb.cpu_count,
            "torch's default intra-op threads and DataLoader throughput follow the CPU count",
            10,
        )


def _driver(a: Snapshot, b: Snapshot, add: Add) -> None:
    da, db = a.driver, b.driver
    if known(da.version) != known(db.version):
        add(
            "driver-presence-differs",
            "cuda",
            "host",
            "NVIDIA driver",
            da.version if known(da.version) else None,
            db.version if known(db.version) else None,
            "without an NVIDIA driver CUDA is unavailable: torch.cuda.is_available() is False and .cuda() raises",
            100,
        )
        return
    if not known(da.version):
        return
    if _major(da.version) != _major(db.version):
        add(
            "driver-branch-differs",
            "cuda",
            "host",
            "driver branch",
            da.version,
            db.version,
            "the driver branch decides the newest CUDA a torch build may use: a build newer than the driver fails with 'driver version is insufficient' or falls back to CPU",
            85,
        )
    elif da.version != db.version:
        add(
            "driver-version-differs",
            "other",
            "host",
            "driver version",
            da.version,
            db.version,
            "same branch and CUDA support; bug fixes only",
            40,
        )
    if (
        known(da.cuda_driver_version)
        and known(db.cuda_driver_version)
        and da.cuda_driver_version != db.cuda_driver_version
    ):
        add(
            "driver-cuda-differs",
            "cuda",
            "host",
            "driver's CUDA version",
            da.cuda_driver_version,
            db.cuda_driver_version,
            "the highest CUDA the driver runs: torch builds for a newer CUDA fail or need minor-version compatibility (no PTX JIT)",
            84,
        )
    if known(da.kernel_module) and known(db.kernel_module) and da.kernel_module != db.kernel_module:
        add(
            "driver-module-differs",
            "other",
            "host",
            "driver kernel module",
            da.kernel_module,
            db.kernel_module,
            "open vs proprietary kernel modules: the open one is required on Blackwell and absent support on pre-Turing GPUs",
            30,
        )


def _gpus(a: Snapshot, b: Snapshot, add: Add) -> None:
    if not known(a.gpus) or not known(b.gpus):
        return
    names_a, names_b = Counter(g.name for g in a.gpus), Counter(g.name for g in b.gpus)
    if set(names_a) != set(names_b):
        add(
            "gpu-model-differs",
            "cuda",
            "host",
            "GPU model",
            ", ".join(sorted(names_a)) or "none",
            ", ".join(sorted(names_b)) or "none",
            "another GPU architecture: which compiled kernels run (sm_XY in the wheel), TF32/bf16/FP8 support, memory size and speed all change",
            75,
        )
    elif names_a != names_b:
        add(
            "gpu-count-differs",
            "speed",
            "host",
            "GPU count",
            len(a.gpus),
            len(b.gpus),
            "data/model parallel layouts, NCCL topology and per-GPU batch sizes change",
            70,
        )


# --- torch -----------------------------------------------------------------------------------------


LIBRARY_LEVELS = {
    "libcudnn": (
        "numerics",
        70,
        "cuDNN picks different convolution/attention algorithms: last-bit differences in results, different speed, occasionally bugs",
    ),
    "libcublas": ("numerics", 75, "cuBLAS matmul kernels differ: last-bit differences in results and different speed"),
    "libcublasLt": (
        "numerics",
        74,
        "cuBLASLt matmul kernels differ: last-bit differences in results and different speed",
    ),
    "libcudart": ("cuda", 50, "another CUDA runtime: needs a driver that supports it"),
    "libnccl": (
        "speed",
        40,
        "NCCL's algorithms and protocols differ: collective speed, and hangs or errors across versions",
    ),
    "libnvrtc": ("speed", 20, "runtime compilation (JIT fusions) differs"),
}


def _torch(a: Snapshot, b: Snapshot, add: Add) -> bool:
    """Compares torch builds; True when both imported (so per-package torch versions are covered)."""
    ta, tb = a.torch, b.torch
    if not known(ta) or not known(tb):
        return False
    if ta.status != "ok" or tb.status != "ok":
        if ta.status != tb.status:
            add(
                "torch-status-differs",
                "cuda",
                "env",
                "torch import",
                f"{ta.status}" + (f" ({ta.version})" if known(ta.version) else ""),
                f"{tb.status}" + (f" ({tb.version})" if known(tb.version) else ""),
                "torch is missing or does not import on one side: nothing runs there",
                100,
            )
        return False
    if known(ta.cuda_available) and known(tb.cuda_available) and ta.cuda_available != tb.cuda_available:
        add(
            "cuda-available-differs",
            "cuda",
            "env",
            "torch.cuda.is_available()",
            ta.cuda_available,
            tb.cuda_available,
            "on one side torch cannot use the GPU: everything runs on the CPU, or .cuda() raises",
            99,
        )
    if known(ta.variant) and known(tb.variant) and ta.variant != tb.variant:
        add(
            "torch-variant-differs",
            "cuda",
            "env",
            "torch build variant",
            ta.variant,
            tb.variant,
            "a different build: its CUDA version (and the driver it needs), bundled cuDNN/NCCL and the GPU architectures compiled in all change; a cpu build never uses the GPU",
            90,
        )
    elif known(ta.cuda) and known(tb.cuda) and ta.cuda != tb.cuda:
        add(
            "torch-cuda-differs",
            "cuda",
            "env",
            "torch CUDA version",
            ta.cuda or "none",
            tb.cuda or "none",
            "the CUDA torch was built with: decides the minimum driver",
            80,
        )
    if known(ta.version) and known(tb.version) and _public(ta.version) != _public(tb.version):
        add(
            "torch-version-differs",
            "cuda",
            "env",
            "torch version",
            ta.version,
            tb.version,
            "another torch release: supported CUDA versions and GPU architectures, operator behaviour and defaults change",
            70,
        )
    elif known(ta.git_version) and known(tb.git_version) and ta.git_version != tb.git_version:
        add(
            "torch-build-differs",
            "other",
            "env",
            "torch git version",
            ta.git_version,
            tb.git_version,
            "the same version number from a different build (nightly or a custom build)",
            20,
        )
    _arch_lists(a, b, add)
    if known(ta.cudnn_version) and known(tb.cudnn_version) and ta.cudnn_version != tb.cudnn_version:
        add(
            "cudnn-version-differs",
            "numerics",
            "env",
            "cuDNN loaded by torch",
            cudnn_text(ta.cudnn_version) or ta.cudnn_version,
            cudnn_text(tb.cudnn_version) or tb.cudnn_version,
            LIBRARY_LEVELS["libcudnn"][2],
            80,
        )
    if known(ta.nccl_version) and known(tb.nccl_version) and ta.nccl_version != tb.nccl_version:
        add(
            "nccl-version-differs",
            "speed",
            "env",
            "NCCL in torch",
            ta.nccl_version,
            tb.nccl_version,
            LIBRARY_LEVELS["libnccl"][2],
            50,
        )
    if known(ta.debug) and known(tb.debug) and ta.debug != tb.debug:
        add(
            "torch-debug-differs",
            "speed",
            "env",
            "torch debug build",
            ta.debug,
            tb.debug,
            "a debug build is many times slower",
            60,
        )
    if known(ta.loaded_libraries) and known(tb.loaded_libraries):
        libs_a = {lib.name: lib for lib in ta.loaded_libraries}
        libs_b = {lib.name: lib for lib in tb.loaded_libraries}
        for name in sorted(set(libs_a) & set(libs_b)):
            if name not in LIBRARY_LEVELS:
                continue
            la, lb = libs_a[name], libs_b[name]
            va, vb = (f"{lib.version if known(lib.version) else '?'} ({lib.owner})" for lib in (la, lb))
            if va != vb:
                level, weight, impact = LIBRARY_LEVELS[name]
                if known(la.version) and known(lb.version) and la.version == lb.version:
                    impact = "the same version loaded from another place: a second copy of the library on the machine"
                    weight -= 10
                add("loaded-library-differs", level, "env", f"{name} loaded", va, vb, impact, weight)
    return True


def _arch_lists(a: Snapshot, b: Snapshot, add: Add) -> None:
    ta, tb = a.torch, b.torch
    if not (known(ta) and known(tb) and known(ta.arch_list) and known(tb.arch_list)):
        return
    if ta.arch_list != tb.arch_list:
        add(
            "arch-list-differs",
            "cuda",
            "env",
            "torch arch list",
            ta.arch_list,
            tb.arch_list,
            "GPUs whose architecture is missing run through PTX JIT (a slow first start) or fail with 'no kernel image is available for execution on the device'",
            60,
        )
    # Would each side's torch run on the other side's GPUs?
    for here, there, label in ((a, b, "A's torch on B's GPU"), (b, a, "B's torch on A's GPU")):
        arches = here.torch.arch_list
        if not arches or not known(there.gpus):
            continue
        for gpu in there.gpus:
            if not known(gpu.cc):
                continue
            match = arch_runs_on(arches, gpu.cc)
            if match is None or match.how == "ptx-jit":
                add(
                    "gpu-arch-not-in-wheel" if match is None else "gpu-arch-ptx-jit",  # the doctor's ids
                    "cuda",
                    "env",
                    label,
                    " ".join(arches),
                    f"{gpu.name} (sm_{gpu.cc[0]}{gpu.cc[1]})",
                    "no compiled kernels for that GPU: 'no kernel image is available for execution on the device'"
                    if match is None
                    else "only PTX for that GPU: every kernel is JIT-compiled at first use (minutes), and never with minor-version compatibility",
                    95,
                )
                break


# --- settings and environment variables -------------------------------------------------------------------

SETTINGS = {
    "cuda.matmul.allow_tf32": (
        "numerics",
        62,
        "TF32 matmuls keep ~10 mantissa bits: float32 results differ at ~1e-3 relative, and run several times faster on Ampere+",
    ),
    "cudnn.allow_tf32": ("numerics", 61, "TF32 convolutions: float32 results differ at ~1e-3 relative"),
    "float32_matmul_precision": (
        "numerics",
        63,
        "'high'/'medium' let float32 matmuls use TF32/bf16: faster, less precise",
    ),
    "cudnn.deterministic": ("numerics", 55, "deterministic cuDNN algorithms: bitwise-reproducible runs, often slower"),
    "deterministic_algorithms": (
        "numerics",
        56,
        "torch.use_deterministic_algorithms: reproducible results, errors on ops without a deterministic kernel",
    ),
    "cudnn.benchmark": (
        "speed",
        45,
        "cuDNN autotuning: faster steady state for fixed shapes, slow first iterations, run-to-run algorithm choice",
    ),
    "num_threads": ("speed", 30, "intra-op CPU threads: CPU op speed and oversubscription with DataLoader workers"),
}
VARIABLES = {
    "CUDA_VISIBLE_DEVICES": ("cuda", 88, "which GPUs torch sees, and their numbering: empty or wrong hides every GPU"),
    "CUDA_DEVICE_ORDER": (
        "cuda",
        50,
        "the numbering of GPUs (FASTEST_FIRST vs PCI_BUS_ID): cuda:0 may be another card",
    ),
    "CUBLAS_WORKSPACE_CONFIG": (
        "numerics",
        50,
        "cuBLAS workspace: ':4096:8' or ':16:8' is required for deterministic cuBLAS results",
    ),
    "NVIDIA_TF32_OVERRIDE": ("numerics", 58, "0 disables TF32 in every CUDA library, whatever torch's settings say"),
    "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE": ("numerics", 57, "forces TF32 for cuBLAS float32 matmuls"),
    "CUDA_LAUNCH_BLOCKING": ("speed", 60, "synchronous kernel launches: much slower (a debugging setting)"),
    "PYTORCH_CUDA_ALLOC_CONF": (
        "speed",
        50,
        "the caching allocator's behaviour: fragmentation, peak memory, out-of-memory at a different batch size",
    ),
    "PYTORCH_ALLOC_CONF": (
        "speed",
        50,
        "the caching allocator's behaviour: fragmentation, peak memory, out-of-memory at a different batch size",
    ),
    "PYTORCH_NO_CUDA_MEMORY_CACHING": ("speed", 55, "no caching allocator: far slower allocation"),
    "OMP_NUM_THREADS": ("speed", 35, "CPU threads per process: CPU op speed, oversubscription with several processes"),
    "MKL_NUM_THREADS": ("speed", 34, "MKL's CPU threads: CPU op speed"),
    "CUDA_MODULE_LOADING": ("speed", 20, "lazy vs eager module loading: start-up time and memory"),
}


def _settings(a: Snapshot, b: Snapshot, add: Add) -> None:
    if not known(a.settings) or not known(b.settings):
        return
    for name in sorted(set(a.settings) | set(b.settings)):
        va, vb = a.settings.get(name), b.settings.get(name)
        if va == vb:
            continue
        level, weight, impact = SETTINGS.get(name, ("speed", 10, "a torch default that changes numerics or speed"))
        add("torch-setting-differs", level, "settings", f"torch {name}", va, vb, impact, weight)


def _environment(a: Snapshot, b: Snapshot, add: Add) -> None:
    for name in sorted(set(a.environment) | set(b.environment)):
        va, vb = a.environment.get(name), b.environment.get(name)
        if va == vb:
            continue
        if name in VARIABLES:
            level, weight, impact = VARIABLES[name]
        elif name.startswith(("NCCL_", "TORCH_NCCL_")):
            level, weight, impact = (
                "speed",
                40,
                "NCCL transport, algorithm or timeout: collective speed, hangs, or errors",
            )
        else:
            level, weight, impact = "speed", 20, "a CUDA/torch setting read from the environment"
        add(
            "env-var-differs",
            level,
            "settings",
            f"env {name}",
            va if va is not None else "unset",
            vb if vb is not None else "unset",
            impact,
            weight,
        )


# --- the Python environment ---------------------------------------------------------------------------


def _python(a: Snapshot, b: Snapshot, add: Add) -> None:
    pa, pb = a.python, b.python
    if not known(pa) or not known(pb):
        return
    if pa.implementation != pb.implementation:
        add(
            "python-implementation-differs",
            "other",
            "env",
            "Python implementation",
            pa.implementation,
            pb.implementation,
            "another interpreter: few compiled wheels exist for it",
            95,
        )
    if _minor(pa.version) != _minor(pb.version):
        add(
            "python-version-differs",
            "other",
            "env",
            "Python version",
            pa.version,
            pb.version,
            "wheels are built per Python minor (cp311 vs cp312): other builds, or none, for every compiled package",
            90,
        )
    elif pa.version != pb.version:
        add(
            "python-patch-differs", "other", "env", "Python patch version", pa.version, pb.version, "bug fixes only", 15
        )
    if pa.is_conda != pb.is_conda:
        add(
            "env-kind-differs",
            "other",
            "env",
            "conda environment",
            pa.is_conda,
            pb.is_conda,
            "conda envs bring their own CUDA libraries and compilers; mixing conda and pip installs causes double installs",
            20,
        )


def package_level(name: str) -> tuple[str, int, str]:
    """(level, weight, what a change can cause) for a Python distribution or conda package name."""
    if re.match(
        r"^(nvidia-cuda-(runtime|nvrtc|cupti)|nvidia-nvjitlink|cuda-(runtime|cudart|version|nvrtc)|cudatoolkit|pytorch-cuda|cuda$)",
        name,
    ):
        return "cuda", 55, "the CUDA runtime torch loads: it needs a driver that supports its version"
    if re.match(r"^(torch|pytorch|pytorch-gpu|pytorch-cpu|libtorch|pytorch-mutex|cpuonly)$", name):
        return "cuda", 65, "torch itself (conda build string): its CUDA variant decides whether the GPU is used"
    if re.match(r"^(nvidia-cudnn|cudnn)", name):
        return "numerics", 70, "cuDNN: different convolution/attention algorithms, last-bit differences in results"
    if re.match(r"^(nvidia-cublas|libcublas)", name):
        return "numerics", 72, "cuBLAS: different matmul kernels, last-bit differences in results"
    if re.match(r"^(nvidia-(cufft|cusolver|cusparse|curand)|libcu(fft|solver|sparse|rand))", name):
        return "numerics", 50, "a CUDA math library: last-bit differences in results"
    if re.match(r"^(nvidia-nccl|nccl)", name):
        return "speed", 45, "NCCL: collective speed, and hangs or errors across versions"
    if re.match(r"^(triton|pytorch-triton|torchtriton)$", name):
        return "speed", 44, "Triton compiles torch.compile's kernels: their speed and correctness"
    if re.match(r"^(mkl|intel-openmp|llvm-openmp|libopenblas|openblas|blas)", name):
        return "numerics", 30, "CPU BLAS/threading library: CPU results and speed"
    if name in ("torchvision", "torchaudio", "torchtext", "torchdata"):
        return (
            "other",
            60,
            "must match the torch version; a mismatch fails at import ('operator torchvision::nms does not exist')",
        )
    if name in ("numpy",):
        return (
            "other",
            40,
            "NumPy's major version changes the C ABI: compiled packages built for the other one fail to import",
        )
    if name in ("pip", "setuptools", "wheel"):
        return "other", 2, "installer tooling; affects only later installs and source builds"
    return "other", 10, "another version of a dependency: its behaviour and bugs"


def _index(packages) -> dict[str, list[SnapshotPackage]]:
    out: dict[str, list[SnapshotPackage]] = {}
    for package in packages:
        out.setdefault(package.name, []).append(package)
    return out


def _packages(a: Snapshot, b: Snapshot, add: Add, *, skip_torch_version: bool) -> None:
    if not known(a.packages) or not known(b.packages):
        return
    ia, ib = _index(a.packages), _index(b.packages)
    for name in sorted(set(ia) | set(ib)):
        level, weight, impact = package_level(name)
        pa, pb = ia.get(name, []), ib.get(name, [])
        versions_a = ", ".join(p.version for p in pa) or None
        versions_b = ", ".join(p.version for p in pb) or None
        if not pa or not pb:
            gone = "B" if not pb else "A"
            add(
                "package-presence-differs",
                level,
                "env",
                f"package {name}",
                versions_a,
                versions_b,
                f"not installed in {gone}: ImportError for code that uses it; {impact}",
                weight,
            )
            continue
        if versions_a != versions_b and not (name == "torch" and skip_torch_version):
            add("package-version-differs", level, "env", f"package {name}", versions_a, versions_b, impact, weight)
        installers_a = ", ".join(installed_by(a, p) for p in pa)
        installers_b = ", ".join(installed_by(b, p) for p in pb)
        if installers_a != installers_b and "unknown" not in (installers_a + installers_b):
            add(
                "package-installer-differs",
                "other",
                "env",
                f"installer of {name}",
                installers_a,
                installers_b,
                "installed by another tool: conda and pip builds of one package differ (linked libraries, CUDA variant), and mixing them invites double installs",
                15,
            )
        sources_a = ", ".join(p.source or "index" for p in pa)
        sources_b = ", ".join(p.source or "index" for p in pb)
        if sources_a != sources_b and not (_is_local_file(sources_a) and _is_local_file(sources_b)):
            add(
                "package-source-differs",
                "other",
                "env",
                f"source of {name}",
                sources_a,
                sources_b,
                "installed from another place (index, URL, VCS commit or local checkout): the same version number may be different code",
                12,
            )


def _is_local_file(source: str) -> bool:
    return source.startswith("file://") and not source.startswith("editable:")


def _conda(a: Snapshot, b: Snapshot, add: Add) -> None:
    if not known(a.conda_packages) or not known(b.conda_packages):
        if known(a.conda_packages) != known(b.conda_packages):
            return  # already told by "conda environment" (env-kind)
        return
    python_names = set()
    for snap in (a, b):
        if known(snap.packages):
            python_names |= {p.name for p in snap.packages}
    ia = {p.name: p for p in a.conda_packages}
    ib = {p.name: p for p in b.conda_packages}
    for name in sorted(set(ia) | set(ib)):
        level, weight, impact = package_level(name)
        ca, cb = ia.get(name), ib.get(name)
        covered = pypi_name(name) in python_names and name not in ("pytorch", "pytorch-gpu", "pytorch-cpu", "libtorch")
        if ca is None or cb is None:
            if not covered:
                add(
                    "conda-package-presence-differs",
                    level,
                    "env",
                    f"conda {name}",
                    ca and f"{ca.version} {ca.build}",
                    cb and f"{cb.version} {cb.build}",
                    impact,
                    weight,
                )
            continue
        if ca.version != cb.version and not covered:
            add(
                "conda-version-differs",
                level,
                "env",
                f"conda {name}",
                f"{ca.version} {ca.build}",
                f"{cb.version} {cb.build}",
                impact,
                weight,
            )
        elif ca.build != cb.build:
            add(
                "conda-build-differs",
                level,
                "env",
                f"conda build of {name}",
                f"{ca.version} {ca.build}",
                f"{cb.version} {cb.build}",
                f"another build of the same version (other CUDA/BLAS variant or dependencies); {impact}",
                max(weight - 5, 1),
            )
        if known(ca.channel) and known(cb.channel) and ca.channel != cb.channel:
            add(
                "conda-channel-differs",
                "other",
                "env",
                f"channel of {name}",
                ca.channel,
                cb.channel,
                "another channel's build: other dependencies, compilers and CUDA packaging",
                18,
            )


# --- noise -----------------------------------------------------------------------------------------------


def _noise(a: Snapshot, b: Snapshot) -> list[str]:
    noise = []
    if a.created != b.created:
        noise.append("created")
    if a.probe_seconds != b.probe_seconds:
        noise.append("probe timings")
    if a.torchenv_version != b.torchenv_version:
        noise.append("torchenv version")
    if a.origin != b.origin:
        noise.append("origin")
    if (
        known(a.python)
        and known(b.python)
        and (a.python.executable, a.python.prefix) != (b.python.executable, b.python.prefix)
    ):
        noise.append("interpreter paths")
    if known(a.gpus) and known(b.gpus) and _same_models_other_memory(a.gpus, b.gpus):
        noise.append("GPU memory as reported")
    if a.driver.source != b.driver.source:
        noise.append("driver probe source")
    return noise


def _same_models_other_memory(gpus_a, gpus_b) -> bool:
    memory_a = sorted((g.name, str(g.memory_mib)) for g in gpus_a)
    memory_b = sorted((g.name, str(g.memory_mib)) for g in gpus_b)
    return memory_a != memory_b and Counter(g.name for g in gpus_a) == Counter(g.name for g in gpus_b)
