"""A real Jupyter kernel (ipykernel through jupyter_client) whose interpreter is not the one running the tests
(the "server"): `%load_ext torchenv` and `%torchenv doctor` render HTML for the kernel's own interpreter, and
`torchenv kernels` finds that no kernel runs the environment you install into, with the doctor's answer."""

from __future__ import annotations

import json
import os
import queue
import site
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from testsupport import SRC, run_cli

jupyter_client = pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

pytestmark = pytest.mark.slow


def make_env(path: Path) -> Path:
    """A second interpreter: a venv without pip whose site-packages pulls in this one's (ipykernel, torchenv)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=60)
    python = path / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.strip()
    ours = [sysconfig.get_paths()["purelib"], *site.getsitepackages()]
    lines = [f"import site; site.addsitedir({p!r})" for p in dict.fromkeys(ours)] + [str(SRC)]
    Path(purelib, "torchenv_tests.pth").write_text("\n".join(lines) + "\n")
    return python


@pytest.fixture(scope="module")
def envs(tmp_path_factory):
    base = tmp_path_factory.mktemp("kernel-envs")
    kernel_python = make_env(base / "kernel-env")
    work_python = make_env(base / "work-env")
    jupyter = base / "jupyter"
    spec = jupyter / "kernels" / "kernel-env" / "kernel.json"
    spec.parent.mkdir(parents=True)
    spec.write_text(
        json.dumps(
            {
                "argv": [str(kernel_python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python (kernel-env)",
                "language": "python",
            }
        )
    )
    home = base / "home"
    home.mkdir()
    environ = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
        "HOME": str(home),
        "JUPYTER_PATH": str(jupyter),
        "JUPYTER_DATA_DIR": str(home / "jupyter-data"),
        "PYTHONPATH": str(SRC),
        "PYTHONNOUSERSITE": "1",
    }
    return {"kernel": kernel_python, "work": work_python, "jupyter": jupyter, "environ": environ}


def run_cell(client, code: str, timeout: float = 60.0) -> list[dict]:
    msg_id = client.execute(code)
    outputs = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = client.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind in ("display_data", "execute_result", "stream", "error"):
            outputs.append({"type": kind, **msg["content"]})
        if kind == "status" and msg["content"]["execution_state"] == "idle":
            return outputs
    raise AssertionError(f"no idle status within {timeout} s; got {outputs}")


def test_magic_renders_html_for_the_kernels_own_interpreter(envs):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    began = time.monotonic()
    specs = KernelSpecManager(kernel_dirs=[str(envs["jupyter"] / "kernels")])
    manager = KernelManager(kernel_name="kernel-env", kernel_spec_manager=specs)
    manager.start_kernel(env={**os.environ, **envs["environ"]})
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        (printed,) = [o["text"] for o in run_cell(client, "import sys; print(sys.executable)") if o["type"] == "stream"]
        assert printed.strip() == str(envs["kernel"]) != sys.executable  # not the server's interpreter
        outputs = run_cell(client, "%load_ext torchenv\n%torchenv doctor --no-torch")
        errors = [o for o in outputs if o["type"] == "error"]
        assert not errors, errors
        pages = [o["data"]["text/html"] for o in outputs if o["type"] == "display_data" and "text/html" in o["data"]]
        assert len(pages) == 1 and 'class="torchenv-doctor"' in pages[0]
        assert str(envs["kernel"]) in pages[0]  # the doctor ran on the kernel's interpreter
        assert "[no-jupyter-kernel-for-env]" not in pages[0]  # the kernel-env kernel runs it
        plan = run_cell(client, "%torchenv plan --no-gpu --python 3.12")
        (page,) = [o["data"]["text/html"] for o in plan if o["type"] == "display_data"]
        assert 'class="torchenv-plan"' in page and "%pip install torch==" in page
        usage = run_cell(client, "%torchenv")
        assert any("%torchenv kernels" in o["data"].get("text/html", "") for o in usage if o["type"] == "display_data")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert time.monotonic() - began < 30


def test_kernels_finds_that_no_kernel_runs_the_env_you_install_into(envs):
    env = {**os.environ, **envs["environ"]}
    proc = run_cli("kernels", "--python", str(envs["work"]), "--no-torch", "--json", env=env, timeout=120)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["install"] == {"python": str(envs["work"]), "source": "--python"}
    rows = {r["name"]: r for r in data["interpreters"]}
    kernel = rows["kernel-env"]
    assert kernel["interpreter"] == str(envs["kernel"]) and kernel["installs_here"] is False
    assert kernel["env"] == str(envs["kernel"].parent.parent) and kernel["verdict"] in ("healthy", "degraded")
    (finding,) = data["findings"]
    assert finding["id"] == "no-jupyter-kernel-for-env"
    assert f"{envs['work']} -m ipykernel install --user --name work-env" in finding["fix"]
    # One answer: the doctor on the same environment, with the same kernels, says the same.
    doctor = run_cli("doctor", "--python", str(envs["work"]), "--no-torch", "--json", env=env, timeout=120)
    ids = [f["id"] for f in json.loads(doctor.stdout)["findings"]]
    assert "no-jupyter-kernel-for-env" in ids
    # The terminal view names the fix too.
    text = run_cli("kernels", "--python", str(envs["work"]), "--no-torch", env=env, timeout=120).stdout
    flat = " ".join(text.split())  # the terminal view wraps long temp paths: compare its words, not its lines
    assert "kernel-env" in flat and "ipykernel install --user --name work-env" in flat


def test_kernels_for_the_env_a_kernel_runs_is_fine(envs):
    env = {**os.environ, **envs["environ"]}
    proc = run_cli("kernels", "--python", str(envs["kernel"]), "--no-torch", "--json", env=env, timeout=120)
    data = json.loads(proc.stdout)
    assert proc.returncode == 0 and data["findings"] == []
    assert {r["name"]: r["installs_here"] for r in data["interpreters"]}["kernel-env"] is True
