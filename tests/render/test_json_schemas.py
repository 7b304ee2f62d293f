"""Every command's JSON output validates against the schema shipped for its kind (torchenv/schemas/),
all of them through the one envelope (render/envelope.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

jsonschema = pytest.importorskip("jsonschema")

from testsupport import run_cli  # noqa: E402
from torchenv.model.finding import CATEGORIES, LAYERS  # noqa: E402
from torchenv.render.envelope import ENVELOPE_FIELDS, envelope, load_schema  # noqa: E402

ROOT = Path(__file__).parent.parent.parent
PASTE = """PyTorch version: 2.5.1+cu121
Is debug build: False
CUDA used to build PyTorch: 12.1
OS: Ubuntu 22.04.4 LTS (x86_64)
Python version: 3.11.9 (main) [GCC 11.4.0] (64-bit runtime)
Is CUDA available: False
CUDA runtime version: No CUDA
GPU models and configuration: No CUDA
Nvidia driver version: No CUDA

RuntimeError: Found no NVIDIA driver on your system.
"""


def validate(document: dict) -> None:
    schema = load_schema(document["kind"])
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(document)
    assert list(document)[: len(ENVELOPE_FIELDS)] == list(ENVELOPE_FIELDS)


def test_doctor_json_validates():
    done = run_cli("doctor", "--json", "--no-torch")
    assert done.returncode in (0, 1), done.stderr
    validate(json.loads(done.stdout))


def test_doctor_require_cuda_json_validates():
    done = run_cli("doctor", "--json", "--no-torch", "--require-cuda")
    assert done.returncode == 1  # torch not probed: CUDA not shown to work (fail closed)
    report = json.loads(done.stdout)
    validate(report)
    assert report["require_cuda"] is True and report["findings"][0]["id"] == "cuda-required"


def test_doctor_from_json_with_lines_validates(tmp_path):
    paste = tmp_path / "paste.txt"
    paste.write_text(PASTE)
    done = run_cli("doctor", "--from", str(paste), "--json", "-v")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    validate(report)
    lines = {line["number"]: line for line in report["report"]["lines"]}
    assert lines[1]["kind"] == "fact" and lines[11]["kind"] == "message"


@pytest.mark.parametrize(
    "message",
    ["CUDA error: no kernel image is available for execution on the device", "all is well here"],
)
def test_explain_json_validates(message):
    done = run_cli("explain", "--json", "--no-probe", message)
    document = json.loads(done.stdout)
    validate(document)
    assert document["kind"] == "torchenv.explain"
    assert done.returncode == (0 if document["matches"] else 1)


def test_preflight_json_validates():
    from torchenv.render.json_preflight import preflight_from_dict, preflight_to_dict

    recorded = json.loads((ROOT / "benchmarks/results/h200-round3/preflight/preflight.json").read_text())
    validate(preflight_to_dict(preflight_from_dict(recorded)))


def test_monitor_json_validates(tmp_path):
    from monitor.helpers import drive

    from torchenv.render.monitor_json import monitor_to_dict

    report, *_ = drive("h200-gemm", tmp_path)
    validate(json.loads(json.dumps(monitor_to_dict(report))))


def test_schemas_name_the_model_categories_and_layers():
    finding = load_schema("torchenv.doctor")["$defs"]["finding"]["properties"]
    assert finding["category"]["enum"] == list(CATEGORIES)
    assert finding["layer"]["enum"] == list(LAYERS)
    assert load_schema("torchenv.explain")["$defs"]["finding"]["properties"]["category"]["enum"] == list(CATEGORIES)


FINDING_KINDS = ("doctor", "bench", "profile", "preflight", "diff", "verify", "explain")


@pytest.mark.parametrize("kind", FINDING_KINDS)
def test_every_schema_has_the_one_finding_object(kind):
    """One diagnostic type: every command's schema defines `finding` exactly as doctor's does, and the
    doctor's is the model's Finding, field for field."""
    import dataclasses

    from torchenv.model.finding import Finding

    doctor = load_schema("torchenv.doctor")["$defs"]["finding"]
    assert load_schema(f"torchenv.{kind}")["$defs"]["finding"] == doctor
    assert list(doctor["properties"]) == [f.name for f in dataclasses.fields(Finding)]


def _findings_of(kind: str, document: dict) -> list[dict]:
    entries = {"diff": "differences", "verify": "checks", "explain": "matches"}[kind]
    return [entry["finding"] for entry in document[entries]]


def _finding_schema_validator():
    schema = load_schema("torchenv.doctor")
    return jsonschema.Draft202012Validator({**schema["$defs"]["finding"], "$defs": schema["$defs"]})


def test_explain_json_matches_carry_doctors_finding_object():
    done = run_cli(
        "explain", "--json", "--no-probe", "CUDA error: no kernel image is available for execution on the device"
    )
    document = json.loads(done.stdout)
    assert document["schema_version"] == 2
    findings = _findings_of("explain", document)
    assert findings and findings[0]["id"] == "no-kernel-image" and findings[0]["source"].startswith("http")
    for finding in findings:
        _finding_schema_validator().validate(finding)


def test_envelope_puts_its_fields_first_and_refuses_a_contradiction():
    doc = envelope("torchenv.x", {"a": 1, "kind": "torchenv.x"}, knowledge_version="k", torchenv_version="v")
    assert doc == {"schema_version": 1, "kind": "torchenv.x", "torchenv_version": "v", "knowledge_version": "k", "a": 1}
    with pytest.raises(ValueError):
        envelope("torchenv.x", {"kind": "torchenv.y"}, knowledge_version="k", torchenv_version="v")
    with pytest.raises(ValueError):
        envelope("doctor", {}, knowledge_version="k", torchenv_version="v")


# --- plan, snapshot, diff, verify ------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [("--no-gpu",), ("--gpu", "RTX 4090", "--driver", "580.65.06"), ("--gpu", "RTX 4090", "--driver", "400")],
    ids=["cpu", "rtx4090", "driver-too-old"],
)
def test_plan_json_validates(target):
    done = run_cli("plan", *target, "--json")
    document = json.loads(done.stdout)
    validate(document)
    assert done.returncode == (0 if document["ok"] else 1), done.stderr


@pytest.fixture(scope="module")
def snapshot_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("snap") / "here.json"
    done = run_cli("snapshot", "-o", str(path))
    assert done.returncode == 0, done.stderr
    return path


def test_snapshot_json_validates_and_toml_reads_back_the_same(snapshot_file, tmp_path):
    document = json.loads(snapshot_file.read_text())
    validate(document)
    from torchenv.snapshots.files import load_snapshot, render_snapshot

    snapshot = load_snapshot(snapshot_file)
    toml_path = tmp_path / "here.toml"
    toml_path.write_text(render_snapshot(snapshot, "toml"))
    assert load_snapshot(toml_path) == snapshot


def test_diff_json_validates(snapshot_file, tmp_path):
    other = json.loads(snapshot_file.read_text())
    other["environment"] = {**other["environment"], "CUBLAS_WORKSPACE_CONFIG": ":4096:8"}
    b = tmp_path / "b.json"
    b.write_text(json.dumps(other))
    done = run_cli("diff", str(snapshot_file), str(b), "--json", "--fail-on", "numerics")
    document = json.loads(done.stdout)
    validate(document)
    assert document["differences"] and done.returncode == (1 if document["failed"] else 0)
    assert document["schema_version"] == 2
    [finding] = _findings_of("diff", document)
    _finding_schema_validator().validate(finding)
    assert (finding["id"], finding["severity"]) == ("env-var-differs", "warning")


@pytest.mark.parametrize("host_only", [False, True])
def test_verify_json_validates(snapshot_file, host_only):
    done = run_cli("verify", str(snapshot_file), "--json", *(["--host-only"] if host_only else []))
    document = json.loads(done.stdout)
    validate(document)
    assert done.returncode == (0 if document["ok"] else 1), done.stderr
    assert document["schema_version"] == 2
    findings = _findings_of("verify", document)
    assert findings and "verify-platform" in {f["id"] for f in findings}
    for finding in findings:
        _finding_schema_validator().validate(finding)


def test_verify_json_of_an_unreadable_interpreter_validates(snapshot_file):
    done = run_cli("verify", str(snapshot_file), "--json", "--python", "/bin/true")
    assert done.returncode == 1
    document = json.loads(done.stdout)
    validate(document)
    assert document["ok"] is False and document["error"]
