"""The doctor's first verdict from files (probes/first_look.py + checks/provisional.py): what it reads,
the rules, its agreement with the full doctor on recorded machines, and the early start's parser."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest

from testsupport import FIXTURES, load_h100_facts
from torchenv.checks import diagnose
from torchenv.checks.provisional import first_verdict
from torchenv.cli.doctor_early import parse_simple
from torchenv.knowledge import load_knowledge
from torchenv.model import Unknown, known
from torchenv.model.codec import from_json
from torchenv.model.facts import Facts
from torchenv.probes.first_look import FirstLook, read_first_look
from torchenv.render.first_verdict import ProgressLines, first_verdict_line

SHARED = Path(__file__).resolve().parents[3] / "shared" / "fixtures"


def look(**kw) -> FirstLook:
    base = dict(
        python="/p/bin/python",
        torch_version="2.13.0+cpu",
        torch_cuda=None,
        torch_hip=None,
        torch_where="/p/torch/version.py",
        driver_version=None,
        driver_source=None,
        pci_gpus=0,
        dev_nodes=(),
        seconds=0.001,
    )
    return FirstLook(**{**base, **kw})


def test_reads_the_version_file_driver_file_nodes_and_pci_bus(tmp_path):
    prefix = tmp_path / "env"
    (prefix / "bin").mkdir(parents=True)
    python = prefix / "bin" / "python"
    python.write_text("")
    torch_dir = prefix / "lib" / "python3.12" / "site-packages" / "torch"
    torch_dir.mkdir(parents=True)
    (torch_dir / "version.py").write_text(
        "from typing import Optional\n__version__ = '2.11.0+cu130'\ndebug = False\ncuda: Optional[str] = '13.0'\n"
        "hip: Optional[str] = None\n"
    )
    root = tmp_path / "root"
    (root / "sys/module/nvidia").mkdir(parents=True)
    (root / "sys/module/nvidia/version").write_text("580.159.04\n")
    gpu = root / "sys/bus/pci/devices/0000:00:06.0"
    gpu.mkdir(parents=True)
    (gpu / "vendor").write_text("0x10de\n")
    (gpu / "class").write_text("0x030200\n")
    (root / "dev").mkdir()
    for name in ("nvidia0", "nvidiactl"):
        (root / "dev" / name).write_text("")
    found = read_first_look(str(python), root)
    assert (found.torch_version, found.torch_cuda, found.torch_hip) == ("2.11.0+cu130", "13.0", None)
    assert (found.driver_version, found.driver_source) == ("580.159.04", "/sys/module/nvidia/version")
    assert found.pci_gpus == 1 and found.dev_nodes == ("/dev/nvidia0", "/dev/nvidiactl")
    assert first_verdict(found).verdict == "pending"


def test_proc_driver_version_when_sysfs_has_none_and_no_pci_bus(tmp_path):
    root = tmp_path / "root"
    (root / "proc/driver/nvidia").mkdir(parents=True)
    (root / "proc/driver/nvidia/version").write_text(
        "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  (dvs-builder@U22)\n"
    )
    found = read_first_look(str(tmp_path / "nowhere/bin/python"), root)
    assert (found.driver_version, found.driver_source) == ("580.159.04", "/proc/driver/nvidia/version")
    assert found.pci_gpus is None and found.torch_version is None
    assert first_verdict(found).verdict == "pending"  # torch unknown: the files cannot tell


def test_this_interpreter_is_found_by_import_path_not_by_layout():
    found = read_first_look(sys.executable)
    try:
        import importlib.util

        has_torch = importlib.util.find_spec("torch") is not None
    except ImportError:
        has_torch = False
    assert (found.torch_version is not None) == has_torch
    assert found.seconds < 0.5


@pytest.mark.parametrize(
    ("kw", "require_cuda", "verdict"),
    [
        ({}, False, "healthy"),  # CPU build, no GPU: CPU only (checks/policy.py)
        ({}, True, "broken"),
        ({"pci_gpus": 1}, False, "broken"),  # CPU build on a GPU machine: cpu-only-build
        ({"pci_gpus": None}, False, "pending"),  # no PCI bus: cannot tell
        ({"torch_cuda": "13.0"}, False, "degraded"),  # CUDA build, no GPU: no-nvidia-gpu warning
        ({"torch_cuda": "13.0", "pci_gpus": 1}, False, "broken"),  # GPU without a loaded driver
        ({"torch_cuda": "13.0", "pci_gpus": 1, "driver_version": "580.159.04"}, False, "pending"),
        ({"torch_version": None, "torch_where": "torch is not on this interpreter's import path"}, False, "broken"),
        ({"torch_version": None, "torch_where": "no torch/version.py under /p/lib/python*"}, False, "pending"),
    ],
)
def test_rules(kw, require_cuda, verdict):
    assert first_verdict(look(**kw), require_cuda=require_cuda).verdict == verdict


def look_from_facts(facts: Facts) -> FirstLook:
    """What the files of a recorded machine would have said."""
    torch = facts.torch
    driver = facts.driver.version
    pci = facts.host.pci_gpus
    return look(
        torch_version=torch.version if known(torch) and known(torch.version) else None,
        torch_cuda=torch.cuda if known(torch) and known(torch.cuda) else None,
        torch_hip=torch.hip if known(torch) and known(torch.hip) else None,
        torch_where="recorded" if known(torch) else "torch is not on this interpreter's import path",
        driver_version=driver if known(driver) and facts.driver.source.startswith("/") else None,
        driver_source=facts.driver.source,
        pci_gpus=len(pci) if known(pci) else None,
        dev_nodes=tuple(facts.host.dev_nodes),
    )


def recorded_reports():
    paths = sorted(FIXTURES.glob("**/doctor*.json")) + sorted(SHARED.glob("**/doctor*.json"))
    return [p for p in paths if json.loads(p.read_text()).get("kind") == "torchenv.doctor"]


def cpu_host(facts: Facts, *, cuda_build: bool) -> Facts:
    """The H100's facts moved to a machine without an NVIDIA GPU (no driver, no PCI GPU, no nodes)."""
    none = Unknown("no NVIDIA kernel module found")
    torch = dataclasses.replace(
        facts.torch,
        version="2.11.0+cu130" if cuda_build else "2.11.0+cpu",
        cuda="13.0" if cuda_build else None,
        cuda_available=False,
        device_count=0,
        devices=(),
        arch_list=facts.torch.arch_list if cuda_build else (),
        smoke=Unknown("CUDA is not available to torch"),
        cudnn_version=None,
        loaded_libraries=(),
    )
    return dataclasses.replace(
        facts,
        host=dataclasses.replace(facts.host, pci_gpus=(), dev_nodes=(), container=None),
        driver=dataclasses.replace(facts.driver, version=none, source="none", userspace_version=none),
        gpus=dataclasses.replace(facts.gpus, source="none", gpus=Unknown("NVML: not asked")),
        system_libraries=(),
        container=Unknown("not in a container"),
        torch=torch,
    )


def recorded_facts():
    h100 = load_h100_facts()
    cases = [(p.name, from_json(Facts, json.loads(p.read_text())["facts"])) for p in recorded_reports()]
    cases += [("h100-as-cpu-host-cpu-build", cpu_host(h100, cuda_build=False))]
    cases += [("h100-as-cpu-host-cuda-build", cpu_host(h100, cuda_build=True))]
    cpu_build_on_gpu = dataclasses.replace(
        h100, torch=dataclasses.replace(h100.torch, version="2.11.0+cpu", cuda=None, arch_list=())
    )
    cases += [("h100-cpu-build", cpu_build_on_gpu)]
    return cases


@pytest.mark.parametrize(("name", "facts"), recorded_facts(), ids=[n for n, _ in recorded_facts()])
@pytest.mark.parametrize("require_cuda", [False, True])
def test_first_verdict_never_contradicts_the_full_doctor(name, facts, require_cuda):
    """One answer: where the files settle it, the first verdict is the full doctor's verdict."""
    from torchenv.checks import Policy

    first = first_verdict(look_from_facts(facts), require_cuda=require_cuda)
    report = diagnose(facts, load_knowledge(), torchenv_version="test", policy=Policy(require_cuda=require_cuda))
    assert first.verdict in ("pending", report.verdict), (first, report.verdict, [f.id for f in report.findings])


def test_the_first_verdict_is_decisive_on_a_cpu_host():
    facts = cpu_host(load_h100_facts(), cuda_build=False)
    assert first_verdict(look_from_facts(facts)).verdict == "healthy"


def test_progress_lines_erase_themselves():
    class Stream:
        def __init__(self):
            self.text = ""

        def write(self, text):
            self.text += text

        def flush(self):
            pass

    stream = Stream()
    lines = ProgressLines(stream, width=40)
    lines.show(first_verdict(look()), "importing torch")
    lines.stage("initialising CUDA")
    lines.clear()
    lines.clear()  # twice is harmless
    assert stream.text.count("provisional (from files)") == 1
    assert stream.text.endswith("\r\x1b[2K\x1b[1A\x1b[2K")
    line = first_verdict_line(first_verdict(look()), width=40)
    assert len(line) <= 39 and line.endswith("…")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], {"flags": set(), "python": None}),
        (["--json", "--no-smoke", "--python", "/x/python"], {"flags": {"--json", "--no-smoke"}, "python": "/x/python"}),
        (["--timeout=3", "--format", "markdown"], {"flags": set(), "python": None}),
        (["--from", "report.txt"], None),
        (["--explain", "cuda-unavailable"], None),
        (["--help"], None),
        (["--timeout", "soon"], None),  # argparse's error, not ours
        (["--format", "html"], None),
        (["--python"], None),
    ],
)
def test_the_early_start_understands_only_plain_doctor_runs(argv, expected):
    assert parse_simple(argv) == expected
