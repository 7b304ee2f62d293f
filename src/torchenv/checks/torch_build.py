"""Checks of the torch layer: is torch there, does it import, and is it the right build for this GPU."""

from __future__ import annotations

import re
from dataclasses import replace

from ..compat.driver import FULL, MINOR_COMPAT, TOO_OLD, driver_support
from ..compat.gpu import NONE, PTX_JIT, gpu_code
from ..compat.platform import is_jetson, normalize_arch, python_support
from ..model import Facts, Finding, Severity, known
from ..model.plan import PlanRequest
from ..model.stderr import failure_line
from ..planners.core import plan_for
from ..planners.target import target_from_facts
from .common import (
    base_version,
    gpu_ccs,
    gpu_present,
    python_minor,
    require_imported_torch,
    require_torch,
    torch_variant,
    version_tuple,
)
from .fixes import doctor_plan, plan_command, planned_install
from .registry import Skip, check


def _reinstall_fix(facts: Facts, knowledge, *, force: bool = True) -> str:
    """The planned install (the same build `torchenv plan` gives), or why none fits."""
    return plan_command(doctor_plan(facts, knowledge), facts, force=force) or planned_install(facts, knowledge)


def torch_arch_list(facts: Facts, knowledge) -> tuple[str, ...] | None:
    """The arch list of the installed torch: as it reports it, else the knowledge row for its wheel."""
    torch = facts.torch
    if not known(torch) or not known(torch.version):
        return None
    if known(torch.arch_list) and torch.arch_list:
        return tuple(torch.arch_list)
    arch = normalize_arch(facts.host.arch) or "x86_64"
    return knowledge.wheel_arches(base_version(torch.version), torch_variant(torch) or "", arch) or None


def needs_ptx(facts: Facts, knowledge) -> bool:
    """Does any GPU run the installed build only through PTX JIT? (Minor-version compatibility cannot.)"""
    arches = torch_arch_list(facts, knowledge)
    return bool(arches) and any(gpu_code(arches, cc).how == PTX_JIT for _, cc in gpu_ccs(facts, knowledge))


def installed_driver_support(facts: Facts, knowledge):
    """compat's answer for the installed torch's CUDA on this driver (None: not a CUDA build)."""
    torch = facts.torch
    if not known(torch) or not known(torch.cuda) or torch.cuda is None:
        return None
    driver = facts.driver.version if known(facts.driver.version) else None
    return driver_support(
        knowledge, torch.cuda, driver, os=facts.host.os, wsl=facts.host.wsl, needs_ptx=needs_ptx(facts, knowledge)
    )


def _keep_driver_alternative(facts: Facts, knowledge) -> str:
    """ " or keep this driver and install <the planned build>", when the plan differs from what is installed."""
    plan = doctor_plan(facts, knowledge)
    command = plan_command(plan, facts)
    installed = facts.torch.version if known(facts.torch) and known(facts.torch.version) else ""
    if not command or installed == f"{plan.torch}+{plan.variant}":
        return ""
    return f" or keep this driver and install the build `torchenv plan` picks for it: `{command}`"


@check("torch-not-installed")
def check_torch_missing(facts: Facts, knowledge):
    torch = require_torch(facts)
    if torch.status != "missing":
        return
    where = facts.python.executable if known(facts.python) else "the target interpreter"
    yield Finding(
        id="torch-not-installed",
        category="torch-missing",
        severity=Severity.ERROR,
        layer="torch",
        title=f"torch is not installed in {where}",
        evidence=(torch.error or "import torch: No module named 'torch'",),
        explanation="This interpreter cannot import torch. If you installed it, it went into another "
        "environment (see the wrong-interpreter findings, or run `torchenv doctor --python PATH`).",
        fix=_reinstall_fix(facts, knowledge, force=False),
    )


def _ld_library_path_folder(error: str, ld_library_path: str) -> str | None:
    """The LD_LIBRARY_PATH folder named in an import error (a library there failed to load), if any."""
    for folder in (f.rstrip("/") for f in ld_library_path.split(":") if f.strip()):
        if f"{folder}/" in error:
            return folder
    return None


_MISSING_LIBRARY = re.compile(r"(lib[\w.+-]+\.so[.\d]*): cannot open shared object file")
_UNDEFINED_SYMBOL = re.compile(r"undefined symbol: (\S+)")


@check("torch-import-failed")
def check_torch_import(facts: Facts, knowledge):
    torch = require_torch(facts)
    if torch.status != "import-error":
        return
    error = torch.error or ""
    missing = _MISSING_LIBRARY.search(error)
    undefined = _UNDEFINED_SYMBOL.search(error)
    if missing:
        explanation = (
            f"torch needs {missing.group(1)} and the loader cannot find it: the nvidia-* wheels it depends on "
            "are missing or broken, or the install was interrupted."
        )
    elif undefined:
        explanation = (
            f"A library torch loaded lacks the symbol {undefined.group(1)}: usually an older system CUDA/cuDNN "
            "library on LD_LIBRARY_PATH shadows the one the wheel needs, or parts of two torch versions are mixed."
        )
    else:
        explanation = "Importing torch raised an exception, so nothing that uses torch can run."
    fix = _reinstall_fix(facts, knowledge)
    folder = _ld_library_path_folder(error, facts.environment.get("LD_LIBRARY_PATH", ""))
    if folder:
        # The failing library lives in a folder LD_LIBRARY_PATH puts first: that is the cause (library-shadowed
        # names it too); reinstalling torch would not change a thing.
        explanation = (
            f"The library that fails to load comes from {folder}, a folder LD_LIBRARY_PATH puts before torch's own."
        )
        fix = (
            f"Remove {folder} from LD_LIBRARY_PATH for Python (`env -u LD_LIBRARY_PATH python -c 'import torch'` "
            "to confirm); torch's wheels bring their own CUDA libraries."
        )
    elif undefined and facts.environment.get("LD_LIBRARY_PATH"):
        fix = "Try without the system libraries first: `env -u LD_LIBRARY_PATH python -c 'import torch'`; " + fix
    yield Finding(
        id="torch-import-failed",
        category="torch-broken",
        severity=Severity.ERROR,
        layer="torch",
        title="import torch fails",
        evidence=(error.strip().splitlines()[-1][:500] if error.strip() else "import failed",),
        explanation=explanation,
        fix=fix,
    )


@check("torch-crashed")
def check_torch_crashed(facts: Facts, knowledge):
    torch = require_torch(facts)
    if torch.status != "crashed":
        return
    evidence = [f"the torch probe died of {torch.signal or 'a signal'} during stage '{torch.stage}'"]
    if failure_line(torch.stderr_tail):
        evidence.append(failure_line(torch.stderr_tail)[:300])
    yield Finding(
        id="torch-crashed",
        category="torch-broken",
        severity=Severity.ERROR,
        layer="torch",
        title=f"torch crashed the interpreter ({torch.signal or 'signal'}) while {_stage_words(torch.stage)}",
        evidence=tuple(evidence),
        explanation="A native crash inside torch or a library it loads (mismatched CUDA libraries, a "
        "conflicting OpenMP/MKL, a broken driver). Your programs will crash the same way.",
        fix="Check which libraries load: `env -u LD_LIBRARY_PATH -u LD_PRELOAD python -c 'import torch'`; "
        f"then reinstall cleanly: {_reinstall_fix(facts, knowledge)}",
    )


def _stage_words(stage: str) -> str:
    return {
        "import": "importing torch",
        "build": "reading the build configuration",
        "cuda-init": "initialising CUDA",
        "devices": "reading device properties",
        "smoke": "running the GPU smoke test",
        "cudnn": "loading cuDNN",
        "libraries": "listing loaded libraries",
        "companions": "importing torchvision/torchaudio",
    }.get(stage, f"in stage {stage}")


@check("torch-hung")
def check_torch_hung(facts: Facts, knowledge):
    torch = require_torch(facts)
    if torch.status != "hung":
        return
    in_cuda = torch.stage in ("cuda-init", "devices", "smoke", "cudnn")
    in_import = torch.stage in ("env", "import")
    yield Finding(
        id="torch-hung",
        category="torch-broken",
        severity=Severity.ERROR,
        layer="compute" if in_cuda else "torch",
        title=f"torch hung while {_stage_words(torch.stage)} and was killed after {torch.wall_seconds:.0f} s",
        evidence=(f"last stage reached: {torch.stage}", torch.error or "timed out"),
        explanation=(
            "CUDA initialisation did not return: typically a wedged GPU or driver (check dmesg for Xid errors), "
            "a GPU held by a hung process, or a first start JIT-compiling PTX for an unsupported architecture."
            if in_cuda
            else "Importing torch did not finish: a slow or hung network filesystem, a deadlock in a library "
            "loaded at import, or an antivirus scanning thousands of files."
            if in_import
            else "torch imported and CUDA initialised, but a later step of the probe did not return "
            "(reading /proc or importing torchvision/torchaudio)."
        ),
        fix="Retry with a longer bound (`torchenv doctor --timeout 300`) to tell slow from hung; "
        + (
            "check `sudo dmesg | grep -i xid` and `nvidia-smi`."
            if in_cuda
            else "time `python -X importtime -c 'import torch'`."
        ),
    )


@check("torch-probe-failed")
def check_probe_failed(facts: Facts, knowledge):
    if not known(facts.python) and facts.origin != "this machine":
        raise Skip("a pasted report that does not show the interpreter")
    if not known(facts.python):
        yield Finding(
            id="interpreter-unusable",
            category="python-unsupported",
            severity=Severity.ERROR,
            layer="environment",
            title="The target interpreter cannot run torchenv's probe",
            evidence=(facts.python.reason[:400],),
            explanation="The interpreter exited before reporting anything: it is not Python 3, is too old "
            "(torchenv's probe needs Python 3.6+; torch needs much newer), or is broken.",
            fix="Point --python at the environment's python executable and check that it runs: "
            "`/path/to/env/bin/python -c 'import sys; print(sys.version)'`.",
        )
        return
    torch = require_torch(facts)
    if torch.status != "probe-error":
        return
    last_line = [failure_line(torch.stderr_tail)]  # torch's warnings (NumPy...) are not the reason
    yield Finding(
        id="torch-probe-failed",
        category="torch-broken",
        severity=Severity.ERROR,
        layer="torch",
        title=f"The torch probe failed while {_stage_words(torch.stage)}",
        evidence=tuple(x for x in (torch.error, last_line[0]) if x),
        explanation="The probe process exited with an error instead of reporting: something in this "
        "environment (a sitecustomize, a package torch imports) aborts the interpreter.",
        fix="Run `python -c 'import torch; print(torch.cuda.is_available())'` in this environment to see the "
        "full error, and `torchenv explain` it.",
    )


@check("cpu-only-build")
def check_cpu_only(facts: Facts, knowledge):
    torch = require_imported_torch(facts)
    if not known(torch.cuda):
        raise Skip("torch's CUDA version unknown")
    if torch.cuda is not None:
        return
    present = gpu_present(facts)
    hip = torch.hip if known(torch.hip) else None
    if present is None:
        raise Skip("whether this machine has an NVIDIA GPU is unknown")
    evidence = [f"torch {torch.version}: torch.version.cuda is None" + (f", built for ROCm {hip}" if hip else "")]
    if present:
        names = ", ".join(name for name, _ in gpu_ccs(facts, knowledge))
        evidence.append(f"NVIDIA GPU(s): {names or 'present (PCI bus)'}")
        yield Finding(
            id="cpu-only-build",
            category="cpu-only-build",
            severity=Severity.ERROR,
            layer="torch",
            title=f"torch {torch.version} is a {'ROCm' if hip else 'CPU-only'} build on a machine with an NVIDIA GPU",
            evidence=tuple(evidence),
            explanation="This build has no CUDA support, so it can never use the GPU. It is what plain "
            "`pip install torch` gives on Windows and macOS, and what a CPU index URL or a conda 'cpu' build gives.",
            fix=_reinstall_fix(facts, knowledge),
        )
    else:
        yield Finding(
            id="cpu-only-build-on-cpu-host",
            category="cpu-only-build",
            severity=Severity.INFO,
            layer="torch",
            title=f"torch {torch.version} is a CPU build, which is right for a machine without a GPU",
            evidence=tuple(evidence),
            explanation="Without an NVIDIA GPU a CPU build is the right choice (it is smaller and has no CUDA libraries).",
            fix=None,
        )


@check("driver-too-old")
def check_driver_too_old(facts: Facts, knowledge):
    torch = require_imported_torch(facts)
    if not known(torch.cuda) or torch.cuda is None:
        raise Skip("not a CUDA build of torch")
    if not known(facts.driver.version):
        raise Skip(f"driver version unknown: {facts.driver.version.reason}")
    support = installed_driver_support(facts, knowledge)
    if support is None or support.level not in (FULL, MINOR_COMPAT, TOO_OLD):
        raise Skip(f"no {support.table if support else 'known'} driver floor for CUDA {torch.cuda}")
    if support.level == FULL:
        return
    evidence = (
        f"torch {torch.version} was built with CUDA {torch.cuda}",
        f"driver {facts.driver.version} ({facts.driver.source})"
        + (" — the Windows driver, under WSL" if facts.host.wsl is True else ""),
        f"CUDA {support.cuda} needs {support.table} driver {support.floor_text} ({support.source.split(' ;')[0]})",
    )
    alternative = _keep_driver_alternative(facts, knowledge)
    upgrade_to = support.full_floor or support.needed
    if support.level == MINOR_COMPAT:
        yield Finding(
            id="driver-minor-version-compat",
            category="driver-too-old",
            severity=Severity.WARNING,
            layer="driver",
            title=f"Driver {facts.driver.version} runs CUDA {torch.cuda} only under minor-version compatibility",
            evidence=evidence,
            explanation="Within a CUDA major, an older driver runs newer-minor code, but PTX JIT is not "
            "available: kernels shipped only as PTX (new GPU architectures, torch.compile/triton output for "
            "new features) fail with 'the provided PTX was compiled with an unsupported toolchain'.",
            fix=f"Upgrade the driver to >= {upgrade_to}{alternative}.",
        )
        return
    available_false = known(torch.cuda_available) and torch.cuda_available is False
    yield Finding(
        id="driver-too-old",
        category="driver-too-old",
        severity=Severity.ERROR,
        layer="driver",
        title=f"Driver {facts.driver.version} is too old for torch's CUDA {torch.cuda}",
        evidence=evidence
        + ((support.reason,) if support.needs_ptx else ())
        + (
            (f"torch says: {torch.cuda_unavailable_reason}",)
            if available_false and torch.cuda_unavailable_reason
            else ()
        ),
        explanation="The CUDA runtime inside the torch wheel needs a newer kernel driver; CUDA initialisation "
        "fails with 'The NVIDIA driver on your system is too old' / 'CUDA driver version is insufficient'"
        + (
            ", and the GPU needs PTX JIT, which minor-version compatibility does not provide."
            if support.needs_ptx
            else "."
        ),
        fix=f"Upgrade the NVIDIA driver to >= {upgrade_to}{alternative}.",
    )


@check("gpu-arch-not-in-wheel")
def check_gpu_arch(facts: Facts, knowledge):
    torch = require_imported_torch(facts)
    if not known(torch.cuda) or torch.cuda is None:
        raise Skip("not a CUDA build of torch")
    arch_list = torch_arch_list(facts, knowledge)
    if not arch_list:
        raise Skip("torch's architecture list is unknown")
    ccs = gpu_ccs(facts, knowledge)
    if not ccs:
        raise Skip("no GPU compute capability known")
    for name, cc in ccs:
        code = gpu_code(arch_list, cc)
        if code.how not in (NONE, PTX_JIT):
            continue
        evidence = (
            f"{name}: compute capability {cc[0]}.{cc[1]} ({code.sm})",
            f"torch {torch.version} contains: {' '.join(arch_list)}",
        )
        fix = _reinstall_fix(facts, knowledge)
        if code.how == NONE:
            older = cc < min((_cc_of(a) for a in arch_list if _cc_of(a)), default=(0, 0))
            yield Finding(
                id="gpu-arch-not-in-wheel",
                category="gpu-arch-unsupported",
                severity=Severity.ERROR,
                layer="torch",
                title=f"{name} ({code.sm}) is not supported by this torch build",
                evidence=evidence,
                explanation=(
                    "This GPU's architecture was dropped from this build: kernels fail with "
                    "'no kernel image is available for execution on the device'."
                    if older
                    else "This GPU is newer than every architecture in the build, and the build carries no PTX "
                    "it could JIT-compile: kernels fail with 'no kernel image is available'."
                ),
                fix=fix,
            )
        else:
            yield Finding(
                id="gpu-arch-ptx-jit",
                category="gpu-arch-unsupported",
                severity=Severity.WARNING,
                layer="torch",
                title=f"{name} ({code.sm}) runs this build only through PTX JIT ({code.arch})",
                evidence=evidence,
                explanation="No machine code for this GPU: the driver JIT-compiles PTX at first use (minutes, "
                "cached in ~/.nv/ComputeCache), some kernels may be slower, and it fails on drivers older "
                "than the PTX's CUDA version.",
                fix=fix,
            )


def _cc_of(arch: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"(?:sm|compute)_(\d+?)(\d)[a-z]?", arch)
    return (int(match.group(1)), int(match.group(2))) if match else None


@check("cuda-unavailable")
def check_cuda_unavailable(facts: Facts, knowledge):
    torch = require_imported_torch(facts)
    if not known(torch.cuda_available) or torch.cuda_available or not known(torch.cuda) or torch.cuda is None:
        return
    if gpu_present(facts) is False:
        return
    yield Finding(
        id="cuda-unavailable",
        category="torch-broken",
        severity=Severity.ERROR,
        layer="torch",
        title="torch.cuda.is_available() is False",
        evidence=(
            f"torch {torch.version} (CUDA {torch.cuda})",
            f"torch says: {torch.cuda_unavailable_reason or 'nothing'}",
        ),
        explanation="This CUDA build cannot initialise CUDA. The findings in the driver and cuda layers name "
        "the cause where torchenv could establish it; torch's own message is above.",
        fix='Fix the causes listed above; if none is listed, run `python -c "import torch; torch.zeros(1).cuda()"` '
        "to see CUDA's own error, and `torchenv explain` it.",
    )


@check("torch-debug-build")
def check_debug(facts: Facts, knowledge):
    torch = require_imported_torch(facts)
    if torch.debug is not True:
        return
    yield Finding(
        id="torch-debug-build",
        category="performance",
        severity=Severity.WARNING,
        layer="torch",
        title="torch is a debug build",
        evidence=(f"torch {torch.version}: torch.version.debug is True",),
        explanation="Debug builds run many times slower than release builds.",
        fix=_reinstall_fix(facts, knowledge),
    )


@check("python-unsupported")
def check_python(facts: Facts, knowledge):
    """Python ↔ release, asked of the planner (platform-aware, free-threaded aware) like `torchenv plan`."""
    minor = python_minor(facts)
    if minor is None:
        raise Skip("the Python version is unknown")
    if not knowledge.torch_releases():
        raise Skip("no torch releases in the knowledge base")
    torch_ok = known(facts.torch) and facts.torch.status == "ok"
    if torch_ok:
        return  # torch runs here: whatever the tables say, this Python has a working torch
    here = target_from_facts(facts, knowledge)
    if any(is_jetson(g.name) for g in here.gpus):
        raise Skip("a Jetson board: its JetPack release fixes the Python (see the install fix)")
    supporting = [r for r in knowledge.torch_releases() if python_support(r, minor, here.os, here.arch)[0]]
    newest = knowledge.torch_releases()[-1]
    advised = plan_for(replace(here, python=None), knowledge, PlanRequest(companions=())).python or newest.python[-1]
    newest_pythons = python_support(newest, None, here.os, here.arch)[1]
    evidence = (
        f"Python {facts.python.version} at {facts.python.executable}",
        f"newest torch {newest.version} supports Python {', '.join(newest_pythons)} on {here.os}/{here.arch}",
    )
    if not supporting:
        too_new = version_tuple(minor) > max(version_tuple(p) for p in newest_pythons or newest.python)
        yield Finding(
            id="python-unsupported",
            category="python-unsupported",
            severity=Severity.ERROR,
            layer="environment",
            title=f"No torch release has wheels for Python {minor} on {here.os}/{here.arch}",
            evidence=evidence,
            explanation="pip will say 'No matching distribution found for torch'."
            + (" This Python is newer than any torch release." if too_new else " This Python is too old."),
            fix=f"Create an environment with a supported Python, e.g. `uv venv --python {advised}` "
            f"or `conda create -n torch python={advised}`.",
        )
    elif supporting[-1] is not newest:
        last = supporting[-1]
        yield Finding(
            id="python-too-old-for-current-torch",
            category="python-unsupported",
            severity=Severity.WARNING,
            layer="environment",
            title=f"Python {minor} stops at torch {last.version}",
            evidence=evidence,
            explanation=f"The newest torch for Python {minor} is {last.version}; newer releases need a newer Python.",
            fix=f"Use Python {advised} for current torch releases (what `torchenv plan` picks).",
        )
