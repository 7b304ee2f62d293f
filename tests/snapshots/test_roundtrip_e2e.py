"""The round trip, for real: a venv with the local CPU wheel of torch (pip install torch==2.13.0 here
installs a local file; never an unpinned or CUDA torch) -> snapshot -> export requirements -> a new
venv from them -> snapshot -> diff shows nothing relevant; then one env var and one package change,
each named first. The venvs are built once per session (a minute or two: torch is a big wheel)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from snapshot_helpers import cli_env

pytestmark = [pytest.mark.slow, pytest.mark.torch]
TORCH_PIN = "torch==2.13.0"


def run(argv, *, env=None, timeout=600):
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=env or cli_env(), timeout=timeout)


def torchenv(*args, env=None):
    return run([sys.executable, "-m", "torchenv", *args], env=env)


def make_venv(path: Path) -> Path:
    proc = run([sys.executable, "-m", "venv", path])
    assert proc.returncode == 0, proc.stderr
    return path / "bin" / "python"


@pytest.fixture(scope="session")
def round_trip(tmp_path_factory):
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed in the test interpreter (the local CPU wheel is needed)")
    base = tmp_path_factory.mktemp("round-trip")
    out = {"base": base}
    python_a = make_venv(base / "venv-a")
    proc = run([python_a, "-m", "pip", "install", "-q", TORCH_PIN])
    if proc.returncode != 0:
        pytest.skip(f"cannot install {TORCH_PIN} here: {proc.stderr.strip()[-300:]}")
    snap_a = torchenv("snapshot", "--python", python_a, "-o", base / "a.json")
    assert snap_a.returncode == 0, snap_a.stderr
    # The PyTorch index is unreachable on this offline machine; pip finds the wheel via find-links.
    export = torchenv(
        "export", base / "a.json", "--format", "requirements", "--torch-index", "none", "-o", base / "requirements.txt"
    )
    assert export.returncode == 0, export.stderr
    python_b = make_venv(base / "venv-b")
    proc = run([python_b, "-m", "pip", "install", "-q", "-r", base / "requirements.txt"])
    assert proc.returncode == 0, proc.stderr
    assert torchenv("snapshot", "--python", python_b, "-o", base / "b.json").returncode == 0
    out["verify_b"] = torchenv("verify", base / "a.json", "--python", python_b)
    out["verify_host_only"] = torchenv("verify", base / "a.json", "--python", python_b, "--host-only")
    # One env var changed.
    env = cli_env(CUBLAS_WORKSPACE_CONFIG=":4096:8")
    assert torchenv("snapshot", "--python", python_b, "-o", base / "b-env.json", env=env).returncode == 0
    # One package changed: mpmath (torch -> sympy -> mpmath) to its other available version.
    installed = json.loads((base / "b.json").read_text())
    mpmath = next(p["version"] for p in installed["packages"] if p["name"] == "mpmath")
    other = "1.3.0" if mpmath != "1.3.0" else "1.4.1"
    proc = run([python_b, "-m", "pip", "install", "-q", "--no-deps", f"mpmath=={other}"])
    assert proc.returncode == 0, proc.stderr
    assert torchenv("snapshot", "--python", python_b, "-o", base / "b-pkg.json").returncode == 0
    out["verify_changed"] = torchenv("verify", base / "a.json", "--python", python_b)
    out["mpmath"] = (mpmath, other)
    return out


def diff_json(a: Path, b: Path, *extra: str):
    proc = torchenv("diff", a, b, "--json", *extra)
    return proc, json.loads(proc.stdout)


def test_snapshot_records_the_real_cpu_build(round_trip):
    data = json.loads((round_trip["base"] / "a.json").read_text())
    assert data["kind"] == "torchenv.snapshot"
    assert data["torch"]["version"] == "2.13.0+cpu" and data["torch"]["variant"] == "cpu"
    assert data["torch"]["cuda"] is None
    torch = next(p for p in data["packages"] if p["name"] == "torch")
    assert torch["installer"] == "pip" and torch["source"] == "https://download.pytorch.org/whl/cpu"
    assert "sympy>=1.13.3" in " ".join(torch["requires"]) or any(r.startswith("sympy") for r in torch["requires"])
    assert set(data["settings"]) >= {"cuda.matmul.allow_tf32", "float32_matmul_precision", "deterministic_algorithms"}
    requirements = (round_trip["base"] / "requirements.txt").read_text()
    assert "torch==2.13.0+cpu" in requirements and "--extra-index-url" not in requirements


def test_rebuilt_env_shows_no_relevant_difference(round_trip):
    base = round_trip["base"]
    proc, data = diff_json(base / "a.json", base / "b.json", "--fail-on", "other")
    assert proc.returncode == 0, data["differences"]
    assert data["differences"] == []
    assert "interpreter paths" in data["ignored"] and "created" in data["ignored"]


def test_verify_passes_on_the_rebuilt_env(round_trip):
    assert round_trip["verify_b"].returncode == 0, round_trip["verify_b"].stdout
    assert round_trip["verify_host_only"].returncode == 0, round_trip["verify_host_only"].stdout


def test_an_env_var_change_is_named_first(round_trip):
    base = round_trip["base"]
    proc, data = diff_json(base / "b.json", base / "b-env.json", "--fail-on", "numerics")
    assert proc.returncode == 1
    first = data["differences"][0]
    assert (first["subject"], first["level"], first["b"]) == ("env CUBLAS_WORKSPACE_CONFIG", "numerics", ":4096:8")


def test_a_package_change_is_named_first(round_trip):
    base = round_trip["base"]
    before, after = round_trip["mpmath"]
    proc, data = diff_json(base / "b.json", base / "b-pkg.json", "--fail-on", "numerics")
    assert proc.returncode == 0  # an `other`-level change does not fail a numerics gate
    first = data["differences"][0]
    assert (first["subject"], first["a"], first["b"]) == ("package mpmath", before, after)
    assert len(data["differences"]) == 1
    text = torchenv("diff", base / "a.json", base / "b-pkg.json").stdout
    assert "package mpmath" in text.splitlines()[3]


def test_verify_fails_after_the_env_changed(round_trip):
    proc = round_trip["verify_changed"]
    assert proc.returncode == 1
    assert "FAIL" in proc.stdout and "package mpmath" in proc.stdout


def test_conda_prefix_read_through_the_real_probe(tmp_path):
    """A venv whose prefix holds the fixture conda-meta: the probe sees a conda env, the snapshot reads
    every record and the history, and a pip-written torch dist-info next to conda's pytorch is flagged."""
    import shutil

    from snapshot_helpers import FIXTURES

    venv = tmp_path / "env"
    proc = run([sys.executable, "-m", "venv", "--without-pip", venv])
    assert proc.returncode == 0
    shutil.copytree(FIXTURES / "conda-env" / "conda-meta", venv / "conda-meta")
    site = next((venv / "lib").glob("python3.*/site-packages"))
    dist = site / "torch-2.7.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: torch\nVersion: 2.7.1\nRequires-Dist: filelock\n\n")
    (dist / "INSTALLER").write_text("pip\n")
    proc = torchenv("snapshot", "--python", venv / "bin" / "python", "-o", tmp_path / "s.toml")
    assert proc.returncode == 0, proc.stderr
    assert "torch is installed twice: conda pytorch 2.7.1 (conda-forge) and pip torch 2.7.1" in proc.stderr
    import tomllib

    data = tomllib.loads((tmp_path / "s.toml").read_text())
    assert data["python"]["is_conda"] is True
    assert {p["name"]: p["channel"] for p in data["conda_packages"]}["pytorch-gpu"] == "conda-forge"
    assert data["conda_requested"] == ["python=3.13", "pytorch-gpu", "cuda-version=12.9"]
    assert data["torch"]["status"] == "missing"


def test_cli_refuses_foreign_and_corrupt_files(tmp_path):
    notes = tmp_path / "notes.json"
    notes.write_text('{"mine": 1}')
    proc = torchenv("snapshot", "-o", notes)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "not a torchenv snapshot; refusing to overwrite it (use --force)" in proc.stderr
    assert notes.read_text() == '{"mine": 1}'
    corrupt = tmp_path / "c.json"
    corrupt.write_text('{"kind": "torchenv.snapshot", "schema_version": 1, "host": ')
    for args in (("diff", corrupt, notes), ("export", corrupt, "--format", "requirements"), ("verify", corrupt)):
        proc = torchenv(*args)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
        assert "c.json: corrupt JSON at line 1" in proc.stderr
    proc = torchenv("diff", notes, notes)
    assert proc.returncode == 2 and "notes.json: not a torchenv snapshot" in proc.stderr
