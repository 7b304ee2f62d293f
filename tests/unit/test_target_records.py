"""parse_target_records: whatever the probe printed before it finished, crashed or hung becomes facts."""

import json

from torchenv.model import Unknown
from torchenv.probes.runner import RunResult
from torchenv.probes.target import MARK, parse_target_records

ENV = {
    "executable": "/env/bin/python",
    "version": "3.11.7",
    "implementation": "cpython",
    "prefix": "/env",
    "base_prefix": "/usr",
    "is_venv": True,
    "conda_prefix": None,
    "user_site": "/root/.local/lib/python3.11/site-packages",
    "user_site_enabled": False,
    "sys_path": ["/env/lib/python3.11/site-packages"],
    "distributions": [
        {"name": "torch", "version": "2.5.1", "location": "/env/lib/python3.11/site-packages", "installer": "pip"}
    ],
    "conda_packages": None,
}


def lines(*records):
    return "".join(MARK + json.dumps(r) + "\n" for r in records)


def result(stdout, **kw):
    fields = dict(argv=("python", "probe.py"), returncode=0, stdout=stdout, stderr="", seconds=1.0)
    fields.update(kw)
    return RunResult(**fields)


BEGIN_ENV = ({"stage": "env", "event": "begin", "t": 0}, {"stage": "env", "event": "end", "t": 0.01, "data": ENV})


def test_hang_during_import_names_the_stage():
    out = lines(*BEGIN_ENV, {"stage": "import", "event": "begin", "t": 0.01})
    facts = parse_target_records(result(out, returncode=None, timed_out=True, seconds=5.0), with_torch=True)
    assert facts.python.executable == "/env/bin/python"
    assert facts.torch.status == "hung"
    assert facts.torch.stage == "import"
    assert isinstance(facts.torch.version, Unknown)


def test_segfault_during_smoke_keeps_what_was_learned():
    out = lines(
        *BEGIN_ENV,
        {"stage": "import", "event": "begin", "t": 0.01},
        {"stage": "import", "event": "end", "t": 1.0, "data": {"status": "ok", "location": "/env/torch"}},
        {"stage": "build", "event": "begin", "t": 1.0},
        {
            "stage": "build",
            "event": "end",
            "t": 1.1,
            "data": {
                "version": "2.5.1+cu124",
                "cuda": "12.4",
                "arch_list": ["sm_90"],
                "cudnn_enabled": True,
            },
        },
        {"stage": "cuda-init", "event": "begin", "t": 1.1},
        {
            "stage": "cuda-init",
            "event": "end",
            "t": 1.5,
            "data": {"available": True, "init_seconds": 0.4, "device_count": 1},
        },
        {"stage": "smoke", "event": "begin", "t": 1.6},
    )
    facts = parse_target_records(result(out, returncode=-11, signal="SIGSEGV"), with_torch=True)
    torch = facts.torch
    assert (torch.status, torch.stage, torch.signal) == ("crashed", "smoke", "SIGSEGV")
    assert torch.version == "2.5.1+cu124" and torch.cuda == "12.4" and torch.cuda_available is True
    assert torch.cudnn_enabled is True
    assert isinstance(torch.cudnn_version, Unknown)  # read after the smoke test, which never finished
    assert torch.stage_seconds["cuda-init"] == 0.4


def test_missing_torch():
    out = lines(
        *BEGIN_ENV,
        {"stage": "import", "event": "begin", "t": 0},
        {
            "stage": "import",
            "event": "end",
            "t": 0.1,
            "data": {"status": "missing", "error": "No module named 'torch'"},
        },
    )
    facts = parse_target_records(result(out), with_torch=True)
    assert facts.torch.status == "missing"


def test_interpreter_that_cannot_run_the_probe():
    facts = parse_target_records(result("", returncode=1, stderr="SyntaxError: invalid syntax"), with_torch=True)
    assert isinstance(facts.python, Unknown)
    assert "SyntaxError" in facts.python.reason
    assert isinstance(facts.torch, Unknown)


def test_noise_on_stdout_is_ignored():
    out = "torch says hello\n" + MARK + "{not json\n" + lines(*BEGIN_ENV, {"stage": "done", "event": "end", "t": 0.2})
    facts = parse_target_records(result(out), with_torch=False)
    assert facts.python.version == "3.11.7"
    assert facts.torch == Unknown("skipped (--no-torch)")


def test_the_real_h100_probe_output():
    """The raw records target_probe.py printed on an H100 (torch 2.11.0+cu130, wheel cuDNN 9.19)."""
    from pathlib import Path

    text = (Path(__file__).parent.parent / "fixtures" / "h100-torchenv" / "target-probe.jsonl").read_text()
    facts = parse_target_records(result(text), with_torch=True)
    torch = facts.torch
    assert (torch.status, torch.stage) == ("ok", "done")
    assert torch.version == "2.11.0+cu130" and torch.cuda == "13.0"
    assert torch.devices[0].cc == (9, 0) and torch.devices[0].name == "NVIDIA H100 80GB HBM3"
    assert torch.arch_list == ("sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120")
    assert torch.cudnn_version == 91900
    assert all(s.ok for s in torch.smoke) and {s.op for s in torch.smoke} == {"matmul", "conv2d"}
    cudnn = next(lib for lib in torch.loaded_libraries if lib.name == "libcudnn")
    assert cudnn.owner == "nvidia-cudnn-cu13" and cudnn.version == "9.19.0.56"
    assert "/usr/lib" not in cudnn.path  # the system's 9.14 is installed but not what torch runs


def test_torchenvs_own_source_folder_is_not_part_of_the_probed_environment():
    from torchenv.probes.target import OWN_IMPORT_ROOT, _probe_environment

    env = _probe_environment({"PYTHONPATH": f"{OWN_IMPORT_ROOT}:/home/me/lib", "PATH": "/usr/bin"})
    assert env["PYTHONPATH"] == "/home/me/lib"
    assert "PYTHONPATH" not in _probe_environment({"PYTHONPATH": OWN_IMPORT_ROOT})
