"""Checks of what is installed beside torch: duplicates, companions, and CUDA libraries that collide."""

from __future__ import annotations

import os
import re

from ..model import Facts, Finding, Severity, known
from ..model.versions import cudnn_text
from .common import (
    base_version,
    pip_install,
    require_imported_torch,
    require_torch,
    torch_variant,
    version_tuple,
)
from .registry import Skip, check

CONDA_TORCH_NAMES = ("pytorch", "pytorch-gpu", "pytorch-cpu", "libtorch")


@check("duplicate-torch")
def check_duplicate_torch(facts: Facts, knowledge):
    if not known(facts.python) or not known(facts.python.distributions):
        raise Skip("installed distributions unknown")
    env = facts.python
    torches = [d for d in env.distributions if d.name == "torch"]
    conda = env.conda_packages if known(env.conda_packages) else ()
    conda_torch = [p for p in conda if p.name in CONDA_TORCH_NAMES]
    evidence = [
        f"torch {d.version} in {d.location} (installer: {d.installer if known(d.installer) else 'unknown'})"
        for d in torches
    ]
    evidence += [f"conda package {p.name} {p.version} ({p.build})" for p in conda_torch]
    pip_over_conda = bool(conda_torch) and any(known(d.installer) and d.installer != "conda" for d in torches)
    if len(torches) < 2 and not pip_over_conda:
        return
    winner = torches[0].location if torches else "?"
    if known(facts.torch) and known(facts.torch.location):
        winner = os.path.dirname(facts.torch.location)
    yield Finding(
        id="duplicate-torch",
        category="duplicate-install",
        severity=Severity.ERROR if len({d.version for d in torches}) > 1 or pip_over_conda else Severity.WARNING,
        layer="environment",
        title="torch is installed more than once in this environment",
        evidence=(*evidence, f"the one that imports: {winner}"),
        explanation="Two installs shadow each other: which one imports depends on sys.path order, pip and conda "
        "each believe their copy is installed, and upgrades or removals leave a mix of files from both.",
        fix=_duplicate_fix(facts, torches, conda_torch),
    )


def _duplicate_fix(facts: Facts, torches, conda_torch) -> str:
    uninstall = pip_install(facts, "torch").replace(" install ", " uninstall -y ")
    if conda_torch:
        names = " ".join(p.name for p in conda_torch)
        return (
            f"Keep one package manager for torch: `{uninstall}` (repeat until none is left), then either "
            f"`conda install --force-reinstall {names}` or `conda remove --force {names}` and reinstall with pip."
        )
    return (
        f"`{uninstall}` removes the copy that imports first; repeat until `import torch` fails, then install one build."
    )


_CUDA_WHEEL = re.compile(r"^nvidia-[a-z0-9-]+?-cu(\d+)$")


@check("mixed-cuda-wheels")
def check_mixed_cuda_wheels(facts: Facts, knowledge):
    """nvidia-*-cu11 beside nvidia-*-cu12 (or cu13): two CUDA majors' runtime libraries in one env."""
    if not known(facts.python) or not known(facts.python.distributions):
        raise Skip("installed distributions unknown")
    majors: dict[str, list[str]] = {}
    for dist in facts.python.distributions:
        match = _CUDA_WHEEL.match(dist.name)
        if match:
            majors.setdefault(match.group(1), []).append(f"{dist.name} {dist.version}")
    if len(majors) < 2:
        return
    yield Finding(
        id="mixed-cuda-wheels",
        category="duplicate-install",
        severity=Severity.WARNING,
        layer="cuda",
        title=f"CUDA runtime wheels of {len(majors)} CUDA majors are installed side by side ({', '.join('cu' + m for m in sorted(majors))})",
        evidence=tuple(name for names in majors.values() for name in sorted(names)),
        explanation="Each torch build needs the nvidia-* wheels of its own CUDA major. Leftovers of another major "
        "(from an earlier torch, or a package pinning other CUDA wheels) can be preloaded first: torch then loads "
        "the wrong libcudart/libcublas and fails with undefined symbols or 'CUDA driver version is insufficient'.",
        fix="Uninstall the wheels of the major your torch does not use, e.g. "
        f"`{pip_install(facts).replace(' install', ' uninstall -y')} "
        + " ".join(sorted({n.split()[0] for m, names in majors.items() for n in names if m == min(majors)}))
        + "`, then check with `torchenv doctor`.",
    )


@check("companion-mismatch")
def check_companions(facts: Facts, knowledge):
    torch = require_imported_torch(facts)
    if not known(torch.companions):
        raise Skip("torchvision/torchaudio were not probed")
    release = knowledge.torch_release(torch.version)
    variant = torch_variant(torch)
    for companion in torch.companions:
        expected = getattr(release, companion.name, None) if release else None
        if companion.import_error:
            yield Finding(
                id="companion-import-failed",
                category="companion-mismatch",
                severity=Severity.ERROR,
                layer="torch",
                title=f"{companion.name} fails to import beside torch {torch.version}",
                evidence=(companion.import_error.strip().splitlines()[-1][:400],),
                explanation=f"{companion.name} ships compiled operators built against one exact torch version; "
                "'operator torchvision::nms does not exist' or an undefined symbol means it was built for another.",
                fix=_companion_fix(facts, companion.name, expected, variant),
            )
            continue
        if companion.version is None:
            continue
        pinned = (companion.requires_torch or "").lstrip("=")
        if pinned and base_version(pinned) != base_version(torch.version):
            yield Finding(
                id="companion-built-for-other-torch",
                category="companion-mismatch",
                severity=Severity.ERROR,
                layer="torch",
                title=f"{companion.name} {companion.version} was built for torch {pinned}, not {base_version(torch.version)}",
                evidence=(
                    f"torch {torch.version}",
                    f"{companion.name} {companion.version} requires torch{companion.requires_torch}",
                ),
                explanation=f"{companion.name}'s compiled operators only load into the exact torch they were built "
                "for; with another one they fail ('operator torchvision::nms does not exist', undefined symbols).",
                fix=_companion_fix(facts, companion.name, expected, variant),
            )
            continue
        if expected is None:
            continue
        # A patch release of the companion for the same torch minor (torchaudio 2.11.1 for torch 2.11.x,
        # torchvision 0.29.2 beside 0.29.1) is built for the same torch: only another minor is a mismatch.
        if version_tuple(companion.version)[:2] != version_tuple(expected)[:2]:
            yield Finding(
                id="companion-version-mismatch",
                category="companion-mismatch",
                severity=Severity.WARNING,
                layer="torch",
                title=f"{companion.name} {companion.version} is not the release made for torch {base_version(torch.version)}",
                evidence=(f"torch {torch.version}", f"{companion.name} {companion.version}; expected {expected}"),
                explanation=f"Each torch release has exactly one matching {companion.name}; other pairs may "
                "fail to load their operators or misbehave.",
                fix=_companion_fix(facts, companion.name, expected, variant),
            )
        elif variant and "+" in companion.version and companion.version.split("+", 1)[1] != variant:
            yield Finding(
                id="companion-variant-mismatch",
                category="companion-mismatch",
                severity=Severity.WARNING,
                layer="torch",
                title=f"{companion.name} {companion.version} and torch {torch.version} are different builds",
                evidence=(f"torch variant {variant}", f"{companion.name} variant {companion.version.split('+', 1)[1]}"),
                explanation="Mixing CUDA variants loads two sets of CUDA libraries or none for the companion's kernels.",
                fix=_companion_fix(facts, companion.name, expected, variant),
            )


def _companion_fix(facts: Facts, name: str, expected: str | None, variant: str | None) -> str:
    requirement = f"{name}=={expected}" if expected else name
    index = f"https://download.pytorch.org/whl/{variant}" if variant else None
    return pip_install(facts, requirement, index_url=index, extra="--force-reinstall --no-deps")


def _loaded(torch, name: str):
    if not known(torch.loaded_libraries):
        return []
    return [lib for lib in torch.loaded_libraries if lib.name == name]


def _ld_library_path_entry(lib, facts: Facts, ld_dirs: list[str]) -> str | None:
    """The LD_LIBRARY_PATH entry a mapped library came from. The mapped path is the file's real path,
    the entry as the user wrote it may be a symlink (/lib -> /usr/lib, /usr/local/cuda -> cuda-13.0):
    the system probe's listing of the LD_LIBRARY_PATH folders (same library, same version) decides then."""
    direct = next((d for d in ld_dirs if lib.path.startswith(d + "/")), None)
    if direct or not known(facts.system_libraries) or not known(lib.version):
        return direct
    for listed in facts.system_libraries:
        # cuDNN 9's sub-libraries (libcudnn_graph, libcudnn_engines_*) sit beside libcudnn in the same folder
        same_family = listed.name == lib.name or lib.name.startswith(listed.name + "_")
        if listed.via == "LD_LIBRARY_PATH" and same_family and listed.version == lib.version:
            return os.path.dirname(listed.path).rstrip("/")
    return None


_LIBRARY_FILE = re.compile(r"(lib[A-Za-z0-9_+-]+\.so(?:\.[0-9]+)*)")


def _import_broken_by_ld_library_path(facts: Facts, torch):
    """`import torch` failed naming a library file that an LD_LIBRARY_PATH folder holds (a bogus or
    foreign libcudart.so.12 found before the wheel's): the folder is the cause, not torch."""
    if torch.status != "import-error" or not torch.error or not known(facts.system_libraries):
        return
    named = set(_LIBRARY_FILE.findall(torch.error))
    culprits = [
        lib for lib in facts.system_libraries if lib.via == "LD_LIBRARY_PATH" and os.path.basename(lib.path) in named
    ]
    if not culprits:
        return
    folders = sorted({os.path.dirname(lib.path).rstrip("/") or "/" for lib in culprits})
    names = ", ".join(sorted({os.path.basename(lib.path) for lib in culprits}))
    yield Finding(
        id="library-shadowed",
        category="library-conflict",
        severity=Severity.ERROR,
        layer="cuda",
        title=f"LD_LIBRARY_PATH puts {names} from {', '.join(folders)} before torch's own: import torch fails",
        evidence=(
            torch.error.strip().splitlines()[-1][:400],
            *(f"LD_LIBRARY_PATH holds {lib.path}" for lib in culprits),
            f"LD_LIBRARY_PATH={facts.environment.get('LD_LIBRARY_PATH', '')}",
        ),
        explanation="The dynamic loader searches LD_LIBRARY_PATH before the folders torch's wheels bring, so a "
        "library of the same name there (another CUDA version, a broken or foreign file) is loaded instead and "
        "the import fails. Reinstalling torch does not help while the variable is set.",
        fix=f"Remove {', '.join(folders)} from LD_LIBRARY_PATH for Python jobs (e.g. `env -u LD_LIBRARY_PATH python ...`), "
        f"or remove the stray {names} from it.",
    )


@check("library-shadowed")
def check_library_shadowed(facts: Facts, knowledge):
    """CUDA libraries torch mapped from a system path although a wheel of its own provides them."""
    torch = require_torch(facts)
    if not known(torch.version):
        found = list(_import_broken_by_ld_library_path(facts, torch))
        if not found:
            raise Skip("torch did not import")
        yield from found
        return
    if not known(torch.loaded_libraries):
        raise Skip("loaded libraries unknown")
    dists = facts.python.distributions if known(facts.python) and known(facts.python.distributions) else ()
    wheel_names = {d.name for d in dists}
    ld_dirs = [d.rstrip("/") for d in facts.environment.get("LD_LIBRARY_PATH", "").split(":") if d]
    shadowed: dict[str, list] = {}
    for lib in torch.loaded_libraries:
        if lib.owner != "system" or lib.name in ("libcuda", "libnvidia-ml"):
            continue  # libcuda belongs to the driver: system is right
        provider = _wheel_providing(lib.name, wheel_names)
        if provider is not None:
            shadowed.setdefault(provider, []).append(lib)
    for provider, libs in shadowed.items():
        via_ld = next((e for lib in libs if (e := _ld_library_path_entry(lib, facts, ld_dirs))), None)
        names = ", ".join(sorted({lib.name for lib in libs}))
        yield Finding(
            id="library-shadowed",
            category="library-conflict",
            severity=Severity.WARNING,
            layer="cudnn" if provider.startswith("nvidia-cudnn") else "cuda",
            title=f"torch loaded the system's {names} instead of the copy from {provider}",
            evidence=(
                *(f"mapped: {lib.path}" + (f" (version {lib.version})" if known(lib.version) else "") for lib in libs),
                f"installed but bypassed: {provider}",
                *((f"LD_LIBRARY_PATH puts {via_ld} first",) if via_ld else ()),
            ),
            explanation="The wheel was tested with its own copy; a different system version (or a mix of both, "
            "as cuDNN 9 loads its sub-libraries by name) fails with undefined symbols, 'cuDNN version "
            "incompatibility', CUDNN_STATUS_* errors or different numerics.",
            fix=(
                f"Remove {via_ld} from LD_LIBRARY_PATH for Python jobs (e.g. `env -u LD_LIBRARY_PATH python ...`)."
                if via_ld
                else f"Make sure {provider} is intact: {pip_install(facts, provider, extra='--force-reinstall --no-deps')}"
            ),
        )


def _wheel_providing(library: str, wheel_names: set[str]) -> str | None:
    stems = {
        "libcudnn": "nvidia-cudnn",
        "libcublas": "nvidia-cublas",
        "libcublasLt": "nvidia-cublas",
        "libcudart": "nvidia-cuda-runtime",
        "libnccl": "nvidia-nccl",
        "libnvrtc": "nvidia-cuda-nvrtc",
    }
    prefix = stems.get(library) or ("nvidia-cudnn" if library.startswith("libcudnn_") else None)
    if prefix is None:
        return None
    return next((name for name in sorted(wheel_names) if name.startswith(prefix)), None)


@check("system-cudnn-differs")
def check_system_cudnn(facts: Facts, knowledge):
    torch = require_imported_torch(facts)
    if not known(torch.cudnn_version) or not torch.cudnn_version:
        raise Skip("torch reported no cuDNN version")
    if not known(facts.system_libraries):
        raise Skip("system libraries unknown")
    loaded = _cudnn_text(torch.cudnn_version)
    system = sorted({lib.version for lib in facts.system_libraries if lib.name == "libcudnn" and known(lib.version)})
    differing = [
        v for v in system if version_tuple(v)[: len(version_tuple(v))] != version_tuple(loaded)[: len(version_tuple(v))]
    ]
    if not differing:
        return
    paths = [lib.path for lib in facts.system_libraries if lib.name == "libcudnn" and lib.version in differing]
    yield Finding(
        id="system-cudnn-differs",
        category="library-conflict",
        severity=Severity.INFO,
        layer="cudnn",
        title=f"torch runs cuDNN {loaded}; a different system cuDNN {', '.join(differing)} is also installed",
        evidence=(
            f"torch.backends.cudnn.version() = {torch.cudnn_version} (cuDNN {loaded})",
            *(f"system: {p}" for p in paths[:4]),
        ),
        explanation="Harmless while torch loads its own copy (library-shadowed says when it does not). "
        "Tools that read the system copy, such as "
        "`python -m torch.utils.collect_env`, report the system version instead; and a LD_LIBRARY_PATH change "
        "could make torch load it.",
        fix=None,
    )


def _cudnn_fix(facts: Facts, torch) -> str:
    system = [lib for lib in _loaded(torch, "libcudnn") if lib.owner == "system"]
    if system or facts.environment.get("LD_LIBRARY_PATH"):
        return (
            "Let torch load the cuDNN from its wheel: drop the system library folders from LD_LIBRARY_PATH "
            "for Python (`env -u LD_LIBRARY_PATH python ...`)."
        )
    return pip_install(facts, "torch", extra="--force-reinstall")


def _cudnn_text(version: int) -> str:
    return cudnn_text(version) or str(version)


@check("cudnn-unavailable")
def check_cudnn(facts: Facts, knowledge):
    torch = require_torch(facts)
    if not known(torch.cuda) or torch.cuda is None or torch.cuda_available is not True:
        raise Skip("CUDA is not available to torch")
    if torch.cudnn_enabled is False and not torch.cudnn_error:
        yield Finding(
            id="cudnn-disabled",
            category="performance",
            severity=Severity.WARNING,
            layer="cudnn",
            title="cuDNN is disabled (torch.backends.cudnn.enabled is False)",
            evidence=("torch.backends.cudnn.enabled = False at import",),
            explanation="Convolutions and RNNs fall back to much slower native kernels.",
            fix="Remove the code or sitecustomize that sets `torch.backends.cudnn.enabled = False`.",
        )
    elif known(torch.cudnn_version) and torch.cudnn_version is None:
        yield Finding(
            id="cudnn-not-loadable",
            category="library-conflict",
            severity=Severity.ERROR,
            layer="cudnn",
            title="torch cannot load cuDNN",
            evidence=(
                "torch.backends.cudnn.version() gave no version on a CUDA build",
                *((torch.cudnn_error.splitlines()[0][:400],) if torch.cudnn_error else ()),
                *(f"mapped: {lib.path} ({lib.owner})" for lib in _loaded(torch, "libcudnn")),
            ),
            explanation="The cuDNN torch depends on is missing, failed to load, or is a version torch refuses "
            "(an older system cuDNN found first through LD_LIBRARY_PATH); convolutions fall back or fail.",
            fix=_cudnn_fix(facts, torch),
        )
