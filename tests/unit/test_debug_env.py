"""debug-env-var-set: debugging variables left set (knowledge/data/debug_env.toml), on the facts of a real H100
and on this GPU-less machine through the CLI."""

from __future__ import annotations

import json
from dataclasses import replace

from testsupport import cli_env, load_h100_facts, run_cli
from torchenv.checks.environment import check_debug_env_vars
from torchenv.knowledge.debug_env import load_debug_variables
from torchenv.probes.system import read_environment


def findings(environment: dict[str, str]):
    facts = load_h100_facts()
    return list(check_debug_env_vars(replace(facts, environment=environment), None))


def test_every_row_is_sourced_and_names_a_variable_the_probe_reads():
    rows = load_debug_variables()
    assert {r.name for r in rows} >= {"CUDA_LAUNCH_BLOCKING", "CUBLAS_WORKSPACE_CONFIG", "TORCHDYNAMO_DISABLE"}
    for row in rows:
        assert row.source and row.retrieved and row.fix.startswith("unset ")
        assert read_environment({row.name: "1"}) == {row.name: "1"}, f"{row.name} is not collected"


def test_a_debugging_variable_on_a_gpu_machine_is_a_warning_with_its_cost_and_fix():
    (found,) = findings({"CUDA_LAUNCH_BLOCKING": "1", "CUBLAS_WORKSPACE_CONFIG": ":4096:8", "PATH": "/usr/bin"})
    assert found.id == "debug-env-var-set" and found.severity.value == "warning"
    assert "CUDA_LAUNCH_BLOCKING" in found.title and "CUBLAS_WORKSPACE_CONFIG" in found.title
    assert any("14.51 ms" in line for line in found.evidence)  # the measured cost travels with the finding
    assert "unset CUDA_LAUNCH_BLOCKING" in found.fix and "unset CUBLAS_WORKSPACE_CONFIG" in found.fix
    assert found.source and "cuBLAS" in found.source


def test_values_without_the_effect_say_nothing():
    assert findings({"CUDA_LAUNCH_BLOCKING": "0", "TORCHDYNAMO_DISABLE": "0"}) == []
    assert findings({}) == []


def test_on_a_machine_without_a_gpu_only_what_matters_there_is_reported():
    env = cli_env(CUDA_LAUNCH_BLOCKING="1", TORCHDYNAMO_DISABLE="1")
    done = run_cli("doctor", "--json", env=env)
    report = json.loads(done.stdout)
    ids = [f["id"] for f in report["findings"]]
    assert ids.count("debug-env-var-set") == 1
    found = next(f for f in report["findings"] if f["id"] == "debug-env-var-set")
    assert "TORCHDYNAMO_DISABLE" in found["title"] and "CUDA_LAUNCH_BLOCKING" not in found["title"]
