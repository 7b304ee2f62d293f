"""torch-import-uncached: the probe's bytecode report, decoded once, judged by one check."""

import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import torchenv
from torchenv.checks import diagnose
from torchenv.checks.environment import check_uncached_import
from torchenv.checks.registry import Skip
from torchenv.model import Facts, Unknown
from torchenv.model.codec import from_json
from torchenv.probes.runner import RunResult
from torchenv.probes.target import MARK, parse_target_records

PROBE = Path(torchenv.__file__).parent / "probes/_scripts/target_probe.py"


def load_probe():
    spec = importlib.util.spec_from_file_location("target_probe_bytecode", PROBE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bytecode_state_sees_a_missing_and_a_present_cache(tmp_path):
    probe = load_probe()
    module = tmp_path / "mod.py"
    module.write_text("x = 1\n")
    assert probe.bytecode_state(str(module))["cached"] is False
    cache = Path(importlib.util.cache_from_source(str(module)))
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(b"")
    state = probe.bytecode_state(str(module))
    assert state["cached"] is True and isinstance(state["dont_write"], bool)


def torch_facts(import_record, import_seconds=3.0):
    records = [
        {"stage": "env", "event": "begin", "t": 0},
        {"stage": "env", "event": "end", "t": 0.01, "data": json.loads(json.dumps(ENV))},
        {"stage": "import", "event": "begin", "t": 0.01},
        {"stage": "import", "event": "end", "t": 0.01 + import_seconds, "data": import_record},
        {"stage": "done", "event": "end", "t": import_seconds + 0.1},
    ]
    stdout = "".join(MARK + json.dumps(r) + "\n" for r in records)
    result = RunResult(argv=("python", "probe.py"), returncode=0, stdout=stdout, stderr="", seconds=3.2)
    target = parse_target_records(result, with_torch=True)
    return target.python, target.torch


ENV = {
    "executable": "/env/bin/python",
    "version": "3.12.3",
    "implementation": "cpython",
    "prefix": "/env",
    "base_prefix": "/usr",
    "is_venv": True,
    "conda_prefix": None,
    "user_site": "/root/.local/lib/python3.12/site-packages",
    "user_site_enabled": False,
    "sys_path": ["/env/lib/python3.12/site-packages"],
    "distributions": [],
    "conda_packages": None,
}

UNCACHED = {
    "status": "ok",
    "location": "/env/lib/python3.12/site-packages/torch",
    "warnings": [],
    "bytecode": {"dont_write": True, "prefix": None, "cached": False},
}


def judged(facts, torch):
    return list(check_uncached_import(replace(facts, torch=torch), None))


def test_an_uncached_slow_import_is_reported_with_its_cause_and_the_compile_command(h100_facts):
    _python, torch = torch_facts(UNCACHED)
    assert torch.bytecode_cached is False and torch.bytecode_writes_off is True
    (finding,) = judged(h100_facts, torch)
    assert "3.0 s" in finding.title
    assert any("writes are off" in line for line in finding.evidence)
    assert "-m compileall -q -j 0 /env/lib/python3.12/site-packages/torch" in finding.fix


def test_a_folder_that_could_not_be_written_is_named_instead(h100_facts):
    record = dict(UNCACHED, bytecode={"dont_write": False, "prefix": None, "cached": False})
    (finding,) = judged(h100_facts, torch_facts(record)[1])
    assert any("could be written" in line for line in finding.evidence)


def test_a_cached_or_fast_import_says_nothing(h100_facts):
    cached = dict(UNCACHED, bytecode={"dont_write": True, "prefix": None, "cached": True})
    assert judged(h100_facts, torch_facts(cached)[1]) == []
    assert judged(h100_facts, torch_facts(UNCACHED, import_seconds=0.4)[1]) == []


def test_a_report_without_the_field_is_skipped_not_judged(h100_facts):
    old = {k: v for k, v in UNCACHED.items() if k != "bytecode"}
    torch = torch_facts(old)[1]
    assert isinstance(torch.bytecode_cached, Unknown)
    try:
        judged(h100_facts, torch)
    except Skip as skip:
        assert "did not report" in skip.reason
    else:
        raise AssertionError("an unknown cache state must be skipped")


H200 = Path(__file__).resolve().parent.parent / "fixtures" / "h200-bytecode"


def test_the_lent_h200_image_without_a_cache_and_with_one(knowledge):
    """Captured on the lent H200 (benchmarks/device/import_cache.sh): the image sets PYTHONDONTWRITEBYTECODE=1
    and ships torch without __pycache__; the second report ran with PYTHONPYCACHEPREFIX holding a cache."""
    found = {}
    for name in ("doctor-uncached.json", "doctor-cached.json"):
        facts = from_json(Facts, json.loads((H200 / name).read_text())["facts"])
        found[name] = diagnose(facts, knowledge, torchenv_version="test").findings
    (uncached,) = [f for f in found["doctor-uncached.json"] if f.id == "torch-import-uncached"]
    assert "PYTHONDONTWRITEBYTECODE=1" in uncached.evidence
    assert "/opt/torch/.venv/lib/python3.12/site-packages/torch" in uncached.fix
    assert not [f for f in found["doctor-cached.json"] if f.id == "torch-import-uncached"]


# --- the probe's own bytecode folder (an image with PYTHONDONTWRITEBYTECODE=1 and no __pycache__) -----


FAKE_TORCH = "__version__ = '2.0.0'\nclass version:\n    cuda = None\n    hip = None\n"


def run_probe(tmp_path, env_extra, folder):
    import os
    import subprocess
    import sys

    from torchenv.probes.target_launch import target_argv

    site = tmp_path / "site"
    (site / "torch").mkdir(parents=True, exist_ok=True)
    (site / "torch" / "__init__.py").write_text(FAKE_TORCH)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(PYTHONPATH=str(site), **env_extra)
    argv = target_argv(sys.executable, smoke=False, bytecode_folder=folder)
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    records = [json.loads(line[len(MARK) :]) for line in done.stdout.splitlines() if line.startswith(MARK)]
    (imported,) = [r for r in records if r["stage"] == "import" and r["event"] == "end"]
    return site / "torch", imported["data"]["bytecode"]


def test_without_writes_the_probe_keeps_torch_bytecode_in_its_own_folder_and_reports_the_users_state(tmp_path):
    folder = tmp_path / "torchenv-bytecode"
    torch_dir, state = run_probe(tmp_path, {"PYTHONDONTWRITEBYTECODE": "1"}, str(folder))
    assert state["dont_write"] is True and state["cached"] is False  # the user's own state
    assert state["probe_folder"] == str(folder) and state["probe_cached"] is True
    assert list(folder.rglob("__init__*.pyc")), "the probe's folder holds torch's bytecode"
    assert not (torch_dir / "__pycache__").exists(), "nothing is written beside the user's files"
    _torch_dir, again = run_probe(tmp_path, {"PYTHONDONTWRITEBYTECODE": "1"}, str(folder))
    assert again["cached"] is False and again["probe_cached"] is True


def test_the_probe_leaves_bytecode_to_python_when_the_user_has_or_writes_a_cache(tmp_path):
    folder = tmp_path / "torchenv-bytecode"
    torch_dir, state = run_probe(tmp_path, {}, str(folder))  # writable, writes on: Python caches it itself
    assert state["cached"] is True and "probe_folder" not in state
    assert (torch_dir / "__pycache__").is_dir() and not folder.exists()
    _dir, state = run_probe(tmp_path, {"PYTHONDONTWRITEBYTECODE": "1"}, str(folder))  # the cache is there now
    assert state["cached"] is True and "probe_folder" not in state and not folder.exists()


def test_a_users_own_prefix_or_no_folder_is_left_alone(tmp_path):
    prefix = tmp_path / "users-prefix"
    env = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": str(prefix)}
    _dir, state = run_probe(tmp_path, env, str(tmp_path / "ours"))
    assert "probe_folder" not in state and state["prefix"] == str(prefix) and not (tmp_path / "ours").exists()
    _dir, state = run_probe(tmp_path, {"PYTHONDONTWRITEBYTECODE": "1"}, None)
    assert "probe_folder" not in state and state["cached"] is False


def test_the_bytecode_folder_is_torchenvs_cache_and_can_be_turned_off():
    from torchenv.probes.target_launch import probe_bytecode_folder, target_argv

    folder = probe_bytecode_folder({"HOME": "/home/u", "XDG_CACHE_HOME": "/xdg"})
    assert folder in ("/xdg/torchenv/bytecode", "/home/u/Library/Caches/torchenv/bytecode") or "AppData" in folder
    assert probe_bytecode_folder({"HOME": "/home/u", "TORCHENV_PROBE_BYTECODE": "0"}) is None
    assert target_argv("py", bytecode_folder="/f")[-2:] == ["--bytecode-folder", "/f"]
    assert "--bytecode-folder" not in target_argv("py", with_torch=False, bytecode_folder="/f")


def test_a_borrowed_folder_reports_the_users_uncached_import_even_when_the_probe_was_fast(h100_facts):
    record = dict(UNCACHED, bytecode=dict(UNCACHED["bytecode"], probe_folder="/c/torchenv/bytecode", probe_cached=True))
    torch = torch_facts(record, import_seconds=0.4)[1]
    assert torch.bytecode_probe_folder == "/c/torchenv/bytecode"
    (finding,) = judged(h100_facts, torch)
    assert "every process" in finding.title
    assert any("its own bytecode folder (/c/torchenv/bytecode)" in line for line in finding.evidence)
    cached = dict(record, bytecode=dict(record["bytecode"], cached=True))
    assert judged(h100_facts, torch_facts(cached, import_seconds=0.4)[1]) == []
