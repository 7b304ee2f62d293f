"""Host probes against an injected filesystem root: fake /sys, /proc and /dev trees."""

import os

from torchenv.model import Unknown
from torchenv.probes.gpu import read_driver_and_gpus
from torchenv.probes.runner import RunResult
from torchenv.probes.system import (
    read_container,
    read_cuda_toolkits,
    read_dev_nodes,
    read_environment,
    read_pci_gpus,
    read_shell_tools,
    read_wsl,
)


class FakeRunner:
    """Answers by program name; records every argv."""

    def __init__(self, answers=None):
        self.answers = answers or {}
        self.calls = []

    def run(self, argv, timeout, **kwargs):
        self.calls.append(list(argv))
        name = os.path.basename(argv[0])
        key = "nvml" if any("nvml_probe" in a for a in argv) else name
        answer = self.answers.get(key)
        if answer is None:
            return RunResult(tuple(argv), None, "", "", 0.0, error="not found")
        return answer


def write(root, path, content, mode="w"):
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, mode) as handle:
        handle.write(content)


def pci_device(root, address, vendor, klass, driver=None):
    base = f"/sys/bus/pci/devices/{address}"
    write(root, base + "/vendor", vendor + "\n")
    write(root, base + "/class", klass + "\n")
    write(root, base + "/device", "0x2684\n")
    if driver:
        (root / "sys/bus/pci/drivers" / driver).mkdir(parents=True, exist_ok=True)
        os.symlink(root / "sys/bus/pci/drivers" / driver, root / base.lstrip("/") / "driver")


def test_pci_finds_nvidia_gpus_and_their_kernel_driver(tmp_path):
    pci_device(tmp_path, "0000:01:00.0", "0x10de", "0x030000", "nouveau")
    pci_device(tmp_path, "0000:02:00.0", "0x10de", "0x040300")  # NVIDIA audio function: not a GPU
    pci_device(tmp_path, "0000:03:00.0", "0x8086", "0x030000", "i915")
    gpus = read_pci_gpus(tmp_path)
    assert [(g.address, g.driver) for g in gpus] == [("0000:01:00.0", "nouveau")]


def test_pci_unreadable_is_unknown(tmp_path):
    assert isinstance(read_pci_gpus(tmp_path), Unknown)


def test_container_and_wsl_detection(tmp_path):
    assert read_container(tmp_path, {}) is None
    write(tmp_path, "/proc/1/cgroup", "0::/kubepods/besteffort/pod1\n")
    assert read_container(tmp_path, {}) == "container"
    write(tmp_path, "/.dockerenv", "")
    assert read_container(tmp_path, {}) == "docker"
    assert read_wsl(tmp_path, "5.15.153.1-microsoft-standard-WSL2") is True
    assert read_wsl(tmp_path, "6.8.0-45-generic") is False
    assert isinstance(read_wsl(tmp_path, None), Unknown)


def test_dev_nodes(tmp_path):
    for name in ("nvidia0", "nvidiactl", "nvidia-uvm", "null"):
        write(tmp_path, f"/dev/{name}", "")
    assert read_dev_nodes(tmp_path) == ("/dev/nvidia-uvm", "/dev/nvidia0", "/dev/nvidiactl")


def test_driver_sources_in_order_with_garbage_proc_file(tmp_path):
    write(tmp_path, "/proc/driver/nvidia/version", b"\xff\xfe\x00garbage\x9c", mode="wb")
    runner = FakeRunner()
    driver, gpus = read_driver_and_gpus(tmp_path, runner, timeout=1)
    assert isinstance(driver.version, Unknown)
    assert isinstance(gpus.gpus, Unknown)
    assert driver.smi_error == "nvidia-smi: not found"
    write(tmp_path, "/sys/module/nvidia/version", "580.159.04\n")
    driver, _ = read_driver_and_gpus(tmp_path, runner, timeout=1)
    assert (driver.version, driver.source) == ("580.159.04", "/sys/module/nvidia/version")


def test_nvidia_smi_is_the_fallback_when_nvml_fails(tmp_path):
    csv = "0, NVIDIA A100-SXM4-80GB, GPU-1, 8.0, 81920 MiB, 100 MiB, 4, 4, 16, 16, Disabled, Enabled, Enabled, 0, 0 %, 535.104.05\n"
    runner = FakeRunner(
        {
            "nvml": RunResult(("python",), 0, '{"error": "NVML Shared Library Not Found"}\n', "", 0.1),
            "nvidia-smi": RunResult(("nvidia-smi",), 0, csv, "", 0.1),
        }
    )
    driver, gpus = read_driver_and_gpus(tmp_path, runner, timeout=1)
    assert gpus.source == "nvidia-smi"
    assert gpus.gpus[0].cc == (8, 0)
    assert (driver.version, driver.source) == ("535.104.05", "nvidia-smi")
    assert driver.nvml_error == "NVML Shared Library Not Found"


def test_hung_nvidia_smi_becomes_an_error_string(tmp_path):
    runner = FakeRunner(
        {
            "nvml": RunResult(("python",), None, "", "", 10.0, timed_out=True),
            "nvidia-smi": RunResult(("nvidia-smi",), None, "", "", 10.0, timed_out=True),
        }
    )
    driver, gpus = read_driver_and_gpus(tmp_path, runner, timeout=10)
    assert isinstance(gpus.gpus, Unknown)
    assert "NVML hung" in driver.smi_error  # not asked: it would hang on the same driver
    assert "did not answer" in driver.nvml_error
    assert not any("nvidia-smi" in argv[0] for argv in runner.calls)


def test_toolkit_versions(tmp_path):
    write(tmp_path, "/usr/local/cuda-12.4/version.json", '{"cuda": {"name": "CUDA SDK", "version": "12.4.1"}}')
    write(tmp_path, "/usr/local/cuda-11.0/version.txt", "CUDA Version 11.0.228\n")
    write(tmp_path, "/usr/local/cuda-bad/version.json", "{not json")
    found = {t.path: t.version for t in read_cuda_toolkits(tmp_path, {})}
    assert found["/usr/local/cuda-12.4"] == "12.4.1"
    assert found["/usr/local/cuda-11.0"] == "11.0.228"
    assert isinstance(found["/usr/local/cuda-bad"], Unknown)


def test_environment_keeps_only_relevant_variables():
    kept = read_environment({"CUDA_VISIBLE_DEVICES": "0", "HOME": "/root", "NCCL_DEBUG": "INFO", "AWS_SECRET": "x"})
    assert kept == {"CUDA_VISIBLE_DEVICES": "0", "NCCL_DEBUG": "INFO"}


def test_pip_trampoline_and_env_shebangs(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pip = bin_dir / "pip"
    pip.write_text("#!/bin/sh\n'''exec' \"/very/long/env/bin/python3\" \"$0\" \"$@\"\n' '''\n")
    pip.chmod(0o755)
    python = bin_dir / "python"
    python.write_text("")
    python.chmod(0o755)
    tools = read_shell_tools(tmp_path, {"PATH": str(bin_dir)})
    assert tools.pip_interpreter == "/very/long/env/bin/python3"
    pip.write_text("#!/usr/bin/env python3.11\nimport pip\n")
    assert read_shell_tools(tmp_path, {"PATH": str(bin_dir)}).pip_interpreter == "python3.11"
