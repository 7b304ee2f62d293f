"""bench's and tune's JSON validate against their shipped schemas, through the one envelope (render/envelope.py)."""

from __future__ import annotations

import json

import pytest

jsonschema = pytest.importorskip("jsonschema")

from perf.gpu_records import h100_records  # noqa: E402
from perf.test_report import build, cpu_records  # noqa: E402
from torchenv.render.envelope import ENVELOPE_FIELDS, load_schema  # noqa: E402
from torchenv.render.json_bench import bench_to_dict  # noqa: E402
from torchenv.render.json_tune import tune_to_dict  # noqa: E402
from tune.test_cli_api import _records as tune_records  # noqa: E402


def validate(document: dict) -> None:
    schema = load_schema(document["kind"])
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(json.loads(json.dumps(document)))
    assert list(document)[: len(ENVELOPE_FIELDS)] == list(ENVELOPE_FIELDS)


@pytest.mark.parametrize("records", [h100_records, cpu_records])
def test_bench_json_validates(records):
    document = bench_to_dict(build(records()))
    validate(document)
    assert document["kind"] == "torchenv.bench" and document["knowledge_version"] == "test"


def test_a_bench_cause_that_is_not_a_finding_does_not_validate():
    document = bench_to_dict(build(h100_records()))
    broken = json.loads(json.dumps(document))
    broken["causes"] = [{"id": "x", "summary": "the old Cause shape"}]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(load_schema("torchenv.bench")).validate(broken)


def test_tune_json_validates():
    from torchenv.tune.report import build_report

    validate(tune_to_dict(build_report(tune_records(), budget_s=300, tolerance=0.05, wall_s=12.0)))


def test_profile_json_validates_on_the_h200_planted_trace():
    from pathlib import Path

    from torchenv.profile.analysis import analyse
    from torchenv.render.profile_json import profile_to_dict

    trace = Path(__file__).parent.parent.parent / "benchmarks/results/h200-round4/run3/profile-planted.pt.trace.json.gz"
    document = profile_to_dict(analyse(trace, torchenv_version="test"))
    validate(document)
    assert document["findings"] and document["knowledge_version"]
