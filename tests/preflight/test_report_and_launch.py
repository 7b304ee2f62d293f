"""The report's JSON contract and terminal view, the launcher around torchrun (argv, environment, the
report made of a failed run), the CLI's argument checks, the knowledge file and the docs."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest
from preflight_helpers import cluster, gemm_ok, point, snapshot_with_gpus

from torchenv.cli.errors import UsageError
from torchenv.cli.main import build_parser
from torchenv.cli.preflight import worker_arguments
from torchenv.knowledge import load_knowledge
from torchenv.knowledge._store import DATA_DIR, tomllib
from torchenv.knowledge.fabrics import FABRICS_FILE, load_fabrics
from torchenv.model import Severity
from torchenv.model.preflight import SECTION_OF, MissingRank
from torchenv.preflight.judge import build_report
from torchenv.preflight.launch import (
    failed_report,
    parse_torchrun_failures,
    rank_environment,
    torchrun_argv,
    visible_gpus,
)
from torchenv.probes.runner import RunResult
from torchenv.probes.target import OWN_IMPORT_ROOT
from torchenv.render.json_preflight import preflight_from_dict, preflight_to_dict, render_preflight_json
from torchenv.render.terminal import make_console
from torchenv.render.terminal_preflight import render_preflight_terminal

ROOT = Path(__file__).resolve().parents[2]
GiB = 1 << 30


def _report():
    snapshot = snapshot_with_gpus(8)
    ranks = cluster(1, 8, snapshot=snapshot, gemm=(gemm_ok("bf16", 720.0), gemm_ok("fp32", 50.0)))
    odd = ranks[3].snapshot
    ranks[3] = replace(ranks[3], snapshot=replace(odd, torch=replace(odd.torch, nccl_version="2.99.9")))
    sweep = [point("all_reduce", 1 << 20, 40.0, 8), point("all_reduce", 4 * GiB, 360.0, 8), point("all_gather", 4 * GiB, 350.0, 8)]
    return build_report(
        ranks,
        world_size=8,
        backend="nccl",
        sweep=sweep,
        missing=[MissingRank(9, 1, None, "join")],
        missing_timeout=5.0,
        knowledge=load_knowledge(),
        fabrics=load_fabrics(),
        phases={"join": 0.2, "sweep": 3.1},
        torchenv_version="0.1.0",
    )


def test_json_round_trip():
    report = _report()
    data = json.loads(render_preflight_json(report))
    assert data["kind"] == "torchenv.preflight" and data["schema_version"] == 1
    assert (data["verdict"], data["exit_code"]) == ("not-ready", 2)
    assert list(data)[:7] == ["schema_version", "kind", "torchenv_version", "knowledge_version", "verdict", "exit_code", "summary"]
    assert preflight_from_dict(data) == report
    assert preflight_to_dict(preflight_from_dict(data)) == data


def test_another_document_is_not_a_preflight_report():
    with pytest.raises(ValueError):
        preflight_from_dict({"kind": "torchenv.doctor"})


def test_terminal_view_shows_verdict_ranks_sweep_and_findings(tmp_path):
    path = tmp_path / "out.txt"
    with path.open("w") as stream:
        render_preflight_terminal(_report(), make_console(stream))
    text = path.read_text()
    assert "NOT READY · 8 ranks · 2 nodes · nccl" in text
    assert "2.99.9" in text and "all_reduce" in text and "4 GiB" in text
    for word in ("launch", "inventory", "[rank-missing]", "[rank-skew]", "[bus-bandwidth]"):
        assert word in text
    assert "exit 2" in text


# --- the launcher ------------------------------------------------------------------------------------

TORCHRUN_FAILURE = """
torch.distributed.elastic.multiprocessing.errors.ChildFailedError:
============================================================
torchenv.preflight FAILED
------------------------------------------------------------
Failures:
[1]:
  time      : 2026-12-03_10:05:39
  host      : gpu-node-7
  rank      : 3 (local_rank: 3)
  exitcode  : -9 (pid: 1236)
  error_file: <N/A>
  traceback : Signal 9 (SIGKILL) received by PID 1236
------------------------------------------------------------
Root Cause (first observed failure):
[0]:
  time      : 2026-12-03_10:05:39
  host      : gpu-node-7
  rank      : 1 (local_rank: 1)
  exitcode  : 1 (pid: 1234)
  error_file: <N/A>
  traceback : To enable traceback see: https://pytorch.org/docs/stable/elastic/errors.html
============================================================
"""


def test_parse_torchrun_failures():
    assert parse_torchrun_failures(TORCHRUN_FAILURE) == [(1, 1, "gpu-node-7"), (3, -9, "gpu-node-7")]
    assert parse_torchrun_failures("") == []


@pytest.mark.parametrize(
    ("result", "id", "words"),
    [
        (RunResult(("python",), 1, "", TORCHRUN_FAILURE + "RuntimeError: CUDA error: no kernel image\n", 3.0), "launch-failed", "exited with 1"),
        (RunResult(("python",), None, "", "", 600.0, timed_out=True), "preflight-timeout", "within 600 s"),
        (RunResult(("python",), None, "", "", 0.0, error="not found"), "launch-failed", "not found"),
    ],
)
def test_a_run_without_a_report_is_not_ready(result, id, words):
    report = failed_report(result, 4, timeout=600.0)
    assert (report.verdict, report.exit_code, report.world_size) == ("not-ready", 2, 4)
    [finding] = report.findings
    assert finding.id == id and words in finding.title and finding.severity is Severity.ERROR
    if result.stderr:
        assert "rank 1 on gpu-node-7 exited with 1" in finding.evidence
        assert finding.evidence[-1] == "last line of the output: RuntimeError: CUDA error: no kernel image"


def test_torchrun_argv_runs_the_worker_module_standalone():
    argv = torchrun_argv("/env/bin/python", 4, ["--quick"])
    assert argv[:3] == ["/env/bin/python", "-m", "torch.distributed.run"]
    assert argv[argv.index("--nproc-per-node") + 1] == "4" and "--standalone" in argv
    assert argv[-3:] == ["-m", "torchenv.preflight", "--quick"]


def test_rank_environment_makes_torchenv_importable_first(tmp_path):
    env = rank_environment({"PYTHONPATH": f"relative{os.pathsep}{OWN_IMPORT_ROOT}", "PATH": "/bin"})
    entries = env["PYTHONPATH"].split(os.pathsep)
    assert entries[0] == OWN_IMPORT_ROOT and entries.count(OWN_IMPORT_ROOT) == 1
    assert os.path.isabs(entries[1]) and env["PYTHONUNBUFFERED"] == "1"


@pytest.mark.parametrize(
    ("nvml", "visible", "ranks"),
    [(8, None, 8), (8, "0,1", 2), (8, "", 1), (None, None, 1), (None, "0,1,2", 3), (2, "0,1,2,3", 2)],
)
def test_visible_gpus(nvml, visible, ranks):
    assert visible_gpus(nvml, visible) == ranks


def _args(*argv):
    return build_parser().parse_args(["preflight", *argv])


def test_worker_arguments_pass_what_was_asked():
    args = _args("--quick", "--sizes", "1M,1G", "--collectives", "all_reduce", "--no-pairwise", "--join-timeout", "5")
    out = worker_arguments(args)
    assert out[out.index("--join-timeout") + 1] == "5"
    assert out[out.index("--sizes") : out.index("--sizes") + 2] == ["--sizes", "1M,1G"]
    assert "--quick" in out and "--no-pairwise" in out and "--no-gemm" not in out


@pytest.mark.parametrize(
    "argv",
    [("--sizes", "lots"), ("--collectives", "all_to_everyone"), ("--timeout", "nan"), ("--join-timeout", "0"), ("--burn-seconds", "-1")],
)
def test_worker_arguments_refuse_bad_values_before_anything_starts(argv):
    with pytest.raises(UsageError):
        worker_arguments(_args(*argv))


# --- the knowledge file and the docs -------------------------------------------------------------------------

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def test_fabrics_file_has_provenance_on_every_row():
    doc = tomllib.loads((DATA_DIR / FABRICS_FILE).read_text(encoding="utf-8"))
    assert re.fullmatch(r"20\d\d\.[01]\d\.[0-3]\d", doc["meta"]["knowledge_version"])
    rows = [(table, row) for table, rows in doc.items() if table != "meta" for row in rows]
    assert len(rows) >= 12
    for table, row in rows:
        assert row.get("source", "").strip(), (table, row)
        assert DATE.match(row.get("retrieved", "")), (table, row)
        assert row.get("confidence", "transcribed") in {"transcribed", "inferred"}
        for field in row.get("inferred_fields", []):
            assert row["confidence"] == "inferred" and field in row
        if row.get("confidence") == "inferred":
            assert row.get("note") or table == "nvlink", row  # an inferred figure says how it was derived


def test_fabrics_file_is_packaged():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["torchenv"]
    assert "knowledge/data/*.toml" in globs and "probes/_scripts/*.py" in globs


def test_fabric_queries():
    fabrics = load_fabrics()
    assert fabrics.nvlink_generation("hopper").generation == 4
    assert fabrics.nvlink_generation("Turing") is None
    assert fabrics.expected_nvlink(4, nvls=True, gpus=8).id == "nvlink4-nvls"
    assert fabrics.expected_nvlink(4, nvls=True, gpus=2).id == "nvlink4-ring"
    assert fabrics.expected_nvlink(7, nvls=False, gpus=8) is None
    assert fabrics.expected_pcie(5, gpus=8).id == "pcie5-8gpu" and fabrics.expected_pcie(2, gpus=2) is None
    assert fabrics.network(rdma=True).busbw_gbs_per_100gbits == 12.0


def test_every_finding_id_is_documented_in_docs_preflight():
    text = (ROOT / "docs" / "preflight.md").read_text()
    documented = set(re.findall(r"^### `([a-z0-9-]+)`", text, re.M))
    assert documented == set(SECTION_OF), set(SECTION_OF) ^ documented


def test_the_readme_lists_the_command():
    assert "torchenv preflight" in (ROOT / "README.md").read_text()
