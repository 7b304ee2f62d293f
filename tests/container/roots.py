"""Injected filesystem roots holding the files container runtimes really write, one per situation.

Every root is a dict of path -> content (a str is a file, `Link(target)` a symlink, `DIR` a folder) plus
the process environment, and names its source in `SOURCES` (also in tests/container/README.md). Where a
file could not be copied from a capture (a mountinfo of a GPU container), it is assembled in the format
the kernel documents from the mount list a real run logged, and the source says so.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from torchenv.model import Facts, Unknown
from torchenv.probes.container import host_container_label, read_container_facts
from torchenv.probes.gpu import NvmlAnswer, read_driver_and_gpus
from torchenv.probes.runner import RunResult
from torchenv.probes.system import read_environment, read_host

# The captures of ../shared/fixtures are copied into tests/fixtures (CI has only the repository).
SHARED = Path(__file__).resolve().parents[1] / "fixtures"
DIR = object()


@dataclass(frozen=True)
class Link:
    target: str


@dataclass(frozen=True)
class Root:
    name: str
    files: dict[str, object]
    environ: dict[str, str] = field(default_factory=dict)
    source: str = ""


def write_root(base: Path, root: Root) -> Path:
    for relative, content in root.files.items():
        path = base / relative.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is DIR:
            path.mkdir(parents=True, exist_ok=True)
        elif isinstance(content, Link):
            path.symlink_to(content.target)
        else:
            path.write_text(str(content))
    (base / "dev").mkdir(exist_ok=True)
    return base


class NoNvidiaSmi:
    """The runner for nvidia-smi on a machine where it is not installed (the checks then use the files)."""

    def run(self, argv, timeout, **kwargs):
        return RunResult(tuple(argv), None, "", "", 0.0, error="not found")


NO_NVML = NvmlAnswer(driver=None, cuda_driver=None, gpus=None, error="NVML Shared Library Not Found")


def facts_for(base: Path, environ: dict[str, str], *, nvml: NvmlAnswer = NO_NVML) -> Facts:
    """The facts the probes read from an injected root, without the target-interpreter probe."""
    host = read_host(base, environ)
    container = read_container_facts(base, environ)
    host = dataclasses.replace(host, container=host_container_label(container))
    driver, gpus = read_driver_and_gpus(base, NoNvidiaSmi(), timeout=1.0, nvml=nvml, env=environ)
    return Facts(
        host=host,
        driver=driver,
        gpus=gpus,
        environment=read_environment(environ),
        system_libraries=Unknown("not read in these tests"),
        cuda_toolkits=(),
        python=Unknown("not probed in these tests"),
        shell=Unknown("not probed in these tests"),
        torch=Unknown("skipped (--no-torch)"),
        container=container,
    )


# --- pieces shared by several roots -----------------------------------------------------------------

# /proc/driver/nvidia/version of the lent H100 (tests/fixtures/h100-cu130/proc-driver-nvidia-version.txt).
H100_PROC_VERSION = (SHARED / "h100-cu130" / "proc-driver-nvidia-version.txt").read_text()
H100_DRIVER = "580.159.04"
# The H100 capture's CUDA image variables (tests/fixtures/h100-cu130/env-cuda-vars.txt), as the image set them.
H100_IMAGE_ENV = {
    "CUDA_VERSION": "13.0.2",
    "NVIDIA_DRIVER_CAPABILITIES": "compute,graphics,utility",
    "NVIDIA_VISIBLE_DEVICES": "0",
    "NVIDIA_PRODUCT_NAME": "CUDA",
    "LD_LIBRARY_PATH": "/usr/local/nvidia/lib64:/usr/local/nvidia/lib",
    "PATH": "/opt/torch/.venv/bin:/usr/local/nvidia/bin:/usr/local/cuda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
}
# nvidia/cuda:12.4.1-runtime-ubuntu22.04's ENV (the same variables the e2e container test uses).
CUDA_IMAGE_ENV = {
    "NVIDIA_VISIBLE_DEVICES": "all",
    "NVIDIA_DRIVER_CAPABILITIES": "compute,utility",
    "CUDA_VERSION": "12.4.1",
    "NVIDIA_REQUIRE_CUDA": "cuda>=12.4 brand=tesla,driver>=470,driver<471 brand=unknown,driver>=470,driver<471",
    "PATH": "/usr/local/nvidia/bin:/usr/local/cuda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
}
PLAIN_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root"}

# The host's H100 on the PCI bus as /sys shows it inside any container (sysfs is the host's, read-only).
H100_SYSFS = {
    "/sys/bus/pci/devices/0000:00:06.0/vendor": "0x10de\n",
    "/sys/bus/pci/devices/0000:00:06.0/device": "0x2330\n",
    "/sys/bus/pci/devices/0000:00:06.0/class": "0x030200\n",
    "/sys/bus/pci/devices/0000:00:06.0/driver": Link("../../../bus/pci/drivers/nvidia"),
    "/sys/bus/pci/drivers/nvidia": DIR,
    "/sys/module/nvidia/version": H100_DRIVER + "\n",
}
# /dev/nvidia* as `ls -la /dev/nvidia*` showed them (tests/fixtures/h100-cu130/dev-nvidia-ls.txt).
H100_DEV = {
    "/dev/nvidia0": "",
    "/dev/nvidiactl": "",
    "/dev/nvidia-uvm": "",
    "/dev/nvidia-uvm-tools": "",
    "/dev/nvidia-caps/nvidia-cap1": "",
    "/dev/nvidia-caps/nvidia-cap2": "",
}
# cgroup v2 with a private cgroup namespace (docker's default on v2): /proc/self/cgroup is "0::/" and the
# container's own limits are the namespace root's files. Formats: Documentation/admin-guide/cgroup-v2.rst.
CGROUP_V2_UNLIMITED = {
    "/proc/self/cgroup": "0::/\n",
    "/proc/1/cgroup": "0::/\n",
    "/sys/fs/cgroup/cgroup.controllers": "cpuset cpu io memory hugetlb pids rdma misc\n",
    "/sys/fs/cgroup/memory.max": "max\n",
    "/sys/fs/cgroup/cpu.max": "max 100000\n",
    "/sys/fs/cgroup/cpuset.cpus.effective": "0-15\n",
}
CONTAINER_ID = "3f1c2b9d8e7a6f5041c3b2a190817263544536271809aabbccddeeff00112233"


def docker_mountinfo(*, gpu: bool, driver: str = H100_DRIVER, bus: str = "0000:00:06.0", without: str = "") -> str:
    """A docker container's /proc/self/mountinfo (proc(5) format). The layout (root overlay under
    /var/lib/docker/overlay2, 64 MiB /dev/shm, resolv.conf from /var/lib/docker/containers, and for GPU
    containers the bind-mounted nvidia-smi and libcuda plus a mode=555 tmpfs on /proc/driver/nvidia) follows
    a published test fixture of a GPU docker container's mountinfo (Unraid 7) and the mounts
    libnvidia-container logs (NVIDIA/nvidia-docker#1469, #1671: "mounting tmpfs at .../proc/driver/nvidia",
    "mounting /usr/bin/nvidia-smi", "mounting /dev/nvidia0", "mounting /proc/driver/nvidia/gpus/<bus>")."""
    lines = [
        "2301 1892 0:48 / / rw,relatime master:1090 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/QJ7V4RW2ZCIR3HE6DUSF2X4M7P:/var/lib/docker/overlay2/l/5N3BLS2KOFIQU5UN2TSDSJR6NW,upperdir=/var/lib/docker/overlay2/8f3e0c/diff,workdir=/var/lib/docker/overlay2/8f3e0c/work",
        "2302 2301 0:52 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw",
        "2303 2301 0:53 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755",
        "2304 2303 0:54 / /dev/pts rw,nosuid,noexec,relatime - devpts devpts rw,gid=5,mode=620,ptmxmode=666",
        "2305 2301 0:55 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro",
        "2306 2305 0:25 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw",
        "2308 2303 0:56 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k",
        f"2309 2301 259:1 /var/lib/docker/containers/{CONTAINER_ID}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/nvme0n1p1 rw",
        f"2310 2301 259:1 /var/lib/docker/containers/{CONTAINER_ID}/hostname /etc/hostname rw,relatime - ext4 /dev/nvme0n1p1 rw",
    ]
    if gpu:
        lines += [
            "2322 2301 259:1 /usr/bin/nvidia-smi /usr/bin/nvidia-smi ro,nosuid,nodev,relatime - ext4 /dev/nvme0n1p1 rw",
            f"2323 2301 259:1 /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.{driver} /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.{driver} ro,nosuid,nodev,relatime - ext4 /dev/nvme0n1p1 rw",
            f"2324 2301 259:1 /usr/lib/x86_64-linux-gnu/libcuda.so.{driver} /usr/lib/x86_64-linux-gnu/libcuda.so.{driver} ro,nosuid,nodev,relatime - ext4 /dev/nvme0n1p1 rw",
            "2325 2301 0:59 / /run/nvidia-persistenced/socket rw,nosuid,nodev,noexec - tmpfs tmpfs rw,mode=755",
            "2326 2302 0:60 / /proc/driver/nvidia rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=555",
            "2327 2303 0:5 /nvidiactl /dev/nvidiactl ro,nosuid,noexec,relatime - devtmpfs udev rw,size=4027396k,nr_inodes=1006849,mode=755",
            "2328 2303 0:5 /nvidia-uvm /dev/nvidia-uvm ro,nosuid,noexec,relatime - devtmpfs udev rw,size=4027396k,nr_inodes=1006849,mode=755",
            "2329 2303 0:5 /nvidia0 /dev/nvidia0 ro,nosuid,noexec,relatime - devtmpfs udev rw,size=4027396k,nr_inodes=1006849,mode=755",
            f"2330 2326 0:22 /driver/nvidia/gpus/{bus} /proc/driver/nvidia/gpus/{bus} ro,nosuid,nodev,noexec,relatime - proc proc rw",
        ]
    if without:  # a capability left out: the toolkit does not mount its files
        lines = [line for line in lines if without not in line]
    return "\n".join(lines) + "\n"


def toolkit_libraries(driver: str = H100_DRIVER, folder: str = "/usr/lib/x86_64-linux-gnu") -> dict[str, object]:
    """The driver files the toolkit mounts, with the .so.1 links its ldconfig run creates."""
    return {
        f"{folder}/libcuda.so.{driver}": "",
        f"{folder}/libcuda.so.1": Link(f"libcuda.so.{driver}"),
        f"{folder}/libnvidia-ml.so.{driver}": "",
        f"{folder}/libnvidia-ml.so.1": Link(f"libnvidia-ml.so.{driver}"),
        "/usr/bin/nvidia-smi": "",
    }


# The CDI spec `nvidia-ctk cdi generate` wrote on an EC2 g4dn.xlarge (Tesla T4, driver 570.133.20), as
# printed in Docker's documentation of CDI builds (docs.docker.com, build/building/cdi), trimmed to the
# structure the probe reads: top-level containerEdits (env NVIDIA_VISIBLE_DEVICES=void, hooks with
# --host-driver-version, library mounts) and the devices "0", the GPU's UUID and "all".
CDI_SPEC_G4DN = """\
cdiVersion: 0.6.0
containerEdits:
  deviceNodes:
  - path: /dev/nvidia-modeset
  - path: /dev/nvidia-uvm
  - path: /dev/nvidia-uvm-tools
  - path: /dev/nvidiactl
  env:
  - NVIDIA_VISIBLE_DEVICES=void
  hooks:
  - args:
    - nvidia-cdi-hook
    - create-symlinks
    - --link
    - libcuda.so.1::/usr/lib/x86_64-linux-gnu/libcuda.so
    hookName: createContainer
    path: /usr/bin/nvidia-cdi-hook
  - args:
    - nvidia-cdi-hook
    - enable-cuda-compat
    - --host-driver-version=570.133.20
    hookName: createContainer
    path: /usr/bin/nvidia-cdi-hook
  mounts:
  - containerPath: /usr/bin/nvidia-smi
    hostPath: /usr/bin/nvidia-smi
    options:
    - ro
    - nosuid
    - nodev
    - bind
  - containerPath: /usr/lib/x86_64-linux-gnu/libcuda.so.570.133.20
    hostPath: /usr/lib/x86_64-linux-gnu/libcuda.so.570.133.20
    options:
    - ro
    - nosuid
    - nodev
    - bind
  - containerPath: /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.570.133.20
    hostPath: /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.570.133.20
    options:
    - ro
    - nosuid
    - nodev
    - bind
devices:
- containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
  name: "0"
- containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
  name: GPU-6cf00fa7-59ac-16f2-3e83-d24ccdc56f84
- containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
  name: all
kind: nvidia.com/gpu
"""
# The same shape in JSON (CDI specs may be JSON; the layout of a public JSON spec with devices "0", a
# UUID and "all" and NVIDIA_VISIBLE_DEVICES=void in its containerEdits).
CDI_SPEC_JSON = """{
  "cdiVersion": "0.5.0",
  "kind": "nvidia.com/gpu",
  "devices": [
    {"name": "0", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia0"}]}},
    {"name": "GPU-955ef018-3bd9-5f27-80b3-fa20ee8d19c5", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia0"}]}},
    {"name": "all", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia0"}]}}
  ],
  "containerEdits": {
    "env": ["NVIDIA_VISIBLE_DEVICES=void"],
    "mounts": [{"hostPath": "/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15",
                "containerPath": "/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15", "options": ["ro", "nosuid", "nodev", "bind"]}]
  }
}
"""

# podman's /run/.containerenv in a privileged container (libpod container_internal_common.go:
# engine="podman-%s", name, id, image, imageid, rootless); unprivileged containers get an empty file.
PODMAN_CONTAINERENV = (
    'engine="podman-5.2.2"\nname="torch"\nid="4b2d7e0c9a1f"\n'
    'image="docker.io/pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime"\nimageid="a1b2c3d4e5f6"\nrootless=1\n'
)
PODMAN_MOUNTINFO = (
    "1186 1031 0:59 / / rw,relatime - overlay overlay rw,lowerdir=/home/u/.local/share/containers/storage/overlay/l/Z3YLXQ5:/home/u/.local/share/containers/storage/overlay/l/7TQ2KZC,upperdir=/home/u/.local/share/containers/storage/overlay/5f1e/diff,workdir=/home/u/.local/share/containers/storage/overlay/5f1e/work\n"
    "1187 1186 0:62 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "1190 1186 0:63 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755,uid=1000,gid=1000\n"
    "1196 1190 0:61 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=64000k,uid=1000,gid=1000\n"
    "1199 1186 0:26 /user/1000/containers/overlay-containers/4b2d7e0c9a1f/userdata/.containerenv /run/.containerenv rw,nosuid,nodev,relatime - tmpfs tmpfs rw,size=3270336k,mode=700,uid=1000,gid=1000\n"
)
# A Kubernetes pod on containerd: the root is a containerd snapshot, /etc/hosts and the termination log
# come from the kubelet's pod folder (layout of a pod's mountinfo; paths as containerd and the kubelet name them).
POD_UID = "2f0e4c1a-8d3b-4b6e-9f7a-1c2d3e4f5a6b"
K8S_MOUNTINFO = (
    "2201 2150 0:301 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/27/fs:/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/26/fs,upperdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/31/fs,workdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/31/work\n"
    "2202 2201 0:302 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "2203 2201 0:303 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755\n"
    f"2210 2201 259:1 /var/lib/kubelet/pods/{POD_UID}/etc-hosts /etc/hosts rw,relatime - ext4 /dev/nvme0n1p1 rw\n"
    f"2211 2203 259:1 /var/lib/kubelet/pods/{POD_UID}/containers/trainer/8d1f0a2b /dev/termination-log rw,relatime - ext4 /dev/nvme0n1p1 rw\n"
    "2212 2201 0:290 / /var/run/secrets/kubernetes.io/serviceaccount ro,relatime - tmpfs tmpfs rw,size=16384k\n"
)
K8S_ENV = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443", **PLAIN_ENV}
K8S_SERVICE_ACCOUNT = {
    "/var/run/secrets/kubernetes.io/serviceaccount/namespace": "default",
    "/var/run/secrets/kubernetes.io/serviceaccount/token": "eyJhbGciOiJSUzI1NiJ9.test.signature",
}
# A UUID of the device plugin's envvar strategy (the GPU listed in NVIDIA/nvidia-container-toolkit#1099's log).
K8S_GPU_UUID = "GPU-955d065f-1825-3dad-dc6f-d439caa7fd7e"
# The pod's limits.cpu: 4 and limits.memory: 16Gi as cgroup v2 files (cpu.max "$MAX $PERIOD").
K8S_CGROUP = {
    **CGROUP_V2_UNLIMITED,
    "/sys/fs/cgroup/memory.max": "17179869184\n",
    "/sys/fs/cgroup/cpu.max": "400000 100000\n",
}
# cgroup v1 paths of a pod on the cgroupfs driver and of a CRI-O container on the systemd driver.
K8S_V1_CGROUP = (
    f"12:memory:/kubepods/burstable/pod{POD_UID}/e5c3a8f19b2d4c6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6\n"
    f"4:cpu,cpuacct:/kubepods/burstable/pod{POD_UID}/e5c3a8f19b2d4c6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6\n"
    "0::/\n"
)
CRIO_CGROUP = (
    "11:memory:/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod2f0e4c1a_8d3b.slice/"
    "crio-9c1b2a3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9.scope\n"
)
# cgroup v1 docker: /proc/self/cgroup names /docker/<id>; `docker run --cpus 2 --memory 8g` on a 64-CPU host.
DOCKER_V1_CGROUP = {
    "/proc/self/cgroup": f"12:memory:/docker/{CONTAINER_ID}\n4:cpu,cpuacct:/docker/{CONTAINER_ID}\n3:cpuset:/docker/{CONTAINER_ID}\n",
    "/proc/1/cgroup": f"12:memory:/docker/{CONTAINER_ID}\n",
    "/sys/fs/cgroup/memory/memory.limit_in_bytes": "8589934592\n",
    "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "200000\n",
    "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
    "/sys/fs/cgroup/cpuset/cpuset.effective_cpus": "0-63\n",
}
# apptainer's image metadata folder (apptainer docs: /.singularity.d with actions/, env/, libs/, runscript,
# labels.json) and the variables it sets inside (APPTAINER_CONTAINER, APPTAINER_NAME; its env tests).
APPTAINER_FILES = {
    "/.singularity.d/actions/exec": "#!/bin/sh\n",
    "/.singularity.d/env/10-docker2singularity.sh": 'export CUDA_VERSION="${CUDA_VERSION:-12.4.1}"\n',
    "/.singularity.d/env/90-environment.sh": "#!/bin/sh\n",
    "/.singularity.d/libs": DIR,
    "/.singularity.d/runscript": '#!/bin/sh\nexec /bin/bash "$@"\n',
    "/.singularity.d/labels.json": '{"org.label-schema.schema-version": "1.0"}\n',
    "/.singularity.d/Singularity": "bootstrap: docker\nfrom: nvcr.io/nvidia/pytorch:24.05-py3\n",
}
APPTAINER_ENV = {
    "APPTAINER_CONTAINER": "/home/u/pytorch_24.05-py3.sif",
    "APPTAINER_NAME": "pytorch_24.05-py3.sif",
    "SINGULARITY_CONTAINER": "/home/u/pytorch_24.05-py3.sif",
    "SINGULARITY_NAME": "pytorch_24.05-py3.sif",
    "CUDA_VERSION": "12.4.1",
    **PLAIN_ENV,
}
WSL_KERNEL = "5.15.167.4-microsoft-standard-WSL2\n"  # Docker Desktop's WSL 2 kernel (uname -r)


def roots() -> dict[str, Root]:
    r: dict[str, Root] = {}

    def add(name, files, environ, source):
        r[name] = Root(name, files, environ, source)

    add(
        "docker-gpu",
        {
            "/.dockerenv": "",
            **CGROUP_V2_UNLIMITED,
            "/proc/self/mountinfo": docker_mountinfo(gpu=True),
            "/proc/driver/nvidia/version": H100_PROC_VERSION,
            "/proc/driver/nvidia/gpus/0000:00:06.0/information": "Model: \t\t NVIDIA H100 80GB HBM3\n",
            "/proc/sys/kernel/osrelease": "6.8.0-1021-gcp\n",
            **H100_SYSFS,
            **H100_DEV,
            **toolkit_libraries(),
        },
        H100_IMAGE_ENV,
        "the lent H100 container: variables, /proc/driver/nvidia/version and /dev from tests/fixtures/h100-cu130; "
        "mountinfo per docker_mountinfo(); /.dockerenv (an empty file docker creates)",
    )
    add(
        "docker-no-gpus-on-gpu-host",
        {
            "/.dockerenv": "",
            **CGROUP_V2_UNLIMITED,
            "/proc/self/mountinfo": docker_mountinfo(gpu=False),
            "/proc/driver/nvidia/version": H100_PROC_VERSION,  # /proc/driver is not masked: the host's shows through
            "/proc/sys/kernel/osrelease": "6.8.0-1021-gcp\n",
            **H100_SYSFS,
        },
        PLAIN_ENV,
        "`docker run python:3.12` on the H100 host: no toolkit mounts, the host's /sys and /proc/driver/nvidia "
        "visible (docker masks /proc/kcore, /proc/keys, /proc/timer_list, /proc/acpi, not /proc/driver)",
    )
    add(
        "docker-cuda-image-cpu-host",
        {"/.dockerenv": "", **CGROUP_V2_UNLIMITED, "/proc/self/mountinfo": docker_mountinfo(gpu=False)},
        CUDA_IMAGE_ENV,
        "nvidia/cuda:12.4.1-runtime started without --gpus on a machine without an NVIDIA GPU",
    )
    add(
        "docker-capabilities-video",
        {
            "/.dockerenv": "",
            **CGROUP_V2_UNLIMITED,
            "/proc/self/mountinfo": docker_mountinfo(gpu=True, without="libcuda"),
            "/proc/driver/nvidia/version": H100_PROC_VERSION,
            **H100_SYSFS,
            **H100_DEV,
            **{k: v for k, v in toolkit_libraries().items() if "libcuda" not in k},
        },
        {**CUDA_IMAGE_ENV, "NVIDIA_DRIVER_CAPABILITIES": "video,utility"},
        "`docker run --gpus all` of an image with NVIDIA_DRIVER_CAPABILITIES=video,utility: the toolkit mounts "
        "nvidia-smi and NVML but no libcuda (capabilities per the toolkit's docker-specialized docs)",
    )
    add(
        "docker-capabilities-compute-only",
        {
            "/.dockerenv": "",
            **CGROUP_V2_UNLIMITED,
            **H100_SYSFS,
            **H100_DEV,
            **{k: v for k, v in toolkit_libraries().items() if "nvidia-smi" not in k and "nvidia-ml" not in k},
        },
        {**CUDA_IMAGE_ENV, "NVIDIA_DRIVER_CAPABILITIES": "compute"},
        "`docker run --gpus all -e NVIDIA_DRIVER_CAPABILITIES=compute`: libcuda without nvidia-smi/NVML",
    )
    add(
        "docker-manual-device",
        {
            "/.dockerenv": "",
            **CGROUP_V2_UNLIMITED,
            "/proc/self/mountinfo": docker_mountinfo(gpu=False),
            **H100_SYSFS,
            **H100_DEV,
        },
        PLAIN_ENV,
        "`docker run --device /dev/nvidia0 --device /dev/nvidiactl --device /dev/nvidia-uvm` without the toolkit: "
        "nodes, no driver libraries",
    )
    add(
        "docker-cuda-newer-than-driver",
        {
            "/.dockerenv": "",
            **CGROUP_V2_UNLIMITED,
            "/proc/self/mountinfo": docker_mountinfo(gpu=True, driver="535.104.05"),
            "/proc/driver/nvidia/version": "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023\n"
            "GCC version:  gcc version 12.3.0 (Ubuntu 12.3.0-1ubuntu1~22.04)\n",
            **H100_DEV,
            **toolkit_libraries("535.104.05"),
            "/usr/local/cuda/compat/libcuda.so.580.65.06": "",
            "/usr/local/cuda/compat/libcuda.so.1": Link("libcuda.so.580.65.06"),
        },
        {
            **CUDA_IMAGE_ENV,
            "CUDA_VERSION": "13.0.2",
            "NVIDIA_REQUIRE_CUDA": "cuda>=13.0",
            "NVIDIA_DISABLE_REQUIRE": "1",
        },
        "nvidia/cuda:13.0.2 (with its cuda-compat package in /usr/local/cuda/compat) on a driver 535.104.05 host, "
        "started with NVIDIA_DISABLE_REQUIRE=1 (else the toolkit refuses: 'unsatisfied condition: cuda>=13.0'); "
        "the 535 /proc/driver/nvidia/version line in the proprietary module's format",
    )
    add(
        "docker-cgroup-v1-limits",
        {"/.dockerenv": "", **DOCKER_V1_CGROUP, **H100_SYSFS, **H100_DEV, **toolkit_libraries()},
        H100_IMAGE_ENV,
        "`docker run --gpus all --cpus 2 --memory 8g` on cgroup v1 (memory.limit_in_bytes, cpu.cfs_quota_us/period_us "
        "per Documentation/admin-guide/cgroup-v1)",
    )
    add(
        "docker-desktop-wsl-gpu",
        {
            "/.dockerenv": "",
            **CGROUP_V2_UNLIMITED,
            "/proc/sys/kernel/osrelease": WSL_KERNEL,
            "/dev/dxg": "",
            "/usr/lib/wsl/lib/libcuda.so.1": "",
            "/usr/lib/wsl/lib/libcuda.so.1.1": "",
            "/usr/lib/wsl/lib/nvidia-smi": "",
        },
        CUDA_IMAGE_ENV,
        "Docker Desktop's WSL 2 backend with --gpus all: /dev/dxg and the Windows driver's /usr/lib/wsl/lib",
    )
    add(
        "docker-desktop-wsl-no-gpus",
        {"/.dockerenv": "", **CGROUP_V2_UNLIMITED, "/proc/sys/kernel/osrelease": WSL_KERNEL},
        CUDA_IMAGE_ENV,
        "the same image without --gpus: no /dev/dxg, no /usr/lib/wsl",
    )
    add(
        "podman-cdi-gpu",
        {
            "/run/.containerenv": "",
            **CGROUP_V2_UNLIMITED,
            "/proc/self/mountinfo": PODMAN_MOUNTINFO,
            **H100_DEV,
            **toolkit_libraries("570.133.20"),
        },
        {"NVIDIA_VISIBLE_DEVICES": "void", **PLAIN_ENV},
        "rootless `podman run --device nvidia.com/gpu=all`: an empty /run/.containerenv (unprivileged), "
        "NVIDIA_VISIBLE_DEVICES=void from the CDI spec's containerEdits, the spec's device nodes and mounts",
    )
    add(
        "podman-privileged-no-gpus",
        {
            "/run/.containerenv": PODMAN_CONTAINERENV,
            **CGROUP_V2_UNLIMITED,
            "/proc/self/mountinfo": PODMAN_MOUNTINFO,
            "/proc/driver/nvidia/version": H100_PROC_VERSION,
            **H100_SYSFS,
        },
        {"NVIDIA_VISIBLE_DEVICES": "all", "NVIDIA_DRIVER_CAPABILITIES": "compute,utility", **PLAIN_ENV},
        "`podman run --privileged pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime` on the H100 host without "
        "--device nvidia.com/gpu=all; .containerenv as libpod writes it for privileged containers",
    )
    add(
        "k8s-containerd-gpu-not-injected",
        {**K8S_SERVICE_ACCOUNT, **K8S_CGROUP, "/proc/self/mountinfo": K8S_MOUNTINFO, **H100_SYSFS},
        {**K8S_ENV, "NVIDIA_VISIBLE_DEVICES": K8S_GPU_UUID, "NVIDIA_DRIVER_CAPABILITIES": "compute,utility"},
        "a pod with limits nvidia.com/gpu: 1 on a node whose containerd runs runc: the device plugin's envvar "
        "strategy set NVIDIA_VISIBLE_DEVICES to the allocated UUID, no runtime hook ran",
    )
    add(
        "k8s-volume-mounts-not-injected",
        {
            **K8S_SERVICE_ACCOUNT,
            **K8S_CGROUP,
            "/proc/self/mountinfo": K8S_MOUNTINFO,
            f"/var/run/nvidia-container-devices/{K8S_GPU_UUID}": "",
        },
        {**K8S_ENV, "NVIDIA_VISIBLE_DEVICES": "/var/run/nvidia-container-devices"},
        "the device plugin's volume-mounts strategy (deviceListStrategy: volume-mounts): the allocated devices are "
        "names under /var/run/nvidia-container-devices",
    )
    add(
        "k8s-no-gpu-request",
        {
            **K8S_SERVICE_ACCOUNT,
            **K8S_CGROUP,
            "/proc/self/mountinfo": K8S_MOUNTINFO,
            "/proc/driver/nvidia/version": H100_PROC_VERSION,
            **H100_SYSFS,
        },
        {**K8S_ENV, **CUDA_IMAGE_ENV},
        "a CUDA-image pod on a GPU node without a nvidia.com/gpu request",
    )
    add(
        "k8s-cgroupfs-v1",
        {**K8S_SERVICE_ACCOUNT, "/proc/self/cgroup": K8S_V1_CGROUP, "/proc/1/cgroup": K8S_V1_CGROUP},
        K8S_ENV,
        "a pod on the kubelet's cgroupfs driver (cgroup v1): /kubepods/burstable/pod<uid>/<container id>",
    )
    add(
        "k8s-cri-o",
        {
            "/run/.containerenv": "",
            **K8S_SERVICE_ACCOUNT,
            "/proc/self/cgroup": CRIO_CGROUP,
            "/proc/1/cgroup": CRIO_CGROUP,
        },
        K8S_ENV,
        "a pod on CRI-O (OpenShift): CRI-O also writes an empty /run/.containerenv; systemd cgroup path crio-<id>.scope",
    )
    add(
        "apptainer-without-nv",
        {**APPTAINER_FILES, "/proc/driver/nvidia/version": H100_PROC_VERSION, **H100_SYSFS, **H100_DEV},
        APPTAINER_ENV,
        "`apptainer exec pytorch_24.05-py3.sif` on the H100 host: apptainer binds the host's /dev (device nodes "
        "there) but without --nv no driver library in /.singularity.d/libs",
    )
    add(
        "apptainer-with-nv",
        {
            **APPTAINER_FILES,
            "/proc/driver/nvidia/version": H100_PROC_VERSION,
            **H100_SYSFS,
            **H100_DEV,
            "/.singularity.d/libs/libcuda.so.1": "",
            "/.singularity.d/libs/libnvidia-ml.so.1": "",
            "/usr/bin/nvidia-smi": "",
        },
        {**APPTAINER_ENV, "LD_LIBRARY_PATH": "/.singularity.d/libs"},
        "`apptainer exec --nv`: nvliblist.conf's libraries bound into /.singularity.d/libs (on LD_LIBRARY_PATH)",
    )
    add(
        "lxc",
        {"/proc/1/cgroup": "0::/\n", "/proc/self/cgroup": "0::/\n"},
        {"container": "lxc", **PLAIN_ENV},
        "an LXC/LXD system container: init's environment carries container=lxc (systemd's container interface)",
    )
    add(
        "colab-cpu",
        {},
        {"COLAB_RELEASE_TAG": "release-colab_20241105-060107_RC00", "COLAB_BACKEND_VERSION": "next", **PLAIN_ENV},
        "a Colab CPU runtime: COLAB_RELEASE_TAG is how public code recognises Colab",
    )
    add(
        "kaggle-cpu",
        {"/.dockerenv": "", "/kaggle/working": DIR, "/kaggle/input": DIR},
        {"KAGGLE_KERNEL_RUN_TYPE": "Interactive", "KAGGLE_URL_BASE": "https://www.kaggle.com", **PLAIN_ENV},
        "a Kaggle notebook without an accelerator: KAGGLE_KERNEL_RUN_TYPE, KAGGLE_URL_BASE, /kaggle/working",
    )
    add(
        "host-cdi-stale",
        {
            "/etc/cdi/nvidia.yaml": CDI_SPEC_G4DN,
            "/proc/1/cgroup": "0::/init.scope\n",
            "/proc/self/cgroup": "0::/user.slice/user-1000.slice/session-3.scope\n",
            "/proc/driver/nvidia/version": H100_PROC_VERSION,
            **H100_SYSFS,
            **H100_DEV,
        },
        PLAIN_ENV,
        "a host (no container) whose /etc/cdi/nvidia.yaml was generated for 570.133.20 (Docker's CDI documentation) "
        "while 580.159.04 is loaded",
    )
    add(
        "host-no-container",
        {"/proc/1/cgroup": "0::/init.scope\n", "/proc/self/cgroup": "0::/user.slice\n", **H100_SYSFS, **H100_DEV},
        PLAIN_ENV,
        "a plain host: systemd's cgroup paths, no container files",
    )
    return r


ROOTS = roots()
SOURCES = {name: root.source for name, root in ROOTS.items()}
