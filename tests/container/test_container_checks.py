"""Each container finding, from the injected root of each runtime (tests/container/roots.py), and the pure
pieces of checks/container.py, table-driven."""

from __future__ import annotations

from dataclasses import replace

import pytest

from container.roots import ROOTS, facts_for, write_root
from testsupport import load_h100_facts
from torchenv.checks import diagnose
from torchenv.checks.container import capabilities, gpu_start_fix, requested_devices
from torchenv.model import Severity, Unknown
from torchenv.model.container import CgroupLimits, ContainerFacts

MINE = {
    "container-without-gpu-passthrough",
    "container-gpu-not-injected",
    "container-driver-capability-missing",
    "container-cuda-newer-than-driver",
    "container-cgroup-limits",
    "cdi-spec-stale",
}
# The CPU count of the machine each root's files describe (os.cpu_count() is this test machine's).
CPUS = {"docker-cgroup-v1-limits": 64}

# root: {finding id: (severity, words the fix must contain)}; every other container finding must stay quiet.
EXPECTED: dict[str, dict[str, tuple[Severity, tuple[str, ...]]]] = {
    "docker-gpu": {},
    "docker-no-gpus-on-gpu-host": {
        "container-without-gpu-passthrough": (Severity.ERROR, ("docker run --gpus all", "nvidia-container-toolkit"))
    },
    "docker-cuda-image-cpu-host": {"container-without-gpu-passthrough": (Severity.ERROR, ("--gpus all", "compose"))},
    "docker-capabilities-video": {
        "container-driver-capability-missing": (Severity.ERROR, ("capabilities=compute,utility",))
    },
    "docker-capabilities-compute-only": {
        "container-driver-capability-missing": (Severity.WARNING, ("NVIDIA_DRIVER_CAPABILITIES=compute,utility",))
    },
    "docker-manual-device": {"container-gpu-not-injected": (Severity.ERROR, ("--gpus all", "instead of `--device"))},
    "docker-cuda-newer-than-driver": {
        "container-cuda-newer-than-driver": (
            Severity.WARNING,
            ("torchenv plan --format dockerfile", "cuda-compat-13-0"),
        )
    },
    "docker-cgroup-v1-limits": {"container-cgroup-limits": (Severity.WARNING, ("num_workers=1", "--cpus"))},
    "docker-desktop-wsl-gpu": {},
    "docker-desktop-wsl-no-gpus": {
        "container-without-gpu-passthrough": (Severity.ERROR, ("Docker Desktop (WSL 2 backend)", "--gpus all"))
    },
    "podman-cdi-gpu": {},
    "podman-privileged-no-gpus": {
        "container-without-gpu-passthrough": (
            Severity.ERROR,
            ("podman run --device nvidia.com/gpu=all", "cdi generate"),
        )
    },
    "k8s-containerd-gpu-not-injected": {
        "container-gpu-not-injected": (Severity.ERROR, ("runtimeClassName: nvidia", "--runtime=containerd")),
        "container-cgroup-limits": (Severity.WARNING, ("num_workers=3", "resources.limits.cpu")),
    },
    "k8s-volume-mounts-not-injected": {
        "container-gpu-not-injected": (Severity.ERROR, ("runtimeClassName: nvidia",)),
        "container-cgroup-limits": (Severity.WARNING, ("torch.set_num_threads(4)",)),
    },
    "k8s-no-gpu-request": {
        "container-without-gpu-passthrough": (Severity.ERROR, ("limits: {nvidia.com/gpu: 1}",)),
        "container-cgroup-limits": (Severity.WARNING, ("resources.limits.cpu",)),
    },
    "k8s-cgroupfs-v1": {},
    "k8s-cri-o": {},
    "apptainer-without-nv": {"container-without-gpu-passthrough": (Severity.ERROR, ("apptainer exec --nv",))},
    "apptainer-with-nv": {},
    "lxc": {},
    "colab-cpu": {"container-without-gpu-passthrough": (Severity.WARNING, ("Runtime → Change runtime type",))},
    "kaggle-cpu": {"container-without-gpu-passthrough": (Severity.WARNING, ("Accelerator", "GPU T4 x2"))},
    "host-cdi-stale": {
        "cdi-spec-stale": (Severity.WARNING, ("nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml",))
    },
    "host-no-container": {},
}


def diagnosed(tmp_path, name, knowledge):
    root = ROOTS[name]
    facts = facts_for(write_root(tmp_path, root), root.environ)
    facts = replace(facts, host=replace(facts.host, cpu_count=CPUS.get(name, 16)))
    return facts, diagnose(facts, knowledge, torchenv_version="test")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_container_findings_on_each_runtimes_root(tmp_path, name, knowledge):
    _, report = diagnosed(tmp_path, name, knowledge)
    got = {f.id: f for f in report.findings if f.id in MINE}
    assert set(got) == set(EXPECTED[name]), {i: f.title for i, f in got.items()}
    for finding_id, (severity, words) in EXPECTED[name].items():
        finding = got[finding_id]
        assert finding.severity is severity
        assert finding.evidence and finding.explanation
        for word in words:
            assert word in finding.fix, (word, finding.fix)


def test_every_container_finding_has_a_root():
    produced = {i for expected in EXPECTED.values() for i in expected}
    assert produced == MINE


def test_gpu_on_the_host_is_named_as_evidence(tmp_path, knowledge):
    _, report = diagnosed(tmp_path, "docker-no-gpus-on-gpu-host", knowledge)
    finding = next(f for f in report.findings if f.id == "container-without-gpu-passthrough")
    assert finding.title == "This docker container was started without the GPU (/.dockerenv)"
    assert finding.evidence == (
        "no /dev/nvidia* device nodes inside the container",
        "the host's PCI bus shows NVIDIA GPU(s) through /sys: 0000:00:06.0 (nvidia)",
        "the host's NVIDIA driver 580.159.04 shows through /proc/driver/nvidia",
    )
    assert report.verdict == "broken" and report.cuda_usable is False


def test_cuda_image_evidence_keeps_the_shape_of_before(tmp_path, knowledge):
    """The evidence the e2e test and older consumers read: the image's variables, then the missing nodes."""
    _, report = diagnosed(tmp_path, "docker-cuda-image-cpu-host", knowledge)
    finding = next(f for f in report.findings if f.id == "container-without-gpu-passthrough")
    assert finding.evidence == (
        "NVIDIA_VISIBLE_DEVICES=all",
        "NVIDIA_DRIVER_CAPABILITIES=compute,utility",
        "CUDA_VERSION=12.4.1",
        "no /dev/nvidia* device nodes inside the container",
    )
    assert "no-nvidia-gpu" not in {f.id for f in report.findings}  # hidden, not missing


def test_requested_devices_not_delivered_is_not_also_started_without(tmp_path, knowledge):
    _, report = diagnosed(tmp_path, "k8s-volume-mounts-not-injected", knowledge)
    finding = next(f for f in report.findings if f.id == "container-gpu-not-injected")
    assert "the device plugin's list: GPU-955d065f-1825-3dad-dc6f-d439caa7fd7e" in finding.evidence[0]
    assert finding.title.endswith("(Kubernetes (containerd) container)")


def test_cuda_newer_than_driver_says_compat_and_disabled_require(tmp_path, knowledge):
    _, report = diagnosed(tmp_path, "docker-cuda-newer-than-driver", knowledge)
    finding = next(f for f in report.findings if f.id == "container-cuda-newer-than-driver")
    assert finding.evidence[:2] == (
        "the image's CUDA_VERSION=13.0.2",
        "host driver 535.104.05 (/proc/driver/nvidia/version)",
    )
    assert any("forward compatibility (libcuda 580.65.06" in e for e in finding.evidence)
    assert any("NVIDIA_DISABLE_REQUIRE" in e for e in finding.evidence)


@pytest.mark.parametrize(
    "cuda, driver, fires",
    [
        ("13.0.2", "535.104.05", True),  # CUDA 13 needs the R580 branch
        ("13.0.2", "550.54.14", True),
        ("12.4.1", "580.159.04", False),
        ("12.8.1", "550.54.14", False),  # minor-version compatibility: compiled code runs
        ("12.8.1", "535.104.05", False),
    ],
)
def test_image_cuda_is_judged_by_the_compat_engine(cuda, driver, fires, knowledge):
    from torchenv.compat.driver import TOO_OLD, driver_support

    facts = load_h100_facts()
    container = ContainerFacts(runtime="docker", evidence=("/.dockerenv",), cuda_version=cuda)
    facts = replace(facts, container=container, driver=replace(facts.driver, version=driver, userspace_version=driver))
    report = diagnose(facts, knowledge, torchenv_version="test")
    found = any(f.id == "container-cuda-newer-than-driver" for f in report.findings)
    assert found is fires
    # One answer: the finding fires exactly when the compatibility engine says the driver is too old.
    assert found == (driver_support(knowledge, cuda, driver).level == TOO_OLD)


@pytest.mark.parametrize(
    "limits, cpus, shm, expected",
    [
        (CgroupLimits(2, None, 4.0, None, "v2"), 16, 1 << 30, ["CPU quota: 4 CPUs (v2)"]),
        (CgroupLimits(2, None, None, 8, "v2"), 64, 1 << 30, ["cpuset: 8 CPUs"]),
        (CgroupLimits(2, None, 16.0, None, "v2"), 16, 1 << 30, []),  # the quota is the machine
        (CgroupLimits(2, None, 15.5, None, "v2"), 16, 1 << 30, []),  # within one CPU of it
        (CgroupLimits(2, 2 << 30, None, None, "v2"), 16, 8 << 30, ["memory limit 2.0 GiB is below /dev/shm (8.0 GiB)"]),
        (CgroupLimits(1, None, None, None, "v1"), 16, 64 << 20, []),
    ],
)
def test_cgroup_limit_evidence(limits, cpus, shm, expected, knowledge):
    facts = load_h100_facts()
    facts = replace(
        facts,
        host=replace(facts.host, cpu_count=cpus, shm_bytes=shm),
        container=ContainerFacts(runtime="docker", evidence=("/.dockerenv",), cgroup=limits),
    )
    report = diagnose(facts, knowledge, torchenv_version="test")
    found = [f for f in report.findings if f.id == "container-cgroup-limits"]
    assert bool(found) == bool(expected)
    for line in expected:
        assert any(line in e for e in found[0].evidence)


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, None),
        ("", None),
        ("compute,utility", {"compute", "utility"}),
        ("all", {"compute", "compat32", "graphics", "utility", "video", "display"}),
        (" Video , UTILITY ", {"video", "utility"}),
    ],
)
def test_capabilities(value, expected):
    assert capabilities(ContainerFacts(runtime="docker", evidence=(), driver_capabilities=value)) == expected


@pytest.mark.parametrize(
    "visible, volume, expected",
    [
        (None, (), ()),
        ("all", (), ()),  # what CUDA images set themselves
        ("void", (), ()),
        ("none", (), ()),
        ("0,1", (), ("0", "1")),
        ("GPU-955d065f-1825-3dad-dc6f-d439caa7fd7e", (), ("GPU-955d065f-1825-3dad-dc6f-d439caa7fd7e",)),
        ("/var/run/nvidia-container-devices", ("GPU-1",), ("GPU-1",)),
        ("/var/run/nvidia-container-devices", (), ()),
    ],
)
def test_requested_devices(visible, volume, expected):
    container = ContainerFacts(runtime="docker", evidence=(), visible_devices=visible, requested_devices=volume)
    assert requested_devices(container) == expected


@pytest.mark.parametrize(
    "changes, words",
    [
        (dict(runtime="docker"), "docker run --gpus all"),
        (dict(runtime="docker", wsl=True), "Docker Desktop (WSL 2 backend)"),
        (dict(runtime="podman"), "podman run --device nvidia.com/gpu=all"),
        (dict(runtime="containerd", orchestrator="kubernetes"), "nvidia.com/gpu: 1"),
        (dict(runtime="cri-o", orchestrator="kubernetes"), "nvidia.com/gpu: 1"),
        (dict(runtime="containerd"), "nerdctl run --gpus all"),
        (dict(runtime="apptainer"), "apptainer exec --nv"),
        (dict(runtime="singularity"), "singularity exec --nv"),
        (dict(runtime="lxc"), "nvidia.runtime=true"),
        (dict(runtime="container", platform="colab"), "Change runtime type"),
        (dict(runtime="docker", platform="kaggle"), "Accelerator"),
        (dict(runtime="container"), "podman run --device nvidia.com/gpu=all"),
    ],
)
def test_the_fix_is_the_runtimes(changes, words):
    assert words in gpu_start_fix(ContainerFacts(evidence=(), **changes))


def test_json_without_container_facts_keeps_the_old_passthrough_check(knowledge):
    """Facts saved before the container probe: HostFacts.container and the variables decide, as before."""
    facts = load_h100_facts()
    facts = replace(
        facts,
        host=replace(facts.host, dev_nodes=(), pci_gpus=()),
        gpus=replace(facts.gpus, gpus=Unknown("NVML: Driver Not Loaded")),
        environment={"NVIDIA_VISIBLE_DEVICES": "all", "CUDA_VERSION": "12.4.1"},
    )
    assert not facts.container
    report = diagnose(facts, knowledge, torchenv_version="test")
    finding = next(f for f in report.findings if f.id == "container-without-gpu-passthrough")
    assert finding.title == "This docker container was started without the GPU"
    assert "--gpus all" in finding.fix
    skipped = {s.check for s in report.skipped}
    assert {"container-gpu-not-injected", "container-driver-capability", "container-cuda-driver"} <= skipped


def test_a_cdi_spec_for_the_loaded_driver_is_fine(knowledge):
    from torchenv.model.container import CdiSpec

    facts = load_h100_facts()
    spec = CdiSpec("/etc/cdi/nvidia.yaml", "nvidia.com/gpu", ("0", "all"), facts.driver.version)
    facts = replace(facts, container=ContainerFacts(runtime=None, evidence=(), cdi_specs=(spec,)))
    report = diagnose(facts, knowledge, torchenv_version="test")
    assert "cdi-spec-stale" not in {f.id for f in report.findings}
    assert "cdi-spec" not in {s.check for s in report.skipped}
