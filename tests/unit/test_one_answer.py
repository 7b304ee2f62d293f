"""One answer per question: doctor, plan, verify --host-only and explain agree on the same facts.

The five contradictions measured on the old main (issue 11) are regression tests here, and a
property test (hypothesis) generates targets — GPU, driver, OS incl. WSL, Python, installed torch —
and asserts that the compat engine, the doctor's findings and fixes, `plan`, `verify --host-only`
and explain's condition never disagree. The comparison itself is benchmarks/one_answer.py, which
also runs on the GPU host.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from testsupport import load_h100_facts
from torchenv.checks import diagnose
from torchenv.checks.fixes import doctor_plan, plan_command
from torchenv.compat.driver import FULL, MINOR_COMPAT, TOO_OLD
from torchenv.knowledge import load_knowledge
from torchenv.model import Unknown
from torchenv.model.plan import PlanRequest
from torchenv.planners import PlanInputError, describe_target, plan_for
from torchenv.reports.detect import read_report

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("one_answer", ROOT / "benchmarks" / "one_answer.py")
one_answer = importlib.util.module_from_spec(_spec)
sys.modules["one_answer"] = one_answer  # dataclasses look their module up by name
_spec.loader.exec_module(one_answer)
K = load_knowledge()


def with_driver(facts, version):
    return replace(facts, driver=replace(facts.driver, version=version))


def with_torch(facts, version, cuda, arch_list=None):
    torch = replace(facts.torch, version=version, cuda=cuda)
    if arch_list is not None:
        torch = replace(torch, arch_list=arch_list)
    return replace(facts, torch=torch)


def on_host(facts, **changes):
    return replace(facts, host=replace(facts.host, **changes))


def with_gpu(facts, name, cc):
    gpus = facts.gpus.gpus
    return replace(facts, gpus=replace(facts.gpus, gpus=(replace(gpus[0], name=name, cc=cc),)))


# --- the measured contradictions ---------------------------------------------------------------------


@pytest.mark.parametrize("driver", ["535.104.05", "550.54.14"])
def test_h100_old_driver_doctor_fix_is_the_plan(driver):
    facts = with_driver(load_h100_facts(), driver)
    answers = one_answer.answers(facts, K)
    assert answers.compat == TOO_OLD and not answers.disagreements, answers
    finding = next(f for f in diagnose(facts, K, torchenv_version="t").findings if f.id == "driver-too-old")
    plan = doctor_plan(facts, K)
    # R535/R550 run CUDA 12.x only under minor-version compatibility: the newest CUDA 12 build, as plan says
    assert plan.variant.startswith("cu12") and plan.driver_support == "minor-version-compat"
    newest_cu12 = max(
        (r for r in K.torch_releases() if any(v.startswith("cu12") for v in r.variants) and "3.12" in r.python),
        key=lambda r: tuple(int(x) for x in r.version.split(".")),
    )
    assert plan.torch == newest_cu12.version
    assert plan_command(plan, facts) in finding.fix
    assert "torch==2.7.1" not in finding.fix  # the old doctor's cu118 answer, which plan never gave


def test_wsl_580_70_cu130_one_answer_from_the_windows_column():
    facts = with_driver(on_host(load_h100_facts(), wsl=True), "580.70")
    answers = one_answer.answers(facts, K)
    assert answers.compat == FULL and answers.doctor == FULL and answers.verify == FULL, answers
    plan = plan_for(
        describe_target(K, gpus=["H100"], driver="580.70", os="wsl"), K, PlanRequest(torch="2.11.0", variant="cu130")
    )
    assert plan.ok and plan.driver_support == "full"


def test_jetson_report_fix_is_the_jetpack_wheel_plan_gives():
    text = (ROOT / "tests/corpus/collect_env/021-jetson-aarch64-torch-na-nccl-undefined-symbol.txt").read_text()
    facts = read_report(text).facts
    fixes = " ".join(f.fix or "" for f in diagnose(facts, K, torchenv_version="t").findings)
    assert "download.pytorch.org" not in fixes and "torch==2.4.1" not in fixes
    plan = doctor_plan(facts, K)
    assert plan.ok and plan.variant.startswith("jp5") and plan.wheel_url and plan.wheel_url in fixes


def test_rtx4090_on_r470_is_refused():
    plan = plan_for(describe_target(K, gpus=["RTX 4090"], driver="470"), K)
    assert not plan.ok and "predates Ada Lovelace" in " ".join(plan.unmet)


def test_jetson_orin_plans_jetpack_not_an_x86_pip_line():
    plan = plan_for(describe_target(K, gpus=["Jetson AGX Orin"]), K)
    assert plan.ok and plan.target.arch == "aarch64" and plan.min_driver is None
    assert "jetson" in (plan.index_url or "") and "download.pytorch.org" not in (plan.index_url or "")


@pytest.mark.parametrize("cc", ["99.9", "9.9", "4.0"])
def test_a_compute_capability_no_gpu_has_is_refused(cc):
    with pytest.raises(PlanInputError, match="no NVIDIA GPU has this compute capability"):
        describe_target(K, cc=[cc])


@pytest.mark.parametrize(
    ("name", "cc"),
    [
        ("H100", (9, 0)),
        ("A100", (8, 0)),
        ("V100", (7, 0)),
        ("4090", (8, 9)),
        ("RTX 4090", (8, 9)),
        ("Jetson Orin", (8, 7)),
        ("nvidia geforce rtx4090", (8, 9)),
        ("Tesla T4", (7, 5)),
    ],
)
def test_gpu_names_the_way_people_type_them(name, cc):
    assert describe_target(K, gpus=[name]).gpus[0].cc == cc


def test_ambiguous_family_lists_the_choices():
    with pytest.raises(PlanInputError, match=r"different compute capabilities.*Quadro RTX 6000.*RTX 6000 Ada"):
        describe_target(K, gpus=["RTX 6000"])


@pytest.mark.parametrize("args", [{"no_gpu": True}, {"cc": ["none"]}])
def test_no_gpu_target_plans_the_cpu_build(args):
    plan = plan_for(describe_target(K, **args), K)
    assert plan.ok and plan.variant == "cpu"


def test_free_threaded_python_is_its_own_question():
    ft = [r for r in K.torch_releases() if r.python_freethreaded]
    assert ft, "python_freethreaded comes from PyPI's cpXYt wheels (tools/refresh_knowledge.py)"
    plan = plan_for(describe_target(K, python="3.13t", gpus=["H100"]), K)
    with_313t = [r.version for r in K.torch_releases() if "3.13" in r.python_freethreaded]
    if with_313t:
        assert plan.ok and plan.torch == with_313t[-1]
    newest = K.torch_releases()[-1]
    if "3.13" not in newest.python_freethreaded:
        assert plan.torch != newest.version


def test_v100_is_not_offered_a_cu128_wheel_without_sm_70():
    arches = K.wheel_arches("2.11.0", "cu128")
    plan = plan_for(describe_target(K, gpus=["V100"], driver="580.95.05"), K, PlanRequest(torch="2.11"))
    if arches is not None and "sm_70" not in arches:
        assert plan.variant != "cu128"


# --- the property: no generated target makes two commands disagree --------------------------------

GPUS = [
    ("NVIDIA H100 80GB HBM3", (9, 0)),
    ("NVIDIA GeForce RTX 4090", (8, 9)),
    ("Tesla V100-SXM2-16GB", (7, 0)),
    ("NVIDIA GeForce RTX 5090", (12, 0)),
    ("Tesla T4", (7, 5)),
    ("NVIDIA A100-SXM4-80GB", (8, 0)),
    ("Tesla K80", (3, 7)),
    ("NVIDIA GeForce GTX 1080 Ti", (6, 1)),
]
DRIVERS = [
    "418.67",
    "450.80.02",
    "470.82.01",
    "520.61.05",
    "525.60.13",
    "535.104.05",
    "550.54.14",
    "560.28.03",
    "570.86.10",
    "575.57.08",
    "580",
    "580.65.06",
    "580.159.04",
    "590.44.01",
    "595.71.05",
    "566.36",
    "572.16",
    "581.42",
]
INSTALLED = [
    ("2.11.0+cu130", "13.0"),
    ("2.11.0+cu126", "12.6"),
    ("2.7.1+cu118", "11.8"),
    ("2.5.1+cu124", "12.4"),
    ("2.15.0+cu132", "13.2"),
    ("2.9.1+cu128", "12.8"),
    ("1.13.1+cu117", "11.7"),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    gpu=st.sampled_from(GPUS),
    driver=st.sampled_from(DRIVERS),
    where=st.sampled_from(["linux", "wsl", "windows"]),
    python=st.sampled_from(["3.9.18", "3.10.14", "3.11.9", "3.12.3", "3.13.1"]),
    installed=st.sampled_from(INSTALLED),
    arch_known=st.booleans(),
)
def test_doctor_plan_verify_and_explain_never_disagree(gpu, driver, where, python, installed, arch_known):
    facts = load_h100_facts()
    facts = with_gpu(facts, *gpu)
    facts = with_driver(facts, driver)
    facts = on_host(facts, os="windows" if where == "windows" else "linux", wsl=where == "wsl")
    facts = replace(facts, python=replace(facts.python, version=python))
    facts = with_torch(facts, installed[0], installed[1], arch_list=None if arch_known else Unknown("not read"))
    answers = one_answer.answers(facts, K)
    assert not answers.disagreements, answers
    # the doctor's fix, when it installs torch, is exactly the plan `torchenv plan` gives for these facts
    for command in answers.doctor_commands:
        assert command == answers.plan_command
    # plan's view of the installed build on this driver is compat's
    support = answers.compat
    pinned = plan_for(
        doctor_plan(facts, K).target,
        K,
        PlanRequest(torch=installed[0].split("+")[0], variant=installed[0].split("+")[1]),
    )
    if pinned.ok:
        assert {FULL: "full", MINOR_COMPAT: "minor-version-compat"}.get(
            support, ""
        ) == pinned.driver_support or support is None
    elif support in (FULL, MINOR_COMPAT):
        assert not any("driver" in u and "too old" in u for u in pinned.unmet)


def test_import_failure_in_an_ld_library_path_folder_names_that_folder_not_a_reinstall():
    facts = load_h100_facts()
    facts = replace(facts, environment={**facts.environment, "LD_LIBRARY_PATH": "/opt/bogus/lib:/usr/local/cuda/lib64"})
    error = "ImportError: /opt/bogus/lib/libcudart.so.12: invalid ELF header"
    facts = replace(
        facts, torch=replace(facts.torch, status="import-error", version=Unknown("did not import"), error=error)
    )
    finding = next(f for f in diagnose(facts, K, torchenv_version="t").findings if f.id == "torch-import-failed")
    assert "/opt/bogus/lib" in finding.fix and "LD_LIBRARY_PATH" in finding.fix and "pip install" not in finding.fix


def test_probe_failure_evidence_skips_torchs_numpy_warning():
    tail = (
        "Traceback (most recent call last):\nRuntimeError: sitecustomize aborted\n"
        "/x/torch/_subclasses/functional_tensor.py:276: UserWarning: Failed to initialize NumPy: No module named 'numpy'\n"
        '  cpu = _conversion_method_template(device=torch.device("cpu"))\n'
    )
    facts = load_h100_facts()
    facts = replace(facts, torch=replace(facts.torch, status="probe-error", stderr_tail=tail, error="probe exited 1"))
    finding = next(f for f in diagnose(facts, K, torchenv_version="t").findings if f.id == "torch-probe-failed")
    assert "RuntimeError: sitecustomize aborted" in finding.evidence and not any("NumPy" in e for e in finding.evidence)
