"""End-to-end tests of `torchenv doctor` against broken environments reproduced for real.

Each test builds the broken thing (a venv whose torch fails, crashes or hangs on import; a wedged or
garbage-printing nvidia-smi; a fake filesystem root), runs the doctor through the CLI in a subprocess or
through `gather_facts` + `diagnose`, and asserts the finding ids, the verdict, `cuda_usable` and that
the run came back in time.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import random
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .e2e_helpers import (
    api_report,
    broken_torch_files,
    clean_environ,
    fake_torch_files,
    run_doctor,
    write_dist_info,
    write_tree,
)

pytestmark = pytest.mark.slow

# CLI start-up, the knowledge load and the parallel short probes take well under a second here;
# "returned in time" means the run's own bound plus this.
SLACK = 2.0
ON_GPU_HOST = any(Path("/dev").glob("nvidia[0-9]*")) or Path("/proc/driver/nvidia/version").exists()
no_gpu_host = pytest.mark.skipif(ON_GPU_HOST, reason="asserts what the doctor says on a machine without a GPU")

RTX_5090 = {"name": "NVIDIA GeForce RTX 5090", "cc": [12, 0], "total_memory_mib": 32607, "sms": 170}


def errors_of(report: dict) -> set[str]:
    return {f["id"] for f in report["findings"] if f["severity"] == "error"}


def scenario_errors(report: dict) -> set[str]:
    """The errors a scenario on this GPU-less host causes. `no-nvidia-gpu` is always there too; its severity
    is the hardware check's business (an error at first, a warning since torch runs on the CPU), not ours."""
    assert "no-nvidia-gpu" in [f["id"] for f in report["findings"]]
    return errors_of(report) - {"no-nvidia-gpu"}


def verdict_of_only(severity: str) -> str:
    """The verdict a report must have when its worst finding has this severity."""
    return {"error": "broken", "warning": "degraded", "info": "healthy"}[severity]


def torch_facts(report: dict) -> dict:
    return report["facts"]["torch"]


# --- 1. import torch raises ----------------------------------------------------------------------


@no_gpu_host
def test_missing_cudnn_library_is_torch_import_failed(venvs):
    venv = venvs.get(
        "libcudnn-missing",
        torch_files=broken_torch_files(
            'raise ImportError("libcudnn.so.9: cannot open shared object file: No such file or directory")\n'
        ),
        dist_version="2.5.1+cu124",
    )
    run = run_doctor("--json", "--python", str(venv.python), "--timeout", "20")
    assert run.seconds < 20 + SLACK
    assert run.returncode == 1, run.stderr
    report = run.report
    assert report["verdict"] == "broken"
    assert report["cuda_usable"] is False
    assert scenario_errors(report) == {"torch-import-failed"}
    finding = run.finding("torch-import-failed")
    assert "libcudnn.so.9" in finding["explanation"]
    assert "cannot find it" in finding["explanation"]
    assert finding["evidence"] == [
        "ImportError: libcudnn.so.9: cannot open shared object file: No such file or directory"
    ]
    # The fix reinstalls into *this* interpreter.
    assert finding["fix"].startswith(f"{venv.python} -m pip install --force-reinstall torch")
    torch = torch_facts(report)
    assert (torch["status"], torch["stage"]) == ("import-error", "import")
    assert torch["version"] == {"unknown": "the torch probe did not get this far"}


@no_gpu_host
def test_undefined_symbol_is_torch_import_failed_with_symbol_explanation(venvs, tmp_path):
    venv = venvs.get(
        "undefined-symbol",
        torch_files=broken_torch_files(
            "raise OSError(\n"
            "    '/opt/venv/lib/python3.11/site-packages/torch/lib/libtorch_cuda.so: '\n"
            "    'undefined symbol: ncclCommRegister'\n"
            ")\n"
        ),
        dist_version="2.5.1+cu124",
    )
    # A user LD_LIBRARY_PATH (the usual culprit): the fix must offer to try without it first.
    env = clean_environ(LD_LIBRARY_PATH=str(tmp_path / "old-nccl"))
    run = run_doctor("--json", "--python", str(venv.python), "--timeout", "20", env=env)
    assert run.returncode == 1, run.stderr
    report = run.report
    assert report["verdict"] == "broken"
    assert report["cuda_usable"] is False
    assert "torch-import-failed" in errors_of(report)
    finding = run.finding("torch-import-failed")
    assert "lacks the symbol ncclCommRegister" in finding["explanation"]
    assert finding["evidence"][0].startswith("OSError: ") and finding["evidence"][0].endswith(
        "libtorch_cuda.so: undefined symbol: ncclCommRegister"
    )
    assert finding["fix"].startswith("Try without the system libraries first: `env -u LD_LIBRARY_PATH")
    assert str(venv.python) in finding["fix"]
    assert torch_facts(report)["status"] == "import-error"


# --- 2. torch kills the interpreter --------------------------------------------------------------


@no_gpu_host
def test_segfault_on_import_is_torch_crashed(venvs):
    venv = venvs.get(
        "segfault",
        torch_files=broken_torch_files(
            "import ctypes, sys\n"
            "sys.stderr.write('loading libtorch_cuda.so\\n'); sys.stderr.flush()\n"
            "ctypes.string_at(0)  # a real NULL dereference\n"
        ),
        dist_version="2.5.1+cu124",
    )
    run = run_doctor("--json", "--python", str(venv.python), "--timeout", "20")
    assert run.seconds < 20 + SLACK
    assert run.returncode == 1, run.stderr
    report = run.report
    assert report["verdict"] == "broken"
    assert report["cuda_usable"] is False
    assert scenario_errors(report) == {"torch-crashed"}
    finding = run.finding("torch-crashed")
    assert "SIGSEGV" in finding["title"] and "importing torch" in finding["title"]
    assert finding["evidence"][0] == "the torch probe died of SIGSEGV during stage 'import'"
    assert "loading libtorch_cuda.so" in finding["evidence"][1]
    torch = torch_facts(report)
    assert (torch["status"], torch["stage"], torch["signal"]) == ("crashed", "import", "SIGSEGV")
    # What was learned before the crash survives: the interpreter facts.
    assert report["facts"]["python"]["executable"] == str(venv.python)


@no_gpu_host
def test_abort_during_cuda_init_is_torch_crashed_at_cuda_init(venvs):
    venv = venvs.get(
        "abort-in-cuda-init",
        torch_files=fake_torch_files(is_available="import os; os.abort()"),
        dist_version="2.5.1+cu124",
    )
    run = run_doctor("--json", "--python", str(venv.python), "--timeout", "20")
    assert run.returncode == 1, run.stderr
    report = run.report
    assert report["verdict"] == "broken"
    assert report["cuda_usable"] is False
    assert "torch-crashed" in errors_of(report)
    torch = torch_facts(report)
    assert (torch["status"], torch["stage"], torch["signal"]) == ("crashed", "cuda-init", "SIGABRT")
    # The build was read before the crash.
    assert torch["version"] == "2.5.1+cu124" and torch["cuda"] == "12.4"
    assert "initialising CUDA" in run.finding("torch-crashed")["title"]


# --- 3./4. torch hangs ---------------------------------------------------------------------------


@no_gpu_host
def test_hang_on_import_is_torch_hung_and_doctor_returns_in_time(venvs):
    venv = venvs.get(
        "hang-on-import",
        torch_files=broken_torch_files("import time\ntime.sleep(600)\n"),
        dist_version="2.5.1+cu124",
    )
    run = run_doctor("--json", "--python", str(venv.python), "--timeout", "2", limit=30)
    assert run.seconds < 2 + SLACK, f"doctor took {run.seconds:.1f} s with --timeout 2"
    assert run.returncode == 1, run.stderr
    report = run.report
    assert report["verdict"] == "broken"
    assert report["cuda_usable"] is False
    assert scenario_errors(report) == {"torch-hung"}
    finding = run.finding("torch-hung")
    assert finding["layer"] == "torch"
    assert "while importing torch" in finding["title"]
    assert finding["evidence"][0] == "last stage reached: import"
    torch = torch_facts(report)
    assert (torch["status"], torch["stage"]) == ("hung", "import")
    assert 2.0 <= torch["wall_seconds"] < 2 + SLACK


@no_gpu_host
def test_hang_in_cuda_is_available_is_torch_hung_at_cuda_init(venvs):
    venv = venvs.get(
        "hang-in-cuda-init",
        torch_files=fake_torch_files(is_available="time.sleep(600)"),
        dist_version="2.5.1+cu124",
    )
    run = run_doctor("--json", "--python", str(venv.python), "--timeout", "3", limit=30)
    assert run.seconds < 3 + SLACK
    assert run.returncode == 1, run.stderr
    report = run.report
    assert report["verdict"] == "broken"
    assert report["cuda_usable"] is False
    assert scenario_errors(report) == {"torch-hung"}
    finding = run.finding("torch-hung")
    assert finding["layer"] == "compute"
    assert "while initialising CUDA" in finding["title"]
    assert finding["evidence"][0] == "last stage reached: cuda-init"
    torch = torch_facts(report)
    assert (torch["status"], torch["stage"]) == ("hung", "cuda-init")
    # Everything before the hang was kept: the build and its arch list.
    assert torch["version"] == "2.5.1+cu124"
    assert torch["arch_list"] == ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"]
    assert torch["nccl_version"] == "2.21.5"
    assert set(torch["stage_seconds"]) >= {"env", "import", "build"}


@no_gpu_host
def test_hang_with_daemon_holding_the_pipe_still_returns_in_time(venvs):
    """torch's import forks a daemon into its own session (escaping the process group) that keeps
    stdout/stderr open, then hangs: killing the group must still give control back."""
    venv = venvs.get(
        "hang-with-daemon",
        torch_files=broken_torch_files(
            "import os, time\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    time.sleep(15)\n"
            "    os._exit(0)\n"
            "time.sleep(600)\n"
        ),
        dist_version="2.5.1+cu124",
    )
    run = run_doctor("--json", "--python", str(venv.python), "--timeout", "2", limit=40)
    assert run.returncode == 1, run.stderr
    assert torch_facts(run.report)["status"] == "hung"
    assert "torch-hung" in run.ids
    assert run.seconds < 2 + SLACK + 2.0, f"doctor took {run.seconds:.1f} s"  # +2: the two pipe readers' joins


# --- 5. no torch ---------------------------------------------------------------------------------


@no_gpu_host
def test_venv_without_torch_is_torch_not_installed(venvs):
    venv = venvs.get("empty")
    run = run_doctor("--json", "--python", str(venv.python), "--timeout", "20")
    assert run.returncode == 1, run.stderr
    report = run.report
    assert report["verdict"] == "broken"
    assert report["cuda_usable"] is False
    assert scenario_errors(report) == {"torch-not-installed"}
    finding = run.finding("torch-not-installed")
    assert finding["title"] == f"torch is not installed in {venv.python}"
    # No GPU here, so the fix is the CPU build `torchenv plan` gives for this Python, with the venv's own interpreter.
    from torchenv.knowledge import load_knowledge
    from torchenv.model.plan import PlanRequest, Target
    from torchenv.planners import plan_for

    python_minor = ".".join(report["facts"]["python"]["version"].split(".")[:2])
    plan = plan_for(Target(python=python_minor), load_knowledge(), PlanRequest(companions=()))
    assert plan.variant == "cpu"
    assert finding["fix"] == (
        f"{venv.python} -m pip install torch=={plan.torch} --index-url https://download.pytorch.org/whl/cpu"
    )
    assert torch_facts(report)["status"] == "missing"
    python = report["facts"]["python"]
    assert python["is_venv"] is True and python["prefix"] == str(venv.root)


# --- 6. two torch installs -----------------------------------------------------------------------


@no_gpu_host
def test_two_torch_dist_infos_on_sys_path_is_duplicate_torch(venvs, tmp_path_factory):
    venv = venvs.get(
        "duplicate-pth",
        torch_files=fake_torch_files(version="2.5.1+cpu", cuda=None, arch_list=()),
        dist_version="2.5.1+cpu",
    )
    extra = tmp_path_factory.mktemp("user-libs")
    write_dist_info(extra, "torch", "2.4.0", installer="pip")
    (venv.site / "zz-extra.pth").write_text(str(extra) + "\n")
    run = run_doctor("--json", "--python", str(venv.python), "--timeout", "20")
    assert run.returncode == 1, run.stderr
    report = run.report
    assert report["verdict"] == "broken"
    assert report["cuda_usable"] is False
    assert scenario_errors(report) == {"duplicate-torch"}
    finding = run.finding("duplicate-torch")
    assert finding["severity"] == "error"  # two different versions
    assert f"torch 2.5.1+cpu in {venv.site} (installer: pip)" in finding["evidence"]
    assert f"torch 2.4.0 in {extra} (installer: pip)" in finding["evidence"]
    assert finding["evidence"][-1] == f"the one that imports: {venv.site}"
    assert finding["fix"].startswith(f"`{venv.python} -m pip uninstall -y torch`")
    assert "cpu-only-build-on-cpu-host" in run.ids


@no_gpu_host
def test_pip_torch_over_conda_pytorch_is_duplicate_torch(venvs):
    venv = venvs.get(
        "conda-plus-pip",
        torch_files=fake_torch_files(version="2.5.1+cpu", cuda=None, arch_list=()),
        dist_version="2.5.1+cpu",  # what `pip install torch` wrote over the conda package
    )
    meta = venv.root / "conda-meta"
    meta.mkdir(exist_ok=True)
    stem = "pytorch-2.1.0-py3.10_cuda12.1_cudnn8.9.2_0"
    record = {
        "build": "py3.10_cuda12.1_cudnn8.9.2_0",
        "build_number": 0,
        "channel": "https://conda.anaconda.org/pytorch/linux-64",
        "constrains": ["cpuonly <0"],
        "depends": ["blas * mkl", "pytorch-cuda >=12.1,<12.2", "python >=3.10,<3.11.0a0"],
        "extracted_package_dir": f"/opt/conda/pkgs/{stem}",
        "files": ["lib/python3.10/site-packages/torch/__init__.py"],
        "fn": f"{stem}.tar.bz2",
        "license": "BSD 3-Clause",
        "md5": "0f4fa0a5c2e8ab4ffa4e3c1f2b6a2e4d",
        "name": "pytorch",
        "package_tarball_full_path": f"/opt/conda/pkgs/{stem}.tar.bz2",
        "paths_data": {"paths": [], "paths_version": 1},
        "requested_spec": "pytorch==2.1.0",
        "size": 1502312345,
        "subdir": "linux-64",
        "timestamp": 1696442381745,
        "url": f"https://conda.anaconda.org/pytorch/linux-64/{stem}.tar.bz2",
        "version": "2.1.0",
    }
    (meta / f"{stem}.json").write_text(json.dumps(record))
    (meta / "history").write_text("==> 2024-01-10 12:00:00 <==\n+pytorch::pytorch-2.1.0-py3.10_cuda12.1_cudnn8.9.2_0\n")
    run = run_doctor("--json", "--python", str(venv.python), "--timeout", "20")
    assert run.returncode == 1, run.stderr
    report = run.report
    assert report["verdict"] == "broken"
    assert report["cuda_usable"] is False
    assert scenario_errors(report) == {"duplicate-torch"}
    python = report["facts"]["python"]
    assert python["conda_prefix"] == str(venv.root)
    assert python["conda_packages"] == [
        {
            "name": "pytorch",
            "version": "2.1.0",
            "build": "py3.10_cuda12.1_cudnn8.9.2_0",
            "channel": "https://conda.anaconda.org/pytorch/linux-64",
        }
    ]
    finding = run.finding("duplicate-torch")
    assert finding["severity"] == "error"
    assert "conda package pytorch 2.1.0 (py3.10_cuda12.1_cudnn8.9.2_0)" in finding["evidence"]
    assert f"torch 2.5.1+cpu in {venv.site} (installer: pip)" in finding["evidence"]
    assert "conda remove --force pytorch" in finding["fix"]


# --- 7. the real CPU torch on this GPU-less machine ----------------------------------------------


@no_gpu_host
@pytest.mark.torch
def test_real_cpu_torch_on_gpu_less_host():
    if importlib.util.find_spec("torch") is None:  # the test interpreter must have the real CPU torch
        pytest.skip("torch is not installed in the test interpreter")
    run = run_doctor("--json", "--python", sys.executable, "--timeout", "60")
    assert run.seconds < 60
    assert run.returncode == 0, run.stderr  # CPU only is healthy (checks/policy.py): a CPU CI can be green
    report = run.report
    assert run.ids == ["no-nvidia-gpu", "cpu-only-build-on-cpu-host"]
    assert report["verdict"] == verdict_of_only(run.finding("no-nvidia-gpu")["severity"]) == "healthy"
    assert report["cpu_only"] is True and report["summary"].startswith("CPU only")
    assert report["cuda_usable"] is False
    torch = torch_facts(report)
    assert torch["status"] == "ok" and torch["stage"] == "done"
    assert torch["cuda"] is None and torch["cuda_available"] is False
    assert torch["version"].startswith("2.") and torch["location"].endswith("/torch")
    assert run.finding("cpu-only-build-on-cpu-host")["severity"] == "info"
    assert "--index-url https://download.pytorch.org/whl/cu" in run.finding("no-nvidia-gpu")["fix"]


# --- 8. nvidia-smi hangs or prints garbage -------------------------------------------------------


@no_gpu_host
def test_hung_nvidia_smi_is_unresponsive_and_doctor_returns_in_time(venvs, bins, no_nvml):
    env = clean_environ(path_prepend=[bins["hang"]], pythonpath=[no_nvml])
    run = run_doctor("--json", "--no-torch", "--timeout", "3", "--python", str(venvs.get("empty").python), env=env)
    assert run.seconds < 3 + SLACK, f"doctor took {run.seconds:.1f} s with --timeout 3"
    assert run.returncode == 1, run.stderr
    report = run.report
    assert report["verdict"] == "broken"
    assert "nvidia-smi-unresponsive" in errors_of(report)
    finding = run.finding("nvidia-smi-unresponsive")
    assert len(finding["evidence"]) == 1
    assert finding["evidence"][0].startswith("nvidia-smi did not answer within 3.")
    assert finding["evidence"][0].endswith(" s and was killed")
    assert report["cuda_usable"] is False
    assert report["facts"]["gpus"]["source"] == "none"
    assert report["facts"]["torch"] == {"unknown": "skipped (--no-torch)"}


@no_gpu_host
def test_wedged_driver_nvml_and_nvidia_smi_both_hang_doctor_returns_in_time(venvs, bins, hung_nvml):
    env = clean_environ(path_prepend=[bins["hang"]], pythonpath=[hung_nvml])
    run = run_doctor("--json", "--no-torch", "--timeout", "3", "--python", str(venvs.get("empty").python), env=env)
    assert run.returncode == 1, run.stderr
    assert "nvidia-smi-unresponsive" in run.ids
    assert run.report["cuda_usable"] is False
    assert run.seconds < 3 + SLACK, f"doctor took {run.seconds:.1f} s with --timeout 3"


def check_garbage_smi_run(run, venv_python) -> None:
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    assert run.returncode in (0, 1)
    report = run.report
    gpus = report["facts"]["gpus"]
    assert gpus["source"] == "none"
    assert set(gpus["gpus"]) == {"unknown"} and "nvidia-smi printed no GPUs" in gpus["gpus"]["unknown"]
    assert report["facts"]["driver"]["version"] == {"unknown": "no NVIDIA kernel module found"}
    assert "nvidia-smi-unresponsive" not in run.ids
    assert run.ids == ["no-nvidia-gpu"]
    assert report["verdict"] == verdict_of_only(run.finding("no-nvidia-gpu")["severity"])
    assert report["cuda_usable"] is False


@no_gpu_host
def test_nvidia_smi_printing_garbage_bytes_is_no_traceback_and_gpus_unknown(venvs, bins, no_nvml):
    python = venvs.get("empty").python
    env = clean_environ(path_prepend=[bins["garbage"]], pythonpath=[no_nvml])
    run = run_doctor("--json", "--no-torch", "--timeout", "5", "--python", str(python), env=env)
    check_garbage_smi_run(run, python)


@no_gpu_host
def test_nvidia_smi_printing_garbage_with_carriage_returns_is_no_traceback(venvs, bins, no_nvml):
    python = venvs.get("empty").python
    env = clean_environ(path_prepend=[bins["garbage-cr"]], pythonpath=[no_nvml])
    run = run_doctor("--json", "--no-torch", "--timeout", "5", "--python", str(python), env=env)
    check_garbage_smi_run(run, python)


# --- 9. a GPU newer than the wheel ---------------------------------------------------------------


def gpu_root(base: Path, driver: str = "570.86.10") -> Path:
    """A filesystem root of a Linux host with a loaded NVIDIA driver and one GPU's device nodes."""
    write_tree(
        base,
        {
            "sys/module/nvidia/version": f"{driver}\n",
            "proc/driver/nvidia/version": f"NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  {driver}  "
            "Release Build  (dvs-builder@U16-I3-B03-4-3)  Thu Jan 23 02:44:41 UTC 2025\n"
            "GCC version:  gcc version 12.3.0 (Ubuntu 12.3.0-1ubuntu1~22.04)\n",
            "proc/sys/kernel/osrelease": "6.8.0-51-generic\n",
            "etc/os-release": 'PRETTY_NAME="Ubuntu 22.04.5 LTS"\nID=ubuntu\n',
            "dev/nvidia0": "",
            "dev/nvidiactl": "",
            "dev/nvidia-uvm": "",
        },
    )
    (base / "dev/shm").mkdir(parents=True, exist_ok=True)
    return base


def cu124_on_5090(venvs):
    """torch 2.5.1+cu124 (sm_50..sm_90, no PTX) seeing an RTX 5090: is_available() is True, kernels fail."""
    return venvs.get(
        "cu124-on-5090",
        torch_files=fake_torch_files(
            version="2.5.1+cu124",
            cuda="12.4",
            is_available="return True",
            devices=(RTX_5090,),
            kernel_error="CUDA error: no kernel image is available for execution on the device\n"
            "CUDA kernel errors might be asynchronously reported at some other API call.",
        ),
        dist_version="2.5.1+cu124",
    )


def test_rtx5090_with_cu124_wheel_is_gpu_arch_not_in_wheel(venvs, bins, no_nvml, tmp_path, process_env):
    venv = cu124_on_5090(venvs)
    environ = process_env(path_prepend=[bins["rtx5090"]], pythonpath=[no_nvml])
    root = gpu_root(tmp_path / "root")
    report, seconds = api_report(root, environ, venv.python, timeout=20)
    assert seconds < 20 + SLACK
    ids = [f.id for f in report.findings]
    assert "gpu-arch-not-in-wheel" in ids, ids
    finding = next(f for f in report.findings if f.id == "gpu-arch-not-in-wheel")
    assert finding.severity.value == "error"
    assert finding.title == "NVIDIA GeForce RTX 5090 (sm_120) is not supported by this torch build"
    assert "newer than every architecture" in finding.explanation
    assert finding.evidence[1] == "torch 2.5.1+cu124 contains: sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90"
    assert "--index-url https://download.pytorch.org/whl/cu128" in finding.fix
    assert finding.fix.startswith(f"{venv.python} -m pip install --force-reinstall torch==")
    # The smoke test reproduces what users see.
    assert "smoke-test-failed" in ids
    assert any("no kernel image" in f.evidence[0] for f in report.findings if f.id == "smoke-test-failed")
    assert report.verdict == "broken"
    assert report.cuda_usable is False
    facts = report.facts
    assert (facts.driver.version, facts.driver.source) == ("570.86.10", "/sys/module/nvidia/version")
    assert facts.driver.kernel_module == "open"
    assert facts.gpus.source == "nvidia-smi" and facts.gpus.gpus[0].cc == (12, 0)
    assert [(d.name, d.cc) for d in facts.torch.devices] == [("NVIDIA GeForce RTX 5090", (12, 0))]
    assert facts.torch.cudnn_version == 90100  # read after the (failed) smoke test
    assert "driver-too-old" not in ids and "no-nvidia-gpu" not in ids


def test_rtx5090_with_cu124_wheel_no_smoke_cuda_not_usable(venvs, bins, no_nvml, tmp_path, process_env):
    venv = cu124_on_5090(venvs)
    environ = process_env(path_prepend=[bins["rtx5090"]], pythonpath=[no_nvml])
    report, _ = api_report(gpu_root(tmp_path / "root"), environ, venv.python, timeout=20, smoke=False)
    assert "gpu-arch-not-in-wheel" in [f.id for f in report.findings]
    assert report.verdict == "broken"
    assert report.cuda_usable is False


# --- 10. garbage driver files --------------------------------------------------------------------


def test_garbage_proc_driver_version_and_empty_sys_module_version(venvs, tmp_path, no_nvml, process_env):
    root = tmp_path / "root"
    (root / "proc/driver/nvidia").mkdir(parents=True)
    (root / "proc/driver/nvidia/version").write_bytes(random.Random(7).randbytes(8192))
    (root / "sys/module/nvidia").mkdir(parents=True)
    (root / "sys/module/nvidia/version").write_bytes(b"")
    environ = process_env(pythonpath=[no_nvml])
    report, seconds = api_report(root, environ, venvs.get("empty").python, with_torch=False, timeout=10)
    assert seconds < 10 + SLACK
    driver = report.facts.driver
    assert type(driver.version).__name__ == "Unknown"
    assert type(driver.kernel_module).__name__ == "Unknown"
    assert driver.source in ("/sys/module/nvidia/version", "/proc/driver/nvidia/version")
    ids = [f.id for f in report.findings]
    # Nothing else on this root says there is a GPU (no PCI, no /dev/nvidia*, NVML/nvidia-smi silent).
    assert ids == ["no-nvidia-gpu"]
    assert report.verdict == verdict_of_only(report.findings[0].severity.value) != "healthy"
    assert report.cuda_usable is False
    # The same facts go through the JSON contract without trouble.
    from torchenv.render.json_report import render_json

    assert json.loads(render_json(report))["facts"]["driver"]["version"]["unknown"]


# --- 11. CUDA_VISIBLE_DEVICES --------------------------------------------------------------------


@no_gpu_host
def test_cuda_visible_devices_empty_hides_all(venvs, bins, no_nvml):
    env = clean_environ(path_prepend=[bins["a100x2"]], pythonpath=[no_nvml], CUDA_VISIBLE_DEVICES="")
    run = run_doctor("--json", "--no-torch", "--timeout", "5", "--python", str(venvs.get("empty").python), env=env)
    assert run.seconds < 5 + SLACK
    assert run.returncode == 1, run.stderr
    report = run.report
    assert report["verdict"] == "broken"
    assert report["cuda_usable"] is False
    assert errors_of(report) == {"cuda-visible-devices-hides-all"}
    finding = run.finding("cuda-visible-devices-hides-all")
    assert finding["evidence"] == [
        "CUDA_VISIBLE_DEVICES=''",
        "2 GPU(s) on the machine: 0: NVIDIA A100-SXM4-80GB, 1: NVIDIA A100-SXM4-80GB",
    ]
    assert report["facts"]["gpus"]["source"] == "nvidia-smi"
    assert report["facts"]["driver"]["version"] == "570.86.10"


@no_gpu_host
def test_cuda_visible_devices_with_invalid_entry_is_malformed(venvs, bins, no_nvml):
    env = clean_environ(path_prepend=[bins["a100x2"]], pythonpath=[no_nvml], CUDA_VISIBLE_DEVICES="0,abc")
    run = run_doctor("--json", "--no-torch", "--timeout", "5", "--python", str(venvs.get("empty").python), env=env)
    assert run.returncode == 1, run.stderr
    report = run.report
    assert "cuda-visible-devices-malformed" in run.ids
    assert "cuda-visible-devices-hides-all" not in run.ids
    finding = run.finding("cuda-visible-devices-malformed")
    assert finding["severity"] == "warning"
    assert "'abc'" in finding["title"]
    assert finding["explanation"] == "Only the first 1 entry will be visible."
    assert errors_of(report) == set()
    assert report["verdict"] == "degraded"
    assert report["cuda_usable"] is None  # torch not probed; nothing in the lower layers is broken


# --- 12. containers ------------------------------------------------------------------------------


def container_root(base: Path) -> Path:
    write_tree(
        base,
        {
            ".dockerenv": "",
            "proc/sys/kernel/osrelease": "6.8.0-51-generic\n",
            "proc/1/cgroup": "0::/\n",
            "etc/os-release": 'PRETTY_NAME="Ubuntu 22.04.4 LTS"\n',
            "dev/null": "",
            "dev/zero": "",
        },
    )
    (base / "dev/shm").mkdir(parents=True, exist_ok=True)
    return base


def test_container_without_gpu_passthrough(venvs, tmp_path, no_nvml, process_env):
    root = container_root(tmp_path / "root")
    environ = process_env(
        pythonpath=[no_nvml],
        NVIDIA_VISIBLE_DEVICES="all",
        NVIDIA_DRIVER_CAPABILITIES="compute,utility",
        CUDA_VERSION="12.4.1",
    )
    report, seconds = api_report(root, environ, venvs.get("empty").python, with_torch=False, timeout=10)
    assert seconds < 10 + SLACK
    assert report.facts.host.container == "docker"
    assert report.facts.host.dev_nodes == ()
    ids = [f.id for f in report.findings]
    assert "container-without-gpu-passthrough" in ids
    finding = next(f for f in report.findings if f.id == "container-without-gpu-passthrough")
    assert finding.severity.value == "error" and finding.layer == "hardware"
    assert finding.evidence == (
        "NVIDIA_VISIBLE_DEVICES=all",
        "NVIDIA_DRIVER_CAPABILITIES=compute,utility",
        "CUDA_VERSION=12.4.1",
        "no /dev/nvidia* device nodes inside the container",
    )
    assert "--gpus all" in finding.fix
    # The GPU is hidden, not missing: no-nvidia-gpu either stays quiet or points at the container.
    no_gpu = [f for f in report.findings if f.id == "no-nvidia-gpu"]
    assert not no_gpu or no_gpu[0].fix.startswith("This is a docker container")
    assert report.verdict == "broken"
    assert report.cuda_usable is False


SHM_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from torchenv.checks import diagnose
    from torchenv.knowledge import load_knowledge
    from torchenv.probes import gather_facts
    facts = gather_facts(root=Path(sys.argv[1]), environ={"PATH": "/usr/bin:/bin"}, python=sys.argv[3],
                         with_torch=False, timeout=10)
    report = diagnose(facts, load_knowledge(), torchenv_version="test")
    print(json.dumps({"shm": facts.host.shm_bytes, "ids": [f.id for f in report.findings],
                      "findings": {f.id: [f.title, f.fix, f.severity.value] for f in report.findings},
                      "verdict": report.verdict}))
    """
)


def test_small_dev_shm_in_container_is_shm_too_small(venvs, tmp_path):
    """A real 64 MiB tmpfs (Docker's default) mounted at <root>/dev/shm in a private mount namespace."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare(1) to mount a private 64 MiB tmpfs")
    root = container_root(tmp_path / "root")
    script = tmp_path / "shm_probe.py"
    script.write_text(SHM_SCRIPT)
    shm = root / "dev/shm"
    command = (
        f"mount -t tmpfs -o size=64m tmpfs '{shm}' && "
        f"exec '{sys.executable}' '{script}' '{root}' '{Path(__file__).resolve().parents[2] / 'src'}' "
        f"'{venvs.get('empty').python}'"
    )
    proc = subprocess.run(["unshare", "-m", "sh", "-c", command], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0 and "mount" in proc.stderr and "permission" in proc.stderr.lower():
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["shm"] == 64 * 1024 * 1024
    assert "shm-too-small" in result["ids"]
    title, fix, severity = result["findings"]["shm-too-small"]
    assert title == "/dev/shm is only 64 MiB: DataLoader workers will crash"
    assert severity == "warning"
    assert "--shm-size" in fix  # the container advice
    # no-nvidia-gpu too (this root has no GPU): the verdict follows the worse of the two.
    assert set(result["ids"]) == {"shm-too-small", "no-nvidia-gpu"}
    worst = min((s for _, _, s in result["findings"].values()), key=["error", "warning", "info"].index)
    assert result["verdict"] == verdict_of_only(worst) != "healthy"


# --- 13. usage errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["--python", "/nonexistent/bin/python"], "torchenv: --python /nonexistent/bin/python: no such interpreter"),
        (["--python", "/tmp"], "torchenv: --python /tmp: not an executable file"),
        (["--timeout", "-1"], "torchenv: --timeout must be a positive, finite number of seconds"),
        (["--timeout", "0"], "torchenv: --timeout must be a positive, finite number of seconds"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args, message):
    run = run_doctor("--json", *args, limit=30)
    assert run.seconds < 10
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.strip() == message
    assert "Traceback" not in run.stderr


def test_python_that_is_not_executable_exits_2(tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o644)
    run = run_doctor("--json", "--python", str(fake), limit=30)
    assert run.returncode == 2
    assert run.stderr.strip() == f"torchenv: --python {fake}: not an executable file"


def test_nan_timeout_is_a_usage_error(venvs):
    assert math.isnan(float("nan"))
    run = run_doctor("--json", "--no-torch", "--timeout", "nan", "--python", str(venvs.get("empty").python), limit=30)
    assert run.returncode == 2
    assert "--timeout" in run.stderr


def test_argparse_rejects_non_number_timeout():
    run = run_doctor("--json", "--timeout", "soon", limit=30)
    assert run.returncode == 2
    assert "invalid float value: 'soon'" in run.stderr
    assert "Traceback" not in run.stderr


# --- 14. torch whose import exits the interpreter ------------------------------------------------


MKL_FATAL = (
    "import os, sys\n"
    "sys.stderr.write('INTEL MKL ERROR: /opt/conda/lib/libmkl_avx2.so.2: undefined symbol: mkl_sparse_optimize_bsr_trsm_i8.\\n'\n"
    "                 'Intel MKL FATAL ERROR: Cannot load libmkl_avx2.so.2 or libmkl_def.so.2.\\n')\n"
    "sys.stderr.flush()\n"
    "os._exit(2)  # what MKL's loader does: exit() from C, no Python exception\n"
)


def mkl_fatal_report(venvs, bins, no_nvml, root: Path, process_env):
    """torch whose import exits the interpreter (MKL's loader), on a machine with two A100s."""
    venv = venvs.get("mkl-fatal", torch_files=broken_torch_files(MKL_FATAL), dist_version="2.5.1+cu124")
    environ = process_env(path_prepend=[bins["a100x2"]], pythonpath=[no_nvml])
    report, seconds = api_report(gpu_root(root), environ, venv.python, timeout=20)
    assert seconds < 20 + SLACK
    return report


def test_torch_import_that_exits_the_interpreter_is_torch_probe_failed(venvs, bins, no_nvml, tmp_path, process_env):
    report = mkl_fatal_report(venvs, bins, no_nvml, tmp_path / "root", process_env)
    torch = report.facts.torch
    assert (torch.status, torch.stage) == ("probe-error", "import")
    assert "Intel MKL FATAL ERROR" in torch.stderr_tail
    assert report.facts.gpus.source == "nvidia-smi" and len(report.facts.gpus.gpus) == 2
    errors = {f.id for f in report.findings if f.severity.value == "error"}
    assert errors == {"torch-probe-failed"}
    finding = next(f for f in report.findings if f.id == "torch-probe-failed")
    assert finding.layer == "torch" and "importing torch" in finding.title
    assert finding.evidence == (
        "python exited with 2: Intel MKL FATAL ERROR: Cannot load libmkl_avx2.so.2 or libmkl_def.so.2.",
        "Intel MKL FATAL ERROR: Cannot load libmkl_avx2.so.2 or libmkl_def.so.2.",
    )
    assert report.verdict == "broken"


def test_torch_import_that_exits_the_interpreter_cuda_not_usable(venvs, bins, no_nvml, tmp_path, process_env):
    report = mkl_fatal_report(venvs, bins, no_nvml, tmp_path / "root", process_env)
    assert report.facts.torch.status == "probe-error"
    assert report.verdict == "broken"
    assert report.cuda_usable is False
