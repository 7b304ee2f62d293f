"""The container probe on injected roots (tests/container/roots.py: the files each runtime really writes)
and its pure parsers, table-driven."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from container.roots import CDI_SPEC_G4DN, CDI_SPEC_JSON, ROOTS, facts_for, write_root
from testsupport import load_h100_facts
from torchenv.model import Facts
from torchenv.model.codec import from_json, to_json
from torchenv.model.container import ContainerFacts
from torchenv.probes.container import (
    parse_cdi_spec,
    parse_containerenv,
    parse_cpu_list,
    parse_cpu_max,
    parse_memory_max,
    parse_mountinfo,
    raw_readings,
    read_cgroup_limits,
    read_container_facts,
    runtime_from_cgroup,
)


def probe(tmp_path, name) -> ContainerFacts:
    root = ROOTS[name]
    return read_container_facts(write_root(tmp_path, root), root.environ)


# name: (runtime, orchestrator, engine, platform, wsl)
RUNTIMES = {
    "docker-gpu": ("docker", None, None, None, False),
    "docker-no-gpus-on-gpu-host": ("docker", None, None, None, False),
    "docker-cgroup-v1-limits": ("docker", None, None, None, False),
    "docker-desktop-wsl-gpu": ("docker", None, None, None, True),
    "podman-cdi-gpu": ("podman", None, None, None, False),
    "podman-privileged-no-gpus": ("podman", None, "podman-5.2.2", None, False),
    "k8s-containerd-gpu-not-injected": ("containerd", "kubernetes", None, None, False),
    "k8s-cgroupfs-v1": ("container", "kubernetes", None, None, False),
    "k8s-cri-o": ("cri-o", "kubernetes", None, None, False),
    "apptainer-without-nv": ("apptainer", None, None, None, False),
    "lxc": ("lxc", None, None, None, False),
    "colab-cpu": ("container", None, None, "colab", False),
    "kaggle-cpu": ("docker", None, None, "kaggle", False),
    "host-no-container": (None, None, None, None, False),
    "host-cdi-stale": (None, None, None, None, False),
}


@pytest.mark.parametrize("name", sorted(RUNTIMES))
def test_runtime_from_the_files_it_writes(tmp_path, name):
    facts = probe(tmp_path, name)
    assert (facts.runtime, facts.orchestrator, facts.engine, facts.platform, facts.wsl) == RUNTIMES[name]
    assert bool(facts.evidence) == (facts.runtime is not None)


def test_every_root_names_its_source():
    assert all(root.source for root in ROOTS.values())
    # every root is probed by some test in this folder
    from container import test_container_checks

    covered = set(RUNTIMES) | set(test_container_checks.EXPECTED)
    assert set(ROOTS) <= covered, set(ROOTS) - covered


def test_evidence_says_which_file_answered(tmp_path):
    assert probe(tmp_path / "a", "docker-gpu").evidence == ("/.dockerenv", "/proc/self/mountinfo: docker mounts")
    assert probe(tmp_path / "b", "podman-privileged-no-gpus").evidence[0] == "/run/.containerenv: engine=podman-5.2.2"
    k8s = probe(tmp_path / "c", "k8s-containerd-gpu-not-injected").evidence
    assert k8s[:2] == ("KUBERNETES_SERVICE_HOST is set", "/var/run/secrets/kubernetes.io/serviceaccount")
    assert "/proc/self/mountinfo: containerd mounts" in k8s
    assert probe(tmp_path / "d", "apptainer-without-nv").evidence == ("/.singularity.d",)


def test_what_arrived_in_a_gpu_container(tmp_path):
    facts = probe(tmp_path, "docker-gpu")
    assert facts.mounts_read and facts.proc_driver == "injected"
    assert facts.proc_gpus == ("0000:00:06.0",)
    libcuda = facts.driver_file("libcuda.so.1")
    assert libcuda.path == "/usr/lib/x86_64-linux-gnu/libcuda.so.1"
    assert libcuda.version == "580.159.04" and libcuda.mounted
    assert facts.driver_file("libnvidia-ml.so.1").version == "580.159.04"
    assert facts.driver_file("nvidia-smi").mounted
    assert (facts.visible_devices, facts.driver_capabilities, facts.cuda_version) == (
        "0",
        "compute,graphics,utility",
        "13.0.2",
    )


def test_a_container_without_the_toolkit_sees_the_hosts_driver_through_proc(tmp_path):
    facts = probe(tmp_path, "docker-no-gpus-on-gpu-host")
    assert facts.proc_driver == "host"
    assert facts.driver_files == ()


@pytest.mark.parametrize(
    "name, libcuda",
    [
        ("apptainer-with-nv", "/.singularity.d/libs/libcuda.so.1"),
        ("docker-desktop-wsl-gpu", "/usr/lib/wsl/lib/libcuda.so.1"),
        ("podman-cdi-gpu", "/usr/lib/x86_64-linux-gnu/libcuda.so.1"),
        ("apptainer-without-nv", None),
        ("docker-manual-device", None),
    ],
)
def test_libcuda_wherever_the_runtime_puts_it(tmp_path, name, libcuda):
    found = probe(tmp_path, name).driver_file("libcuda.so.1")
    assert (found.path if found else None) == libcuda


def test_forward_compatibility_libcuda_is_not_the_driver(tmp_path):
    facts = probe(tmp_path, "docker-cuda-newer-than-driver")
    assert facts.compat_libcuda == "580.65.06"
    assert facts.driver_file("libcuda.so.1").version == "535.104.05"
    assert facts.disable_require is True


def test_device_plugin_volume_mount_list(tmp_path):
    facts = probe(tmp_path, "k8s-volume-mounts-not-injected")
    assert facts.requested_devices == ("GPU-955d065f-1825-3dad-dc6f-d439caa7fd7e",)


@pytest.mark.parametrize(
    "name, version, memory, cpus, cpuset",
    [
        ("docker-gpu", 2, None, None, 16),
        ("k8s-containerd-gpu-not-injected", 2, 16 << 30, 4.0, 16),
        ("docker-cgroup-v1-limits", 1, 8 << 30, 2.0, 64),
    ],
)
def test_cgroup_limits(tmp_path, name, version, memory, cpus, cpuset):
    limits = probe(tmp_path, name).cgroup
    assert (limits.version, limits.memory_max_bytes, limits.cpu_quota, limits.cpuset_cpus) == (
        version,
        memory,
        cpus,
        cpuset,
    )


def test_cgroup_v2_takes_the_tightest_limit_along_the_path(tmp_path):
    files = {
        "proc/self/cgroup": "0::/kubepods.slice/pod.slice/job.scope\n",
        "sys/fs/cgroup/cgroup.controllers": "cpu memory\n",
        "sys/fs/cgroup/kubepods.slice/cgroup.controllers": "cpu memory\n",
        "sys/fs/cgroup/kubepods.slice/memory.max": "max\n",
        "sys/fs/cgroup/kubepods.slice/pod.slice/cgroup.controllers": "cpu memory\n",
        "sys/fs/cgroup/kubepods.slice/pod.slice/memory.max": "4294967296\n",
        "sys/fs/cgroup/kubepods.slice/pod.slice/cpu.max": "150000 100000\n",
        "sys/fs/cgroup/kubepods.slice/pod.slice/job.scope/cgroup.controllers": "cpu memory\n",
        "sys/fs/cgroup/kubepods.slice/pod.slice/job.scope/memory.max": "8589934592\n",
        "sys/fs/cgroup/kubepods.slice/pod.slice/job.scope/cpu.max": "max 100000\n",
    }
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    limits = read_cgroup_limits(tmp_path)
    assert (limits.memory_max_bytes, limits.cpu_quota) == (4 << 30, 1.5)
    assert limits.source == "cgroup v2: /sys/fs/cgroup/kubepods.slice/pod.slice/job.scope"


def test_no_cgroup_files_is_unknown_not_unlimited(tmp_path):
    assert not read_cgroup_limits(tmp_path)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", {}),  # an unprivileged container's .containerenv is empty
        (
            'engine="podman-5.2.2"\nname="torch"\nrootless=1\n',
            {"engine": "podman-5.2.2", "name": "torch", "rootless": "1"},
        ),
        ("graphRootMounted=1\n", {"graphRootMounted": "1"}),
    ],
)
def test_parse_containerenv(text, expected):
    assert parse_containerenv(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0::/\n", (None, None)),
        (f"12:memory:/docker/{'a' * 64}\n", ("docker", None)),
        ("0::/system.slice/docker-" + "b" * 64 + ".scope\n", ("docker", None)),
        ("0::/machine.slice/libpod-" + "c" * 64 + ".scope/container\n", ("podman", None)),
        (
            "0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-" + "d" * 64 + ".scope\n",
            ("containerd", "kubernetes"),
        ),
        ("11:memory:/kubepods.slice/x.slice/crio-" + "e" * 64 + ".scope\n", ("cri-o", "kubernetes")),
        ("11:memory:/kubepods/burstable/pod1/" + "f" * 64 + "\n", ("container", "kubernetes")),
        ("0::/lxc.payload.box\n", ("lxc", None)),
        ("0::/user.slice/user-1000.slice/session-3.scope\n", (None, None)),
    ],
)
def test_runtime_from_cgroup(text, expected):
    assert runtime_from_cgroup(text) == expected


def test_mountinfo_unescapes_octal_and_keeps_super_options():
    line = r"36 35 98:0 /mnt\040dir /data\040set rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
    (mount,) = parse_mountinfo(line + "\ngarbage line\n")
    assert (mount.root, mount.point, mount.fstype, mount.source, mount.options) == (
        "/mnt dir",
        "/data set",
        "ext3",
        "/dev/root",
        "rw,errors=continue",
    )


@pytest.mark.parametrize(
    "text, path, expected",
    [
        (
            CDI_SPEC_G4DN,
            "/etc/cdi/nvidia.yaml",
            ("nvidia.com/gpu", ("0", "GPU-6cf00fa7-59ac-16f2-3e83-d24ccdc56f84", "all"), "570.133.20"),
        ),
        (
            CDI_SPEC_JSON,
            "/var/run/cdi/nvidia.json",
            ("nvidia.com/gpu", ("0", "GPU-955ef018-3bd9-5f27-80b3-fa20ee8d19c5", "all"), "550.54.15"),
        ),
    ],
)
def test_parse_cdi_spec(text, path, expected):
    spec = parse_cdi_spec(text, path)
    assert (spec.kind, spec.devices, spec.driver_version) == expected
    assert spec.path == path


@pytest.mark.parametrize("text", ["", "not: a spec\n", "{broken json", "[1, 2]"])
def test_a_file_that_is_no_cdi_spec_is_ignored(text):
    assert parse_cdi_spec(text, "/etc/cdi/x.yaml") is None


def test_cdi_specs_are_read_from_etc_and_var_run(tmp_path):
    for relative, text in (("etc/cdi/nvidia.yaml", CDI_SPEC_G4DN), ("var/run/cdi/nvidia.json", CDI_SPEC_JSON)):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    (tmp_path / "etc/cdi/README").write_text("not a spec")
    specs = read_container_facts(tmp_path, {}).cdi_specs
    assert [s.path for s in specs] == ["/etc/cdi/nvidia.yaml", "/var/run/cdi/nvidia.json"]


@pytest.mark.parametrize(
    "parser, text, expected",
    [
        (parse_cpu_max, "max 100000\n", None),
        (parse_cpu_max, "400000 100000\n", 4.0),
        (parse_cpu_max, "50000 100000", 0.5),
        (parse_cpu_max, "garbage", None),
        (parse_memory_max, "max\n", None),
        (parse_memory_max, "17179869184\n", 16 << 30),
        (parse_memory_max, "9223372036854771712\n", None),  # cgroup v1's "no limit"
        (parse_cpu_list, "0-3,8,10-11\n", 7),
        (parse_cpu_list, "0\n", 1),
        (parse_cpu_list, "x-y", None),
    ],
)
def test_cgroup_value_parsers(parser, text, expected):
    assert parser(text) == expected


def test_container_facts_round_trip_through_json(tmp_path):
    facts = facts_for(write_root(tmp_path, ROOTS["docker-gpu"]), ROOTS["docker-gpu"].environ)
    again = from_json(Facts, json.loads(json.dumps(to_json(facts))))
    assert again.container == facts.container


def test_json_from_before_the_container_probe_still_decodes():
    facts = load_h100_facts()  # captured before Facts.container existed
    assert not facts.container and facts.container.reason == "not probed"
    data = to_json(replace(facts))
    data.pop("container")
    assert from_json(Facts, data).container == facts.container


def test_host_container_is_the_container_probes_answer(tmp_path):
    """One answer: HostFacts.container (terminal header, diff, shm advice) is what the container probe found."""
    for name in ("podman-privileged-no-gpus", "k8s-cri-o", "apptainer-without-nv", "host-no-container"):
        root = ROOTS[name]
        facts = facts_for(write_root(tmp_path / name, root), root.environ)
        assert facts.host.container == (facts.container.orchestrator or facts.container.runtime)


def test_gather_facts_reads_the_container(tmp_path):
    import sys

    from torchenv.probes import gather_facts

    root = ROOTS["docker-no-gpus-on-gpu-host"]
    facts = gather_facts(
        python=sys.executable,
        with_torch=False,
        timeout=10,
        root=write_root(tmp_path, root),
        environ={**root.environ, "PYTHONPATH": ""},
    )
    assert facts.container.runtime == "docker" and facts.host.container == "docker"
    assert "container" in facts.probe_seconds


def test_raw_readings_list_what_was_read(tmp_path):
    root = ROOTS["docker-gpu"]
    readings = raw_readings(write_root(tmp_path, root), root.environ)
    assert readings["/.dockerenv"] == ""
    assert readings["/proc/driver/nvidia/gpus"] == ["0000:00:06.0"]
    assert readings["libraries"]["/usr/lib/x86_64-linux-gnu/libcuda.so.1"]["link"] == "libcuda.so.580.159.04"
    assert readings["environment"]["NVIDIA_VISIBLE_DEVICES"] == "0"
    assert "/proc/self/mountinfo" in readings
    json.dumps(readings)  # the device script writes them as JSON
