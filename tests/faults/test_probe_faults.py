"""A torch that hangs, segfaults, raises, exits or prints 5 MB on import; an is_available() that
hangs; an nvidia-smi that hangs or prints garbage. Each comes back as its finding, in time, with no
process left behind."""

from __future__ import annotations

import pytest

from .harness import SLACK, check_clean, environ, torchenv

pytestmark = pytest.mark.slow


def doctor(*args, stubs=None, kind=None, timeout="4", **kw):
    env = environ(pythonpath=[stubs[kind]] if kind else [], **kw.pop("extra", {}))
    return torchenv("doctor", "--json", "--timeout", timeout, *args, env=env, **kw)


@pytest.mark.parametrize(
    ("kind", "finding", "status"),
    [
        ("hang", "torch-hung", "hung"),
        ("segv", "torch-crashed", "crashed"),
        ("raise", "torch-import-failed", "import-error"),
        ("exit", "torch-import-failed", "import-error"),
        ("cuda-hang", "torch-hung", "hung"),
    ],
)
def test_a_broken_torch_is_its_finding_in_time(kind, finding, status, stubs, home):
    run = doctor(stubs=stubs, kind=kind, cwd=home.path)
    check_clean(run, bound=4 + SLACK)
    assert run.returncode == 1
    assert run.finding(finding)["severity"] == "error"
    assert run.report["facts"]["torch"]["status"] == status
    if kind == "cuda-hang":
        assert run.report["facts"]["torch"]["stage"] == "cuda-init"
        assert run.finding("torch-hung")["layer"] == "compute"
    home.unchanged()


def test_torch_printing_5_mb_still_imports(stubs, home):
    run = doctor(stubs=stubs, kind="noisy", cwd=home.path, timeout="20")
    check_clean(run, bound=20 + SLACK)
    torch = run.report["facts"]["torch"]
    assert torch["status"] == "ok" and torch["version"] == "2.5.1+cpu"  # its records were all kept
    assert torch["output_bytes"] >= 5_000_000
    finding = run.finding("torch-import-noisy")
    assert finding["severity"] == "warning" and "5.0 MB" in finding["title"]
    assert "torch-probe-failed" not in run.ids


def test_a_hung_nvidia_smi_is_unresponsive_and_killed(tools, home):
    env = environ(path_prepend=[tools["smi-hang"]], pythonpath=[tools["no-nvml"]])
    run = torchenv("doctor", "--json", "--no-torch", "--timeout", "2", env=env, cwd=home.path)
    check_clean(run, bound=2 + SLACK)
    assert run.returncode == 1
    assert run.finding("nvidia-smi-unresponsive")["severity"] == "error"
    assert any(True for _ in run.seen), "the fake nvidia-smi should have been started"


def test_nvidia_smi_printing_garbage_is_no_traceback(tools, home):
    env = environ(path_prepend=[tools["smi-garbage"]], pythonpath=[tools["no-nvml"]])
    run = torchenv("doctor", "--json", "--no-torch", "--timeout", "5", env=env, cwd=home.path)
    check_clean(run, bound=5 + SLACK)
    assert run.returncode in (0, 1)
    assert "nvidia-smi printed no GPUs" in run.report["facts"]["gpus"]["gpus"]["unknown"]


def test_a_snapshot_of_a_hung_torch_records_it_and_returns_in_time(stubs, home):
    env = environ(pythonpath=[stubs["hang"]])
    run = torchenv("snapshot", "-o", "hung.json", "--timeout", "3", env=env, cwd=home.path)
    check_clean(run, bound=3 + SLACK)
    assert run.returncode == 0
    import json

    assert json.loads((home.path / "hung.json").read_text())["torch"]["status"] == "hung"
    home.unchanged(created=("hung.json",))


def test_a_bogus_libcudart_on_ld_library_path_is_named_as_the_cause(tmp_path, home):
    # A torch that loads the CUDA runtime at import, as the real one does, and a folder on LD_LIBRARY_PATH
    # holding an empty libcudart.so.12: the real dynamic loader fails, and the finding names the folder.
    from e2e.e2e_helpers import write_tree

    write_tree(tmp_path / "stub", {"torch/__init__.py": "import ctypes\nctypes.CDLL('libcudart.so.12')\n"})
    libs = tmp_path / "libs"
    libs.mkdir()
    (libs / "libcudart.so.12").write_bytes(b"")
    env = environ(pythonpath=[tmp_path / "stub"], LD_LIBRARY_PATH=str(libs))
    run = torchenv("doctor", "--json", "--timeout", "10", env=env, cwd=home.path)
    check_clean(run, bound=10 + SLACK)
    assert run.returncode == 1
    finding = run.finding("library-shadowed")
    assert finding["severity"] == "error" and str(libs) in finding["title"]
    assert finding["fix"].startswith(f"Remove {libs} from LD_LIBRARY_PATH")
    home.unchanged()
