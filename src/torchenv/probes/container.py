"""The container around this process, read from the files the runtimes write (file reads only).

Thin reads under an injectable filesystem `root` and `environ`, each followed by a pure parse, so the
tests run every runtime on a fake tree holding the files as the runtimes really write them.

Which runtime, in this order (the first that answers wins; every one that answered is kept as evidence):

1. apptainer/singularity: `/.singularity.d` (every image has it) or `APPTAINER_CONTAINER`/`SINGULARITY_CONTAINER`;
2. podman (or CRI-O under Kubernetes): `/run/.containerenv`, with `engine="podman-X"` in privileged containers;
3. docker: `/.dockerenv`;
4. `/proc/1/cgroup` and `/proc/self/cgroup` (`/docker/<id>`, `docker-<id>.scope`, `libpod-<id>`,
   `cri-containerd-<id>`, `crio-<id>`, `/lxc/`, `kubepods`), then the root filesystem in
   `/proc/self/mountinfo` (an overlay under `/var/lib/docker`, `/var/lib/containers/storage`, a containerd
   snapshotter);
5. the `container` variable systemd-style engines set (`container=podman`, `lxc`, `systemd-nspawn`).

Kubernetes is the orchestrator, not the runtime: `KUBERNETES_SERVICE_HOST`, the service-account folder or
`kubepods` in the cgroup path say so, and the runtime under it is named when the cgroup path names it.

What the NVIDIA Container Toolkit was asked for are its variables (`NVIDIA_VISIBLE_DEVICES`,
`NVIDIA_DRIVER_CAPABILITIES`, `NVIDIA_REQUIRE_CUDA`, `NVIDIA_DISABLE_REQUIRE`), the k8s device plugin's
volume-mount list and CDI specs; what arrived are `libcuda.so.1`/`libnvidia-ml.so.1`/`nvidia-smi` (and
whether `/proc/self/mountinfo` shows them bind-mounted), the toolkit's tmpfs over `/proc/driver/nvidia`
and the GPUs under it. The device nodes are `HostFacts.dev_nodes`, read once by `read_host`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..model import Unknown
from ..model.container import CdiSpec, CgroupLimits, ContainerFacts, DriverFile

# Where the toolkit, CDI, GKE, apptainer --nv and WSL put the driver's user-space libraries.
LIBRARY_DIRS = (
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/lib/x86_64-linux-gnu",
    "/usr/local/nvidia/lib64",  # GKE's driver installer
    "/.singularity.d/libs",  # apptainer/singularity --nv
    "/usr/lib/wsl/lib",  # WSL 2 (and Docker Desktop's WSL backend with --gpus)
)
BINARY_DIRS = ("/usr/bin", "/usr/local/nvidia/bin", "/usr/lib/wsl/lib")
CDI_DIRS = ("/etc/cdi", "/var/run/cdi", "/run/cdi")
COMPAT_DIRS = ("/usr/local/cuda/compat",)
DEVICE_LIST_DIR = "/var/run/nvidia-container-devices"  # k8s-device-plugin's volume-mounts strategy
V1_UNLIMITED = 1 << 62  # cgroup v1 prints PAGE_COUNTER_MAX * PAGE_SIZE (9223372036854771712) for "no limit"


def _read(root: Path, path: str, limit: int = 1 << 20) -> str | None:
    try:
        with open(root / path.lstrip("/"), "rb") as handle:
            return handle.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return None


def _exists(root: Path, path: str) -> bool:
    return os.path.lexists(root / path.lstrip("/"))


def _listdir(root: Path, path: str) -> list[str]:
    try:
        return sorted(os.listdir(root / path.lstrip("/")))
    except OSError:
        return []


# --- pure parsers ----------------------------------------------------------------------------------


def parse_containerenv(text: str) -> dict[str, str]:
    """podman's /run/.containerenv: `key="value"` lines (empty in unprivileged containers)."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            values[key.strip()] = value.strip().strip('"')
    return values


@dataclass(frozen=True, slots=True)
class Mount:
    root: str  # the path inside the mounted filesystem (a bind mount's source)
    point: str  # where it is mounted
    fstype: str
    source: str
    options: str  # the super-block options (overlay's lowerdir=... lives here)


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal (\\040)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    """proc(5): `ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS`."""
    mounts = []
    for line in text.splitlines():
        head, sep, tail = line.partition(" - ")
        fields = head.split()
        rest = tail.split()
        if not sep or len(fields) < 5 or len(rest) < 2:
            continue
        mounts.append(
            Mount(
                root=_unescape(fields[3]),
                point=_unescape(fields[4]),
                fstype=rest[0],
                source=_unescape(rest[1]),
                options=rest[2] if len(rest) > 2 else "",
            )
        )
    return mounts


# (runtime, orchestrator) from a cgroup path, most specific first.
_CGROUP_SIGNATURES = (
    (re.compile(r"cri-containerd-[0-9a-f]{12,}"), "containerd"),
    (re.compile(r"crio-[0-9a-f]{12,}"), "cri-o"),
    (re.compile(r"/docker/[0-9a-f]{12,}|docker-[0-9a-f]{12,}\.scope"), "docker"),
    (re.compile(r"libpod-[0-9a-f]{12,}|/libpod_parent/"), "podman"),
    (re.compile(r"/lxc/|lxc\.payload"), "lxc"),
    (re.compile(r"containerd"), "containerd"),
)


def runtime_from_cgroup(text: str) -> tuple[str | None, str | None]:
    """(runtime, orchestrator) named by /proc/<pid>/cgroup lines `ID:CONTROLLERS:PATH`."""
    paths = [line.split(":", 2)[2] for line in text.splitlines() if line.count(":") >= 2]
    orchestrator = "kubernetes" if any("kubepods" in p for p in paths) else None
    for pattern, runtime in _CGROUP_SIGNATURES:
        if any(pattern.search(p) for p in paths):
            return runtime, orchestrator
    return ("container" if orchestrator else None), orchestrator


def runtime_from_mounts(mounts: list[Mount]) -> tuple[str | None, str | None]:
    """(runtime, orchestrator) from the root filesystem's overlay layers and the kubelet's bind mounts."""
    orchestrator = "kubernetes" if any("/kubelet/pods/" in m.root for m in mounts) else None
    root = next((m for m in mounts if m.point == "/"), None)
    runtime = None
    if root is not None:
        layers = root.options + " " + root.source
        if "/var/lib/docker/" in layers:
            runtime = "docker"
        elif "/containers/storage/" in layers:
            runtime = "podman"
        elif "io.containerd.snapshotter" in layers or "/containerd/" in layers:
            runtime = "containerd"
    if any("/var/lib/docker/containers/" in m.root for m in mounts):
        runtime = runtime or "docker"
    return runtime, orchestrator


_CDI_NAME = re.compile(r"""^\s*(?:-\s+)?name:\s*["']?([^"'\s#]+)""")
_SO_VERSION = re.compile(r"\.so\.(\d+\.\d+(?:\.\d+)?)$")


def parse_cdi_spec(text: str, path: str) -> CdiSpec | None:
    """A CDI spec in JSON, or in the YAML `nvidia-ctk cdi generate` writes (read line by line: no YAML library)."""
    kind = ""
    devices: list[str] = []
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        kind = str(data.get("kind") or "")
        devices = [str(d.get("name")) for d in data.get("devices") or () if isinstance(d, dict) and d.get("name")]
    else:
        in_devices = False
        for line in text.splitlines():
            if re.match(r"^kind:\s*", line):
                kind = line.split(":", 1)[1].strip().strip("\"'")
            if re.match(r"^[A-Za-z_]", line):  # a top-level key starts or ends the device list
                in_devices = line.startswith("devices:")
                continue
            if in_devices and (m := _CDI_NAME.match(line)):
                devices.append(m.group(1))
    if not kind:
        return None
    driver = re.search(r"libcuda\.so\.(\d+\.\d+(?:\.\d+)?)", text) or re.search(
        r"--host-driver-version=(\d+\.\d+(?:\.\d+)?)", text
    )
    return CdiSpec(path=path, kind=kind, devices=tuple(devices), driver_version=driver.group(1) if driver else None)


def parse_cpu_list(text: str) -> int | None:
    """`0-3,8,10-11` -> 7 (cpuset.cpus)."""
    count = 0
    for part in text.strip().split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            return None
        count += int(high) - int(low) + 1 if high else 1
    return count or None


def parse_cpu_max(text: str) -> float | None:
    """cgroup v2 cpu.max `$MAX $PERIOD` ("max 100000": no quota) -> CPUs."""
    parts = text.split()
    if len(parts) != 2 or parts[0] == "max" or not parts[0].isdigit() or not parts[1].isdigit() or int(parts[1]) == 0:
        return None
    return int(parts[0]) / int(parts[1])


def parse_memory_max(text: str) -> int | None:
    """cgroup v2 memory.max ("max": no limit) or v1 memory.limit_in_bytes (PAGE_COUNTER_MAX: no limit)."""
    value = text.strip()
    if not value.isdigit():
        return None
    number = int(value)
    return None if number >= V1_UNLIMITED else number


# --- reads -----------------------------------------------------------------------------------------


def _tightest(values: list[float | int | None]):
    known_values = [v for v in values if v is not None]
    return min(known_values) if known_values else None


def read_cgroup_limits(root: Path) -> CgroupLimits | Unknown:
    """The limits on this process: cgroup v2 along its path (the tightest wins), else v1's controllers."""
    own = _read(root, "/proc/self/cgroup") or ""
    if _exists(root, "/sys/fs/cgroup/cgroup.controllers"):
        path = next((line.split(":", 2)[2] for line in own.splitlines() if line.startswith("0::")), "/")
        parts = [p for p in path.strip().split("/") if p]
        # From the process's own cgroup up to the namespace root; a path that is not mounted here
        # (a private cgroup namespace shows "/") is skipped.
        folders = ["/sys/fs/cgroup/" + "/".join(parts[:i]) for i in range(len(parts), -1, -1)]
        folders = [f.rstrip("/") for f in folders if _exists(root, f.rstrip("/") + "/cgroup.controllers")]
        memory = [parse_memory_max(t) for f in folders if (t := _read(root, f + "/memory.max")) is not None]
        cpu = [parse_cpu_max(t) for f in folders if (t := _read(root, f + "/cpu.max")) is not None]
        cpuset = next(
            (parse_cpu_list(t) for f in folders if (t := _read(root, f + "/cpuset.cpus.effective")) and t.strip()),
            None,
        )
        return CgroupLimits(
            version=2,
            memory_max_bytes=_tightest(memory),
            cpu_quota=_tightest(cpu),
            cpuset_cpus=cpuset,
            source=f"cgroup v2: {folders[0] if folders else '/sys/fs/cgroup'}",
        )
    memory_text = _read(root, "/sys/fs/cgroup/memory/memory.limit_in_bytes")
    quota = period = None
    for folder in ("/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu"):
        quota, period = _read(root, folder + "/cpu.cfs_quota_us"), _read(root, folder + "/cpu.cfs_period_us")
        if quota is not None and period is not None:
            break
    cpuset_text = _read(root, "/sys/fs/cgroup/cpuset/cpuset.effective_cpus") or _read(
        root, "/sys/fs/cgroup/cpuset/cpuset.cpus"
    )
    if memory_text is None and quota is None:
        return Unknown("no cgroup v2 or v1 controller files under /sys/fs/cgroup")
    cpu_quota = None
    if quota is not None and period is not None and quota.strip().lstrip("-").isdigit() and period.strip().isdigit():
        q, p = int(quota.strip()), int(period.strip())
        cpu_quota = q / p if q > 0 and p > 0 else None
    return CgroupLimits(
        version=1,
        memory_max_bytes=parse_memory_max(memory_text) if memory_text is not None else None,
        cpu_quota=cpu_quota,
        cpuset_cpus=parse_cpu_list(cpuset_text) if cpuset_text and cpuset_text.strip() else None,
        source="cgroup v1: /sys/fs/cgroup/{memory,cpu,cpuset}",
    )


def read_cdi_specs(root: Path) -> tuple[CdiSpec, ...]:
    specs = []
    for folder in CDI_DIRS:
        for name in _listdir(root, folder):
            if not name.endswith((".yaml", ".yml", ".json")):
                continue
            path = f"{folder}/{name}"
            text = _read(root, path)
            spec = parse_cdi_spec(text, path) if text else None
            if spec is not None and not any(s.path == path for s in specs):
                specs.append(spec)
    return tuple(specs)


def _link_version(root: Path, path: str) -> str | None:
    """The driver version a library names: its own name, or where its symlink chain points."""
    name = os.path.basename(path)
    for _ in range(4):
        match = _SO_VERSION.search(name)
        if match and match.group(1).count(".") >= 1 and not match.group(1).startswith("1."):
            return match.group(1)
        try:
            name = os.path.basename(os.readlink(root / path.lstrip("/")))
        except OSError:
            return None
        path = os.path.join(os.path.dirname(path), name)
    return None


def read_driver_files(root: Path, mounts: list[Mount]) -> tuple[DriverFile, ...]:
    points = {m.point for m in mounts}
    found: list[DriverFile] = []
    for stem in ("libcuda", "libnvidia-ml"):
        entry: DriverFile | None = None
        for folder in LIBRARY_DIRS:
            path = f"{folder}/{stem}.so.1"
            if not _exists(root, path):
                continue
            version = _link_version(root, path)
            target = f"{folder}/{stem}.so.{version}" if version else path
            mounted = path in points or target in points
            entry = DriverFile(name=f"{stem}.so.1", path=path, version=version, mounted=mounted)
            break
        if entry is None:  # the toolkit mounted the versioned file, but no .so.1 link was made
            mounted = [m.point for m in mounts if re.search(rf"/{re.escape(stem)}\.so\.\d+\.\d+", m.point)]
            mounted = [p for p in mounted if "/compat/" not in p]
            if mounted:
                entry = DriverFile(
                    name=f"{stem}.so.1", path=mounted[0], version=_link_version(root, mounted[0]), mounted=True
                )
        if entry is not None:
            found.append(entry)
    for folder in BINARY_DIRS:
        path = f"{folder}/nvidia-smi"
        if _exists(root, path):
            found.append(DriverFile(name="nvidia-smi", path=path, version=None, mounted=path in points))
            break
    return tuple(found)


def read_compat_libcuda(root: Path) -> str | None:
    for folder in COMPAT_DIRS:
        for name in _listdir(root, folder):
            if name.startswith("libcuda.so.") and (version := _link_version(root, f"{folder}/{name}")):
                return version
    return None


def _runtime(
    root: Path, environ: Mapping[str, str], mounts: list[Mount]
) -> tuple[str | None, str | None, str | None, list[str]]:
    """(runtime, orchestrator, engine, evidence), in the order the module docstring gives."""
    evidence: list[str] = []
    runtime: str | None = None
    engine: str | None = None
    orchestrator: str | None = None
    if environ.get("KUBERNETES_SERVICE_HOST"):
        orchestrator = "kubernetes"
        evidence.append("KUBERNETES_SERVICE_HOST is set")
    if _exists(root, "/var/run/secrets/kubernetes.io/serviceaccount"):
        orchestrator = "kubernetes"
        evidence.append("/var/run/secrets/kubernetes.io/serviceaccount")
    apptainer = environ.get("APPTAINER_CONTAINER") or environ.get("APPTAINER_NAME")
    singularity = environ.get("SINGULARITY_CONTAINER") or environ.get("SINGULARITY_NAME")
    if _exists(root, "/.singularity.d") or apptainer or singularity:
        runtime = "apptainer" if apptainer or not singularity else "singularity"
        evidence.append("/.singularity.d" if _exists(root, "/.singularity.d") else "APPTAINER_CONTAINER is set")
    containerenv = _read(root, "/run/.containerenv")
    if containerenv is not None:
        values = parse_containerenv(containerenv)
        engine = values.get("engine") or None
        evidence.append("/run/.containerenv" + (f": engine={engine}" if engine else ""))
        runtime = runtime or ("cri-o" if orchestrator and not (engine or "").startswith("podman") else "podman")
    if _exists(root, "/.dockerenv"):
        evidence.append("/.dockerenv")
        runtime = runtime or "docker"
    for path in ("/proc/1/cgroup", "/proc/self/cgroup"):
        text = _read(root, path)
        if not text:
            continue
        named, orchestrated = runtime_from_cgroup(text)
        if named or orchestrated:
            evidence.append(f"{path}: {named or 'container'}" + (" under kubepods" if orchestrated else ""))
            orchestrator = orchestrator or orchestrated
            if runtime is None or (runtime == "container" and named != "container"):
                runtime = named
            break
    named, orchestrated = runtime_from_mounts(mounts)
    if named or orchestrated:
        evidence.append(f"/proc/self/mountinfo: {named or 'kubelet'} mounts")
        orchestrator = orchestrator or orchestrated
        if runtime in (None, "container") and named:
            runtime = named
    if runtime is None and environ.get("container"):
        runtime = {"oci": "container"}.get(environ["container"], environ["container"])
        evidence.append(f"container={environ['container']}")
    if runtime is None and orchestrator:
        runtime = "container"
    return runtime, orchestrator, engine, evidence


def _platform(root: Path, environ: Mapping[str, str]) -> str | None:
    if environ.get("COLAB_RELEASE_TAG") or "COLAB_GPU" in environ or environ.get("COLAB_BACKEND_VERSION"):
        return "colab"
    if environ.get("KAGGLE_KERNEL_RUN_TYPE") or environ.get("KAGGLE_URL_BASE") or _exists(root, "/kaggle/working"):
        return "kaggle"
    return None


def read_container_facts(root: Path, environ: Mapping[str, str]) -> ContainerFacts:
    mountinfo = _read(root, "/proc/self/mountinfo")
    mounts = parse_mountinfo(mountinfo) if mountinfo else []
    runtime, orchestrator, engine, evidence = _runtime(root, environ, mounts)
    platform = _platform(root, environ)
    if runtime is None and platform:  # hosted notebooks run their kernels in containers
        runtime = "container"
        evidence.append(f"a {platform} notebook")
    kernel = _read(root, "/proc/sys/kernel/osrelease") or ""
    visible = environ.get("NVIDIA_VISIBLE_DEVICES")
    requested = tuple(_listdir(root, DEVICE_LIST_DIR)) if visible and visible.startswith(DEVICE_LIST_DIR) else ()
    if any(m.point == "/proc/driver/nvidia" and m.fstype == "tmpfs" for m in mounts):
        proc_driver = "injected"
    elif _exists(root, "/proc/driver/nvidia/version"):
        proc_driver = "host"
    else:
        proc_driver = "absent"
    return ContainerFacts(
        runtime=runtime,
        evidence=tuple(evidence),
        orchestrator=orchestrator,
        engine=engine,
        wsl=runtime is not None and bool(re.search(r"microsoft", kernel, re.I)),
        platform=platform,
        visible_devices=visible,
        driver_capabilities=environ.get("NVIDIA_DRIVER_CAPABILITIES"),
        cuda_version=environ.get("CUDA_VERSION") or None,
        require_cuda=environ.get("NVIDIA_REQUIRE_CUDA") or None,
        disable_require=environ.get("NVIDIA_DISABLE_REQUIRE", "").lower() in ("1", "true", "yes"),
        requested_devices=requested,
        cdi_specs=read_cdi_specs(root),
        driver_files=read_driver_files(root, mounts),
        proc_driver=proc_driver,
        proc_gpus=tuple(_listdir(root, "/proc/driver/nvidia/gpus")),
        compat_libcuda=read_compat_libcuda(root),
        cgroup=read_cgroup_limits(root),
        mounts_read=mountinfo is not None,
    )


def host_container_label(container: ContainerFacts) -> str | None:
    """What HostFacts.container says (one answer with this probe): the orchestrator, else the runtime."""
    return container.orchestrator or container.runtime


def raw_readings(root: Path, environ: Mapping[str, str]) -> dict[str, object]:
    """Every file and variable the probe reads, as read (for the device script and bug reports)."""
    files = [
        "/.dockerenv",
        "/run/.containerenv",
        "/.singularity.d",
        "/proc/1/cgroup",
        "/proc/self/cgroup",
        "/proc/self/mountinfo",
        "/proc/driver/nvidia/version",
        "/proc/sys/kernel/osrelease",
        "/sys/fs/cgroup/cgroup.controllers",
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/cpu.max",
        "/sys/fs/cgroup/cpuset.cpus.effective",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
        "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
        "/sys/fs/cgroup/cpu/cpu.cfs_period_us",
    ]
    readings: dict[str, object] = {}
    for path in files:
        if (root / path.lstrip("/")).is_dir():
            readings[path] = {"folder": _listdir(root, path)}
        else:
            text = _read(root, path, 1 << 16)
            readings[path] = text if text is not None else None
    readings["/proc/driver/nvidia/gpus"] = _listdir(root, "/proc/driver/nvidia/gpus")
    readings["/dev (nvidia*, dxg)"] = [n for n in _listdir(root, "/dev") if n.startswith("nvidia") or n == "dxg"]
    readings["cdi"] = {f: _listdir(root, f) for f in CDI_DIRS}
    readings["libraries"] = {
        f"{folder}/{stem}": {
            "exists": _exists(root, f"{folder}/{stem}"),
            "link": _readlink(root, f"{folder}/{stem}"),
        }
        for folder in LIBRARY_DIRS
        for stem in ("libcuda.so.1", "libnvidia-ml.so.1")
        if _exists(root, f"{folder}/{stem}")
    }
    watched = re.compile(
        r"^(NVIDIA_\w+|CUDA_VERSION|KUBERNETES_SERVICE_HOST|APPTAINER_\w+|SINGULARITY_\w+|COLAB_\w+|KAGGLE_\w+|container)$"
    )
    readings["environment"] = {k: v for k, v in sorted(environ.items()) if watched.match(k)}
    return readings


def _readlink(root: Path, path: str) -> str | None:
    try:
        return os.readlink(root / path.lstrip("/"))
    except OSError:
        return None


__all__ = [
    "Mount",
    "host_container_label",
    "parse_cdi_spec",
    "parse_containerenv",
    "parse_cpu_list",
    "parse_cpu_max",
    "parse_memory_max",
    "parse_mountinfo",
    "raw_readings",
    "read_cgroup_limits",
    "read_container_facts",
    "runtime_from_cgroup",
    "runtime_from_mounts",
]
