"""Fixtures of the fault-injection suite: the broken things are built for real, once per session
(stub torch packages, fake nvidia-smi and interpreters, a venv), and each test gets a folder of the
user's own files (`home`) whose every byte is checked after the run."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from e2e.e2e_helpers import broken_torch_files, fake_torch_files, write_executable, write_tree

from .harness import fingerprint

SEED = int(os.environ.get("TORCHENV_FAULT_SEED", "1312"))


@pytest.fixture
def rng(request) -> random.Random:
    """Random moments (for SIGINT), reproducible: the seed and the test name decide them."""
    return random.Random(f"{SEED}:{request.node.name}")


@pytest.fixture(scope="session")
def stubs(tmp_path_factory) -> dict[str, Path]:
    """PYTHONPATH folders, each holding a `torch` that fails in one way."""
    base = tmp_path_factory.mktemp("stub-torch")
    kinds = {
        "hang": broken_torch_files("import time\ntime.sleep(600)\n"),
        "segv": broken_torch_files("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n"),
        "raise": broken_torch_files('raise ImportError("libcudnn.so.9: cannot open shared object file")\n'),
        "exit": broken_torch_files("raise SystemExit(3)\n"),
        "noisy": fake_torch_files(
            version="2.5.1+cpu",
            cuda=None,
            init_prelude="import sys; sys.stdout.write('x' * 5_000_000 + '\\n'); sys.stderr.write('noise\\n')",
        ),
        "cuda-hang": fake_torch_files(is_available="import time; time.sleep(600)"),
        "ok": fake_torch_files(version="2.5.1+cpu", cuda=None),
    }
    out = {}
    for name, files in kinds.items():
        write_tree(base / name, files)
        out[name] = base / name
    return out


@pytest.fixture(scope="session")
def tools(tmp_path_factory) -> dict[str, Path]:
    """Fake programs: nvidia-smi that hangs or prints garbage, interpreters that are not Python 3,
    a `uv` whose install never ends (or fails), and a pynvml that is not there."""
    base = tmp_path_factory.mktemp("tools")
    out: dict[str, Path] = {}
    out["smi-hang"] = base / "smi-hang"
    write_executable(out["smi-hang"] / "nvidia-smi", "#!/bin/sh\n/bin/sleep 600\n")
    out["smi-garbage"] = base / "smi-garbage"
    noise = random.Random(7).randbytes(8192) + b"\xff,\x80,0\n"
    (base / "garbage.bin").write_bytes(noise)
    write_executable(out["smi-garbage"] / "nvidia-smi", f"#!/bin/sh\n/bin/cat '{base / 'garbage.bin'}'\n")
    out["python2"] = write_executable(
        base / "py2" / "python",
        "#!/bin/sh\necho '  File \"target_probe.py\", line 30' >&2\n"
        "echo '    def emit(stage, event, data=None):' >&2\n"
        "echo 'SyntaxError: invalid syntax' >&2\nexit 1\n",
    )
    out["python-hang"] = write_executable(base / "hung" / "python", "#!/bin/sh\nexec /bin/sleep 600\n")
    out["uv"] = base / "uv-bin"
    write_executable(
        out["uv"] / "uv",
        "#!/bin/sh\n"
        'case "$1" in\n'
        '  venv) mkdir -p "$4/bin" && echo "home = /usr/bin" > "$4/pyvenv.cfg" && '
        'ln -sf /bin/true "$4/bin/python"; echo "Creating virtual environment"; exit 0 ;;\n'
        '  pip) echo "Resolved 12 packages"; if [ -n "$FAKE_UV_FAIL" ]; then '
        'echo "error: no matching distribution" >&2; exit 1; fi; exec /bin/sleep 600 ;;\n'
        "esac\nexit 2\n",
    )
    out["no-nvml"] = base / "no-nvml"
    out["no-nvml"].mkdir()
    (out["no-nvml"] / "pynvml.py").write_text("raise ImportError(\"No module named 'pynvml'\", name='pynvml')\n")
    return out


@pytest.fixture(scope="session")
def venv(tmp_path_factory) -> Path:
    """A bare venv (no pip, no torch): its bin/python is a symlink, as in every venv."""
    root = tmp_path_factory.mktemp("venvs") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=60)
    assert (root / "bin" / "python").is_symlink()
    return root


@pytest.fixture(scope="session")
def snapshot_file() -> Path:
    return Path(__file__).resolve().parents[1] / "fixtures" / "snapshots" / "h100-snapshot.json"


class Home:
    """The user's folder: files they care about, checked byte for byte after a run."""

    def __init__(self, path: Path, snapshot: Path):
        self.path = path
        (path / "notes.txt").write_text("my notes: do not lose\n")
        (path / "settings.json").write_text('{"mine": true}\n')
        (path / "snap.json").write_bytes(snapshot.read_bytes())
        (path / "project").mkdir()
        (path / "project" / "train.py").write_text("print('training')\n")
        self.before = fingerprint(path)

    def unchanged(self, *, created: tuple[str, ...] = ()) -> None:
        after = fingerprint(self.path)
        for name in created:
            after.pop(name, None)
        assert after == self.before, f"user files changed: {set(after.items()) ^ set(self.before.items())}"


@pytest.fixture
def home(tmp_path, snapshot_file) -> Home:
    folder = tmp_path / "home"
    folder.mkdir()
    return Home(folder, snapshot_file)
