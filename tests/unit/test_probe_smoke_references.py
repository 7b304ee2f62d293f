"""The smoke test's CPU references: computed once for every device, failures reported per case."""

import importlib.util
from pathlib import Path

import pytest

import torchenv

torch = pytest.importorskip("torch")

PROBE = Path(torchenv.__file__).parent / "probes/_scripts/target_probe.py"


@pytest.fixture(scope="module")
def probe():
    spec = importlib.util.spec_from_file_location("target_probe_smoke", PROBE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_references_are_float64_results_of_the_seeded_inputs(probe):
    prepared = probe.smoke_references(torch)
    assert [row[0] for row in prepared] == ["matmul", "conv2d"]
    for _op, fn, inputs, reference, failed in prepared:
        assert failed is None and reference.dtype == torch.float64
        assert torch.equal(reference, fn(tuple(t.double() for t in inputs)))
    again = probe.smoke_references(torch)  # seeded: every device gets the same inputs
    assert all(
        torch.equal(x, y)
        for row, other in zip(prepared, again, strict=True)
        for x, y in zip(row[2], other[2], strict=True)
    )


def test_a_reference_that_fails_is_reported_per_case_not_raised(probe, monkeypatch):
    def broken(torch_):
        def fail(_t):
            raise RuntimeError("no double kernels here")

        return [("matmul", fail, (torch.ones(2, 2),))]

    monkeypatch.setattr(probe, "smoke_cases", broken)
    (row,) = probe.smoke_references(torch)
    assert row[3] is None and "no double kernels here" in row[4]
    (entry,) = probe.smoke(torch, 0, [row])
    assert entry["ok"] is False and "no double kernels here" in entry["error"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the failure path of a build without a usable GPU")
def test_a_device_that_cannot_run_them_gives_an_error_per_case(probe):
    results = probe.smoke(torch, 0, probe.smoke_references(torch))
    assert [r["op"] for r in results] == ["matmul", "conv2d"]
    assert all(r["ok"] is False and r["error"] for r in results)
