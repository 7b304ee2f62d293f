"""Catalog rows, round 8 (issue 12): error rows derived from the producers' own catalogs, not from corpus items.

Every message here is built from the producer's exact text, wrapped the way it is printed: the kernel log's
multi-line `NVRM:` texts from open-gpu-kernel-modules' nv.c, DKMS, nvidia-installer and nvidia-persistenced,
the kernel's module signing check, RPM Fusion's nouveau fallback, libnvidia-container's mount errors and the
NVIDIA Container Toolkit's runtime, the Kubernetes scheduler's resource message, WSL's ldconfig warning and
the shell's SIGILL report. None is a corpus item. The rows live in knowledge/data/errors.d/catalog_round8.toml.
"""

from __future__ import annotations

import pytest

from testsupport import assert_rows_exercised_and_sourced, assert_top_match
from torchenv.knowledge.errors import ERRORS_FAMILIES, parse_error_files

RETRIEVED = "2026-12-03"
FAMILY_FILE = ERRORS_FAMILIES / "catalog_round8.toml"


def kernel(*lines: str) -> str:
    """Kernel-log lines as `dmesg -T` prints them."""
    return "\n".join(f"[Thu Dec  3 10:11:12 2026] {line}" for line in lines)


# (message built from the producer's text, row id, category of the top match)
CASES = [
    (
        kernel(
            "NVRM: loading NVIDIA UNIX x86_64 Kernel Module  580.105.08  Wed Oct 29 23:15:11 UTC 2025",
            "NVRM: The NVIDIA GPU 0000:02:00.0 (PCI ID: 10de:2c58)",
            "               NVRM: installed in this system requires use of the NVIDIA open kernel modules.",
            "NVRM: GPU 0000:02:00.0: RmInitAdapter failed! (0x22:0x56:884)",
            "NVRM: GPU 0000:02:00.0: rm_init_adapter failed, device minor number 0",
        ),
        "nvrm-requires-open-kernel-modules",
        "no-driver",
    ),
    (
        kernel(
            "NVRM: The NVIDIA GPU 0000:01:00.0 (PCI ID: 10de:1c03)",
            "NVRM: installed in this system is not supported by the NVIDIA open kernel modules.",
            "NVRM: No NVIDIA devices probed.",
        ),
        "nvrm-open-modules-unsupported-gpu",
        "no-driver",
    ),
    (
        kernel(
            "NVRM: The NVIDIA GPU 0000:01:00.0 (PCI ID: 10de:1b80)",
            "NVRM: installed in this system is not supported by open",
            "NVRM: nvidia.ko because it does not include the required GPU",
            "NVRM: System Processor (GSP).",
        ),
        "nvrm-open-modules-unsupported-gpu",
        "no-driver",
    ),
    (
        kernel("NVRM: Open nvidia.ko is only ready for use on Data Center GPUs."),
        "nvrm-open-modules-unsupported-gpu",
        "no-driver",
    ),
    (
        kernel(
            "NVRM: The NVIDIA GPU 0000:01:00.0 (PCI ID: 10de:1180)",
            "NVRM: installed in this system is not supported by the",
            "NVRM: NVIDIA 535.154.05 driver release.",
            "NVRM: Please see 'Appendix A - Supported NVIDIA GPU Products'",
            "NVRM: in this release's README, available on the operating system",
            "NVRM: specific graphics driver download page at www.nvidia.com.",
        ),
        "nvrm-gpu-not-supported-by-release",
        "no-driver",
    ),
    (
        kernel(
            "NVRM: GPU 0000:01:00.0: RmInitAdapter failed! (0x62:0xffff:1863)",
            "NVRM: GPU 0000:01:00.0: rm_init_adapter failed, device minor number 0",
        ),
        "nvrm-rminitadapter-failed",
        "no-driver",
    ),
    (kernel("NVRM: No NVIDIA devices probed."), "nvrm-no-devices-probed", "no-driver"),
    ("NVIDIA kernel module missing. Falling back to nouveau", "nvidia-fallback-nouveau", "no-driver"),
    (
        kernel("nvidia: module verification failed: signature and/or required key missing - tainting kernel"),
        "kernel-module-unsigned-taint",
        "other",
    ),
    (
        "Building module:\nCleaning build area...\n'make' -j16 NV_EXCLUDE_BUILD_MODULES='' KERNEL_UNAME=6.8.0-45-generic "
        "modules.......(bad exit status: 2)\nError! Bad return status for module build on kernel: 6.8.0-45-generic "
        "(x86_64)\nConsult /var/lib/dkms/nvidia/550.120/build/make.log for more information.",
        "dkms-module-build-failed",
        "no-driver",
    ),
    (
        "ERROR: Unable to find the kernel source tree for the currently running kernel.  Please make sure you have "
        "installed the kernel source files for your kernel and that they are properly configured; on Red Hat Linux "
        "systems, for example, be sure you have the 'kernel-source' or 'kernel-devel' RPM installed.  If you know "
        "the correct kernel source files are installed, you may specify the kernel source path with the "
        "'--kernel-source-path' command line option.",
        "nvidia-installer-no-kernel-source",
        "no-driver",
    ),
    (
        "ERROR: An NVIDIA kernel module 'nvidia-drm' appears to already be loaded in your kernel.  This may be "
        "because it is in use (for example, by an X server, a CUDA program, or the NVIDIA Persistence Daemon), but "
        "this may also happen if your kernel was configured without support for module unloading.  Please be sure "
        "to exit any programs that may be using the GPU(s) before attempting to upgrade your driver.",
        "nvidia-installer-module-in-use",
        "no-driver",
    ),
    (
        "ERROR: Installation has failed.  Please see the file '/var/log/nvidia-installer.log' for details.  You may "
        "find suggestions on fixing installation problems in the README available on the Linux driver download "
        "page at www.nvidia.com.",
        "nvidia-installer-failed",
        "no-driver",
    ),
    (
        "Dec 03 10:11:12 node7 nvidia-persistenced[881]: nvidia-persistenced failed to initialize. Check syslog for "
        "more details.",
        "nvidia-persistenced-init-failed",
        "no-driver",
    ),
    (
        "docker: Error response from daemon: OCI runtime create failed: container_linux.go:380: starting container "
        "process caused: process_linux.go:545: container init caused: Running hook #0:: error running hook: exit "
        "status 1, stdout: , stderr: nvidia-container-cli: mount error: file creation failed: /var/lib/docker/"
        "overlay2/ce5796/merged/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1: file exists: unknown.",
        "container-cli-mount-file-exists",
        "gpu-hidden",
    ),
    (
        "nvidia-container-cli: mount error: file creation failed: /var/lib/docker/overlay2/d5771d/merged/run/"
        "nvidia-persistenced/socket: no such device or address: unknown.",
        "container-cli-persistenced-socket",
        "gpu-hidden",
    ),
    (
        "docker: Error response from daemon: failed to create task for container: failed to create shim task: OCI "
        "runtime create failed: runc create failed: unable to start container process: error during container "
        "init: error running hook #0: error running hook: exit status 1, stdout: , stderr: Auto-detected mode as "
        "'legacy'",
        "container-runtime-legacy-mode",
        "gpu-hidden",
    ),
    (
        "docker: Error response from daemon: failed to create shim task: OCI runtime create failed: exec: "
        '"nvidia-container-runtime-hook": executable file not found in $PATH: unknown.',
        "nvidia-runtime-hook-missing",
        "gpu-hidden",
    ),
    (
        "Warning  FailedScheduling  12s  default-scheduler  0/3 nodes are available: 3 Insufficient nvidia.com/gpu. "
        "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
        "k8s-insufficient-nvidia-gpu",
        "gpu-hidden",
    ),
    (
        "Processing triggers for libc-bin (2.35-0ubuntu3.8) ...\n/sbin/ldconfig.real: /usr/lib/wsl/lib/libcuda.so.1 "
        "is not a symbolic link",
        "wsl-libcuda-not-symlink",
        "wsl",
    ),
    (
        "nvidia-smi: error while loading shared libraries: libnvidia-ml.so.1: cannot open shared object file: No "
        "such file or directory",
        "nvidia-smi-libnvml-missing",
        "no-driver",
    ),
    (
        "nvidia@jetson-orin:~$ python3 -c 'import torch'\nIllegal instruction (core dumped)",
        "illegal-instruction-cpu",
        "torch-broken",
    ),
]

# the hook's mode line does not outrank the hook's own error that follows it
FOLLOWED = [
    (
        "stderr: Auto-detected mode as 'legacy'\nnvidia-container-cli: initialization error: load library failed: "
        "libnvidia-ml.so.1: cannot open shared object file: no such file or directory: unknown.",
        "container-runtime-legacy-mode",
    ),
    (
        kernel(
            "NVRM: The NVIDIA probe routine was not called for 1 device(s).",
            "NVRM: No NVIDIA devices probed.",
        ),
        "nvrm-no-devices-probed",
    ),
]


@pytest.mark.parametrize(("message", "row", "category"), CASES, ids=[f"{r}-{i}" for i, (_, r, _) in enumerate(CASES)])
def test_catalog_message_matches_its_row(message, row, category, knowledge):
    assert_top_match(message, row, category, knowledge)


@pytest.mark.parametrize(("message", "row"), FOLLOWED)
def test_follow_up_line_does_not_win(message, row, knowledge):
    from torchenv.checks.explain import explain

    matches = explain(message, None, knowledge)
    assert matches and matches[0].id != row, [(m.id, m.category) for m in matches]


def test_every_round8_row_is_exercised_and_sourced():
    new_rows = {row.id for row in parse_error_files([FAMILY_FILE]).patterns}
    assert_rows_exercised_and_sourced(new_rows, CASES, RETRIEVED, minimum=20)
