"""Pure: can this host run a snapshot's environment (before installing), and does the installed
environment match it (after installing)? Both compare the snapshot with a snapshot of here."""

from __future__ import annotations

import re

from ..knowledge.arch import arch_runs_on
from ..model import known
from ..model.snapshot import Snapshot, VerifyCheck
from .build import double_installs
from .diff import diff_snapshots


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text))


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def verify_host(snapshot: Snapshot, here: Snapshot, knowledge) -> list[VerifyCheck]:
    checks: list[VerifyCheck] = []

    def check(id: str, status: str, subject: str, detail: str) -> None:
        checks.append(VerifyCheck(id, "host", status, subject, detail))

    want, have = (snapshot.host.os, snapshot.host.arch), (here.host.os, here.host.arch)
    if want == have:
        check("platform", "ok", "platform", f"{have[0]} {have[1]}")
    else:
        check(
            "platform", "fail", "platform", f"the snapshot is for {want[0]} {want[1]}; this host is {have[0]} {have[1]}"
        )

    if known(snapshot.python) and known(here.python):
        if _minor(snapshot.python.version) != _minor(here.python.version):
            check(
                "python",
                "fail",
                "Python",
                f"the snapshot needs Python {_minor(snapshot.python.version)} (had {snapshot.python.version}); {here.python.executable} is {here.python.version}",
            )
        elif snapshot.python.version != here.python.version:
            check(
                "python",
                "ok",
                "Python",
                f"{here.python.version} (snapshot {snapshot.python.version}: same minor, same wheels)",
            )
        else:
            check("python", "ok", "Python", here.python.version)
    else:
        check("python", "skip", "Python", "the Python version is unknown on one side")

    if known(snapshot.host.glibc) and known(here.host.glibc):
        if _numbers(here.host.glibc) < _numbers(snapshot.host.glibc):
            check(
                "glibc",
                "warn",
                "glibc",
                f"{here.host.glibc} is older than the snapshot's {snapshot.host.glibc}: wheels built for it may be refused",
            )
        else:
            check("glibc", "ok", "glibc", here.host.glibc)

    torch = snapshot.torch
    cuda = torch.cuda if known(torch) and known(torch.cuda) else None
    if not known(torch) or torch.status != "ok":
        check("driver-floor", "skip", "driver", "the snapshot has no working torch to check against")
    elif not cuda:
        check(
            "driver-floor",
            "skip",
            "driver",
            f"the snapshot's torch ({torch.version}) is not a CUDA build: no driver needed",
        )
    else:
        checks += [_driver_check(cuda, here, knowledge)]
        checks += _gpu_checks(snapshot, here, knowledge)
    return checks


def _driver_check(cuda: str, here: Snapshot, knowledge) -> VerifyCheck:
    floor = knowledge.cuda_driver_floor(cuda, here.host.os)
    driver = here.driver.version
    if not known(driver):
        return VerifyCheck(
            "driver-floor",
            "host",
            "fail",
            "driver",
            f"the snapshot's torch needs CUDA {cuda}; no NVIDIA driver found here ({driver.reason})",
        )
    if floor is None or floor.full_support is None:
        return VerifyCheck(
            "driver-floor",
            "host",
            "warn",
            "driver",
            f"driver {driver}; no known minimum driver for CUDA {cuda} on {here.host.os}",
        )
    if _numbers(driver) >= _numbers(floor.full_support):
        return VerifyCheck(
            "driver-floor", "host", "ok", "driver", f"{driver} ≥ {floor.full_support}, the minimum for CUDA {cuda}"
        )
    if floor.minor_compat and _numbers(driver) >= _numbers(floor.minor_compat):
        return VerifyCheck(
            "driver-floor",
            "host",
            "warn",
            "driver",
            f"{driver} is below {floor.full_support} (CUDA {cuda}) but ≥ {floor.minor_compat}: runs through minor-version compatibility, without PTX JIT",
        )
    return VerifyCheck(
        "driver-floor",
        "host",
        "fail",
        "driver",
        f"{driver} is older than {floor.full_support}, the minimum for CUDA {cuda}: CUDA will not initialise",
    )


def _gpu_checks(snapshot: Snapshot, here: Snapshot, knowledge) -> list[VerifyCheck]:
    torch = snapshot.torch
    gpus = list(here.gpus) if known(here.gpus) else []
    if not gpus:
        used = (
            f" (it used {len(snapshot.gpus)}× {snapshot.gpus[0].name})"
            if known(snapshot.gpus) and snapshot.gpus
            else ""
        )
        return [
            VerifyCheck(
                "gpu-present",
                "host",
                "fail",
                "GPU",
                f"the snapshot's torch is a CUDA build{used}; this host has no NVIDIA GPU",
            )
        ]
    arches = torch.arch_list if known(torch.arch_list) and torch.arch_list else None
    if arches is None and known(torch.version) and known(torch.variant) and torch.variant:
        arches = knowledge.wheel_arches(torch.version, torch.variant)
    if not arches:
        return [VerifyCheck("gpu-arch", "host", "skip", "GPU architecture", "the snapshot's arch list is unknown")]
    checks = []
    for gpu in gpus:
        cc = gpu.cc if known(gpu.cc) else None
        if cc is None:
            model = knowledge.gpu_by_name(gpu.name)
            cc = tuple(model.cc) if model else None
        subject = f"GPU {gpu.index}"
        if cc is None:
            checks.append(VerifyCheck("gpu-arch", "host", "skip", subject, f"{gpu.name}: compute capability unknown"))
            continue
        match = arch_runs_on(arches, cc)
        sm = f"sm_{cc[0]}{cc[1]}"
        if match is None:
            checks.append(
                VerifyCheck(
                    "gpu-arch",
                    "host",
                    "fail",
                    subject,
                    f"{gpu.name} ({sm}) is not in the snapshot's arch list ({' '.join(arches)}): 'no kernel image is available'",
                )
            )
        elif match.how == "ptx-jit":
            checks.append(
                VerifyCheck(
                    "gpu-arch",
                    "host",
                    "warn",
                    subject,
                    f"{gpu.name} ({sm}) runs only through PTX JIT from {match.arch}: slow first start",
                )
            )
        else:
            checks.append(
                VerifyCheck("gpu-arch", "host", "ok", subject, f"{gpu.name} ({sm}) runs {match.arch} ({match.how})")
            )
    return checks


def verify_env(snapshot: Snapshot, here: Snapshot) -> list[VerifyCheck]:
    """After installing: every difference in what is installed fails; settings differences warn."""
    checks = []
    result = diff_snapshots(snapshot, here)
    env = [d for d in result.differences if d.scope == "env"]
    settings = [d for d in result.differences if d.scope == "settings"]
    for d in env:
        checks.append(
            VerifyCheck(
                d.id, "env", "fail", d.subject, f"snapshot {d.a or 'absent'}, here {d.b or 'absent'}: {d.impact}"
            )
        )
    for d in settings:
        checks.append(
            VerifyCheck(d.id, "env", "warn", d.subject, f"snapshot {d.a or 'unset'}, here {d.b or 'unset'}: {d.impact}")
        )
    for double in double_installs(here):
        checks.append(
            VerifyCheck("double-install", "env", "warn", f"package {double.name}", f"installed twice: {double.how}")
        )
    if not env:
        count = len(here.packages) if known(here.packages) else 0
        checks.insert(
            0,
            VerifyCheck(
                "env-match", "env", "ok", "environment", f"{count} distributions and the torch build match the snapshot"
            ),
        )
    return checks
