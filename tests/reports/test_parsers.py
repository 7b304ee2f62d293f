"""Table-driven tests of the report parsers on real captures (tests/fixtures) and small samples."""

from __future__ import annotations

import json
from pathlib import Path

from torchenv.model import known
from torchenv.reports.conda_list import parse_conda_list
from torchenv.reports.detect import read_report
from torchenv.reports.pip_list import parse_pip_freeze, parse_pip_list
from torchenv.reports.smi_table import parse_smi_table

FIXTURES = Path(__file__).parent.parent / "fixtures"
H100 = FIXTURES / "h100-cu130"


def test_collect_env_capture_from_an_h100():
    parsed = read_report((H100 / "collect_env.txt").read_bytes())
    facts = parsed.facts
    assert parsed.format == "collect_env"
    assert facts.torch.version == "2.11.0+cu130" and facts.torch.cuda == "13.0"
    assert facts.torch.cuda_available is True
    assert facts.driver.version == "580.159.04"
    assert [g.name for g in facts.gpus.gpus] == ["NVIDIA H100 80GB HBM3"]
    assert facts.python.version == "3.12.3"
    names = {d.name for d in facts.python.distributions}
    assert {"torch", "torchvision", "nvidia-cudnn-cu13"} <= names
    assert {c.name: c.version for c in facts.torch.companions} == {"torchaudio": "2.11.0", "torchvision": "0.26.0"}
    assert facts.origin == "collect_env report"


def test_smi_table_capture():
    table = parse_smi_table((H100 / "nvidia-smi.txt").read_text())
    assert table.driver_version == "580.159.04" and table.cuda_driver_version == "13.0"
    (gpu,) = table.gpus
    assert gpu.name == "NVIDIA H100 80GB HBM3"
    assert gpu.memory_total_mib == 81559 and gpu.memory_used_mib == 0
    assert gpu.persistence_mode is True and gpu.mig_enabled is False
    assert gpu.compute_processes == 0


def test_smi_table_as_report_has_driver_and_missing_torch():
    parsed = read_report((H100 / "nvidia-smi.txt").read_bytes())
    assert parsed.format == "nvidia-smi"
    assert parsed.facts.driver.version == "580.159.04"
    assert not known(parsed.facts.torch)
    assert any("torch" in m.fact for m in parsed.missing)


def test_smi_query_csv_capture():
    parsed = read_report((H100 / "nvidia-smi-query-gpu.csv").read_bytes())
    assert parsed.format == "nvidia-smi CSV"
    (gpu,) = parsed.facts.gpus.gpus
    assert gpu.cc == (9, 0)
    assert parsed.facts.driver.version == "580.159.04"


def test_pip_list_capture():
    text = "Package    Version\n---------- -------\n" + (H100 / "pip-list-filtered.txt").read_text()
    rows = dict(parse_pip_list(text))
    assert rows["torch"] == "2.11.0" and rows["nvidia-cudnn-cu13"] == "9.19.0.56"
    parsed = read_report(text)
    assert parsed.format == "pip list"
    assert parsed.facts.torch.version == "2.11.0"


def test_headerless_pip_list_capture():
    parsed = read_report((H100 / "pip-list-filtered.txt").read_bytes())
    assert parsed.facts is not None and parsed.facts.torch.version == "2.11.0"


def test_pip_freeze():
    rows = parse_pip_freeze("torch==2.5.1+cu121\nTorch_Vision==0.20.1\n# comment\nfoo @ https://x/y.whl\n")
    assert rows == [("torch", "2.5.1+cu121"), ("torch-vision", "0.20.1"), ("foo", "(direct URL)")]
    parsed = read_report("torch==2.5.1+cu121\ntorchvision==0.20.1+cu121\nnumpy==2.0\n")
    assert parsed.format == "pip freeze"
    assert parsed.facts.torch.cuda == "12.1"


def test_conda_list_with_pip_and_conda_torch_is_a_duplicate(knowledge):
    from torchenv.checks.explain import diagnose_report

    text = (
        "# packages in environment at /opt/conda/envs/x:\n#\n# Name  Version  Build  Channel\n"
        "python                    3.10.13              h955ad1f_0\n"
        "pytorch                   2.1.0           py3.10_cuda12.1_cudnn8.9.2_0    pytorch\n"
        "torch                     2.3.0                    pypi_0    pypi\n"
    )
    packages = parse_conda_list(text)
    assert [p.name for p in packages] == ["python", "pytorch", "torch"]
    parsed = read_report(text)
    assert parsed.format == "conda list"
    assert parsed.facts.python.version == "3.10.13"
    report = diagnose_report(parsed, knowledge, torchenv_version="t")
    assert "duplicate-torch" in [f.id for f in report.findings]


def test_torchenv_json_round_trip():
    data = (FIXTURES / "h100-torchenv" / "doctor.json").read_text()
    parsed = read_report(data)
    assert parsed.format == "torchenv doctor JSON"
    assert parsed.facts.torch.version == json.loads(data)["facts"]["torch"]["version"]
    assert parsed.facts.origin.startswith("torchenv doctor JSON")


def test_foreign_json_is_a_clear_error():
    parsed = read_report('{"hello": 1}')
    assert parsed.facts is None and "not a torchenv report" in parsed.error


def test_unrecognised_text_is_a_clear_error():
    parsed = read_report("just some words\nwithout a report\n")
    assert parsed.facts is None and parsed.error.startswith("not a report torchenv can read")


def test_old_yes_no_report_and_fullwidth_colon():
    parsed = read_report(
        "PyTorch version 1.5.0\nIs debug build: No\nCUDA used to build PyTorch: 10.2\n\nPython version: 3.6\n"
        "Is CUDA available: No\nGPU models and configuration:\nGPU 0\uff1a Tesla P100-PCIE-16GB\n"
        "Nvidia driver version: 410.104\n"
    )
    facts = parsed.facts
    assert facts.torch.version == "1.5.0" and facts.torch.cuda_available is False and facts.torch.debug is False
    assert facts.gpus.gpus[0].name == "Tesla P100-PCIE-16GB"


def test_torch_170_debug_true_is_not_trusted():
    parsed = read_report("PyTorch version: 1.7.0+cu101\nIs debug build: True\nOS: Ubuntu 18.04 (x86_64)\n")
    assert not known(parsed.facts.torch.debug)


def test_wsl_kernel_string_in_a_report_is_wsl_evidence():
    # issue 12: a Microsoft WSL2 kernel in the platform line is evidence of WSL, not an unknown
    parsed = read_report(
        "PyTorch version: 2.4.0+cu121\nPython platform: Linux-5.15.153.1-microsoft-standard-WSL2-x86_64-with-glibc2.35\n"
        "Is CUDA available: True\n"
    )
    assert parsed.facts.host.wsl is True
    assert "WSL 2" in parsed.facts.host.kernel


def test_sectioned_vllm_and_detectron2_formats():
    corpus = Path(__file__).parent.parent / "corpus" / "collect_env"
    vllm = read_report((corpus / "017-vllm-sectioned-8xb200-cu129-compile-mode-healthy.txt").read_bytes())
    assert vllm.format == "vllm collect_env" and len(vllm.facts.gpus.gpus) == 5
    d2 = read_report((corpus / "028-detectron2-ansi-log-4xp100-model-issue-healthy.txt").read_bytes())
    assert d2.format == "detectron2 collect_env"
    assert d2.facts.torch.version == "1.8.0+cu111" and d2.facts.torch.cuda == "11.1"
    assert [g.cc for g in d2.facts.gpus.gpus] == [(6, 0)] * 4


def test_missing_facts_name_commands():
    parsed = read_report("PyTorch version: 2.0.1+cu117\nIs debug build: False\nCUDA used to build PyTorch: 11.7\n")
    facts = {m.fact: m.how for m in parsed.missing}
    assert facts["the NVIDIA driver version"] == "`nvidia-smi`"
    assert any("torchenv doctor" in how for how in facts.values())
