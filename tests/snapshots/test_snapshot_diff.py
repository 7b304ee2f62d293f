"""The diff ranks by impact and filters noise; export and verify on the same snapshots."""

from __future__ import annotations

from dataclasses import replace

import pytest
import tomllib
import yaml

from snapshot_helpers import FIXTURES
from torchenv.model.snapshot import LEVELS, level_rank
from torchenv.reports.conda_meta import parse_environment_yml
from torchenv.snapshots.diff import diff_snapshots
from torchenv.snapshots.export import export_snapshot
from torchenv.snapshots.files import load_snapshot
from torchenv.snapshots.verify import verify_env, verify_host


def test_identical_envs_differ_only_in_noise(h100):
    later = replace(
        h100,
        created="2026-11-23T00:00:00+00:00",
        probe_seconds={"target": 9.9},
        python=replace(h100.python, executable="/tmp/pytest-7/venv/bin/python", prefix="/tmp/pytest-7/venv"),
    )
    result = diff_snapshots(h100, later)
    assert result.differences == ()
    assert set(result.ignored) == {"created", "probe timings", "interpreter paths"}


def test_h100_vs_cpu_is_ranked_cuda_first(h100, cpu):
    result = diff_snapshots(h100, cpu)
    ranks = [level_rank(d.level) for d in result.differences]
    assert ranks == sorted(ranks)
    ids = [d.finding.id for d in result.differences]
    assert ids[0] == "driver-presence-differs"
    cuda = [d.finding.id for d in result.differences if d.level == "cuda"]
    assert {
        "driver-presence-differs",
        "cuda-available-differs",
        "torch-variant-differs",
        "gpu-model-differs",
        "arch-list-differs",
    } <= set(cuda)
    assert not {"gpu-arch-not-in-wheel", "gpu-arch-ptx-jit"} & set(cuda)  # a cpu build: the variant says it all
    numerics = {d.subject for d in result.differences if d.level == "numerics"}
    assert "cuDNN loaded by torch" in numerics
    missing = {d.subject for d in result.differences if d.finding.id == "package-presence-differs"}
    assert "package nvidia-cudnn-cu13" in missing
    assert all(d.finding.explanation for d in result.differences)


def test_one_env_var_or_package_change_is_named_first(h100):
    changed = replace(h100, environment={**h100.environment, "CUBLAS_WORKSPACE_CONFIG": ":4096:8"})
    [d] = diff_snapshots(h100, changed).differences
    assert (d.level, d.subject, d.a, d.b) == ("numerics", "env CUBLAS_WORKSPACE_CONFIG", "unset", ":4096:8")
    bumped = replace(
        h100, packages=tuple(replace(p, version="0.0.1") if p.name == "filelock" else p for p in h100.packages)
    )
    [d] = diff_snapshots(h100, bumped).differences
    assert (d.finding.id, d.subject, d.b) == ("package-version-differs", "package filelock", "0.0.1")


def test_a_gpu_missing_from_the_other_arch_list_is_named(h100):
    from torchenv.model.snapshot import SnapshotGpu

    p100 = replace(h100, gpus=(SnapshotGpu(0, "Tesla P100-PCIE-16GB", (6, 0), 16280),))
    result = diff_snapshots(h100, p100)
    assert [d.finding.id for d in result.differences][:2] == ["gpu-arch-not-in-wheel", "gpu-model-differs"]
    assert "P100" in result.differences[0].b and "sm_60" in result.differences[0].b


def test_settings_rank_numerics_above_speed(h100):
    a = replace(h100, settings={"cuda.matmul.allow_tf32": False, "cudnn.benchmark": False, "num_threads": 8})
    b = replace(h100, settings={"cuda.matmul.allow_tf32": True, "cudnn.benchmark": True, "num_threads": 8})
    levels = [(d.level, d.subject) for d in diff_snapshots(a, b).differences]
    assert levels == [("numerics", "torch cuda.matmul.allow_tf32"), ("speed", "torch cudnn.benchmark")]


def test_fail_on_levels(h100, cpu):
    result = diff_snapshots(h100, cpu)
    for level in LEVELS:
        assert result.at_or_above(level)
    only_speed = diff_snapshots(h100, replace(h100, environment={"OMP_NUM_THREADS": "4"}))
    assert not only_speed.at_or_above("numerics") and only_speed.at_or_above("speed")


@pytest.mark.parametrize("fmt", ["requirements", "environment.yml", "pixi.toml", "dockerfile"])
@pytest.mark.parametrize("minimal", [False, True])
def test_exports_of_the_h100_env(h100, fmt, minimal):
    # The H100 env got torch 2.11.0 from PyPI (uv): no local tag, so no PyTorch index line.
    text = export_snapshot(h100, fmt, minimal=minimal)
    if fmt == "requirements":
        assert "\npip==" not in text and "--extra-index-url" not in text
        if minimal:  # leaves only: torch comes with torchaudio, nvidia-* and triton with torch
            assert "torchaudio==2.11.0" in text and "\ntorch==" not in text
            assert "nvidia-cudnn-cu13==" not in text and "triton==" not in text
        else:
            assert "torch==2.11.0\n" in text and "nvidia-cudnn-cu13==9.19.0.56" in text
            assert "whose wheel was the cu130 build" in text
    elif fmt == "environment.yml":
        env = parse_environment_yml(yaml.safe_load(text))
        assert env.conda[0] == ("python=3.12" if minimal else f"python={h100.python.version}")
        assert ("torchaudio==2.11.0" if minimal else "torch==2.11.0") in env.pip
    elif fmt == "pixi.toml":
        data = tomllib.loads(text)
        assert data["system-requirements"] == {"cuda": "13.0"}
        assert data["pypi-dependencies"]["torchaudio" if minimal else "torch"] == "==2.11.0"
    else:
        # One base-image table for plan and export (torchenv/formats.py): a CUDA build starts from
        # NVIDIA's CUDA image (its release from the knowledge base when given), with the exact Python by uv.
        assert "FROM --platform=linux/amd64 nvidia/cuda:13.0.0-cudnn-runtime-ubuntu24.04" in text
        assert f"uv venv --python {h100.python.version} /opt/venv" in text
        assert 'NVIDIA_REQUIRE_CUDA="cuda>=13.0"' in text and "torchaudio==2.11.0" in text
        from torchenv.knowledge import load_knowledge

        with_knowledge = export_snapshot(h100, fmt, minimal=minimal, knowledge=load_knowledge())
        assert "FROM --platform=linux/amd64 nvidia/cuda:13.0.2-cudnn-runtime-ubuntu24.04" in with_knowledge
        assert "the host needs an NVIDIA driver >= 580" in with_knowledge


def test_a_local_tagged_torch_gets_its_index(cpu):
    text = export_snapshot(cpu, "requirements")
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text and "torch==2.11.0+cpu" in text
    assert "--extra-index-url" not in export_snapshot(cpu, "requirements", torch_index=None)
    data = tomllib.loads(export_snapshot(cpu, "pixi.toml"))
    assert data["pypi-dependencies"]["torch"] == {
        "version": "==2.11.0+cpu",
        "index": "https://download.pytorch.org/whl/cpu",
    }
    assert "system-requirements" not in data


def test_verify_on_its_own_host_passes(h100, knowledge):
    checks = verify_host(h100, h100, knowledge) + verify_env(h100, h100)
    assert {c.status for c in checks} <= {"ok", "skip"}, [c for c in checks if c.status not in ("ok", "skip")]
    assert {c.finding.id for c in checks} >= {
        "verify-platform",
        "verify-python",
        "verify-driver",
        "verify-gpu-arch",
        "verify-env",
    }


def test_verify_h100_env_on_a_cpu_host_fails_before_installing(h100, cpu, knowledge):
    checks = {c.finding.id: c for c in verify_host(h100, cpu, knowledge)}
    assert checks["verify-driver"].status == "fail" and "CUDA 13.0" in checks["verify-driver"].finding.title
    assert checks["verify-driver"].finding.category == "no-driver"
    assert checks["no-nvidia-gpu"].status == "fail"
    assert checks["verify-python"].status == "ok"


def test_verify_old_driver_and_wrong_arch(h100, knowledge):
    from torchenv.model.snapshot import SnapshotGpu

    old = replace(
        h100,
        driver=replace(h100.driver, version="535.104.05"),
        gpus=(SnapshotGpu(0, "Tesla P100-PCIE-16GB", (6, 0), 16280),),
    )
    checks = {c.finding.id: c for c in verify_host(h100, old, knowledge)}
    assert checks["driver-too-old"].status == "fail" and checks["driver-too-old"].finding.source
    arch = checks["gpu-arch-not-in-wheel"]
    assert arch.status == "fail" and "sm_60" in arch.finding.title


def test_verify_env_mismatch_fails(h100):
    other = replace(h100, packages=tuple(p for p in h100.packages if p.name != "filelock"))
    checks = verify_env(h100, other)
    assert [c.status for c in checks if c.finding.id == "package-presence-differs"] == ["fail"]


H100_SNAPSHOT = FIXTURES / "h100-snapshot.json"


@pytest.mark.skipif(
    not H100_SNAPSHOT.exists(),
    reason="tests/fixtures/snapshots/h100-snapshot.json not committed yet: run benchmarks/device/snapshot.sh on the H100 machine",
)
def test_real_h100_snapshot_vs_this_cpu_machine(tmp_path):
    from testsupport import run_cli

    h100 = load_snapshot(H100_SNAPSHOT)
    assert h100.torch.cuda and h100.gpus
    here_path = tmp_path / "cpu.json"
    assert run_cli("snapshot", "-o", str(here_path)).returncode == 0
    cpu = load_snapshot(here_path)
    result = diff_snapshots(h100, cpu)
    first = result.differences[0]
    assert first.level == "cuda" and first.finding.id in (
        "driver-presence-differs",
        "cuda-available-differs",
        "platform-differs",
    )
    assert {"torch-variant-differs", "gpu-model-differs"} & {
        d.finding.id for d in result.differences
    } or h100.torch.variant == cpu.torch.variant
    ranks = [level_rank(d.level) for d in result.differences]
    assert ranks == sorted(ranks)
    proc = run_cli("diff", str(H100_SNAPSHOT), str(here_path), "--fail-on", "cuda")
    assert proc.returncode == 1 and proc.stdout.splitlines()[3].startswith("CUDA")


# --- one diagnostic type (issue 14.2) -------------------------------------------------------------------


def test_every_difference_is_a_finding_graded_by_its_level(h100, cpu):
    from torchenv.model import Finding
    from torchenv.model.finding import CATEGORIES, LAYERS
    from torchenv.model.snapshot import LEVEL_SEVERITY
    from torchenv.snapshots.diff import KINDS

    result = diff_snapshots(h100, cpu)
    assert result.differences
    for d in result.differences:
        assert isinstance(d.finding, Finding), d
        assert d.finding.id in KINDS and d.finding.severity is LEVEL_SEVERITY[d.level]
        assert d.finding.category in CATEGORIES and d.finding.layer in LAYERS
        assert d.finding.explanation and d.finding.evidence == (f"A: {d.a or '(absent)'}", f"B: {d.b or '(absent)'}")


def test_every_verify_check_is_a_finding_graded_by_its_status(h100, cpu, knowledge):
    from torchenv.model import Finding
    from torchenv.model.snapshot import STATUS_SEVERITY, VERIFY_CHECKS, VERIFY_STATUSES
    from torchenv.snapshots.diff import KINDS as DIFF
    from torchenv.snapshots.verify import KINDS as VERIFY

    checks = verify_host(h100, cpu, knowledge) + verify_env(h100, cpu) + verify_host(h100, h100, knowledge)
    assert {c.status for c in checks} >= {"ok", "fail"}
    for c in checks:
        assert isinstance(c.finding, Finding), c
        assert c.status in VERIFY_STATUSES and c.finding.severity is STATUS_SEVERITY[c.status]
        assert c.finding.id in VERIFY or c.finding.id in DIFF
        assert c.check in VERIFY_CHECKS
    by_check = {c.check: c for c in verify_host(h100, cpu, knowledge)}
    assert by_check["driver-floor"].finding.id == "verify-driver"  # no driver here: the check's own id


def test_verify_reuses_the_doctors_ids_for_the_same_meaning(h100, cpu, knowledge):
    ids = {c.finding.id for c in verify_host(h100, cpu, knowledge)}
    assert "no-nvidia-gpu" in ids  # a CUDA snapshot on a host without an NVIDIA GPU
    env = {c.finding.id: c for c in verify_env(h100, cpu)}
    assert env["torch-variant-differs"].status == "fail"  # the diff's own id, failed by verify


def test_the_verify_gate_fails_closed(h100):
    from torchenv.model import Unknown
    from torchenv.snapshots.verify import verify_check, verify_failed

    unreadable = replace(h100, packages=Unknown("pip list failed"))
    checks = verify_env(h100, unreadable)
    assert verify_failed(checks) and checks[0].finding.id == "verify-env" and checks[0].status == "fail"
    skipped = verify_check("verify-python", "host", "skip", "Python", "unknown on one side", check="python")
    assert not verify_failed([skipped])
