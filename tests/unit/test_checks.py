"""Every finding, produced from real captured facts (the H100 run, and this CPU machine's shape)
changed in exactly the way a broken machine differs. Table-driven: one row per finding."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from testsupport import load_h100_facts
from torchenv.checks import diagnose
from torchenv.model import (
    Companion,
    CudaToolkit,
    Distribution,
    GpuInventory,
    JupyterKernel,
    LoadedLibrary,
    PciDevice,
    Severity,
    SmokeResult,
    SystemLibrary,
    Unknown,
)
from torchenv.model.container import CdiSpec, CgroupLimits, ContainerFacts, DriverFile

CHECKS = Path(__file__).parent.parent.parent / "src" / "torchenv" / "checks"


def torch_(facts, **changes):
    return replace(facts, torch=replace(facts.torch, **changes))


def gpu(facts, **changes):
    gpus = facts.gpus.gpus
    return replace(facts, gpus=replace(facts.gpus, gpus=(replace(gpus[0], **changes), *gpus[1:])))


def host(facts, **changes):
    return replace(facts, host=replace(facts.host, **changes))


def driver(facts, **changes):
    return replace(facts, driver=replace(facts.driver, **changes))


def env(facts, **variables):
    return replace(facts, environment={**facts.environment, **variables})


def python_(facts, **changes):
    return replace(facts, python=replace(facts.python, **changes))


def no_gpu_inventory(facts, reason="NVML: Driver Not Loaded"):
    return replace(facts, gpus=GpuInventory(source="none", gpus=Unknown(reason)))


# The H100 capture's container: docker, GPU 0 by the toolkit (tests/container has every runtime).
H100_CONTAINER = ContainerFacts(
    runtime="docker",
    evidence=("/.dockerenv",),
    visible_devices="0",
    driver_capabilities="compute,graphics,utility",
    cuda_version="13.0.2",
    driver_files=(
        DriverFile("libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1", "580.159.04", True),
        DriverFile("nvidia-smi", "/usr/bin/nvidia-smi", None, True),
    ),
    proc_driver="injected",
    cdi_specs=(),
    cgroup=CgroupLimits(2, None, None, None, "cgroup v2: /sys/fs/cgroup"),
)


def container_(facts, **changes):
    return replace(facts, container=replace(H100_CONTAINER, **changes))


def cpu_machine(facts):
    """The H100 facts with the GPU, driver and CUDA torch taken away: this CI machine's shape."""
    facts = no_gpu_inventory(facts, "NVML Shared Library Not Found")
    facts = host(facts, pci_gpus=(), dev_nodes=(), container=None)
    facts = driver(
        facts,
        version=Unknown("no NVIDIA kernel module found"),
        userspace_version=Unknown("no NVML"),
        nvml_error="NVML Shared Library Not Found",
        source="none",
    )
    return torch_(
        facts,
        version="2.13.0+cpu",
        cuda=None,
        cuda_available=False,
        devices=(),
        arch_list=(),
        cudnn_version=None,
        smoke=Unknown("CUDA is not available to torch"),
        device_count=0,
        loaded_libraries=(),
        cuda_init_seconds=Unknown("CUDA was not initialised"),
        companions=(),
    )


def old_wheel(facts, version="2.5.1+cu124", cuda="12.4"):
    arches = ("sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90")
    return torch_(facts, version=version, cuda=cuda, arch_list=arches, companions=())


def rtx5090(facts):
    return gpu(facts, name="NVIDIA GeForce RTX 5090", cc=(12, 0), memory_total_mib=32607, memory_used_mib=1)


def dist(name, version, location, installer="pip"):
    return Distribution(name, version, location, installer)


SITE = "/opt/torch/.venv/lib/python3.12/site-packages"

CASES = {
    "no-nvidia-gpu": (cpu_machine, Severity.INFO),  # CPU only: the verdict policy (tests/unit/test_policy.py)
    "cpu-only-build-on-cpu-host": (cpu_machine, Severity.INFO),
    "container-without-gpu-passthrough": (
        lambda f: env(host(cpu_machine(f), container="docker"), NVIDIA_VISIBLE_DEVICES="all"),
        Severity.ERROR,
    ),
    "container-gpu-not-injected": (
        lambda f: container_(host(no_gpu_inventory(f), dev_nodes=()), driver_files=(), proc_driver="host"),
        Severity.ERROR,
    ),
    "container-driver-capability-missing": (
        lambda f: container_(f, driver_capabilities="utility", driver_files=H100_CONTAINER.driver_files[1:]),
        Severity.ERROR,
    ),
    "container-cuda-newer-than-driver": (
        lambda f: container_(driver(f, version="550.54.14", userspace_version="550.54.14")),
        Severity.WARNING,
    ),
    "container-cgroup-limits": (
        lambda f: container_(f, cgroup=CgroupLimits(2, None, 4.0, None, "cgroup v2: /sys/fs/cgroup")),
        Severity.WARNING,
    ),
    "cdi-spec-stale": (
        lambda f: container_(f, cdi_specs=(CdiSpec("/etc/cdi/nvidia.yaml", "nvidia.com/gpu", ("0",), "570.133.20"),)),
        Severity.WARNING,
    ),
    "nvidia-driver-not-loaded": (
        lambda f: driver(
            host(no_gpu_inventory(f), pci_gpus=(PciDevice("0000:01:00.0", "0x2684", "nouveau"),), dev_nodes=()),
            version=Unknown("no NVIDIA kernel module found"),
            nvml_error="Driver Not Loaded",
        ),
        Severity.ERROR,
    ),
    "driver-library-mismatch": (
        lambda f: driver(
            no_gpu_inventory(f),
            nvml_error="Driver/library version mismatch",
            userspace_version=Unknown("NVML: Driver/library version mismatch"),
        ),
        Severity.ERROR,
    ),
    "nvidia-smi-unresponsive": (
        lambda f: driver(no_gpu_inventory(f), smi_error="nvidia-smi did not answer within 10.0 s and was killed"),
        Severity.ERROR,
    ),
    "cuda-visible-devices-hides-all": (lambda f: env(f, CUDA_VISIBLE_DEVICES=""), Severity.ERROR),
    "cuda-visible-devices-malformed": (lambda f: env(f, CUDA_VISIBLE_DEVICES="0,abc"), Severity.WARNING),
    "cuda-visible-devices-unknown-device": (
        lambda f: env(f, CUDA_VISIBLE_DEVICES="GPU-00000000-1111-2222-3333-444444444444"),
        Severity.ERROR,
    ),
    "wsl-no-gpu-passthrough": (lambda f: host(f, wsl=True, dev_nodes=()), Severity.ERROR),
    "wsl-linux-driver-installed": (
        lambda f: replace(
            host(f, wsl=True, dev_nodes=("/dev/dxg",)),
            system_libraries=(
                SystemLibrary("libcuda", "550.54.14", "/usr/lib/x86_64-linux-gnu/libcuda.so.1", "ldconfig"),
            ),
        ),
        Severity.ERROR,
    ),
    "wsl-libcuda-not-found": (
        lambda f: replace(
            host(f, wsl=True, dev_nodes=("/dev/dxg",)),
            system_libraries=(
                SystemLibrary("libcudnn", "9.1.0", "/usr/lib/x86_64-linux-gnu/libcudnn.so.9", "ldconfig"),
            ),
        ),
        Severity.WARNING,
    ),
    "mig-enabled": (lambda f: gpu(f, mig_enabled=True), Severity.INFO),
    "driver-branch-old": (lambda f: f, Severity.INFO),
    "torch-not-installed": (
        lambda f: torch_(f, status="missing", error="ModuleNotFoundError: No module named 'torch'"),
        Severity.ERROR,
    ),
    "torch-import-failed": (
        lambda f: torch_(
            f,
            status="import-error",
            version=Unknown("did not import"),
            error="ImportError: libcudnn.so.9: cannot open shared object file: No such file or directory",
        ),
        Severity.ERROR,
    ),
    "torch-crashed": (
        lambda f: torch_(f, status="crashed", stage="import", signal="SIGSEGV", version=Unknown("x")),
        Severity.ERROR,
    ),
    "torch-hung": (
        lambda f: torch_(f, status="hung", stage="cuda-init", error="no answer within 60.0 s"),
        Severity.ERROR,
    ),
    "cpu-only-build": (
        lambda f: torch_(f, version="2.11.0+cpu", cuda=None, cuda_available=False, devices=()),
        Severity.ERROR,
    ),
    "driver-too-old": (lambda f: driver(f, version="525.60.13"), Severity.ERROR),
    "driver-predates-gpu": (lambda f: driver(f, version="470.82.01"), Severity.ERROR),  # Hopper needs R520+
    "driver-dropped-gpu": (lambda f: gpu(f, name="Tesla K80", cc=(3, 7)), Severity.ERROR),  # R470 was Kepler's last
    "driver-minor-version-compat": (lambda f: driver(old_wheel(f), version="535.104.05"), Severity.WARNING),
    "gpu-arch-not-in-wheel": (lambda f: rtx5090(old_wheel(f)), Severity.ERROR),
    "gpu-arch-ptx-jit": (
        lambda f: torch_(rtx5090(old_wheel(f)), arch_list=("sm_80", "sm_86", "sm_90", "compute_90")),
        Severity.WARNING,
    ),
    "cuda-unavailable": (
        lambda f: torch_(f, cuda_available=False, cuda_unavailable_reason="CUDA unknown error", smoke=Unknown("no")),
        Severity.ERROR,
    ),
    "torch-debug-build": (lambda f: torch_(f, debug=True), Severity.WARNING),
    "torch-import-noisy": (lambda f: torch_(f, output_bytes=5_000_000), Severity.WARNING),
    "python-unsupported": (lambda f: torch_(python_(f, version="3.16.0"), status="missing"), Severity.ERROR),
    "python-too-old-for-current-torch": (
        lambda f: torch_(python_(f, version="3.8.10"), status="missing"),
        Severity.WARNING,
    ),
    "duplicate-torch": (
        lambda f: python_(
            f,
            distributions=(
                dist("torch", "2.11.0", SITE),
                dist("torch", "2.3.0", "/root/.local/lib/python3.12/site-packages"),
            ),
        ),
        Severity.ERROR,
    ),
    "mixed-cuda-wheels": (
        lambda f: python_(
            f,
            distributions=(
                dist("nvidia-cuda-runtime-cu11", "11.7.99", SITE),
                dist("nvidia-cuda-runtime-cu12", "12.1.105", SITE),
            ),
        ),
        Severity.WARNING,
    ),
    "companion-import-failed": (
        lambda f: torch_(
            f,
            companions=(Companion("torchvision", "0.26.0", "RuntimeError: operator torchvision::nms does not exist"),),
        ),
        Severity.ERROR,
    ),
    "companion-built-for-other-torch": (
        lambda f: torch_(f, companions=(Companion("torchvision", "0.25.0", None, "==2.10.0"),)),
        Severity.ERROR,
    ),
    "companion-version-mismatch": (
        lambda f: torch_(f, companions=(Companion("torchvision", "0.24.0"),)),
        Severity.WARNING,
    ),
    "companion-variant-mismatch": (
        lambda f: torch_(f, companions=(Companion("torchvision", "0.26.0+cu126"),)),
        Severity.WARNING,
    ),
    "library-shadowed": (
        lambda f: env(
            torch_(
                f,
                loaded_libraries=(
                    LoadedLibrary("libcudnn", "/usr/lib/x86_64-linux-gnu/libcudnn.so.9", "system", "9.14.0"),
                ),
            ),
            LD_LIBRARY_PATH="/usr/lib/x86_64-linux-gnu",
        ),
        Severity.WARNING,
    ),
    "system-cudnn-differs": (lambda f: f, Severity.INFO),
    "cudnn-disabled": (lambda f: torch_(f, cudnn_enabled=False), Severity.WARNING),
    "cudnn-not-loadable": (
        lambda f: torch_(f, cudnn_version=None, cudnn_error="RuntimeError: cuDNN version incompatibility"),
        Severity.ERROR,
    ),
    "smoke-test-failed": (
        lambda f: torch_(
            f,
            smoke=(
                SmokeResult(
                    0,
                    "matmul",
                    False,
                    Unknown("x"),
                    Unknown("x"),
                    "RuntimeError: CUDA error: no kernel image is available",
                ),
            ),
        ),
        Severity.ERROR,
    ),
    "smoke-test-wrong-result": (
        lambda f: torch_(f, smoke=(SmokeResult(0, "conv2d", False, 0.5, 0.2),)),
        Severity.ERROR,
    ),
    "gpu-memory-held-by-others": (lambda f: gpu(f, memory_used_mib=70000, compute_processes=2), Severity.WARNING),
    "pcie-link-degraded": (lambda f: gpu(f, pcie_width_current=8, utilization_percent=85), Severity.WARNING),
    "interpreter-unusable": (
        lambda f: replace(
            f,
            python=Unknown("the interpreter could not be probed: python exited with 1: SyntaxError"),
            torch=Unknown("the interpreter could not be probed"),
        ),
        Severity.ERROR,
    ),
    "torch-probe-failed": (
        lambda f: torch_(
            f,
            status="probe-error",
            stage="build",
            error="python exited with 1: Fatal Python error",
            stderr_tail="Fatal Python error: init_import_site",
        ),
        Severity.ERROR,
    ),
    "pcie-link-below-max-generation": (lambda f: gpu(f, pcie_gen_current=3), Severity.INFO),
    "persistence-mode-off": (lambda f: gpu(f, persistence_mode=False), Severity.INFO),
    "ecc-uncorrected-errors": (lambda f: gpu(f, ecc_uncorrected_errors=3), Severity.WARNING),
    "slow-cuda-init": (lambda f: torch_(f, cuda_init_seconds=14.2), Severity.INFO),
    "torch-import-uncached": (
        lambda f: torch_(f, bytecode_cached=False, bytecode_writes_off=True, stage_seconds={"import": 3.1}),
        Severity.INFO,
    ),
    "wrong-interpreter": (lambda f: env(f, VIRTUAL_ENV="/home/me/other-env"), Severity.WARNING),
    "no-jupyter-kernel-for-env": (
        lambda f: torch_(
            python_(
                f,
                jupyter_kernels=(
                    JupyterKernel(
                        "python3",
                        "/usr/local/share/jupyter/kernels/python3/kernel.json",
                        "Python 3 (ipykernel)",
                        "/usr/bin/python3",
                    ),
                ),
            ),
            status="missing",
        ),
        Severity.WARNING,
    ),
    "shm-too-small": (lambda f: host(f, shm_bytes=64 << 20, container="docker"), Severity.WARNING),
    "system-cuda-toolkit-differs": (
        lambda f: replace(f, cuda_toolkits=(CudaToolkit("/usr/local/cuda-12.4", "12.4.1", "version.json"),)),
        Severity.INFO,
    ),
    "debug-env-var-set": (lambda f: env(f, CUDA_LAUNCH_BLOCKING="1"), Severity.WARNING),
}


def findings_for(facts, knowledge):
    return diagnose(facts, knowledge, torchenv_version="test")


def test_the_real_h100_is_healthy(knowledge):
    report = findings_for(load_h100_facts(), knowledge)
    assert report.verdict == "healthy"
    assert report.cuda_usable is True
    assert report.summary.startswith("Healthy: torch 2.11.0+cu130 (CUDA 13.0) on NVIDIA H100 80GB HBM3")
    assert {f.severity for f in report.findings} == {Severity.INFO}
    # The cuDNN torch loads (9.19) and the system's (9.14) are told apart, unlike collect_env.
    differs = next(f for f in report.findings if f.id == "system-cudnn-differs")
    assert "9.19.0" in differs.title and "9.14.0" in differs.title


@pytest.mark.parametrize("finding_id", sorted(CASES))
def test_each_finding_from_fixture_facts(finding_id, knowledge):
    change, severity = CASES[finding_id]
    report = findings_for(change(load_h100_facts()), knowledge)
    matches = [f for f in report.findings if f.id == finding_id]
    assert matches, f"{finding_id} not found; got {[f.id for f in report.findings]}"
    finding = matches[0]
    assert finding.severity is severity
    assert finding.evidence, "a finding must carry its evidence"
    if severity is not Severity.INFO:
        assert finding.fix, "a problem must come with a fix"
        assert report.verdict == (
            "broken" if any(f.severity is Severity.ERROR for f in report.findings) else "degraded"
        )


def test_every_finding_id_in_the_code_has_a_case():
    ids = set()
    for path in CHECKS.glob("*.py"):
        # explain.py: report-only findings, tested in tests/reports; policy.py (cuda-required) and registry.py
        # (internal-check-error): tested in tests/unit/test_policy.py
        if path.name not in ("explain.py", "policy.py", "registry.py"):
            ids |= set(re.findall(r'\bid="([a-z0-9-]+)"', path.read_text()))
    assert ids == set(CASES), f"untested: {ids - set(CASES)}; stale: {set(CASES) - ids}"


def test_cpu_machine_verdict_says_what_to_install(knowledge):
    report = findings_for(cpu_machine(load_h100_facts()), knowledge)
    assert report.verdict == "healthy"  # CPU only: a CPU build on a machine without a GPU is right
    assert report.cpu_only is True and report.summary.startswith("CPU only")
    assert report.cuda_usable is False
    no_gpu = report.findings[0]
    assert no_gpu.id == "no-nvidia-gpu"
    assert "--index-url https://download.pytorch.org/whl/cu" in no_gpu.fix


def test_arch_fix_names_a_build_that_contains_the_gpu(knowledge):
    report = findings_for(rtx5090(old_wheel(driver(load_h100_facts(), version="570.86.10"))), knowledge)
    finding = next(f for f in report.findings if f.id == "gpu-arch-not-in-wheel")
    assert "sm_120" in finding.title
    index = re.search(r"whl/(cu\d+)", finding.fix).group(1)
    assert int(index[2:]) >= 128  # Blackwell consumer cards need cu128 or newer
    assert int(index[2:]) <= 128  # and a 570 driver cannot run anything newer than CUDA 12.8


def test_driver_too_old_offers_a_build_the_driver_can_run(knowledge):
    report = findings_for(old_wheel(driver(load_h100_facts(), version="520.61.05"), "2.5.1+cu124", "12.4"), knowledge)
    finding = next(f for f in report.findings if f.id == "driver-too-old")
    assert "cu118" in finding.fix  # CUDA 11.8 needs 520.61.05: the newest variant that driver runs


def test_unknown_inputs_skip_rather_than_guess(knowledge):
    facts = replace(load_h100_facts(), torch=Unknown("skipped (--no-torch)"))
    report = findings_for(facts, knowledge)
    skipped = {s.check for s in report.skipped}
    assert {"cpu-only-build", "driver-too-old", "gpu-arch-not-in-wheel", "smoke-test"} <= skipped
    assert report.cuda_usable is None
    assert report.verdict == "healthy"


def test_cudnn_sub_libraries_from_ld_library_path_are_named(knowledge):
    """As reproduced on the H100: LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu made torch load the wheel's
    libcudnn.so.9 but the system's 9.14 sub-libraries, and cudnn.version() refused the mix."""
    wheel = "/opt/torch/.venv/lib/python3.12/site-packages/nvidia/cudnn/lib/libcudnn.so.9"
    libraries = (
        LoadedLibrary("libcudnn", wheel, "nvidia-cudnn-cu13", "9.19.0.56"),
        LoadedLibrary("libcudnn_graph", "/usr/lib/x86_64-linux-gnu/libcudnn_graph.so.9", "system", "9.14.0"),
        LoadedLibrary("libcudnn_ops", "/usr/lib/x86_64-linux-gnu/libcudnn_ops.so.9", "system", "9.14.0"),
    )
    facts = env(
        torch_(
            load_h100_facts(),
            loaded_libraries=libraries,
            cudnn_version=None,
            cudnn_error="RuntimeError: cuDNN version incompatibility: PyTorch was compiled  against (9, 19, 0) "
            "but found runtime version (9, 14, 0).",
        ),
        LD_LIBRARY_PATH="/usr/lib/x86_64-linux-gnu",
    )
    findings = {f.id: f for f in findings_for(facts, knowledge).findings}
    shadowed = findings["library-shadowed"]
    assert "libcudnn_graph, libcudnn_ops" in shadowed.title
    assert "LD_LIBRARY_PATH" in shadowed.fix
    assert "incompatibility" in " ".join(findings["cudnn-not-loadable"].evidence)


def test_a_kernel_that_runs_this_env_is_fine(knowledge):
    facts = load_h100_facts()
    kernel = JupyterKernel("torch", "/x/kernel.json", "torch", facts.python.executable)
    ids = [f.id for f in findings_for(python_(facts, jupyter_kernels=(kernel,)), knowledge).findings]
    assert "no-jupyter-kernel-for-env" not in ids


def test_idle_narrow_pcie_link_is_only_info(knowledge):
    report = findings_for(gpu(load_h100_facts(), pcie_width_current=8, utilization_percent=0), knowledge)
    assert next(f for f in report.findings if f.id == "pcie-link-degraded").severity is Severity.INFO


def test_container_expecting_a_gpu_is_not_also_called_gpu_less(knowledge):
    facts = env(host(cpu_machine(load_h100_facts()), container="docker"), NVIDIA_VISIBLE_DEVICES="all")
    ids = [f.id for f in findings_for(facts, knowledge).findings]
    assert "container-without-gpu-passthrough" in ids and "no-nvidia-gpu" not in ids


def test_explicit_python_is_not_a_wrong_interpreter(knowledge):
    facts = replace(env(load_h100_facts(), VIRTUAL_ENV="/home/me/other-env"), explicit_python=True)
    finding = next(f for f in findings_for(facts, knowledge).findings if f.id == "wrong-interpreter")
    assert finding.severity is Severity.INFO  # only the pip/python PATH mismatch of that machine remains


def test_windows_cuda_13_2_is_judged_against_the_r580_branch_floor(knowledge):
    # NVIDIA's Table 3 gives no Windows toolkit driver for CUDA 13.x; Table 2's R580 branch floor applies.
    facts = host(torch_(load_h100_facts(), version="2.15.0+cu132", cuda="13.2"), os="windows")
    ids = [f.id for f in findings_for(facts, knowledge).findings]
    assert "driver-too-old" not in ids and "driver-minor-version-compat" not in ids
    old = driver(facts, version="572.16")
    assert "driver-too-old" in [f.id for f in findings_for(old, knowledge).findings]


def test_hidden_gpus_are_not_reported_as_missing_gpus(knowledge):
    report = findings_for(env(load_h100_facts(), CUDA_VISIBLE_DEVICES="-1"), knowledge)
    ids = [f.id for f in report.findings]
    assert "cuda-visible-devices-hides-all" in ids
    assert "no-nvidia-gpu" not in ids


@pytest.mark.parametrize(
    ("value", "severity"),
    [
        ("GPU-00000000-1111-2222-3333-444444444444", "error"),  # another machine's UUID
        ("0,GPU-deadbeef", "warning"),  # the GPU before it stays visible
        ("MIG-3b2f8c1e-1111-2222-3333-444444444444", "error"),  # MIG off on every GPU here
        ("MIG-GPU-aad4385a-8951-6004-f857-72df0498376c/1/0", "error"),  # the GPU exists, MIG is off
    ],
)
def test_a_uuid_or_mig_id_that_is_not_here_is_named_with_the_real_uuids(knowledge, value, severity):
    report = findings_for(env(load_h100_facts(), CUDA_VISIBLE_DEVICES=value), knowledge)
    (finding,) = [f for f in report.findings if f.id == "cuda-visible-devices-unknown-device"]
    assert finding.severity.value == severity
    assert any("GPU-aad4385a-8951-6004-f857-72df0498376c" in e for e in finding.evidence)
    assert "GPU-aad4385a-8951-6004-f857-72df0498376c" in finding.fix
    ids = [f.id for f in report.findings]
    assert "cuda-visible-devices-hides-all" not in ids and "cuda-visible-devices-malformed" not in ids


@pytest.mark.parametrize("value", ["GPU-aad4385a-8951-6004-f857-72df0498376c", "GPU-aad4385a", "0"])
def test_a_uuid_or_prefix_of_this_gpu_is_fine(knowledge, value):
    report = findings_for(env(load_h100_facts(), CUDA_VISIBLE_DEVICES=value), knowledge)
    assert not [f for f in report.findings if f.id.startswith("cuda-visible-devices")]


def test_library_shadowed_names_a_symlinked_ld_library_path_entry(knowledge):
    # LD_LIBRARY_PATH=/lib/x86_64-linux-gnu (a symlink to /usr/lib/... on merged-/usr systems): the mapped
    # path is the real one, the system probe's listing of the variable's folders ties them together.
    facts = env(
        torch_(
            load_h100_facts(),
            loaded_libraries=(
                LoadedLibrary("libcudnn", "/usr/lib/x86_64-linux-gnu/libcudnn.so.9.14.0", "system", "9.14.0"),
            ),
        ),
        LD_LIBRARY_PATH="/lib/x86_64-linux-gnu",
    )
    facts = replace(
        facts,
        system_libraries=(
            SystemLibrary("libcudnn", "9.14.0", "/lib/x86_64-linux-gnu/libcudnn.so.9", "LD_LIBRARY_PATH"),
        ),
    )
    (finding,) = [f for f in findings_for(facts, knowledge).findings if f.id == "library-shadowed"]
    assert finding.fix.startswith("Remove /lib/x86_64-linux-gnu from LD_LIBRARY_PATH")
    assert "LD_LIBRARY_PATH puts /lib/x86_64-linux-gnu first" in finding.evidence


def test_a_bogus_libcudart_on_ld_library_path_that_breaks_the_import_is_named(knowledge):
    facts = env(
        torch_(
            load_h100_facts(),
            status="import-error",
            version=Unknown("torch did not import"),
            error="OSError: /tmp/libs/libcudart.so.12: file too short",
        ),
        LD_LIBRARY_PATH="/tmp/libs",
    )
    facts = replace(
        facts,
        system_libraries=(SystemLibrary("libcudart", Unknown("no"), "/tmp/libs/libcudart.so.12", "LD_LIBRARY_PATH"),),
    )
    (finding,) = [f for f in findings_for(facts, knowledge).findings if f.id == "library-shadowed"]
    assert finding.severity is Severity.ERROR
    assert "LD_LIBRARY_PATH puts libcudart.so.12 from /tmp/libs" in finding.title
    assert finding.fix.startswith("Remove /tmp/libs from LD_LIBRARY_PATH")
