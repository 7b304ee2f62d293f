"""Pure: can this host run a snapshot's environment (before installing), and does the installed
environment match it (after installing)? Both compare the snapshot with a snapshot of here."""

from __future__ import annotations

from ..compat.driver import FULL, MINOR_COMPAT, TOO_OLD, driver_support
from ..compat.gpu import NONE, PTX_JIT, driver_drives_gpu, gpu_code
from ..compat.platform import normalize_arch
from ..model import known
from ..model.snapshot import Snapshot, VerifyCheck
from ..model.versions import version_numbers as _numbers
from .build import double_installs
from .diff import diff_snapshots


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
        checks += [_driver_check(cuda, snapshot, here, knowledge)]
        checks += _gpu_checks(snapshot, here, knowledge)
    return checks


def _driver_check(cuda: str, snapshot: Snapshot, here: Snapshot, knowledge) -> VerifyCheck:
    """compat's answer for the snapshot's CUDA on this host's driver: the one doctor and plan give."""
    driver = here.driver.version
    if not known(driver):
        return VerifyCheck(
            "driver-floor",
            "host",
            "fail",
            "driver",
            f"the snapshot's torch needs CUDA {cuda}; no NVIDIA driver found here ({driver.reason})",
        )
    wsl = here.host.wsl if known(here.host.wsl) else False
    support = driver_support(
        knowledge, cuda, driver, os=here.host.os, wsl=wsl, needs_ptx=_needs_ptx(snapshot, here, knowledge)
    )
    status = {FULL: "ok", MINOR_COMPAT: "warn", TOO_OLD: "fail"}.get(support.level, "warn")
    return VerifyCheck("driver-floor", "host", status, "driver", support.reason)


def _snapshot_arches(snapshot: Snapshot, knowledge) -> tuple[str, ...] | None:
    torch = snapshot.torch
    arches = torch.arch_list if known(torch.arch_list) and torch.arch_list else None
    if arches is None and known(torch.version) and known(torch.variant) and torch.variant:
        arches = knowledge.wheel_arches(torch.version, torch.variant, normalize_arch(snapshot.host.arch) or "x86_64")
    return tuple(arches) if arches else None


def _host_ccs(here: Snapshot, knowledge) -> list[tuple[object, tuple[int, int] | None]]:
    out = []
    for gpu in here.gpus if known(here.gpus) else ():
        cc = gpu.cc if known(gpu.cc) else knowledge.resolve_gpu(gpu.name).cc
        out.append((gpu, tuple(cc) if cc else None))
    return out


def _needs_ptx(snapshot: Snapshot, here: Snapshot, knowledge) -> bool:
    arches = _snapshot_arches(snapshot, knowledge)
    return bool(arches) and any(cc and gpu_code(arches, cc).how == PTX_JIT for _, cc in _host_ccs(here, knowledge))


def _gpu_checks(snapshot: Snapshot, here: Snapshot, knowledge) -> list[VerifyCheck]:
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
    arches = _snapshot_arches(snapshot, knowledge)
    driver = here.driver.version if known(here.driver.version) else None
    checks = []
    for gpu, cc in _host_ccs(here, knowledge):
        subject = f"GPU {gpu.index}"
        if cc is None:
            checks.append(VerifyCheck("gpu-arch", "host", "skip", subject, f"{gpu.name}: compute capability unknown"))
            continue
        drives = driver_drives_gpu(knowledge, driver, cc)
        if not drives.drives:
            checks.append(VerifyCheck("gpu-driver", "host", "fail", subject, f"{gpu.name}: {drives.reason}"))
        if not arches:
            checks.append(VerifyCheck("gpu-arch", "host", "skip", subject, "the snapshot's arch list is unknown"))
            continue
        code = gpu_code(arches, cc)
        if code.how == NONE:
            checks.append(
                VerifyCheck(
                    "gpu-arch",
                    "host",
                    "fail",
                    subject,
                    f"{gpu.name} ({code.sm}) is not in the snapshot's arch list ({' '.join(arches)}): 'no kernel image is available'",
                )
            )
        elif code.how == PTX_JIT:
            checks.append(
                VerifyCheck(
                    "gpu-arch",
                    "host",
                    "warn",
                    subject,
                    f"{gpu.name} ({code.sm}) runs only through PTX JIT from {code.arch}: slow first start",
                )
            )
        else:
            checks.append(
                VerifyCheck("gpu-arch", "host", "ok", subject, f"{gpu.name} ({code.sm}) runs {code.arch} ({code.how})")
            )
    return checks


def verify_env(snapshot: Snapshot, here: Snapshot) -> list[VerifyCheck]:
    """After installing: every difference in what is installed fails; settings differences warn.
    Fail closed: an environment whose interpreter or package list could not be read never matches."""
    checks = []
    unread = here.python if not known(here.python) else here.packages if not known(here.packages) else None
    if unread is not None:
        checks.append(
            VerifyCheck(
                "env-unreadable", "env", "fail", "environment", f"could not read the environment: {unread.reason}"
            )
        )
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
    if not env and unread is None:
        count = len(here.packages)
        checks.insert(
            0,
            VerifyCheck(
                "env-match", "env", "ok", "environment", f"{count} distributions and the torch build match the snapshot"
            ),
        )
    return checks
