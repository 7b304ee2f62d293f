"""`plan_for`: the torch build for a target, and why (pure: target + knowledge + request -> Plan).

Every (release, variant) the knowledge base records is a candidate. A candidate passes through
ordered stages — the user's pins, the platform, Python, the GPU's architecture, the driver — and
each stage either keeps it (possibly with a caveat) or records why not. The best surviving candidate
is the plan: first the ones whose GPU code runs without PTX JIT, then the newest torch, then full
driver support over minor-version compatibility, then the newest CUDA. When nothing survives, the
first stage that emptied the field says what cannot be met, and relaxing one constraint at a time
gives the nearest plans that can.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from ..compat.driver import FULL, MINOR_COMPAT, driver_support
from ..compat.gpu import NONE, PTX_JIT, driver_drives_gpu, gpu_code
from ..compat.platform import (
    PYPI_INDEX,
    index_url_for,
    is_jetson,
    platform_rule,
    pypi_default_variant,
    python_support,
    pythons_for,
    variants_on,
)
from ..model import Facts
from ..model.plan import DriverUpgrade, Option, Plan, PlanRequest, Target
from ..model.versions import cuda_of_variant
from ..model.versions import version_numbers as _numbers
from .target import PlanInputError, target_from_facts

STAGES = ("pin", "platform", "python", "variant", "gpu", "driver")
# Jetson Thor (cc 11.0, 10.1 before CUDA 13 renumbered it) runs the standard aarch64 (SBSA) CUDA 13 wheels.
_SBSA_JETSON_CCS = ((11, 0), (10, 1))
_SUPPORT_RANK = {"full": 0, "unknown-driver": 0, "none": 0, "minor-version-compat": 1}


def parse_torch_pin(text: str | None) -> SpecifierSet | None:
    """ "2.7" -> ==2.7.*, "2.7.1" -> ==2.7.1, ">=2.4,<2.6" as written."""
    if text is None or not text.strip():
        return None
    raw = text.strip().removeprefix("torch").strip()
    try:
        if raw[0].isdigit():
            Version(raw)
            parts = raw.split(".")
            return SpecifierSet(f"=={raw}.*" if len(parts) == 2 else f"=={raw}")
        return SpecifierSet(raw)
    except (InvalidSpecifier, InvalidVersion, IndexError):
        raise PlanInputError(f"--torch {text!r}: expected a version (2.7, 2.7.1) or a specifier (>=2.4,<2.6)") from None


def _span(values: tuple[str, ...] | list[str]) -> str:
    values = sorted(set(values), key=_numbers)
    if not values:
        return "none"
    return values[0] if len(values) == 1 else f"{values[0]}–{values[-1]}"


def _gpu_label(name: str, cc: tuple[int, int] | None) -> str:
    return f"{name} (cc {cc[0]}.{cc[1]})" if cc else name


@dataclass
class Candidate:
    release: object  # TorchRelease
    variant: str
    python: str | None = None
    problems: dict[str, str] = field(default_factory=dict)  # stage -> why not
    tier: int = 0  # 0: native code; 1: PTX JIT or unchecked arch list
    support: str = "none"
    min_driver: str | None = None
    full_driver: str | None = None
    gpu_code: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    needs_ptx: bool = False
    support_reason: str = ""

    @property
    def version(self) -> Version:
        return Version(self.release.version)

    @property
    def cuda(self) -> str | None:
        return cuda_of_variant(self.variant)

    def ok_through(self, stage: str) -> bool:
        last = STAGES.index(stage)
        return not any(s in self.problems for s in STAGES[: last + 1])

    @property
    def ok(self) -> bool:
        return not self.problems


def _default_python(supported: tuple[str, ...]) -> str:
    ordered = sorted(supported, key=_numbers)
    return ordered[-2] if len(ordered) >= 2 else ordered[-1]


class _Planner:
    def __init__(self, knowledge, target: Target, request: PlanRequest):
        self.k = knowledge
        self.target = target
        self.request = request
        self.pin = parse_torch_pin(request.torch)
        self.gpu_target = bool(target.gpus) or target.driver is not None
        self.variant_pin = request.variant.strip().lower() if request.variant else None
        if self.variant_pin and self.variant_pin.startswith("+"):
            self.variant_pin = self.variant_pin[1:]
        self.gpu_driver_problem = self._gpu_driver_problem()

    def _gpu_driver_problem(self) -> str | None:
        """A driver outside a GPU generation's branch range drives no CUDA build at all."""
        for gpu in self.target.gpus:
            if gpu.cc is None or self.target.driver is None or is_jetson(gpu.name):
                continue
            verdict = driver_drives_gpu(self.k, self.target.driver, gpu.cc)
            if not verdict.drives:
                return f"{_gpu_label(gpu.name, gpu.cc)}: {verdict.reason}"
        return None

    # ------------------------------------------------------------------ candidates
    def candidates(self) -> list[Candidate]:
        out = []
        t = self.target
        for release in reversed(self.k.torch_releases()):
            variants = variants_on(release, t.os, t.arch)
            if not variants:
                # keep one marker candidate so the platform stage can explain the gap
                out.append(Candidate(release, "cpu", problems={"platform": self._no_platform(release)}))
                if self.pin is not None and not self.pin.contains(Version(release.version), prereleases=True):
                    out[-1].problems["pin"] = "pin"
                continue
            for variant in variants:
                out.append(self._evaluate(release, variant))
        return out

    def _no_platform(self, release) -> str:
        t = self.target
        if t.os == "macos" and t.arch == "x86_64":
            return f"torch {release.version} has no macOS x86_64 (Intel) build: the last one is torch 2.2.2"
        return f"torch {release.version} publishes no build for {t.os}/{t.arch}"

    def _evaluate(self, release, variant: str) -> Candidate:
        c = Candidate(release, variant)
        t = self.target
        if self.pin is not None and not self.pin.contains(Version(release.version), prereleases=True):
            c.problems["pin"] = f"torch {release.version} is outside --torch {self.request.torch}"
        supported = pythons_for(release, t.os, t.arch)
        if t.python:
            c.python = t.python
            fits, have = python_support(release, t.python, t.os, t.arch)
            if not fits:
                kind = "free-threaded " if t.python.endswith("t") else ""
                c.problems["python"] = (
                    f"torch {release.version} has no {t.os}/{t.arch} wheels for {kind}Python {t.python} "
                    f"(it has {_span(have) if have else 'none'}{' of that kind' if kind else ''})"
                )
        else:
            c.python = _default_python(supported)
        if self.variant_pin and variant != self.variant_pin:
            c.problems["variant"] = f"--variant {self.variant_pin} asked for"
        self._check_gpu(c)
        if "gpu" not in c.problems:
            self._check_driver(c)
        return c

    def _check_gpu(self, c: Candidate) -> None:
        t = self.target
        if c.variant in ("cpu", "mps"):
            if self.gpu_target and self.variant_pin != c.variant:
                c.problems["gpu"] = "a CPU-only build leaves the NVIDIA GPU unused"
            return
        if not self.gpu_target and self.variant_pin != c.variant:
            c.problems["gpu"] = "no NVIDIA GPU on the target: a CUDA build would be dead weight"
            return
        arches = self.k.wheel_arches(c.release.version, c.variant, t.arch)
        assumed = arches is None and t.arch == "aarch64"
        if assumed:  # no aarch64 row: the x86_64 wheel's list stands in, and the plan says so
            arches = self.k.wheel_arches(c.release.version, c.variant)
        seen = set()
        for gpu in t.gpus:
            key = (gpu.name, gpu.cc)
            if key in seen:
                continue
            seen.add(key)
            if gpu.cc is None:
                c.tier = max(c.tier, 1)
                c.warnings.append(f"{gpu.name}: compute capability unknown, so the wheel's GPU code was not checked")
                continue
            if arches is None:
                c.tier = max(c.tier, 1)
                c.warnings.append(
                    f"the arch list of torch {c.release.version}+{c.variant} is not recorded: "
                    f"{_gpu_label(gpu.name, gpu.cc)} not checked"
                )
                continue
            sm = f"sm_{gpu.cc[0]}{gpu.cc[1]}"
            code = gpu_code(arches, gpu.cc)
            if code.how == NONE:
                c.problems["gpu"] = (
                    f"torch {c.release.version}+{c.variant} carries no code for {_gpu_label(gpu.name, gpu.cc)}: "
                    f"it has {' '.join(arches)}, and SASS runs only within one major version ({sm} needs "
                    f"sm_{gpu.cc[0]}x with x <= {gpu.cc[1]}, or PTX for an older arch)"
                )
                return
            if code.how == PTX_JIT:
                c.tier = max(c.tier, 1)
                c.needs_ptx = True
                c.gpu_code.append(f"{gpu.name}: no {sm}-compatible SASS; the driver JIT-compiles PTX {code.arch}")
                c.warnings.append(
                    f"{gpu.name} runs torch {c.release.version}+{c.variant} only through PTX JIT ({code.arch}): "
                    "the first launch of each kernel compiles (minutes of start-up, cached in ~/.nv/ComputeCache), "
                    "some kernels may be slower, and the driver must fully support the wheel's CUDA"
                )
            else:
                how = "exact match" if code.how == "native" else "binary-compatible within the major version"
                c.gpu_code.append(f"{_gpu_label(gpu.name, gpu.cc)}: {code.arch} SASS in the wheel ({how})")
        if assumed and t.gpus:
            c.warnings.append(
                "the arch list recorded for this variant is the Linux x86_64 wheel's; aarch64 (SBSA) builds are "
                "assumed to match"
            )

    def _check_driver(self, c: Candidate) -> None:
        cuda = c.cuda
        if cuda is None:
            c.support = "none"
            return
        t = self.target
        if self.gpu_driver_problem:
            c.problems["driver"] = self.gpu_driver_problem
            return
        support = driver_support(self.k, cuda, t.driver, os=t.os, wsl=t.wsl, needs_ptx=c.needs_ptx)
        c.full_driver = support.full_floor or support.minor_floor
        c.min_driver = support.needed
        c.support_reason = support.reason
        if support.level == FULL:
            c.support = "full"
        elif support.level == MINOR_COMPAT:
            c.support = "minor-version-compat"
            c.warnings.append(f"{support.reason}; CUDA features that need a newer driver are unavailable")
        elif support.level == "unknown":
            c.support = "unknown-driver"
            if support.needed is None:
                c.tier = max(c.tier, 1)
                c.warnings.append(support.reason)
        else:
            c.problems["driver"] = support.reason

    # ------------------------------------------------------------------ choosing
    def _key(self, c: Candidate):
        default = pypi_default_variant(c.release, self.target.os, self.target.arch)
        prefer_default = 0 if (c.support == "unknown-driver" and c.variant == default) else 1
        newest_first = tuple(-n for n in (*c.version.release, 0, 0)[:3])
        newest_cuda = tuple(-n for n in _numbers(c.cuda or "0"))
        return (c.tier, newest_first, _SUPPORT_RANK.get(c.support, 2), prefer_default, newest_cuda)

    def best(self, cands: list[Candidate]) -> Candidate | None:
        viable = [c for c in cands if c.ok]
        return min(viable, key=self._key) if viable else None


def _index(plan_request: PlanRequest, variant: str, os: str) -> str:
    return plan_request.index_url or index_url_for(variant, os)


def _option(c: Candidate, request: PlanRequest, os: str, trade_off: str) -> Option:
    return Option(
        torch=c.release.version,
        variant=c.variant,
        index_url=_index(request, c.variant, os),
        python=c.python or "",
        cuda=c.cuda,
        min_driver=c.min_driver,
        trade_off=trade_off,
    )


def plan_for(target: Target | Facts, knowledge, request: PlanRequest | None = None) -> Plan:
    """Decide the torch build for `target` under `request` (pins), with reasons and alternatives."""
    request = request or PlanRequest()
    if isinstance(target, Facts):
        target = target_from_facts(target, knowledge)
    planner = _Planner(knowledge, target, request)
    jetsons = [g for g in target.gpus if is_jetson(g.name) and g.cc not in _SBSA_JETSON_CCS]
    if jetsons:
        from .jetson import plan_jetson

        return plan_jetson(planner, jetsons)
    cands = planner.candidates()
    chosen = planner.best(cands)
    if chosen is None:
        return _impossible(planner, cands)
    return _build_plan(planner, cands, chosen)


# ---------------------------------------------------------------------- a plan that can be met
def _build_plan(p: _Planner, cands: list[Candidate], c: Candidate) -> Plan:
    t, req, k = p.target, p.request, p.k
    release = c.release
    reasons: list[str] = []
    warnings: list[str] = list(t.notes)
    pinned = f" matching --torch {req.torch}" if req.torch else ""
    newer = [x for x in cands if x.version > c.version and x.ok_through("python") and "platform" not in x.problems]
    if newer:
        blocker = _first_blocker(newer)
        reasons.append(f"torch {release.version} is the newest release{pinned} that fits; newer ones do not: {blocker}")
    else:
        reasons.append(f"torch {release.version} is the newest release{pinned} in knowledge {k.version}")
    if t.python:
        whose = "this machine's interpreter" if t.origin == "this machine" else "as given"
        reasons.append(
            f"Python {c.python}: {whose}; torch {release.version} supports {_span(pythons_for(release, t.os, t.arch))}"
        )
    else:
        reasons.append(
            f"Python {c.python}: the newest but one that torch {release.version} supports on {t.os} "
            f"({_span(pythons_for(release, t.os, t.arch))}); the newest often lacks other packages' wheels"
        )
    default = pypi_default_variant(release, t.os, t.arch)
    if c.variant == "mps":
        reasons.append(
            "macOS arm64: the PyPI build, with the MPS (Metal) backend for Apple-silicon GPUs; macOS has no CUDA"
        )
    elif c.variant == "cpu":
        if t.os == "macos":
            reasons.append("macOS x86_64: the PyPI CPU build (no CUDA on macOS)")
        elif p.variant_pin == "cpu":
            reasons.append("cpu: as asked with --variant cpu")
        else:
            reasons.append("cpu: the target has no NVIDIA GPU; the CPU build avoids gigabytes of CUDA libraries")
    else:
        cuda = c.cuda
        if c.support == "full":
            reasons.append(f"{c.variant}: {c.support_reason}")
        elif c.support == "minor-version-compat":
            reasons.append(
                f"{c.variant}: CUDA {cuda} runs on driver {t.driver} under minor-version compatibility "
                f"(>= {c.min_driver}); no variant of torch {release.version} is fully supported by this driver"
            )
        else:
            reasons.append(
                f"{c.variant}: driver not known, so {'the PyPI default CUDA build' if c.variant == default else 'the newest CUDA build that fits the GPU'}"
                f" was chosen; it needs driver >= {c.min_driver}"
                + (f" (>= {c.full_driver} for full support)" if c.full_driver and c.full_driver != c.min_driver else "")
            )
            if t.gpus or t.driver:
                warnings.append(
                    f"driver version not given: install or keep an NVIDIA driver >= {c.full_driver or c.min_driver}"
                )
        reasons.extend(c.gpu_code)
    index = _index(req, c.variant, t.os)
    if req.index_url:
        reasons.append(f"index {index}: as given with --index-url (it must serve the {c.variant} build)")
    elif index == PYPI_INDEX:
        reasons.append("index: PyPI, the default")
    else:
        same = (
            " (PyPI's default build there is the same, but the explicit index pins the variant)"
            if default == c.variant
            else (f" (PyPI's default build there is {default})" if default else "")
        )
        reasons.append(f"index {index}: serves exactly the {c.variant} build{same}")
    torchaudio = release.torchaudio
    for name, version in (("torchvision", release.torchvision), ("torchaudio", torchaudio)):
        if name in req.companions and version is None:
            warnings.append(f"no {name} release on PyPI is built for torch {release.version}: it is left out")
    warnings.extend(w for w in c.warnings if w not in warnings)
    if release.confidence == "inferred":
        warnings.append(
            f"some fields of torch {release.version}'s knowledge row are inferred, not read from a primary source"
        )
    alternatives = _alternatives(p, cands, c)
    upgrade = _driver_upgrade(p, c)
    return Plan(
        ok=True,
        torch=release.version,
        torchvision=release.torchvision if "torchvision" in req.companions else None,
        torchaudio=torchaudio if "torchaudio" in req.companions else None,
        variant=c.variant,
        index_url=index,
        python=c.python,
        cuda=c.cuda,
        min_driver=c.min_driver,
        driver_support=None if c.cuda is None else c.support,
        gpu_code=tuple(c.gpu_code),
        reasons=tuple(reasons),
        warnings=tuple(warnings),
        alternatives=tuple(alternatives),
        driver_upgrade=upgrade,
        unmet=(),
        nearest=(),
        target=t,
        request=req,
        knowledge_version=k.version,
    )


def _first_blocker(newer: list[Candidate]) -> str:
    newest = max(newer, key=lambda x: x.version)
    same = [x for x in newer if x.version == newest.version]
    for stage in STAGES:
        msgs = [x.problems[stage] for x in same if stage in x.problems]
        if msgs:
            cuda_msgs = [m for m, x in zip(msgs, [x for x in same if stage in x.problems], strict=False) if x.cuda]
            return (cuda_msgs or msgs)[-1]
    if any(x.tier > 0 for x in same):
        return f"torch {newest.version} would need PTX JIT on this GPU"
    return "see alternatives"


def _alternatives(p: _Planner, cands: list[Candidate], c: Candidate) -> list[Option]:
    t, req = p.target, p.request
    out: list[Option] = []
    seen = {(c.release.version, c.variant, _index(req, c.variant, t.os))}

    def add(x: Candidate, text: str, index: str | None = None) -> None:
        opt = _option(x, req, t.os, text)
        if index:
            opt = replace(opt, index_url=index)
        key = (opt.torch, opt.variant, opt.index_url)
        if key not in seen and len(out) < 6:
            seen.add(key)
            out.append(opt)

    same = sorted((x for x in cands if x.ok and x.release is c.release and x.variant != c.variant), key=p._key)
    for x in same:
        if x.cuda and c.cuda:
            older = _numbers(x.cuda) < _numbers(c.cuda)
            text = (
                f"CUDA {x.cuda} instead of {c.cuda}: "
                + (
                    f"runs on older drivers (>= {x.min_driver}) but"
                    if older
                    else f"newer CUDA libraries, needs driver >= {x.min_driver}"
                )
                + (" older CUDA libraries" if older else "")
                + ("" if x.support != "minor-version-compat" else "; under minor-version compatibility on this driver")
            )
            add(x, text)
        elif x.cuda:
            add(x, f"CUDA {x.cuda} build: only useful with an NVIDIA GPU (driver >= {x.min_driver})")
    # the same build from PyPI's default index, when PyPI's default is this variant
    default = pypi_default_variant(c.release, t.os, t.arch)
    if not req.index_url and default == c.variant and _index(req, c.variant, t.os) != PYPI_INDEX:
        add(
            c,
            "the same build from PyPI's default index: no --index-url, but a later PyPI default may change",
            PYPI_INDEX,
        )
    if c.support == "minor-version-compat":
        full = [x for x in cands if x.ok and x.support == "full"]
        if full:
            x = min(full, key=p._key)
            add(
                x,
                f"torch {x.release.version}: older, but fully supported by driver {t.driver} (no minor-version-compatibility caveats)",
            )
    if c.tier > 0:
        native = [x for x in cands if x.ok_through("gpu") and x.tier == 0 and "driver" not in x.problems]
        if native:
            x = min(native, key=p._key)
            add(x, f"torch {x.release.version}: native GPU code instead of PTX JIT")
    if c.cuda:
        cpu = [x for x in cands if x.variant == "cpu" and x.release is c.release and x.ok_through("python")]
        for x in cpu:
            add(x, "CPU-only build: small download, no GPU acceleration")
    # the newest torch for the previous (or given) Python line
    if not t.python:
        older_py = [x for x in cands if x.ok and x.release is c.release and x.variant == c.variant]
        for x in older_py:
            supported = sorted(pythons_for(x.release, t.os, t.arch), key=_numbers)
            if supported and supported[-1] != x.python:
                add(
                    replace(x, python=supported[-1]),
                    f"Python {supported[-1]}: the newest torch {x.release.version} supports; fewer third-party wheels yet",
                )
    return out


def _driver_upgrade(p: _Planner, c: Candidate) -> DriverUpgrade | None:
    t = p.target
    if not t.gpus and t.driver is None:
        return None
    if t.driver is None:
        return None
    free = _Planner(p.k, replace(t, driver=None), p.request)
    best = free.best(free.candidates())
    if best is None or best.cuda is None:
        return None
    # with no driver limit, prefer the newest CUDA of the best release
    same = [
        x
        for x in free.candidates()
        if x.ok and x.release.version == best.release.version and x.tier == best.tier and x.cuda
    ]
    top = max(same, key=lambda x: _numbers(x.cuda)) if same else best
    gains = []
    if top.version > c.version:
        gains.append(f"torch {top.release.version} instead of {c.release.version}")
    if c.cuda is None or _numbers(top.cuda) > _numbers(c.cuda):
        gains.append(f"CUDA {top.cuda} instead of {c.cuda or 'no CUDA'}")
    if c.support == "minor-version-compat":
        gains.append("full driver support instead of minor-version compatibility (PTX JIT, newer CUDA features)")
    if c.tier > top.tier:
        gains.append("native GPU code instead of PTX JIT")
    if not gains:
        return None
    need = top.full_driver or top.min_driver
    if need and _numbers(t.driver) >= _numbers(need):
        return None
    return DriverUpgrade(min_driver=need or "", torch=top.release.version, variant=top.variant, gain="; ".join(gains))


# ---------------------------------------------------------------------- a request that cannot be met
def _impossible(p: _Planner, cands: list[Candidate]) -> Plan:
    t, req, k = p.target, p.request, p.k
    unmet: list[str] = []
    for stage in STAGES:
        passing = [x for x in cands if x.ok_through(stage)]
        if passing:
            continue
        before = [x for x in cands if stage == STAGES[0] or x.ok_through(STAGES[STAGES.index(stage) - 1])]
        unmet.extend(_explain(p, stage, before))
        break
    nearest: list[Option] = []
    seen = set()

    def relax(text: str, **changes) -> None:
        tgt = replace(t, **{k2: v for k2, v in changes.items() if k2 in ("python", "driver", "gpus")})
        rq = replace(req, **{k2: v for k2, v in changes.items() if k2 in ("torch", "variant")})
        sub = _Planner(k, tgt, rq)
        best = sub.best(sub.candidates())
        if best is None:
            return
        key = (best.release.version, best.variant, best.python)
        if key in seen:
            return
        seen.add(key)
        nearest.append(_option(best, rq, t.os, text.format(c=best)))

    if req.torch:
        relax("drop the --torch pin: torch {c.release.version} fits everything else", torch=None)
    if t.python:
        relax("use Python {c.python} (torch {c.release.version} has wheels for it)", python=None)
    if t.driver:
        relax(
            "upgrade the driver to >= {c.min_driver} (>= {c.full_driver} for full support): torch {c.release.version}+{c.variant}",
            driver=None,
        )
    if p.variant_pin:
        relax("drop --variant: torch {c.release.version}+{c.variant}", variant=None)
    if t.python and req.torch:
        relax(
            "drop the --torch pin and the Python version: torch {c.release.version} on Python {c.python}",
            torch=None,
            python=None,
        )
    if t.gpus or t.driver:
        relax("CPU-only build (the GPU stays unused): torch {c.release.version}", variant="cpu")
    return impossible_plan(
        t, req, k.version, unmet or ["no torch build in the knowledge base fits this request"], nearest
    )


def impossible_plan(target: Target, request: PlanRequest, knowledge_version: str, unmet, nearest) -> Plan:
    """A plan that cannot be met: what cannot be, and the nearest plans that can."""
    return Plan(
        ok=False,
        torch=None,
        torchvision=None,
        torchaudio=None,
        variant=None,
        index_url=None,
        python=target.python,
        cuda=None,
        min_driver=None,
        driver_support=None,
        gpu_code=(),
        reasons=(),
        warnings=tuple(target.notes),
        alternatives=(),
        driver_upgrade=None,
        unmet=tuple(unmet),
        nearest=tuple(nearest),
        target=target,
        request=request,
        knowledge_version=knowledge_version,
    )


def _explain(p: _Planner, stage: str, before: list[Candidate]) -> list[str]:
    t, req = p.target, p.request
    releases = sorted({x.release.version for x in before}, key=Version)
    if stage == "pin":
        all_versions = [r.version for r in p.k.torch_releases()]
        return [
            f"no torch release matches --torch {req.torch} (knowledge {p.k.version} has {all_versions[0]} … {all_versions[-1]})"
        ]
    if stage == "platform":
        msgs = sorted({x.problems["platform"] for x in before if "platform" in x.problems})
        return msgs[-1:] if msgs else [f"no torch build for {t.os}/{t.arch}"]
    if stage == "python":
        pins = f"torch {_span(releases)}" if req.torch else "any torch release in the knowledge base"
        supported: set[str] = set()
        for x in before:
            supported.update(pythons_for(x.release, t.os, t.arch))
        return [
            f"{pins} has no wheels for Python {t.python} on {t.os}/{t.arch} (they support {_span(tuple(supported))})"
        ]
    if stage == "variant":
        have = sorted({x.variant for x in before}, key=lambda v: (v[:2], _numbers(v)))
        return [
            f"--variant {p.variant_pin} is not published for torch {_span(releases)} on {t.os}/{t.arch} (available: {', '.join(have)})"
        ]
    if stage == "gpu":
        gpus = ", ".join(_gpu_label(g.name, g.cc) for g in t.gpus) or "the GPU"
        cuda_cands = [x for x in before if x.cuda]
        if not cuda_cands:
            return [f"no CUDA build of torch {_span(releases)} exists for {t.os}/{t.arch}"]
        return [
            f"no CUDA build of torch {_span(releases)} carries code for {gpus}: " + _latest_problem(cuda_cands, "gpu")
        ]
    if stage == "driver":
        if p.gpu_driver_problem:
            return [f"{p.gpu_driver_problem}; no CUDA build runs on it until the driver changes"]
        fitting = [x for x in before if x.cuda]
        floors = sorted({x.min_driver for x in fitting if x.min_driver}, key=_numbers)
        cudas = sorted({x.cuda for x in fitting if x.cuda}, key=_numbers)
        gpus = ", ".join(_gpu_label(g.name, g.cc) for g in t.gpus) or "this GPU"
        lowest = min(fitting, key=lambda x: _numbers(x.min_driver)) if fitting else None
        detail = (
            f"; the lowest is CUDA {lowest.cuda} (torch {lowest.release.version}+{lowest.variant}): {lowest.problems.get('driver', '')}"
            if lowest
            else ""
        )
        return [
            f"every build whose code runs on {gpus} (CUDA {_span(cudas)}) needs driver >= {floors[0] if floors else '?'}; "
            f"driver {t.driver} is too old{detail}"
        ]
    return ["no build fits"]


def _latest_problem(cands: list[Candidate], stage: str) -> str:
    newest = max(cands, key=lambda x: (x.version, _numbers(x.cuda)))
    return newest.problems.get(stage, "")


__all__ = ["STAGES", "parse_torch_pin", "plan_for", "platform_rule"]
