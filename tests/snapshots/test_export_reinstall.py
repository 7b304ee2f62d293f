"""Exports that reinstall, for real: an env holding an editable checkout is snapshotted, exported to
requirements, and `pip install -r` of that file into a fresh env installs the same checkout again
(editable, from the same folder), not a PyPI package of the same name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from testsupport import cli_env

pytestmark = pytest.mark.slow

LOCAL_INDEX = Path("/opt/pypi/simple")  # setuptools for the isolated build of the checkout, offline
PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "tinypkg"
version = "0.3.1"

[tool.setuptools]
py-modules = ["tinypkg"]
"""


def pip(python: Path, *args: str) -> subprocess.CompletedProcess:
    # This interpreter's pip installs into the target (pip --python): the venvs need no pip of their own.
    argv = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check", "-q", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300)


def venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=60)
    return path / "bin" / "python"


@pytest.mark.skipif(not (LOCAL_INDEX / "setuptools").is_dir(), reason="no local package index with setuptools")
def test_an_editable_install_is_exported_as_itself_and_reinstalls(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(PYPROJECT)
    (project / "tinypkg.py").write_text("VALUE = 42\n")
    first = venv(tmp_path / "env")
    done = pip(first, "install", "--index-url", LOCAL_INDEX.as_uri(), "-e", str(project))
    assert done.returncode == 0, done.stderr[-2000:]

    snapshot, requirements = tmp_path / "snap.json", tmp_path / "requirements.txt"
    for args in (
        ("snapshot", "--python", str(first), "-o", str(snapshot), "--timeout", "60"),
        ("export", str(snapshot), "--format", "requirements", "-o", str(requirements)),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "torchenv", *args], capture_output=True, text=True, env=cli_env(), timeout=120
        )
        assert done.returncode == 0, done.stderr
    text = requirements.read_text()
    assert f"-e {project}" in text
    assert "tinypkg==" not in text  # never an index pin for a checkout: that would install someone else's

    second = venv(tmp_path / "env2")
    done = pip(second, "install", "--index-url", LOCAL_INDEX.as_uri(), "-r", str(requirements))
    assert done.returncode == 0, done.stderr[-2000:]
    where = subprocess.run(
        [str(second), "-c", "import tinypkg; print(tinypkg.__file__, tinypkg.VALUE)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert where.stdout.split() == [str(project / "tinypkg.py"), "42"], where.stderr
    (info,) = (tmp_path / "env2").glob("lib/python*/site-packages/tinypkg-0.3.1.dist-info")
    assert json.loads((info / "direct_url.json").read_text()) == {
        "dir_info": {"editable": True},
        "url": project.as_uri(),
    }


def test_local_and_vcs_sources_are_exported_as_what_they_are():
    from torchenv.model.snapshot import SnapshotPackage
    from torchenv.snapshots.export import pip_line

    def line(source):
        return pip_line(SnapshotPackage("pkg", "1.0", "pip", (), source), None)

    assert line("editable:file:///home/me/my%20pkg").requirement == "-e /home/me/my pkg"
    assert line("file:///wheels/pkg-1.0-py3-none-any.whl").requirement == (
        "pkg @ file:///wheels/pkg-1.0-py3-none-any.whl"
    )
    assert line("git+https://github.com/me/pkg@abc123").requirement == "pkg @ git+https://github.com/me/pkg@abc123"
    assert line(None).requirement == "pkg==1.0"


def test_a_dockerfile_leaves_local_paths_out_with_a_comment():
    from dataclasses import replace

    from snapshot_helpers import h100_snapshot
    from torchenv.model.snapshot import SnapshotPackage
    from torchenv.snapshots.export import export_dockerfile, export_requirements

    base = h100_snapshot()
    mine = SnapshotPackage("mypkg", "0.1", "pip", (), "editable:file:///home/me/mypkg")
    snapshot = replace(base, packages=(*base.packages, mine))
    assert "-e /home/me/mypkg" in export_requirements(snapshot)
    docker = export_dockerfile(snapshot)
    assert "-e /home/me/mypkg" not in docker
    assert "# left out: mypkg 0.1 was an editable install (/home/me/mypkg)" in docker
