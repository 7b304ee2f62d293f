"""Pure: can this host run a snapshot's environment (before installing), and does the installed
environment match it (after installing)? Both compare the snapshot with a snapshot of here.

Each check is a `VerifyCheck`: a Finding with its stage, status and subject. Where an outcome means what
a doctor finding or a diff difference means, it carries that id (driver-too-old, gpu-arch-not-in-wheel,
torch-variant-differs, ...); otherwise the check's own `verify-<check>` id (KINDS)."""

from __future__ import annotations

import dataclasses

from ..compat.driver import FULL, MINOR_COMPAT, TOO_OLD, driver_support
from ..compat.gpu import NONE, PTX_JIT, driver_drives_gpu, gpu_code
from ..compat.platform import normalize_arch
from ..model import Finding, known
from ..model.snapshot import STATUS_SEVERITY, Snapshot, VerifyCheck
from ..model.versions import version_numbers as _numbers
from .build import double_installs
from .diff import diff_snapshots

# verify's own ids and the doctor's it reuses -> (category, layer, what it means); the diff's ids come
# with their own (diff.KINDS). Each id has a page in docs/findings/.
KINDS: dict[str, tuple[str, str, str]] = {
    "verify-platform": ("other", "environment", "Wheels and conda packages are built per OS and CPU architecture."),
    "verify-python": (
        "python-unsupported",
        "environment",
        "Wheels are built per Python minor: the snapshot's packages install only on the same minor.",
    ),
    "verify-glibc": ("other", "environment", "manylinux wheels need a glibc at least as new as their tag."),
    "verify-driver": (
        "driver-too-old",
        "driver",
        "The snapshot's torch is built for one CUDA version, and the driver decides which CUDA versions run.",
    ),
    "verify-gpu-arch": (
        "gpu-arch-unsupported",
        "torch",
        "A torch build runs on a GPU only if its architecture list has kernels (or PTX) for that GPU.",
    ),
    "verify-env": (
        "other",
        "environment",
        "After installing, every distribution and the torch build should be the snapshot's.",
    ),
    "package-installed-twice": (
        "duplicate-install",
        "environment",
        "Two installs of one distribution (conda and pip, or two dist-infos): which one imports depends on "
        "sys.path order, and later installs mix their files.",
    ),
    # the doctor's ids, where verify's outcome means the same
    "driver-too-old": (
        "driver-too-old",
        "driver",
        "The driver is older than the CUDA of the snapshot's torch needs: CUDA fails to initialise.",
    ),
    "driver-minor-version-compat": (
        "driver-too-old",
        "driver",
        "The driver runs the snapshot's CUDA only through minor-version compatibility: no PTX JIT.",
    ),
    "no-nvidia-gpu": ("no-gpu", "hardware", "The snapshot's torch is a CUDA build and this host has no NVIDIA GPU."),
    "driver-predates-gpu": ("driver-too-old", "driver", "The driver branch is older than the GPU's generation."),
    "driver-dropped-gpu": (
        "gpu-arch-unsupported",
        "driver",
        "The driver branch no longer supports the GPU's generation.",
    ),
    "gpu-arch-not-in-wheel": (
        "gpu-arch-unsupported",
        "torch",
        "The snapshot's torch has no kernels for this GPU: 'no kernel image is available for execution on the device'.",
    ),
    "gpu-arch-ptx-jit": (
        "gpu-arch-unsupported",
        "torch",
        "The snapshot's torch runs on this GPU only by JIT-compiling PTX: a slow first start, and never under "
        "minor-version compatibility.",
    ),
    "duplicate-torch": (
        "duplicate-install",
        "environment",
        "torch installed twice: which copy imports depends on sys.path order.",
    ),
}


def verify_check(
    id: str,
    stage: str,
    status: str,
    subject: str,
    detail: str,
    *,
    check: str,
    evidence: tuple[str, ...] = (),
    fix: str | None = None,
    source: str | None = None,
    category: str | None = None,
) -> VerifyCheck:
    """A check with its finding: the detail is the title, the severity the status's (STATUS_SEVERITY)."""
    kind_category, layer, explanation = KINDS[id]
    finding = Finding(
        id=id,
        category=category or kind_category,
        severity=STATUS_SEVERITY[status],
        layer=layer,
        title=detail,
        evidence=evidence,
        explanation=explanation,
        fix=fix,
        source=source or None,
    )
    return VerifyCheck(finding, check, stage, status, subject)


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


# the host checks' names by their subject (the GPU checks name theirs)
_HOST_CHECK = {"platform": "platform", "Python": "python", "glibc": "glibc", "driver": "driver-floor"}


def verify_host(snapshot: Snapshot, here: Snapshot, knowledge) -> list[VerifyCheck]:
    checks: list[VerifyCheck] = []

    def check(id: str, status: str, subject: str, detail: str, **kw) -> None:
        checks.append(verify_check(id, "host", status, subject, detail, check=_HOST_CHECK[subject], **kw))

    want, have = (snapshot.host.os, snapshot.host.arch), (here.host.os, here.host.arch)
    sides = (f"snapshot: {want[0]} {want[1]}", f"here: {have[0]} {have[1]}")
    if want == have:
        check("verify-platform", "ok", "platform", f"{have[0]} {have[1]}", evidence=sides)
    else:
        check(
            "platform-differs",
            "fail",
            "platform",
            f"the snapshot is for {want[0]} {want[1]}; this host is {have[0]} {have[1]}",
            evidence=sides,
        )

    if known(snapshot.python) and known(here.python):
        sides = (f"snapshot: Python {snapshot.python.version}", f"here: {here.python.executable} {here.python.version}")
        if _minor(snapshot.python.version) != _minor(here.python.version):
            check(
                "python-version-differs",
                "fail",
                "Python",
                f"the snapshot needs Python {_minor(snapshot.python.version)} (had {snapshot.python.version}); {here.python.executable} is {here.python.version}",
                evidence=sides,
                fix=f"create the environment with Python {_minor(snapshot.python.version)} and verify it with --python",
            )
        elif snapshot.python.version != here.python.version:
            check(
                "verify-python",
                "ok",
                "Python",
                f"{here.python.version} (snapshot {snapshot.python.version}: same minor, same wheels)",
                evidence=sides,
            )
        else:
            check("verify-python", "ok", "Python", here.python.version, evidence=sides)
    else:
        check("verify-python", "skip", "Python", "the Python version is unknown on one side")

    if known(snapshot.host.glibc) and known(here.host.glibc):
        sides = (f"snapshot: glibc {snapshot.host.glibc}", f"here: glibc {here.host.glibc}")
        if _numbers(here.host.glibc) < _numbers(snapshot.host.glibc):
            check(
                "glibc-differs",
                "warn",
                "glibc",
                f"{here.host.glibc} is older than the snapshot's {snapshot.host.glibc}: wheels built for it may be refused",
                evidence=sides,
            )
        else:
            check("verify-glibc", "ok", "glibc", here.host.glibc, evidence=sides)

    torch = snapshot.torch
    cuda = torch.cuda if known(torch) and known(torch.cuda) else None
    if not known(torch) or torch.status != "ok":
        check("verify-driver", "skip", "driver", "the snapshot has no working torch to check against")
    elif not cuda:
        check(
            "verify-driver",
            "skip",
            "driver",
            f"the snapshot's torch ({torch.version}) is not a CUDA build: no driver needed",
        )
    else:
        checks += [_driver_check(cuda, snapshot, here, knowledge)]
        checks += _gpu_checks(snapshot, here, knowledge)
    return checks


# compat's driver level as verify's outcome: the finding id and the status (an unknown level warns)
_DRIVER_OUTCOME = {
    FULL: ("verify-driver", "ok"),
    MINOR_COMPAT: ("driver-minor-version-compat", "warn"),
    TOO_OLD: ("driver-too-old", "fail"),
}


def _driver_check(cuda: str, snapshot: Snapshot, here: Snapshot, knowledge) -> VerifyCheck:
    """compat's answer for the snapshot's CUDA on this host's driver: the one doctor and plan give."""
    driver = here.driver.version
    if not known(driver):
        return verify_check(
            "verify-driver",
            "host",
            "fail",
            "driver",
            f"the snapshot's torch needs CUDA {cuda}; no NVIDIA driver found here ({driver.reason})",
            evidence=(f"snapshot: torch CUDA {cuda}", f"here: no driver ({driver.reason})"),
            check="driver-floor",
            category="no-driver",
        )
    wsl = here.host.wsl if known(here.host.wsl) else False
    support = driver_support(
        knowledge, cuda, driver, os=here.host.os, wsl=wsl, needs_ptx=_needs_ptx(snapshot, here, knowledge)
    )
    id, status = _DRIVER_OUTCOME.get(support.level, ("verify-driver", "warn"))
    return verify_check(
        id,
        "host",
        status,
        "driver",
        support.reason,
        evidence=(f"snapshot: torch CUDA {cuda}", f"here: driver {driver}", f"needs: driver {support.floor_text}"),
        fix=f"install an NVIDIA driver {support.floor_text}" if status == "fail" else None,
        source=support.source,
        check="driver-floor",
    )


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
            verify_check(
                "no-nvidia-gpu",
                "host",
                "fail",
                "GPU",
                f"the snapshot's torch is a CUDA build{used}; this host has no NVIDIA GPU",
                check="gpu-present",
            )
        ]
    arches = _snapshot_arches(snapshot, knowledge)
    driver = here.driver.version if known(here.driver.version) else None
    checks = []
    for gpu, cc in _host_ccs(here, knowledge):
        subject = f"GPU {gpu.index}"
        if cc is None:
            checks.append(
                verify_check(
                    "verify-gpu-arch",
                    "host",
                    "skip",
                    subject,
                    f"{gpu.name}: compute capability unknown",
                    check="gpu-arch",
                )
            )
            continue
        drives = driver_drives_gpu(knowledge, driver, cc)
        if not drives.drives:
            id = "driver-predates-gpu" if drives.level == "too-old" else "driver-dropped-gpu"
            checks.append(
                verify_check(
                    id,
                    "host",
                    "fail",
                    subject,
                    f"{gpu.name}: {drives.reason}",
                    source=drives.source,
                    check="gpu-driver",
                )
            )
        if not arches:
            checks.append(
                verify_check(
                    "verify-gpu-arch", "host", "skip", subject, "the snapshot's arch list is unknown", check="gpu-arch"
                )
            )
            continue
        code = gpu_code(arches, cc)
        evidence = (f"snapshot: arch list {' '.join(arches)}", f"here: {gpu.name} (sm_{cc[0]}{cc[1]})")
        if code.how == NONE:
            checks.append(
                verify_check(
                    "gpu-arch-not-in-wheel",
                    "host",
                    "fail",
                    subject,
                    f"{gpu.name} ({code.sm}) is not in the snapshot's arch list ({' '.join(arches)}): 'no kernel image is available'",
                    evidence=evidence,
                    check="gpu-arch",
                )
            )
        elif code.how == PTX_JIT:
            checks.append(
                verify_check(
                    "gpu-arch-ptx-jit",
                    "host",
                    "warn",
                    subject,
                    f"{gpu.name} ({code.sm}) runs only through PTX JIT from {code.arch}: slow first start",
                    evidence=evidence,
                    check="gpu-arch",
                )
            )
        else:
            checks.append(
                verify_check(
                    "verify-gpu-arch",
                    "host",
                    "ok",
                    subject,
                    f"{gpu.name} ({code.sm}) runs {code.arch} ({code.how})",
                    evidence=evidence,
                    check="gpu-arch",
                )
            )
    return checks


# An installed difference fails verify and a settings one warns, whatever the diff's level: the
# difference's own finding, graded by verify's status (model.snapshot.STATUS_SEVERITY).
_SCOPE_STATUS = {"env": "fail", "settings": "warn"}
_SCOPE_CHECK = {"env": "env-match", "settings": "settings-match"}


def verify_env(snapshot: Snapshot, here: Snapshot) -> list[VerifyCheck]:
    """After installing: every difference in what is installed fails; settings differences warn.
    Fail closed: an environment whose interpreter or package list could not be read never matches."""
    checks = []
    unread = here.python if not known(here.python) else here.packages if not known(here.packages) else None
    if unread is not None:
        checks.append(
            verify_check(
                "verify-env",
                "env",
                "fail",
                "environment",
                f"could not read the environment: {unread.reason}",
                check="env-match",
            )
        )
    result = diff_snapshots(snapshot, here)
    env = [d for d in result.differences if d.scope == "env"]
    settings = [d for d in result.differences if d.scope == "settings"]
    for d in env + settings:
        status = _SCOPE_STATUS[d.scope]
        absent = "absent" if d.scope == "env" else "unset"
        finding = dataclasses.replace(
            d.finding,
            severity=STATUS_SEVERITY[status],
            title=f"snapshot {d.a or absent}, here {d.b or absent}: {d.finding.explanation}",
            evidence=(f"snapshot: {d.a or absent}", f"here: {d.b or absent}"),
        )
        checks.append(VerifyCheck(finding, _SCOPE_CHECK[d.scope], "env", status, d.subject))
    for double in double_installs(here):
        id = "duplicate-torch" if double.name == "torch" else "package-installed-twice"
        checks.append(
            verify_check(
                id, "env", "warn", f"package {double.name}", f"installed twice: {double.how}", check="double-install"
            )
        )
    if not env and unread is None:
        count = len(here.packages)
        checks.insert(
            0,
            verify_check(
                "verify-env",
                "env",
                "ok",
                "environment",
                f"{count} distributions and the torch build match the snapshot",
                check="env-match",
            ),
        )
    return checks


def verify_failed(checks: list[VerifyCheck]) -> bool:
    """The gate: any check that failed (a skipped check is no pass, but not a failure either: the
    checks that could not run say why)."""
    return any(c.status == "fail" for c in checks)
