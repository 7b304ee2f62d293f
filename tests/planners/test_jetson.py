"""Jetson boards: JetPack builds, never the SBSA aarch64 wheels; exports say what they can."""

from __future__ import annotations

import pytest

from torchenv.compat.platform import jetpack_builds
from torchenv.knowledge import load_knowledge
from torchenv.planners import describe_target, plan_for
from torchenv.planners.export import ExportError, export, pip_install_argv

K = load_knowledge()


def test_jetson_name_implies_linux_aarch64():
    target = describe_target(K, gpus=["Jetson AGX Orin"])
    assert (target.os, target.arch) == ("linux", "aarch64")


def test_jetson_on_windows_is_refused():
    from torchenv.planners import PlanInputError

    with pytest.raises(PlanInputError, match="Jetson boards run Linux on aarch64"):
        describe_target(K, gpus=["Jetson AGX Orin"], os="windows")


def test_orin_gets_the_newest_jetpack_for_its_cc():
    plan = plan_for(describe_target(K, gpus=["Jetson Orin Nano"]), K)
    newest = next(b for b in jetpack_builds() if (8, 7) in b.ccs)
    assert plan.ok and plan.torch == newest.torch and plan.cuda == newest.cuda
    assert plan.python == newest.python[0]


def test_xavier_is_offered_jetpack_5_as_one_wheel_url():
    plan = plan_for(describe_target(K, gpus=["Jetson AGX Xavier"]), K)
    assert plan.ok and plan.wheel_url and plan.wheel_url.endswith(".whl")
    argv = pip_install_argv(plan)
    assert argv[-1] == plan.wheel_url and "--index-url" not in argv
    assert export(plan, "requirements").strip().endswith(f"torch @ {plan.wheel_url}")
    with pytest.raises(ExportError, match="one wheel file"):
        export(plan, "conda")


def test_jetson_thor_takes_the_standard_aarch64_path():
    thor = [g for g in K.gpus() if g.cc == (11, 0) and "jetson" in g.name.lower()]
    if not thor:
        pytest.skip("no Jetson Thor row in gpus.toml")
    plan = plan_for(describe_target(K, gpus=[thor[0].name]), K)
    assert not (plan.variant or "").startswith("jp")


def test_aarch64_plans_read_the_aarch64_arch_list_not_x86s():
    # the SBSA cu130 wheel carries sm_110 (Thor) and sm_121 (GB10); the x86_64 one does not
    assert "sm_110" in (K.wheel_arches("2.11.0", "cu130", "aarch64") or ())
    assert "sm_110" not in (K.wheel_arches("2.11.0", "cu130") or ())
    plan = plan_for(describe_target(K, cc=["11.0"], arch="aarch64", driver="580.65.06"), K)
    assert plan.ok and plan.variant.startswith("cu13")
    assert not any("assumed to match" in w for w in plan.warnings)
