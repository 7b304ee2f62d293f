from pathlib import Path

import pytest

from torchenv.model import Unknown
from torchenv.reports.ldconfig import library_stem, parse_ldconfig, version_from_file_name
from torchenv.reports.nvidia_smi import parse_query_gpu_csv
from torchenv.reports.proc_driver import parse_module_version, parse_proc_driver_version

H100 = Path(__file__).parent.parent / "fixtures" / "h100-cu130"


def test_proc_driver_version_from_the_h100_capture():
    module = parse_proc_driver_version((H100 / "proc-driver-nvidia-version.txt").read_text())
    assert module.version == "580.159.04"
    assert module.flavour == "open"


@pytest.mark.parametrize(
    ("text", "version", "flavour"),
    [
        (
            "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023\n",
            "535.104.05",
            "proprietary",
        ),
        ("NVRM version: NVIDIA UNIX Open Kernel Module for aarch64  570.86.10  Release Build\n", "570.86.10", "open"),
        (
            "NVRM version: NVIDIA UNIX x86_64 Kernel Module  470.57.02  Tue Jul 13 16:14:05 UTC 2021",
            "470.57.02",
            "proprietary",
        ),
    ],
)
def test_proc_driver_version_variants(text, version, flavour):
    module = parse_proc_driver_version(text)
    assert (module.version, module.flavour) == (version, flavour)


@pytest.mark.parametrize("garbage", ["", "\x00\xff\xfe", "NVRM version: nothing here", "GCC version: 12"])
def test_proc_driver_version_garbage_is_unknown(garbage):
    assert isinstance(parse_proc_driver_version(garbage).version, Unknown)


def test_module_version():
    assert parse_module_version("580.159.04\n") == "580.159.04"
    assert isinstance(parse_module_version("garbage"), Unknown)
    assert isinstance(parse_module_version(""), Unknown)


def test_ldconfig_h100_capture_finds_the_system_cudnn_and_libcuda():
    # Full `ldconfig -p` from torchenv's own H100 run (the shared capture is filtered and lacks cuDNN).
    found = parse_ldconfig((H100.parent / "h100-torchenv" / "ldconfig-p.txt").read_text())
    assert ("libcudnn", "/lib/x86_64-linux-gnu/libcudnn.so.9") in found
    stems = {stem for stem, _ in found}
    assert {"libcudnn", "libcuda"} <= stems
    assert all(
        stem in ("libcuda", "libcudart", "libcublas", "libcublasLt", "libcudnn", "libnccl", "libnvidia-ml")
        for stem in stems
    )


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("libcudnn.so.9.14.0", "libcudnn"),
        ("libcudnn_ops.so.9", None),
        ("libcublasLt.so.12", "libcublasLt"),
        ("libfoo.so", None),
    ],
)
def test_library_stem(name, stem):
    assert library_stem(name) == stem


def test_version_from_file_name():
    assert version_from_file_name("/usr/lib/x86_64-linux-gnu/libcudnn.so.9.14.0") == "9.14.0"
    assert version_from_file_name("/usr/lib/libcudnn.so") is None


def test_nvidia_smi_csv_with_header_and_units_from_the_h100_capture():
    gpus, driver = parse_query_gpu_csv((H100 / "nvidia-smi-query-gpu.csv").read_text())
    assert driver == "580.159.04"
    assert len(gpus) == 1
    gpu = gpus[0]
    assert gpu.name == "NVIDIA H100 80GB HBM3"
    assert gpu.cc == (9, 0)
    assert gpu.memory_total_mib == 81559
    assert gpu.pcie_gen_current == 5
    assert isinstance(gpu.pcie_width_max, Unknown)  # not in that query


def test_nvidia_smi_csv_without_header_in_torchenvs_field_order():
    line = "0, NVIDIA GeForce RTX 5090, GPU-1, 12.0, 32607 MiB, 1 MiB, 5, 5, 8, 16, [N/A], Disabled, [N/A], [N/A], 3 %, 570.86.10\n"
    gpus, driver = parse_query_gpu_csv(line)
    assert driver == "570.86.10"
    assert gpus[0].cc == (12, 0)
    assert gpus[0].pcie_width_current == 8 and gpus[0].pcie_width_max == 16
    assert gpus[0].persistence_mode is False
    assert isinstance(gpus[0].mig_enabled, Unknown)


@pytest.mark.parametrize(
    "garbage", ["", "\xff\xfe\x00", "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."]
)
def test_nvidia_smi_garbage_gives_no_gpus(garbage):
    gpus, _ = parse_query_gpu_csv(garbage)
    assert gpus == []
