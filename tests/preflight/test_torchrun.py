"""The preflight for real under torchrun on this CPU machine (gloo): 2 and 4 processes, skew injected on
one rank, a rank that never joins, /dev/shm, a GPU that computes wrong bits, a world of one. Each run
is a few seconds on two cores (torch imports in every rank and in torchrun itself)."""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

from testsupport import SRC, run_bounded
from torchenv.model import Severity
from torchenv.preflight.bandwidth import bus_factor
from torchenv.render.json_preflight import preflight_from_dict

pytest.importorskip("torch")
pytestmark = [pytest.mark.slow, pytest.mark.torch]

QUICK = ["--quick", "--join-timeout", "20", "--collective-timeout", "30", "--timeout", "120"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TORCHENV_", "NCCL_", "OMP_"))}
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def _torchrun(tmp_path, nproc: int, *args: str, env: dict[str, str] | None = None, timeout: float = 120):
    output = tmp_path / "report.json"
    argv = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc)]
    argv += ["-m", "torchenv.preflight", "--output", str(output), "--quiet", *args]
    began = time.monotonic()
    done = run_bounded(argv, env=env or _env(), cwd=tmp_path, timeout=timeout)
    report = preflight_from_dict(json.loads(output.read_text())) if output.exists() else None
    assert report is not None, done.stderr[-3000:]
    return report, done, time.monotonic() - began


def _ids(report):
    return {(f.id, f.severity) for f in report.findings}


def test_two_ranks_one_skewed_with_small_shm_and_a_wrong_gemm(tmp_path):
    hooks = {
        "env": {"1": {"NCCL_ALGO": "Tree"}},
        "nccl_version": {"1": "2.99.9"},
        "shm_bytes": {"0": 64 << 20},
        "gemm_corrupt": [1],
    }
    report, done, _ = _torchrun(tmp_path, 2, *QUICK, env=_env(TORCHENV_PREFLIGHT_TEST=json.dumps(hooks)))
    # Rank 0's exit code is the verdict; torchrun turns any non-zero rank into its own 1.
    assert done.returncode == 1 and "exitcode  : 2" in done.stderr
    assert report.test_hooks and report.verdict == "not-ready" and report.exit_code == 2
    # inventory: both ranks, where they ran, their snapshots
    assert [d.place.rank for d in report.ranks] == [0, 1]
    assert len({d.place.pid for d in report.ranks}) == 2 and all(d.place.pid > 0 for d in report.ranks)
    assert all(d.binding.device == "cpu" and d.snapshot.torch.version.startswith("2.") for d in report.ranks)
    assert report.ranks[0].topology is not None and report.ranks[1].topology is None  # read once per node
    # skew: NCCL (error) and the env var, on rank 1 against rank 0
    [skew] = [f for f in report.findings if f.id == "rank-skew"]
    assert skew.severity is Severity.ERROR and skew.title.startswith("rank 1 ")
    text = "\n".join(skew.evidence)
    assert (
        "NCCL in torch: absent on rank 0, 2.99.9 on rank 1" in text
        and "env NCCL_ALGO: unset on rank 0, Tree on rank 1" in text
    )
    # /dev/shm (two ranks on a node, gloo: a warning) and the GEMM that computes wrong bits
    assert ("shm-too-small", Severity.WARNING) in _ids(report)
    wrong = [f for f in report.findings if f.id == "gemm-wrong-result"]
    assert len(wrong) == 2 and all("rank 1" in f.title for f in wrong)
    # the sweep: every point by nccl-tests' formula for two ranks
    assert {p.collective for p in report.sweep} == {"all_reduce", "all_gather", "reduce_scatter"}
    for p in report.sweep:
        assert p.busbw_gbs == pytest.approx(p.algbw_gbs * bus_factor(p.collective, 2))
        assert p.max_seconds >= p.seconds > 0
    assert report.fabric.kind == "host" and report.pairs == ()  # pairs need 3+ ranks


def test_a_rank_that_never_joins_fails_fast_and_is_named(tmp_path):
    hooks = {"absent": [1], "absent_seconds": 60}
    args = ["--quick", "--join-timeout", "2", "--timeout", "60"]
    report, done, seconds = _torchrun(tmp_path, 2, *args, env=_env(TORCHENV_PREFLIGHT_TEST=json.dumps(hooks)))
    assert seconds < 30  # the join timeout, not init_process_group's 30 minutes
    assert (
        done.returncode == 1 and "exitcode  : 2" in done.stderr
    )  # rank 0 left with the verdict; torchrun stopped rank 1
    assert report.verdict == "not-ready" and report.exit_code == 2
    assert [(m.rank, m.node, m.host, m.phase) for m in report.missing] == [(1, 0, report.missing[0].host, "join")]
    assert report.missing[0].host  # its node's host is known: rank 0 of that node arrived
    [missing] = [f for f in report.findings if f.id == "rank-missing"]
    assert missing.title == "rank 1 did not join within 2 s" and missing.severity is Severity.ERROR
    assert "NCCL_DEBUG=INFO" in missing.fix


def test_four_ranks_through_the_cli(tmp_path):
    began = time.monotonic()
    done = run_bounded(
        [sys.executable, "-m", "torchenv", "preflight", "--gpus", "4", "--json", *QUICK],
        env=_env(),
        cwd=tmp_path,
        timeout=180,
    )
    seconds = time.monotonic() - began
    data = json.loads(done.stdout)
    report = preflight_from_dict(data)
    assert done.returncode == report.exit_code == 0, (done.stderr[-2000:], [f.title for f in report.findings])
    assert report.verdict == "ready" and report.world_size == 4 and not report.test_hooks
    assert [d.place.rank for d in report.ranks] == [0, 1, 2, 3] and not report.missing
    assert not [f for f in report.findings if f.id == "rank-skew"]  # identical ranks
    assert len(report.pairs) == 6  # every two of the four ranks, in three rounds
    assert {(p.a, p.b) for p in report.pairs} == {(a, b) for a in range(4) for b in range(a + 1, 4)}
    for p in report.sweep:
        assert p.busbw_gbs == pytest.approx(p.algbw_gbs * bus_factor(p.collective, 4))
    assert seconds < 60


def test_a_world_of_one_without_torchrun(tmp_path):
    done = run_bounded(
        [sys.executable, "-m", "torchenv.preflight", "--json", "--quick", "--no-pairwise"],
        env=_env(),
        cwd=tmp_path,
        timeout=120,
    )
    report = preflight_from_dict(json.loads(done.stdout))
    assert done.returncode == report.exit_code == 0
    assert report.world_size == 1 and report.fabric.kind == "single"
    assert all(p.busbw_gbs == 0.0 and p.algbw_gbs > 0 for p in report.sweep)  # bus factor 0 for one rank
    [bus] = [f for f in report.findings if f.id == "bus-bandwidth"]
    assert "not judged: one rank" in bus.title
