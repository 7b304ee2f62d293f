"""explain(): the data file's integrity, causes picked from facts, the allocator's numbers, the CLI."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from torchenv.checks.explain import explain, oom_details
from torchenv.cli.main import main
from torchenv.knowledge.errors import load_errors
from torchenv.model import Distribution, known
from torchenv.model.finding import CATEGORIES
from torchenv.reports.detect import read_report

RTX5090_REPORT = (
    "PyTorch version: 2.6.0+cu126\nCUDA used to build PyTorch: 12.6\nOS: Ubuntu 24.04 (x86_64)\n"
    "Python version: 3.12.9\nIs CUDA available: True\nGPU models and configuration: GPU 0: NVIDIA GeForce RTX 5090\n"
    "Nvidia driver version: 570.124.04\n"
)


def test_errors_data_is_complete():
    errors = load_errors()
    assert len(errors.patterns) >= 120
    # issue 12: at least 200 signatures (regular expressions and normalised plain-text signatures)
    assert sum(len(row.patterns) + len(row.signatures) for row in errors.patterns) >= 200
    assert len({p.id for p in errors.patterns}) == len(errors.patterns)
    ids = {p.id for p in errors.patterns}
    for row in errors.patterns:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", row.id)
        assert row.category in CATEGORIES
        assert row.causes and row.fix and row.meaning and (row.patterns or row.signatures)
        # rows of the first sweep were retrieved 2026-11-22, issue 12's sweep 2026-12-04
        assert row.source.startswith("https://") and row.retrieved in ("2026-11-22", "2026-12-03", "2026-12-04")
        assert set(row.explains) <= ids, row.id


def test_no_kernel_image_with_facts_names_the_missing_arch(knowledge):
    facts = read_report(RTX5090_REPORT).facts
    (top, *_) = explain(
        "RuntimeError: CUDA error: no kernel image is available for execution on the device", facts, knowledge
    )
    assert top.id == "no-kernel-image" and top.category == "gpu-arch-unsupported"
    assert "sm_120" in top.cause and "sm_90" in top.cause
    assert top.cause_basis != "most common cause"


def test_no_kernel_image_without_facts_gives_the_most_common_cause(knowledge):
    (top, *_) = explain("CUDA error: no kernel image is available for execution on the device", None, knowledge)
    assert top.cause_basis == "most common cause" and "{" not in top.cause


def test_sm_warning_reads_gpu_and_arch_list_from_the_message(knowledge):
    text = (
        "NVIDIA GeForce RTX 5090 with CUDA capability sm_120 is not compatible with the current PyTorch installation.\n"
        "The current PyTorch install supports CUDA capabilities sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90."
    )
    (top, *_) = explain(text, None, knowledge)
    assert top.details["sm"] == "sm_120" and top.details["gpu"] == "NVIDIA GeForce RTX 5090"
    assert "newer than every architecture" in top.cause


def test_oom_numbers_new_format_and_expandable_segments(knowledge):
    text = (
        "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity "
        "of 23.65 GiB of which 1.50 GiB is free. Including non-PyTorch memory, this process has 22.10 GiB memory in "
        "use. Of the allocated memory 15.00 GiB is allocated by PyTorch, and 6.80 GiB is reserved by PyTorch but "
        "unallocated."
    )
    (top, *_) = explain(text, None, knowledge)
    assert top.details["requested"] == "2.00 GiB" and top.details["reserved_unallocated"] == "6.80 GiB"
    assert "Fragmentation" in top.cause
    assert "expandable_segments:True" in top.finding.fix


def test_oom_numbers_old_format():
    numbers = oom_details(
        "CUDA out of memory. Tried to allocate 20.00 MiB (GPU 0; 5.80 GiB total capacity; 4.36 GiB already "
        "allocated; 6.69 MiB free; 4.63 GiB reserved in total by PyTorch)"
    )
    assert numbers["capacity"] == "5.80 GiB" and numbers["allocated"] == "4.36 GiB"
    assert numbers["reserved_unallocated"] == "276.48 MiB"


def test_oom_without_fragmentation_does_not_advise_expandable_segments(knowledge):
    text = (
        "CUDA out of memory. Tried to allocate 64.00 MiB. GPU 0 has a total capacity of 8.00 GiB of which 0 bytes "
        "is free. Of the allocated memory 7.44 GiB is allocated by PyTorch, and 3.16 MiB is reserved by PyTorch "
        "but unallocated."
    )
    (top, *_) = explain(text, None, knowledge)
    assert "expandable_segments" not in top.finding.fix
    assert "needs more than this GPU" in top.cause


def test_nccl_symbol_with_mixed_wheels_is_a_duplicate_install(knowledge):
    facts = read_report(RTX5090_REPORT).facts
    python = dataclasses.replace(
        facts.python,
        distributions=(
            Distribution("nvidia-nccl-cu11", "2.14.3", "x", "pip"),
            Distribution("nvidia-nccl-cu12", "2.27.3", "x", "pip"),
        ),
    )
    facts = dataclasses.replace(facts, python=python)
    (top, *_) = explain("libtorch_cuda.so: undefined symbol: ncclMemFree", facts, knowledge)
    assert top.category == "duplicate-install" and "nvidia-nccl-cu11==2.14.3" in top.cause
    (plain, *_) = explain("libtorch_cuda.so: undefined symbol: ncclMemFree", None, knowledge)
    assert plain.category == "library-conflict"


def test_hard_wrapped_and_prefixed_lines(knowledge):
    text = "2025-10-30T21:54:45Z RuntimeError: DataLoader worker (pid 47) is killed by signal: Bus\nerror."
    (top, *_) = explain(text, None, knowledge)
    assert top.id == "dataloader-bus-error"


def test_unrecognised_text(knowledge):
    assert explain("everything is fine", None, knowledge) == []
    assert explain("", None, knowledge) == []


# --- CLI ---------------------------------------------------------------------------------------------


def test_cli_json(capsys):
    code = main(["explain", "--no-probe", "--json", "RuntimeError: No CUDA GPUs are available"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    (match,) = payload["matches"]
    assert {"finding", "cause", "cause_basis", "causes", "details", "retrieved", "rank"} == set(match)
    assert {"id", "category", "severity", "layer", "title", "evidence", "explanation", "fix", "source"} == set(
        match["finding"]
    )
    assert match["finding"]["category"] == "gpu-hidden" and match["finding"]["source"]


def test_a_match_is_a_finding_with_explains_context(knowledge):
    """One diagnostic type: a match carries a Finding (the row's id, category, severity and source; the
    matched text as evidence; its meaning as the explanation), explain's causes beside it."""
    from torchenv.knowledge.errors import load_errors
    from torchenv.model import Finding, Severity
    from torchenv.model.finding import CATEGORIES, LAYERS

    [top, *_] = explain("CUDA error: no kernel image is available for execution on the device", None, knowledge)
    row = load_errors().by_id("no-kernel-image")
    assert isinstance(top.finding, Finding)
    assert (top.finding.id, top.finding.severity, top.finding.source) == (row.id, Severity.ERROR, row.source)
    assert top.finding.category in CATEGORIES and top.finding.layer in LAYERS
    assert "no kernel image" in top.finding.evidence[0] and top.finding.explanation == row.meaning
    assert (top.id, top.category) == (top.finding.id, top.finding.category)


def test_cli_unrecognised_is_one_line_and_exit_1(capsys):
    assert main(["explain", "--no-probe", "nothing to see"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1


def test_cli_usage_errors(tmp_path, capsys):
    assert main(["explain", "--no-probe", "--file", str(tmp_path / "missing.log")]) == 2
    binary = tmp_path / "core"
    binary.write_bytes(bytes(range(256)) * 100)
    assert main(["explain", "--no-probe", "--file", str(binary)]) == 2
    assert "binary" in capsys.readouterr().err


def test_cli_large_log_file(tmp_path, capsys):
    log = tmp_path / "train.log"
    log.write_bytes(
        b"step ok\n" * (10 * 1024 * 1024 // 8) + b"RuntimeError: CUDA error: an illegal memory access was encountered\n"
    )
    assert main(["explain", "--no-probe", "--file", str(log)]) == 0
    assert "illegal memory access" in capsys.readouterr().out


def test_doctor_from_file(tmp_path, capsys):
    report = tmp_path / "env.txt"
    report.write_text(RTX5090_REPORT)
    assert main(["doctor", "--from", str(report), "--json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["verdict"] == "broken"
    assert payload["findings"][0]["category"] == "gpu-arch-unsupported"
    assert payload["facts"]["origin"] == "collect_env report"
    assert payload["report"]["format"] == "collect_env"


@pytest.mark.parametrize("content", [b"", bytes(range(256)) * 10, b"hello\n"])
def test_doctor_from_unreadable_input(tmp_path, capsys, content):
    path = tmp_path / "x"
    path.write_bytes(content)
    assert main(["doctor", "--from", str(path)]) == 2
    assert capsys.readouterr().err.startswith("torchenv: ")


def test_report_facts_are_unknown_not_guessed():
    facts = read_report(RTX5090_REPORT).facts
    assert not known(facts.host.shm_bytes) and not known(facts.torch.smoke)
