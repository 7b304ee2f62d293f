"""Ctrl-C (SIGINT to torchenv's process group, as a terminal sends it) at random moments of doctor,
snapshot, bench --quick, tune and create: the prompt is back within a second, exit 130, one line and
no traceback (also on a second Ctrl-C), no process left (probe, workers, installer), nothing half-made
left behind, and nothing of the user's changed. The moments are random but reproducible: the seed
is TORCHENV_FAULT_SEED (default 1312) and the test's name."""

from __future__ import annotations

import importlib.util
import signal

import pytest

from .harness import check_clean, environ, torchenv

pytestmark = pytest.mark.slow

PROMPT_S = 1.0  # the prompt must be back this soon after the signal
torch_missing = importlib.util.find_spec("torch") is None


def command_names(seen) -> set[str]:
    names = set()
    for pid, _ in seen:
        try:
            with open(f"/proc/{pid}/comm") as handle:
                names.add(handle.read().strip())
        except OSError:
            pass
    return names


def started(seen) -> bool:
    return bool(seen)


def check_interrupted(run, code: int = 130, word: str = "interrupted") -> None:
    check_clean(run)
    assert run.returncode == code, f"exit {run.returncode}; stderr: {run.stderr[-2000:]}"
    assert run.interrupt_to_exit is not None and run.interrupt_to_exit < PROMPT_S, (
        f"the prompt came back {run.interrupt_to_exit:.2f} s after the signal"
    )
    assert run.stderr.strip().splitlines()[-1] == f"torchenv: {word}", run.stderr[-2000:]


def test_ctrl_c_during_a_hung_doctor(stubs, home, rng):
    at = rng.uniform(0.3, 2.5)
    run = torchenv(
        "doctor",
        "--timeout",
        "60",
        env=environ(pythonpath=[stubs["hang"]]),
        cwd=home.path,
        interrupt_after=at,
        interrupt_when=started,
    )
    check_interrupted(run)
    assert run.seen, f"nothing was running at {at:.2f} s"
    home.unchanged()


def test_a_second_ctrl_c_is_no_traceback_either(stubs, home, rng):
    at = rng.uniform(0.3, 2.0)
    run = torchenv(
        "doctor",
        "--json",
        "--timeout",
        "60",
        env=environ(pythonpath=[stubs["hang"]]),
        cwd=home.path,
        interrupt_after=at,
        interrupt_when=started,
        signals=(signal.SIGINT, signal.SIGINT),
        between=0.005,
    )
    check_interrupted(run)
    home.unchanged()


def test_sigterm_kills_the_children_too(stubs, home, rng):
    run = torchenv(
        "doctor",
        "--timeout",
        "60",
        env=environ(pythonpath=[stubs["cuda-hang"]]),
        cwd=home.path,
        interrupt_after=rng.uniform(0.5, 2.0),
        interrupt_when=started,
        signals=(signal.SIGTERM,),
    )
    check_interrupted(run, code=143, word="terminated")


def test_ctrl_c_during_a_snapshot_leaves_no_file(stubs, home, rng):
    run = torchenv(
        "snapshot",
        "-o",
        "new.json",
        "--timeout",
        "60",
        env=environ(pythonpath=[stubs["hang"]]),
        cwd=home.path,
        interrupt_after=rng.uniform(0.3, 2.5),
        interrupt_when=started,
    )
    check_interrupted(run)
    home.unchanged()  # no new.json, no temporary file


def test_ctrl_c_during_a_hung_nvidia_smi(tools, home, rng):
    env = environ(path_prepend=[tools["smi-hang"]], pythonpath=[tools["no-nvml"]])
    run = torchenv(
        "doctor",
        "--no-torch",
        "--timeout",
        "30",
        env=env,
        cwd=home.path,
        interrupt_after=rng.uniform(0.3, 1.5),
        interrupt_when=lambda seen: "sleep" in command_names(seen),
    )
    check_interrupted(run)


@pytest.mark.skipif(torch_missing, reason="bench's worker needs torch in this interpreter")
def test_ctrl_c_during_bench_quick(home, rng):
    at = rng.uniform(1.0, 4.0)
    run = torchenv(
        "bench",
        "--quick",
        "--device",
        "cpu",
        "--html",
        "bench.html",
        cwd=home.path,
        interrupt_after=at,
        interrupt_when=started,
    )
    check_interrupted(run)
    assert len(run.seen) >= 1, f"no worker was running at {at:.2f} s"
    home.unchanged()  # and no bench.html: the run never finished


@pytest.mark.skipif(torch_missing, reason="tune's worker needs torch in this interpreter")
def test_ctrl_c_during_tune(home, rng):
    at = rng.uniform(1.0, 4.0)
    run = torchenv(
        "tune",
        "transformer",
        "--device",
        "cpu",
        "--budget",
        "60",
        "--json",
        cwd=home.path,
        interrupt_after=at,
        interrupt_when=started,
    )
    check_interrupted(run)
    home.unchanged()


def _create(home, tools, *extra, rng=None, **kw):
    env = environ(path_prepend=[tools["uv"]], **kw.pop("extra_env", {}))
    return torchenv(
        "create",
        "env",
        "--installer",
        "uv",
        "--torch",
        "2.13.0",
        "--variant",
        "cpu",
        *extra,
        env=env,
        cwd=home.path,
        **kw,
    )


def test_ctrl_c_during_create_removes_what_it_made(home, tools, rng):
    run = _create(
        home,
        tools,
        interrupt_after=rng.uniform(0.0, 1.0),
        interrupt_when=lambda seen: "sleep" in command_names(seen),
    )
    check_interrupted(run)
    assert "interrupted: nothing is left at" in run.stdout
    assert not (home.path / "env").exists()
    home.unchanged()


def _old_env(home):
    old = home.path / "env"
    (old / "bin").mkdir(parents=True)
    (old / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (old / "bin" / "my-tool").write_text("the working env\n")
    home.before = __import__("faults.harness", fromlist=["fingerprint"]).fingerprint(home.path)


def test_ctrl_c_during_create_force_puts_the_old_env_back(home, tools, rng):
    _old_env(home)
    run = _create(
        home,
        tools,
        "--force",
        interrupt_after=rng.uniform(0.0, 1.0),
        interrupt_when=lambda seen: "sleep" in command_names(seen),
    )
    check_interrupted(run)
    assert "your previous environment at" in run.stdout and "is back, unchanged" in run.stdout
    home.unchanged()


def test_a_failed_install_with_force_keeps_the_old_env(home, tools):
    _old_env(home)
    run = _create(home, tools, "--force", extra_env={"FAKE_UV_FAIL": "1"})
    check_clean(run, bound=15)
    assert run.returncode == 1
    assert "FAILED while installing with uv" in run.stdout and "is back, unchanged" in run.stdout
    home.unchanged()
