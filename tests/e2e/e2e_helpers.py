"""Helpers for the end-to-end doctor tests: real venvs, fake torch packages, fake nvidia-smi, fake roots.

Everything here builds real things (interpreters, packages, executables, files) that the doctor then
probes through its real code paths: no monkeypatching of torchenv internals. Venvs are made once per
session with `python -m venv --without-pip` (about 50 ms each) and shared by the tests.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

# A PATH without pyenv shims, cargo or the test venv: `python`/`pip` on it agree, so no
# wrong-interpreter noise; ldconfig (in /usr/sbin) stays reachable.
BASE_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"

# Variables of the test runner's own environment that would leak into the verdicts.
LEAKY_PREFIXES = ("CUDA_", "NVIDIA_", "NCCL_", "TORCH_", "PYTORCH_", "CUDNN_", "TRITON_", "NV_")
LEAKY_NAMES = {
    "LD_LIBRARY_PATH",
    "LD_PRELOAD",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "CONDA_DEFAULT_ENV",
    "KUBERNETES_SERVICE_HOST",
    "container",
    "TORCHENV_DEBUG",
}

PY_DIR = f"python{sys.version_info.major}.{sys.version_info.minor}"


def clean_environ(*, path_prepend: list[Path] | None = None, pythonpath: list[Path] | None = None, **extra: str):
    env = {
        k: v for k, v in os.environ.items() if k not in LEAKY_NAMES and not k.startswith(LEAKY_PREFIXES) and k != "PATH"
    }
    env["PATH"] = ":".join([*(str(p) for p in path_prepend or ()), BASE_PATH])
    env["PYTHONPATH"] = ":".join([str(SRC), *(str(p) for p in pythonpath or ())])
    env.update(extra)
    return env


# --- venvs and fake torch ------------------------------------------------------------------------


@dataclass(frozen=True)
class Venv:
    root: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def site(self) -> Path:
        return self.root / "lib" / PY_DIR / "site-packages"


def make_venv(path: Path, *, system_site_packages: bool = False) -> Venv:
    argv = [sys.executable, "-m", "venv", "--without-pip"]
    if system_site_packages:
        argv.append("--system-site-packages")
    subprocess.run([*argv, str(path)], check=True, capture_output=True, timeout=60)
    venv = Venv(path)
    assert venv.python.exists() and venv.site.is_dir(), f"venv layout unexpected under {path}"
    return venv


def write_tree(base: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        target = base / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"))


def write_dist_info(site: Path, name: str, version: str, installer: str | None = "pip", requires=()) -> Path:
    meta = site / f"{name}-{version}.dist-info"
    meta.mkdir(parents=True, exist_ok=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", "Summary: fake for torchenv e2e"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    (meta / "METADATA").write_text("\n".join(lines) + "\n\n")
    if installer is not None:
        (meta / "INSTALLER").write_text(installer + "\n")
    (meta / "RECORD").write_text("")
    return meta


def fake_torch_files(
    *,
    version: str = "2.5.1+cu124",
    cuda: str | None = "12.4",
    arch_list: tuple[str, ...] = ("sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"),
    is_available: str = "return False",
    devices: tuple[dict, ...] = (),
    kernel_error: str | None = None,
    init_prelude: str = "",
) -> dict[str, str]:
    """A minimal module tree shaped like torch: what target_probe.py touches, and no more.

    `is_available` is the body of torch.cuda.is_available(). `devices` are the GPUs torch would see
    (name, cc, total_memory_mib, sms). `kernel_error`, when set, is raised by every host->device copy,
    like a wheel without machine code for the GPU ("no kernel image is available ...").
    """
    return {
        "torch/__init__.py": f"""
            {init_prelude}
            __version__ = {version!r}
            from . import version, cuda, backends, nn

            class device:
                def __init__(self, kind, index=None):
                    self.type, self.index = kind, index

            class _Generator:
                def manual_seed(self, seed):
                    return self

            def Generator():
                return _Generator()

            class Tensor:
                def double(self):
                    return self
                def __matmul__(self, other):
                    return self
                def cpu(self):
                    return self
                def to(self, where):
                    if {kernel_error!r}:
                        raise RuntimeError({kernel_error!r})
                    return self

            def randn(*shape, generator=None):
                return Tensor()

            def zeros(*shape, device=None):
                return Tensor()

            def get_float32_matmul_precision():
                return "highest"

            def are_deterministic_algorithms_enabled():
                return False

            def get_num_threads():
                return 8
            """,
        "torch/version.py": f"""
            cuda = {cuda!r}
            hip = None
            git_version = "a8d6afb511a69687bbb2b7e88a3cf67917e1697e"
            debug = False
            """,
        "torch/cuda/__init__.py": f"""
            import time
            from types import SimpleNamespace
            from . import nccl

            _DEVICES = {list(devices)!r}

            def get_arch_list():
                return {list(arch_list)!r}

            def is_available():
                {is_available}

            def device_count():
                return len(_DEVICES)

            def synchronize(device=None):
                pass

            def get_device_properties(index):
                d = _DEVICES[index]
                return SimpleNamespace(
                    name=d["name"], major=d["cc"][0], minor=d["cc"][1],
                    total_memory=d["total_memory_mib"] * 1024 * 1024, multi_processor_count=d["sms"],
                )
            """,
        "torch/cuda/nccl.py": """
            def version():
                return (2, 21, 5)
            """,
        "torch/backends/__init__.py": "from . import cuda, cudnn\n",
        "torch/backends/cuda.py": """
            from types import SimpleNamespace
            matmul = SimpleNamespace(allow_tf32=False)
            """,
        "torch/backends/cudnn.py": f"""
            enabled = True
            allow_tf32 = True
            benchmark = False
            deterministic = False
            def version():
                return {90100 if cuda else None!r}
            """,
        "torch/nn/__init__.py": "from . import functional\n",
        "torch/nn/functional.py": """
            def conv2d(x, w, padding=0):
                return x
            """,
    }


def broken_torch_files(init_source: str) -> dict[str, str]:
    """A torch package whose `__init__.py` is `init_source` (it fails, crashes or hangs on import)."""
    return {"torch/__init__.py": init_source}


class VenvFactory:
    """Session-wide, build-once venvs keyed by name."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.cache: dict[str, Venv] = {}

    def get(self, name: str, *, torch_files: dict[str, str] | None = None, dist_version: str | None = None, **kw):
        if name not in self.cache:
            venv = make_venv(self.base / name, **kw)
            if torch_files:
                write_tree(venv.site, torch_files)
                if dist_version:
                    write_dist_info(venv.site, "torch", dist_version)
            self.cache[name] = venv
        return self.cache[name]


# --- fake executables ----------------------------------------------------------------------------


def write_executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


# One RTX 5090, as `nvidia-smi --query-gpu=<torchenv's QUERY_FIELDS> --format=csv,noheader` prints it.
RTX_5090_CSV = (
    "0, NVIDIA GeForce RTX 5090, GPU-5b1f0d3e-8a2c-4c55-9e1b-6f7a2d4c9e01, 12.0, 32607 MiB, 2 MiB, "
    "1, 5, 16, 16, [N/A], Disabled, [N/A], [N/A], 0 %, 570.86.10"
)
# Two A100s (cc 8.0), a row each.
A100_X2_CSV = "\n".join(
    f"{i}, NVIDIA A100-SXM4-80GB, GPU-0c9e7b1a-4d2f-11ee-be56-0242ac12000{i}, 8.0, 81920 MiB, 4 MiB, "
    f"4, 4, 16, 16, Disabled, Enabled, Enabled, 0, 0 %, 570.86.10"
    for i in range(2)
)


def smi_printing(bin_dir: Path, csv_text: str) -> Path:
    """A fake nvidia-smi that answers torchenv's --query-gpu call like the real one (and refuses others)."""
    return write_executable(
        bin_dir / "nvidia-smi",
        "#!/bin/sh\n"
        'case "$1" in\n'
        "  --query-gpu=*) ;;\n"
        '  *) echo "Invalid combination of input arguments." >&2; exit 2 ;;\n'
        "esac\n"
        "/bin/cat <<'EOF'\n" + csv_text + "\nEOF\n",
    )


# --- running the doctor --------------------------------------------------------------------------


@dataclass
class DoctorRun:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def report(self) -> dict:
        assert self.stdout.strip(), f"no JSON on stdout; stderr: {self.stderr[-2000:]}"
        return json.loads(self.stdout)

    @property
    def ids(self) -> list[str]:
        return [f["id"] for f in self.report["findings"]]

    def finding(self, finding_id: str) -> dict:
        found = [f for f in self.report["findings"] if f["id"] == finding_id]
        assert found, f"{finding_id} not in {self.ids}"
        return found[0]


def run_doctor(*args: str, env: dict[str, str] | None = None, limit: float = 60.0) -> DoctorRun:
    argv = [sys.executable, "-m", "torchenv", "doctor", *args]
    began = time.monotonic()
    proc = subprocess.run(
        argv, env=env or clean_environ(), capture_output=True, text=True, timeout=limit, cwd=str(REPO)
    )
    return DoctorRun(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - began)


def api_report(root: Path, environ: dict[str, str], python: Path | str, **kwargs):
    """gather_facts + diagnose, the library route (root and environ injected)."""
    from torchenv.checks import diagnose
    from torchenv.knowledge import load_knowledge
    from torchenv.probes import gather_facts

    began = time.monotonic()
    facts = gather_facts(root=root, environ=environ, python=str(python), **kwargs)
    report = diagnose(facts, load_knowledge(), torchenv_version="test")
    return report, time.monotonic() - began
