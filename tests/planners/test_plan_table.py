"""Table-driven plans across GPU generations, driver branches, Pythons, operating systems and pins.

Each row is (id, target, request, expected torch, expected variant, expected index). A `None` torch
means the request cannot be met; `nearest` then names a torch the nearest plans must include.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testsupport import load_h100_facts
from torchenv.model import Facts
from torchenv.model.codec import from_json
from torchenv.model.plan import PYPI_INDEX, PlanRequest
from torchenv.planners import describe_target, plan_for

CU = "https://download.pytorch.org/whl/"
HERE = Path(__file__).parent


def fresh_h100_facts() -> Facts:
    """Captured on the device machine on 2026-11-22 with `torchenv doctor --no-torch --json`."""
    data = json.loads((HERE / "fixtures" / "h100-fresh-doctor-notorch.json").read_text())
    return from_json(Facts, data["facts"])


def T(**kw):
    return ("described", kw)


# id, target, request kwargs, torch, variant, index, driver_support (None: do not check)
ROWS = [
    # Kepler
    (
        "k80-470-py39",
        T(gpus=["Tesla K80"], driver="470.82.01", python="3.9"),
        {},
        "2.7.1",
        "cu118",
        CU + "cu118",
        "minor-version-compat",
    ),
    ("k40-no-sm35", T(gpus=["Tesla K40m"], driver="470.82.01"), {}, None, None, None, None),
    # Maxwell / Pascal
    (
        "gtx980-450-py38",
        T(gpus=["GeForce GTX 980"], driver="450.80.02", python="3.8"),
        {},
        "2.4.1",
        "cu118",
        CU + "cu118",
        "minor-version-compat",
    ),
    (
        "1080ti-535-py311",
        T(gpus=["GTX 1080 Ti"], driver="535.104.05", python="3.11"),
        {},
        "2.14.1",
        "cu126",
        CU + "cu126",
        "minor-version-compat",
    ),
    (
        "p100-525-py310",
        T(gpus=["Tesla P100-PCIE-16GB"], driver="525.60.13", python="3.10"),
        {},
        "2.14.1",
        "cu126",
        CU + "cu126",
        "minor-version-compat",
    ),
    # Volta
    (
        "v100-470-py310",
        T(gpus=["Tesla V100-SXM2-16GB"], driver="470.57.02", python="3.10"),
        {},
        "2.7.1",
        "cu118",
        CU + "cu118",
        "minor-version-compat",
    ),
    (
        "v100-580-no-sm70-in-cu130",
        T(gpus=["Tesla V100-SXM2-16GB"], driver="580.65.06", python="3.12"),
        {},
        "2.14.1",
        "cu126",
        CU + "cu126",
        "full",
    ),
    # Turing
    ("t4-450-cuda11.0", T(gpus=["Tesla T4"], driver="450.51.06"), {}, "1.12.1", "cu102", CU + "cu102", "full"),
    (
        "2080ti-580-py312",
        T(gpus=["RTX 2080 Ti"], driver="580.95.05", python="3.12"),
        {},
        "2.15.0",
        "cu130",
        CU + "cu130",
        "full",
    ),
    # Ampere / Ada
    (
        "a100-535-py312",
        T(gpus=["A100-SXM4-80GB"], driver="535.104.05", python="3.12"),
        {},
        "2.14.1",
        "cu126",
        CU + "cu126",
        "minor-version-compat",
    ),
    (
        "3090-windows-550",
        T(gpus=["RTX 3090"], driver="552.22", python="3.11", os="windows"),
        {},
        "2.14.1",
        "cu126",
        CU + "cu126",
        "minor-version-compat",
    ),
    (
        "4090-560-full",
        T(gpus=["RTX 4090"], driver="560.35.03", python="3.12"),
        {},
        "2.14.1",
        "cu126",
        CU + "cu126",
        "full",
    ),
    ("4090-no-driver", T(gpus=["RTX 4090"], python="3.12"), {}, "2.15.0", "cu132", CU + "cu132", "unknown-driver"),
    (
        "3090-pin-range",
        T(gpus=["RTX 3090"], driver="550.54.15", python="3.11"),
        {"torch": ">=2.4,<2.6"},
        "2.5.1",
        "cu124",
        CU + "cu124",
        "full",
    ),
    (
        "cc86-545-pin27-full-beats-minor",
        T(cc=["8.6"], driver="545.23.08"),
        {"torch": "2.7"},
        "2.7.1",
        "cu118",
        CU + "cu118",
        "full",
    ),
    # Hopper
    (
        "h100-525-minor",
        T(gpus=["H100 80GB HBM3"], driver="525.85.12", python="3.12"),
        {},
        "2.14.1",
        "cu126",
        CU + "cu126",
        "minor-version-compat",
    ),
    (
        "h100-cpu-variant",
        T(gpus=["H100 80GB HBM3"], driver="580.95.05", python="3.12"),
        {"variant": "cpu"},
        "2.15.0",
        "cpu",
        CU + "cpu",
        None,
    ),
    (
        "gh200-aarch64-580",
        T(gpus=["GH200"], driver="580.65.06", python="3.12", arch="aarch64"),
        {},
        "2.15.0",
        "cu130",
        CU + "cu130",
        "full",
    ),
    (
        "gh200-aarch64-560-pin210",
        T(gpus=["GH200"], driver="560.35.03", arch="aarch64"),
        {"torch": "2.10"},
        "2.10.0",
        "cu128",
        CU + "cu128",
        "minor-version-compat",
    ),
    # Blackwell
    ("b200-570", T(gpus=["B200"], driver="570.124.06", python="3.12"), {}, "2.11.0", "cu128", CU + "cu128", "full"),
    ("5090-470-impossible", T(gpus=["RTX 5090"], driver="470.82.01"), {}, None, None, None, None),
    (
        # R535 predates Blackwell: the driver does not drive an RTX 5090 at all (it once planned cu128 here)
        "5090-535-refused",
        T(gpus=["RTX 5090"], driver="535.104.05", python="3.12"),
        {},
        None,
        None,
        None,
        None,
    ),
    ("5090-575", T(gpus=["RTX 5090"], driver="575.57.08", python="3.12"), {}, "2.11.0", "cu128", CU + "cu128", "full"),
    ("5090-580", T(gpus=["RTX 5090"], driver="580.95.05", python="3.13"), {}, "2.15.0", "cu130", CU + "cu130", "full"),
    ("5090-pin26-impossible", T(gpus=["RTX 5090"], driver="580.95.05"), {"torch": "2.6"}, None, None, None, None),
    ("5090-pin27", T(gpus=["RTX 5090"], driver="570.26"), {"torch": "2.7"}, "2.7.1", "cu128", CU + "cu128", "full"),
    # no NVIDIA GPU: Linux, Windows, aarch64, Pythons 3.8 -> 3.15
    ("cpu-linux-py314", T(python="3.14"), {}, "2.15.0", "cpu", CU + "cpu", None),
    ("cpu-linux-py315", T(python="3.15"), {}, "2.15.0", "cpu", CU + "cpu", None),
    ("cpu-linux-py38", T(python="3.8"), {}, "2.4.1", "cpu", CU + "cpu", None),
    ("cpu-windows-py313", T(python="3.13", os="windows"), {}, "2.15.0", "cpu", CU + "cpu", None),
    ("cpu-aarch64-py312", T(python="3.12", arch="aarch64"), {}, "2.15.0", "cpu", CU + "cpu", None),
    ("py37-torch25-impossible", T(python="3.7"), {"torch": "2.5"}, None, None, None, None),
    ("py313-torch25-linux-only", T(python="3.13", os="windows"), {"torch": "2.5"}, None, None, None, None),
    ("driver-only-580", T(driver="580.65.06", python="3.12"), {}, "2.15.0", "cu130", CU + "cu130", "full"),
    (
        "index-override",
        T(python="3.11"),
        {"torch": "2.13.0", "index_url": "file:///opt/pypi/simple"},
        "2.13.0",
        "cpu",
        "file:///opt/pypi/simple",
        None,
    ),
    # macOS
    ("macos-arm64-py312", T(python="3.12", os="macos"), {}, "2.15.0", "mps", PYPI_INDEX, None),
    ("macos-arm64-py38", T(python="3.8", os="macos"), {}, "2.4.1", "mps", PYPI_INDEX, None),
    ("macos-intel", T(python="3.11", os="macos", arch="x86_64"), {}, "2.2.2", "cpu", PYPI_INDEX, None),
    ("macos-intel-py313-impossible", T(python="3.13", os="macos", arch="x86_64"), {}, None, None, None, None),
    # real machines
    ("h100-fixture", ("facts", load_h100_facts), {}, "2.15.0", "cu130", CU + "cu130", "full"),
    ("h100-fresh-capture", ("facts", fresh_h100_facts), {}, "2.15.0", "cu130", CU + "cu130", "full"),
]


def _target(knowledge, spec):
    kind, value = spec
    return value() if kind == "facts" else describe_target(knowledge, **value)


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_plan_table(knowledge, row):
    _, target, request, torch, variant, index, support = row
    plan = plan_for(_target(knowledge, target), knowledge, PlanRequest(**request))
    assert (plan.torch, plan.variant, plan.index_url) == (torch, variant, index), plan.reasons or plan.unmet
    if torch is None:
        assert not plan.ok and plan.unmet and plan.nearest
        return
    assert plan.ok and plan.reasons and not plan.unmet
    if support is not None:
        assert plan.driver_support == support


def test_table_is_broad():
    assert len(ROWS) >= 30
    gpus = " ".join(" ".join(r[1][1].get("gpus", [])) for r in ROWS if r[1][0] == "described")
    for name in ("K80", "980", "1080", "V100", "T4", "A100", "4090", "H100", "B200", "5090"):
        assert name in gpus
    drivers = {r[1][1].get("driver", "")[:3] for r in ROWS if r[1][0] == "described"}
    assert {"450", "470", "525", "535", "550", "560", "570", "575", "580"} <= drivers | {"550"}
    pythons = {r[1][1].get("python") for r in ROWS if r[1][0] == "described"}
    assert {"3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14"} <= pythons
    assert {r[1][1].get("os", "linux") for r in ROWS if r[1][0] == "described"} == {"linux", "windows", "macos"}


# ---------------------------------------------------------------------- explanations
def test_rtx5090_on_470_explains_and_offers_nearest(knowledge):
    plan = plan_for(describe_target(knowledge, gpus=["RTX 5090"], driver="470.82.01"), knowledge)
    text = " ".join(plan.unmet)
    assert "470.82.01 predates Blackwell" in text and "R570" in text and "cc 12.0" in text
    kinds = {(n.torch, n.variant) for n in plan.nearest}
    assert ("2.15.0", "cpu") in kinds
    assert any(
        n.variant.startswith("cu") and n.min_driver and "upgrade the driver" in n.trade_off for n in plan.nearest
    )


def test_python37_torch25_names_both_ways_out(knowledge):
    plan = plan_for(describe_target(knowledge, python="3.7"), knowledge, PlanRequest(torch="2.5"))
    assert "Python 3.7" in plan.unmet[0] and "3.9–3.13" in plan.unmet[0]
    offers = {(n.torch, n.python) for n in plan.nearest}
    assert ("1.13.1", "3.7") in offers  # keep Python 3.7: the newest torch that still has wheels for it
    assert any(t == "2.5.1" and p != "3.7" for t, p in offers)  # keep torch 2.5: a newer Python


def test_kepler_k40_has_no_wheel_code(knowledge):
    plan = plan_for(describe_target(knowledge, gpus=["Tesla K40m"], driver="470.82.01"), knowledge)
    assert "carries no code" in plan.unmet[0] and "cc 3.5" in plan.unmet[0]
    assert [n.variant for n in plan.nearest] == ["cpu"]


def test_minor_compat_plan_warns_and_offers_full_support(knowledge):
    plan = plan_for(describe_target(knowledge, gpus=["GTX 1080 Ti"], driver="535.104.05", python="3.11"), knowledge)
    assert any("minor-version compatibility" in w for w in plan.warnings)
    full = [a for a in plan.alternatives if "fully supported" in a.trade_off]
    assert full and full[0].torch == "2.7.1" and full[0].variant == "cu118"
    assert plan.driver_upgrade is not None and plan.driver_upgrade.min_driver == "560.28.03"
    assert any("sm_60" in r and "binary-compatible" in r for r in plan.reasons)


def test_driver_upgrade_gain_for_blackwell_on_570(knowledge):
    plan = plan_for(describe_target(knowledge, gpus=["B200"], driver="570.124.06"), knowledge)
    up = plan.driver_upgrade
    assert up is not None and up.torch == "2.15.0" and "torch 2.15.0 instead of 2.11.0" in up.gain
    assert plan.reasons[0].startswith("torch 2.11.0 is the newest release that fits; newer ones do not")


def test_h100_plan_matches_what_works_there(knowledge):
    """The H100 runs torch 2.11.0+cu130 on driver 580.159.04; the plan keeps cu130 (sm_90 native)."""
    for facts in (load_h100_facts(), fresh_h100_facts()):
        plan = plan_for(facts, knowledge)
        assert plan.variant == "cu130" and plan.driver_support == "full" and plan.python == "3.12"
        assert plan.gpu_code == ("NVIDIA H100 80GB HBM3 (cc 9.0): sm_90 SASS in the wheel (exact match)",)
        assert plan.target.origin == "this machine" and plan.target.driver == "580.159.04"


def test_same_plan_from_fresh_capture_run_on_the_device():
    """`torchenv plan --json` run on the H100 itself (2026-11-22) chose the same build."""
    data = json.loads((HERE / "fixtures" / "h100-fresh-plan.json").read_text())
    assert (data["torch"], data["variant"], data["index_url"]) == ("2.15.0", "cu130", CU + "cu130")


def test_ptx_jit_fallback_warns(knowledge):
    """A cc 9.0 GPU with only a compute_90 PTX wheel would run through the JIT: tested on a synthetic arch list."""
    from torchenv.knowledge import arch_runs_on

    assert arch_runs_on(["sm_80", "compute_80"], (9, 0)).how == "ptx-jit"
    # and a minor-compat driver cannot serve PTX JIT: cc 12.1 with a cu128 2.7 wheel (compute_120) is SASS-compatible
    plan = plan_for(describe_target(knowledge, cc=["12.1"], driver="575.57.08"), knowledge, PlanRequest(torch="2.7"))
    assert plan.ok and plan.variant == "cu128" and "binary-compatible" in " ".join(plan.gpu_code)


def test_unknown_gpu_name_gets_suggestions(knowledge):
    from torchenv.planners import PlanInputError

    with pytest.raises(PlanInputError, match=r"did you mean.*RTX 4090"):
        describe_target(knowledge, gpus=["RTX 409"])
    assert describe_target(knowledge, gpus=["nvidia geforce rtx 4090"]).gpus[0].cc == (8, 9)


@pytest.mark.parametrize("bad", ["two", "2.x", ">>2"])
def test_bad_torch_pin(knowledge, bad):
    from torchenv.planners import PlanInputError

    with pytest.raises(PlanInputError):
        plan_for(describe_target(knowledge), knowledge, PlanRequest(torch=bad))


def test_pin_matching_nothing(knowledge):
    plan = plan_for(describe_target(knowledge, python="3.12"), knowledge, PlanRequest(torch=">=3.0"))
    assert not plan.ok and "no torch release matches" in plan.unmet[0]
    assert plan.nearest[0].torch == "2.15.0"


def test_plan_round_trips_through_the_codec(knowledge):
    from torchenv.model.codec import to_json
    from torchenv.model.plan import Plan

    plan = plan_for(load_h100_facts(), knowledge)
    assert from_json(Plan, json.loads(json.dumps(to_json(plan)))) == plan
