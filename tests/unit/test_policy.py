"""The verdict policy (checks/policy.py) and the check registry (checks/registry.py): CPU only is
healthy, --require-cuda fails closed, a GPU-less machine's CUDA_VISIBLE_DEVICES="" is info, a check
that raises is a finding, and the order is the declared one."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from unit.test_checks import cpu_machine, env, torch_

from testsupport import load_h100_facts, run_cli
from torchenv.checks import REGISTRY, Policy, apply_policy, diagnose
from torchenv.checks import registry as registry_module
from torchenv.checks.registry import ORDER, Check, build_registry, run_checks
from torchenv.knowledge import load_knowledge
from torchenv.model import Severity, Unknown


@pytest.fixture(scope="module")
def knowledge():
    return load_knowledge()


def ids(report):
    return {f.id: f.severity for f in report.findings}


def test_cpu_build_on_gpu_less_machine_is_healthy_cpu_only(knowledge):
    report = diagnose(cpu_machine(load_h100_facts()), knowledge, torchenv_version="t")
    assert report.verdict == "healthy" and report.cpu_only
    assert ids(report)["no-nvidia-gpu"] is Severity.INFO
    assert all(severity is Severity.INFO for severity in ids(report).values())
    assert report.summary.startswith("CPU only: torch 2.13.0+cpu")


def test_cuda_build_on_gpu_less_machine_stays_degraded(knowledge):
    facts = torch_(cpu_machine(load_h100_facts()), version="2.13.0+cu130", cuda="13.0")
    report = diagnose(facts, knowledge, torchenv_version="t")
    assert ids(report)["no-nvidia-gpu"] is Severity.WARNING
    assert report.verdict == "degraded" and not report.cpu_only


def test_require_cuda_makes_cpu_only_a_failure(knowledge):
    report = diagnose(cpu_machine(load_h100_facts()), knowledge, torchenv_version="t", policy=Policy(require_cuda=True))
    assert report.verdict == "broken" and not report.cpu_only
    assert report.findings[0].id == "cuda-required" and report.findings[0].severity is Severity.ERROR
    assert ids(report)["no-nvidia-gpu"] is Severity.WARNING  # not relaxed under --require-cuda


def test_require_cuda_fails_closed_when_usability_is_unknown(knowledge):
    facts = replace(load_h100_facts(), torch=Unknown("skipped (--no-torch)"))
    relaxed = diagnose(facts, knowledge, torchenv_version="t")
    assert relaxed.cuda_usable is None and "cuda-required" not in ids(relaxed)
    strict = diagnose(facts, knowledge, torchenv_version="t", policy=Policy(require_cuda=True))
    assert strict.verdict == "broken" and "not shown to work" in strict.findings[0].title


def test_require_cuda_passes_on_a_working_gpu(knowledge):
    report = diagnose(load_h100_facts(), knowledge, torchenv_version="t", policy=Policy(require_cuda=True))
    assert report.cuda_usable is True and "cuda-required" not in ids(report)


def test_hiding_gpus_on_a_gpu_less_machine_is_info(knowledge):
    facts = env(cpu_machine(load_h100_facts()), CUDA_VISIBLE_DEVICES="")
    report = diagnose(facts, knowledge, torchenv_version="t")
    assert ids(report)["cuda-visible-devices-hides-all"] is Severity.INFO
    assert report.verdict == "healthy" and report.cpu_only
    strict = diagnose(facts, knowledge, torchenv_version="t", policy=Policy(require_cuda=True))
    assert ids(strict)["cuda-visible-devices-hides-all"] is Severity.ERROR


def test_hiding_gpus_on_a_gpu_machine_stays_an_error(knowledge):
    report = diagnose(env(load_h100_facts(), CUDA_VISIBLE_DEVICES=""), knowledge, torchenv_version="t")
    assert ids(report)["cuda-visible-devices-hides-all"] is Severity.ERROR
    assert report.verdict == "broken"


def test_apply_policy_is_idempotent(knowledge):
    facts = env(cpu_machine(load_h100_facts()), CUDA_VISIBLE_DEVICES="")
    for policy in (Policy(), Policy(require_cuda=True)):
        once = diagnose(facts, knowledge, torchenv_version="t", policy=policy)
        assert apply_policy(once, policy) == once


# --- the registry -----------------------------------------------------------------------------------


def test_registry_runs_in_the_declared_order():
    assert [c.name for c in REGISTRY] == [name for _, name in ORDER]
    assert len({name for _, name in ORDER}) == len(ORDER)


def test_every_decorated_check_is_declared():
    assert set(registry_module._DECLARED) == {name for _, name in ORDER}


def test_a_declared_check_without_a_function_is_an_error():
    with pytest.raises(LookupError, match="no-such-check"):
        build_registry((*ORDER, ("hardware", "no-such-check")))


def test_a_check_that_raises_is_a_finding_and_the_rest_still_run(knowledge):
    def broken(facts, knowledge):
        yield from ()
        raise KeyError("boom")

    checks = [REGISTRY[0], Check("exploding", broken), *REGISTRY[1:]]
    findings, _ = run_checks(cpu_machine(load_h100_facts()), knowledge, checks)
    crashed = [f for f in findings if f.id == "internal-check-error"]
    assert len(crashed) == 1
    assert crashed[0].severity is Severity.WARNING
    assert crashed[0].evidence[0] == "check exploding: KeyError: 'boom'"
    assert crashed[0].evidence[1].startswith("at test_policy.py:")
    assert "cpu-only-build-on-cpu-host" in {f.id for f in findings}  # a later check still ran


def test_a_generator_that_raises_midway_keeps_none_of_its_findings(knowledge):
    kept = diagnose(load_h100_facts(), knowledge, torchenv_version="t", policy=Policy(require_cuda=True))

    def half(facts, knowledge):
        yield from kept.findings  # whatever it yielded before the bug is not kept half-done
        raise RuntimeError("midway")

    findings, _ = run_checks(load_h100_facts(), knowledge, [Check("half", half)])
    assert [f.id for f in findings] == ["internal-check-error"]


# --- the command line ---------------------------------------------------------------------------------


def test_doctor_json_read_back_with_from_gives_the_same_verdict(tmp_path):
    first = run_cli("doctor", "--json", "--no-torch")
    report = json.loads(first.stdout)
    path = tmp_path / "doctor.json"
    path.write_text(first.stdout)
    again = run_cli("doctor", "--from", str(path), "--json")
    reread = json.loads(again.stdout)
    assert (reread["verdict"], reread["cuda_usable"], reread["cpu_only"]) == (
        report["verdict"],
        report["cuda_usable"],
        report["cpu_only"],
    )
    assert again.returncode == first.returncode
    strict = run_cli("doctor", "--from", str(path), "--json", "--require-cuda")
    assert strict.returncode == 1 and json.loads(strict.stdout)["verdict"] == "broken"
