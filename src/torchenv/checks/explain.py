"""Pure matcher behind `torchenv explain`: an error message (plus, optionally, a machine's facts)
-> what it means, the likely cause and the fix. The patterns are data (knowledge/data/errors.toml).

Also `diagnose_report`: the doctor's verdict on a pasted report, which adds to the checks what the
report's own warnings say, a CPU build whose GPU the report does not show, and the facts that were
missing.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from ..compat.driver import TOO_OLD
from ..compat.gpu import gpu_code
from ..compat.platform import normalize_arch
from ..knowledge.arch import parse_arch
from ..knowledge.errors import CASE_FOLD_EXTRAS, ErrorKnowledge, ErrorPattern, load_errors, normalise_with_offsets
from ..model import DoctorReport, Facts, Finding, Severity, known, verdict_for
from ..model.finding import LAYERS
from .common import gpu_present, listed_gpus, torch_variant
from .torch_build import installed_driver_support

MAX_CHARS = 256 * 1024  # logs put the error at the end: keep the head and the tail beyond this
HEAD_CHARS = 32 * 1024
GiB = 1024.0

LAYER_OF = {
    "no-gpu": "hardware",
    "no-driver": "driver",
    "driver-too-old": "driver",
    "wsl": "driver",
    "gpu-hidden": "cuda",
    "library-conflict": "cuda",
    "cpu-only-build": "torch",
    "gpu-arch-unsupported": "torch",
    "torch-missing": "torch",
    "torch-broken": "torch",
    "companion-mismatch": "torch",
    "duplicate-install": "environment",
    "compute-failure": "compute",
    "out-of-memory": "compute",
}


# The row's severity (knowledge/data/errors.toml, default "error": the message reports a failure) as the
# finding's; a row marked "warning" says something runs, but wrongly or slowly.
SEVERITY_OF = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFO}


@dataclass(frozen=True, slots=True)
class ExplainMatch:
    """One known error found in the text: a Finding (the row's id, category, severity and title; the
    matched text as evidence, the row's meaning as the explanation, the fix, the row's source) with what
    explain adds: the likely cause and why it was picked, every known cause, what the message (or the
    machine) told, the row's rank and the date its source was retrieved."""

    finding: Finding
    cause: str  # the likely cause: decided by the message or the machine's facts, else the most common
    cause_basis: str  # "the message", "this machine's facts" or "most common cause"
    causes: tuple[str, ...]  # all known causes, most likely first
    details: dict[str, str]  # what the message (and the machine's facts) told: gpu, sm, arch_list, ...
    retrieved: str  # when the row's source was read
    rank: int  # the row's specificity: a higher rank wins when several rows match

    @property
    def id(self) -> str:  # shortcuts to the finding's identity, for the callers that rank matches
        return self.finding.id

    @property
    def category(self) -> str:
        return self.finding.category


# --- input preparation -----------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|(?<![\w\]])\[\d{1,3}(?:;\d{1,3})*m")
_PREFIXES = re.compile(
    r"^(?:\d{4}-\d\d-\d\d[T ][\d:.,]+(?:Z|[+-]\d\d:?\d\d)?\s+"  # ISO timestamps
    r"|[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d \S+ [^:\s]+(?:\[\d+\])?: "  # journalctl
    r"|(?:>\s?)+"  # blockquotes
    r"|\[(?:rank|default)?\d+\]:\s*"  # torchrun rank prefixes
    r"|\(\w+ pid=\d+(?:, ip=[\d.]+)?\)\s*"  # Ray / vLLM workers: (RayWorkerWrapper pid=123)
    r"|(?:INFO|WARNING|ERROR|DEBUG|CRITICAL) \d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \[?[\w.]+:\d+\]\s*"  # vLLM / sglang
    r"|\[\d{4}-\d\d-\d\d[ T][\d:.,]+\]\s*(?:\[[\w.:-]+\]\s*)*"  # [2025-01-02 10:11:12,345] [rank0] [INFO]
    r"|\[?\d\d:\d\d:\d\d(?:\.\d+)?\]?\s+(?=[A-Z\[])"  # 12:34:56 / [12:34:56]
    r"|\[ *\d+\.\d+\] "  # dmesg
    r")+",
    re.M,
)


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def prepare(text: str) -> str:
    """Cap, strip ANSI codes and log prefixes, straighten curly quotes, fold whitespace (undoes hard-wrapped
    lines)."""
    if len(text) > MAX_CHARS:
        text = text[:HEAD_CHARS] + "\n" + text[-(MAX_CHARS - HEAD_CHARS) :]
    text = _ANSI.sub("", text.replace("\x00", " ").translate(_QUOTES))  # one quote style for the patterns
    text = _PREFIXES.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


# --- what the message itself says -------------------------------------------------------------------

_SIZE = r"(\d+(?:\.\d+)?)\s*([KMGT]i?B|bytes)"
_UNITS = {"bytes": 1 / (1 << 20), "kib": 1 / 1024, "kb": 1 / 1024, "mib": 1, "mb": 1, "gib": 1024, "gb": 1024}
_UNITS.update({"tib": 1 << 20, "tb": 1 << 20})


def _mib(number: str, unit: str) -> float:
    return float(number) * _UNITS.get(unit.lower(), 1)


def _human(mib: float) -> str:
    return f"{mib / GiB:.2f} GiB" if mib >= GiB else f"{mib:.2f} MiB"


def message_details(text: str) -> dict[str, str]:
    details: dict[str, str] = {}
    at = text.find(" with CUDA capability sm_")
    window = text[max(0, at - 80) : at + 40] if at >= 0 else ""
    sm = re.search(r"(?:^|\s)([\w][\w .()/-]{1,60}?) with CUDA capability sm_(\d+?)(\d)\b", window)
    if sm:
        details["gpu"] = sm.group(1).strip().removeprefix("UserWarning: ").strip()
        details["cc"] = f"{sm.group(2)}.{sm.group(3)}"
    old = re.search(r"Found GPU\d+ (.+?) which is of cuda capability (\d+)\.(\d+)", text)
    if old:
        details.setdefault("gpu", old.group(1).strip())
        details.setdefault("cc", f"{old.group(2)}.{old.group(3)}")
    if "cc" in details:
        major, minor = details["cc"].split(".")
        details["sm"] = f"sm_{major}{minor}"
    arches = re.search(r"supports CUDA capabilities ((?:(?:sm|compute)_\d+[af]?\s?)+)", text)
    if arches:
        details["arch_list"] = " ".join(arches.group(1).split())
    minimum = re.search(r"minimum cuda capability supported by this library is (\d+)\.(\d+)", text, re.I)
    if minimum:
        details["minimum_cc"] = f"{minimum.group(1)}.{minimum.group(2)}"
    found = re.search(r"too old \(found version (\d+)\)", text)
    if found:
        code = int(found.group(1))
        details["driver_cuda_code"] = str(code)
        details["driver_cuda"] = f"CUDA {code // 1000}.{code % 1000 // 10}"
    library = re.search(r"(lib[\w.+-]+?\.so[.\d]*): cannot open shared object file", text)
    if library:
        details["library"] = library.group(1)
    symbol = re.search(r"undefined symbol: (\w+)", text)
    if symbol:
        details["symbol"] = symbol.group(1)
    vision = re.search(r"PyTorch has CUDA Version=([\d.]+) and torchvision has CUDA Version=([\d.]+)", text)
    if vision:
        details["torch_cuda_in_message"], details["vision_cuda_in_message"] = vision.groups()
    details.update(oom_details(text))
    return details


def oom_details(text: str) -> dict[str, str]:
    """The caching allocator's numbers, new (2.x) and old (1.x) message formats."""
    numbers: dict[str, float] = {}
    patterns = {
        "requested": rf"Tried to allocate {_SIZE}",
        "capacity": rf"total capac\w* of {_SIZE}|; {_SIZE} total capacity",
        "free": rf"of which {_SIZE} is free|; {_SIZE} free",
        "process_in_use": rf"this process has {_SIZE} memory in use",
        "allocated": rf"Of the allocated memory {_SIZE} is allocated by PyTorch|; {_SIZE} already allocated",
        "reserved_unallocated": rf"and {_SIZE} is reserved by PyTorch but unallocated",
        "reserved_total": rf"; {_SIZE} reserved in total by PyTorch",
    }
    for name, pattern in patterns.items():
        match = re.search(pattern, text, re.I)
        if match:
            groups = [g for g in match.groups() if g is not None]
            numbers[name] = _mib(groups[0], groups[1])
    if "reserved_total" in numbers and "allocated" in numbers and "reserved_unallocated" not in numbers:
        numbers["reserved_unallocated"] = max(0.0, numbers["reserved_total"] - numbers["allocated"])
    if "capacity" in numbers and "free" in numbers:
        held = numbers.get("process_in_use", numbers.get("reserved_total"))
        if held is None and "allocated" in numbers:
            held = numbers["allocated"] + numbers.get("reserved_unallocated", 0.0)
        if held is not None:
            numbers["other_memory"] = max(0.0, numbers["capacity"] - numbers["free"] - held)
    return {name: _human(value) for name, value in numbers.items()} | {
        f"_{name}": repr(value) for name, value in numbers.items()
    }


def _number(details: dict[str, str], name: str) -> float | None:
    value = details.get(f"_{name}")
    return float(value) if value is not None else None


# --- what the machine's facts say --------------------------------------------------------------------


def facts_details(facts: Facts | None, knowledge, details: dict[str, str]) -> dict[str, str]:
    if facts is None:
        return {}
    out: dict[str, str] = {}
    driver = facts.driver.version if known(facts.driver.version) else None
    if driver:
        out["driver"] = driver
    torch = facts.torch if known(facts.torch) else None
    if torch is not None and known(torch.version):
        out["torch_version"] = torch.version
        if known(torch.cuda) and torch.cuda:
            out["torch_cuda"] = torch.cuda
            support = installed_driver_support(facts, knowledge) if knowledge is not None else None
            if support is not None and support.needed:
                out["driver_floor"] = support.floor_text
                out["_driver_support"] = support.level
    if "cc" not in details:
        for gpu in listed_gpus(facts):
            cc = gpu.cc if known(gpu.cc) else None
            if cc is None and knowledge is not None:
                cc = knowledge.resolve_gpu(gpu.name).cc
            if cc is not None:
                out["gpu"], out["cc"], out["sm"] = gpu.name, f"{cc[0]}.{cc[1]}", f"sm_{cc[0]}{cc[1]}"
                break
    if "arch_list" not in details and torch is not None and known(torch.version):
        arches = torch.arch_list if known(torch.arch_list) and torch.arch_list else None
        if arches is None and knowledge is not None and known(torch.cuda) and torch.cuda:
            arches = knowledge.wheel_arches(
                torch.version.split("+")[0], torch_variant(torch) or "", normalize_arch(facts.host.arch) or "x86_64"
            )
        if arches:
            out["arch_list"] = " ".join(arches)
    if known(facts.host.shm_bytes):
        out["shm"] = _human(facts.host.shm_bytes / (1 << 20))
        out["_shm_bytes"] = str(facts.host.shm_bytes)
    if facts.environment.get("LD_LIBRARY_PATH"):
        out["ld_library_path"] = facts.environment["LD_LIBRARY_PATH"]
    if "CUDA_VISIBLE_DEVICES" in facts.environment:
        out["cuda_visible_devices"] = repr(facts.environment["CUDA_VISIBLE_DEVICES"])
    mixed = mixed_cuda_wheels(facts)
    if mixed:
        out["mixed_wheels"] = ", ".join(mixed)
    if torch is not None and known(torch.version) and known(torch.companions) and knowledge is not None:
        release = knowledge.torch_release(torch.version)
        for companion in torch.companions:
            expected = getattr(release, companion.name, None) if release else None
            mismatch = companion.version and expected and companion.version.split("+")[0] != expected
            if companion.name == "torchvision" and mismatch:
                out["torchvision_version"] = companion.version
                out["torchvision_expected"] = expected
    return out


def mixed_cuda_wheels(facts: Facts) -> list[str]:
    """nvidia-*-cuNN wheels of the same library for two CUDA majors (e.g. nccl cu11 and cu12)."""
    if not known(facts.python) or not known(facts.python.distributions):
        return []
    by_stem: dict[str, list[str]] = {}
    for dist in facts.python.distributions:
        match = re.fullmatch(r"(nvidia-[a-z-]+?)-cu(\d+)", dist.name)
        if match:
            by_stem.setdefault(match.group(1), []).append(f"{dist.name}=={dist.version}")
    return [name for names in by_stem.values() if len(names) > 1 for name in sorted(names)]


def _cc_tuple(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    major, _, minor = text.partition(".")
    return (int(major), int(minor)) if major.isdigit() and minor.isdigit() else None


def _arch_bounds(arch_list: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    ccs = []
    for item in arch_list.split():
        arch = parse_arch(item)
        if arch is not None:
            ccs.append((arch.major, arch.minor))
    return (min(ccs), max(ccs)) if ccs else None


def condition(name: str, details: dict[str, str], facts: Facts | None, text: str) -> bool:
    """The named conditions a cause in errors.toml may require (`when = "..."`)."""
    cc = _cc_tuple(details.get("cc"))
    arch_list = details.get("arch_list")
    if name in ("gpu-not-in-build", "gpu-newer-than-build", "gpu-older-than-build"):
        if cc is None or not arch_list:
            return False
        runs = gpu_code(arch_list.split(), cc).runs  # compat's answer, the one the doctor gives
        bounds = _arch_bounds(arch_list)
        if name == "gpu-not-in-build":
            return not runs
        if bounds is None or runs:
            return False
        return cc > bounds[1] if name == "gpu-newer-than-build" else cc < bounds[0]
    if name == "driver-older-than-torch-cuda":
        return details.get("_driver_support") == TOO_OLD  # compat's answer, the one the doctor gives
    if name.startswith("oom-"):
        requested = _number(details, "requested")
        capacity = _number(details, "capacity")
        allocated = _number(details, "allocated")
        unallocated = _number(details, "reserved_unallocated") or 0.0
        other = _number(details, "other_memory")
        if name == "oom-whole-gpu":
            return bool(capacity and allocated is not None and allocated + unallocated >= 0.8 * capacity)
        if name == "oom-fragmentation":
            return bool(capacity and requested is not None and unallocated >= max(requested, 0.1 * capacity))
        if name == "oom-other-processes":
            return bool(capacity and other is not None and other >= max(1.5 * GiB, 0.25 * capacity))
        return False
    if name == "windows":
        if facts is not None and facts.host.os == "windows":
            return True
        return bool(re.search(r"[A-Za-z]:\\", text))
    if name.startswith("text:"):  # the message itself says so (a regex on the folded message)
        return bool(re.search(name[5:], text, re.I))
    if name == "macos":
        if facts is not None and facts.host.os == "macos":
            return True
        return bool(_MACOS_TEXT.search(text))
    if name == "jupyter":
        return bool(_JUPYTER_TEXT.search(text))
    if name == "amd-gpu":  # the message or the machine names an AMD (or Intel) GPU, not an NVIDIA one
        if facts is not None and any(_NON_NVIDIA_GPU.search(g.name) for g in listed_gpus(facts)):
            return True
        return bool(_NON_NVIDIA_GPU.search(text))
    if name == "variant-unpublished":
        return _variant_unpublished(text)
    if name == "cpu-build" and _CPU_BUILD_TEXT.search(text):  # the message shows a CPU-only torch itself
        return True
    if facts is None:
        return False
    if name == "cpu-build":
        torch = facts.torch
        return known(torch) and known(torch.version) and known(torch.cuda) and torch.cuda is None
    if name == "no-gpu":
        return gpu_present(facts) is False
    if name == "gpu-present":  # the machine shows an NVIDIA GPU (lspci, NVML, a listed GPU)
        return gpu_present(facts) is True
    if name == "cuda-variant":  # torch was installed as a CUDA variant (+cu118): chosen for an NVIDIA GPU
        torch = facts.torch
        return bool(known(torch) and known(torch.version) and re.search(r"\+cu\d", torch.version))
    if name == "container":
        return bool(known(facts.host.container) and facts.host.container)
    if name == "wsl":
        return facts.host.wsl is True
    if name == "shm-small":
        shm = details.get("_shm_bytes")
        return shm is not None and int(shm) < (1 << 30)
    if name == "ld-library-path":
        return bool(details.get("ld_library_path"))
    if name == "mixed-cuda-wheels":
        return bool(details.get("mixed_wheels"))
    if name == "companion-mismatch":
        return "torchvision_expected" in details
    if name == "cuda-visible-devices":
        return "cuda_visible_devices" in details
    return False


_MACOS_TEXT = re.compile(
    r"(?:^|[\s\x22\x27(])/Users/\w|~/opt/(?:ana|mini)conda3|/Library/Frameworks/Python\.framework|-darwin\.so\b"
    r"|\bdlopen\(|\bMac ?OS ?X?\b|\bmacOS\b|\bDarwin\b"
)
# a CPU-only torch named in the text: "torch-1.13.1+cpu" (Ultralytics' banner), "PyTorch 2.9.1+cpu", a conda
# CPU build ("pytorch-1.10.0-py3.6_cpu_0", "pytorch-mutex-1.0-cpu")
_CPU_BUILD_TEXT = re.compile(
    r"\btorch[-= ]{1,2}\d+\.\d+(?:\.\d+)?\+cpu\b|\bPyTorch\W{1,4}\d+\.\d+\.\d+\+cpu\b|\bpy\d\.\d+_cpu_\d+\b|"
    r"\bpytorch-mutex-[\d.]+-cpu\b",
    re.I,
)
_NON_NVIDIA_GPU = re.compile(
    r"\bAMD\b(?: Radeon)?(?:\s+\w+){0,2}\s+(?:graphics card|gpu|card)\b|\bRadeon\b|\bRX ?[4-9]\d{2,3}\s?(?:XT|XTX)?\b|"
    r"\bIntel\(?R?\)? (?:Arc|Iris|UHD)\b",  # not ROCm/DirectML: those also run on (or get installed on) NVIDIA machines
    re.I,
)
_JUPYTER_TEXT = re.compile(
    r"<ipython-input-|\bCell In ?\[\d*\]|\bIn \[\d+\]:|\bipykernel|site-packages/IPython/|\bjupyter\b", re.I
)


def _variant_unpublished(text: str) -> bool:
    """pip asked for X+tag; its own list of versions has X but not X+tag (string membership only)."""
    wanted = re.search(r"requirement [\w.-]+\s*==\s*([\w.]+)\+([\w.]+)", text)
    listed = re.search(r"\(from versions: ([^)]*)\)", text)
    if not wanted or not listed:
        return False
    versions = {v.strip() for v in listed.group(1).split(",")}
    base, tag = wanted.groups()
    return base in versions and f"{base}+{tag}" not in versions


_FACTS_CONDITIONS = {
    "cpu-build",
    "no-gpu",
    "gpu-present",
    "cuda-variant",
    "container",
    "wsl",
    "shm-small",
    "ld-library-path",
    "mixed-cuda-wheels",
    "companion-mismatch",
    "cuda-visible-devices",
    "driver-older-than-torch-cuda",
}


# --- matching ------------------------------------------------------------------------------------------


def _fill(text: str, details: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: details.get(m.group(1), m.group(0)), text)


def _drop_unfilled(text: str) -> str:
    """Remove sentences whose placeholders the message and facts could not fill."""
    sentences = re.split(r"(?<=[.!?])\s+", text)
    return " ".join(s for s in sentences if not re.search(r"\{\w+\}", s))


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int


def _find(row: ErrorPattern, flat: str, norm: str, offsets: list[int], lower: str) -> _Hit | None:
    """The earliest place a row's patterns (on the folded text) or signatures (on normalised text) match.
    `lower` is the folded text in lower case: a pattern whose required text is not in it cannot match."""
    first: _Hit | None = None
    for pattern, needle in zip(row.patterns, row.needles or (None,) * len(row.patterns), strict=True):
        if needle is not None and needle not in lower:
            continue
        match = pattern.search(flat)
        if match and (first is None or match.start() < first.start):
            first = _Hit(match.start(), match.end())
    for signature in row.signatures:
        at = _find_signature(norm, signature, signature in row.bounded)
        if at >= 0:
            hit = _Hit(offsets[at], offsets[at + len(signature) - 1] + 1)
            if first is None or hit.start < first.start:
                first = hit
    return first


# what continues a name past a bounded signature's end: a word character, or a dot or dash before one
_NAME_GOES_ON = re.compile(r"\w|[.-]\w")


def _find_signature(norm: str, signature: str, bounded: bool) -> int:
    """Where a signature first occurs in normalised text; a bounded one (its regex closed a quote after a name:
    'torch') only where the name ends too, so 'no module named torch' does not match 'torchvision'."""
    at = norm.find(signature)
    while bounded and at >= 0 and _NAME_GOES_ON.match(norm, at + len(signature)):
        at = norm.find(signature, at + 1)
    return at


def explain(text: str, facts: Facts | None, knowledge, *, errors: ErrorKnowledge | None = None) -> list[ExplainMatch]:
    """Every known error in `text`, causes before symptoms, then the most specific first; [] when nothing
    is recognised. A row another matched row `explains` (its cause) comes after that row."""
    errors = errors if errors is not None else load_errors()
    if not isinstance(text, str) or not text.strip():
        return []
    flat = prepare(text)
    norm, offsets = normalise_with_offsets(flat)
    found: list[tuple[ErrorPattern, _Hit]] = []
    lower = flat.translate(CASE_FOLD_EXTRAS).lower()
    for row in errors.patterns:
        hit = _find(row, flat, norm, offsets, lower)
        if hit is not None:
            found.append((row, hit))
    if not found:
        return []
    matched = {row.id for row, _ in found}
    explained = {target for row, _ in found for target in row.explains if target in matched and target != row.id}
    found.sort(key=lambda item: (item[0].symptom, item[0].id in explained, -item[0].rank, item[1].start))
    base = message_details(flat)
    details = base | {k: v for k, v in facts_details(facts, knowledge, base).items() if k not in base}
    return [_match(row, hit, details, facts, flat) for row, hit in found]


def _match(row: ErrorPattern, match: _Hit, details: dict[str, str], facts, flat: str) -> ExplainMatch:
    chosen = None
    basis = "most common cause"
    for cause in row.causes:
        if cause.when and condition(cause.when, details, facts, flat):
            chosen = cause
            basis = "this machine's facts" if cause.when in _FACTS_CONDITIONS else "the message"
            break
    if chosen is None:
        chosen = next((c for c in row.causes if not c.when), row.causes[0] if row.causes else None)
    general = [c for c in row.causes if not c.when]
    ordered = ([chosen] if chosen is not None else []) + [c for c in general if c is not chosen]
    fix = chosen.fix if chosen is not None and chosen.fix else row.fix
    advice = _oom_advice(details) if row.category == "out-of-memory" else ""
    start = max(0, match.start - 80)
    evidence = flat[start : match.end + 160].strip()
    public = {k: v for k, v in details.items() if not k.startswith("_") and _relevant(k, row)}
    category = chosen.category if chosen is not None and chosen.category else row.category
    finding = Finding(
        id=row.id,
        category=category,
        severity=SEVERITY_OF.get(row.severity, Severity.ERROR),
        layer=LAYER_OF.get(category, "environment"),
        title=row.title,
        evidence=(evidence if len(evidence) <= 400 else evidence[:397] + "...",),
        explanation=_drop_unfilled(_fill(row.meaning, details)),
        fix=_fill(fix, details) + advice,
        source=row.source,
    )
    return ExplainMatch(
        finding=finding,
        cause=_fill(chosen.text, details) if chosen is not None else "",
        cause_basis=basis,
        causes=tuple(_fill(c.text, details) for c in ordered),
        details=public,
        retrieved=row.retrieved,
        rank=row.rank,
    )


_OOM_KEYS = {"requested", "capacity", "free", "process_in_use", "allocated", "reserved_unallocated", "other_memory"}


def _relevant(key: str, row: ErrorPattern) -> bool:
    if key in _OOM_KEYS or key == "reserved_total":
        return row.category == "out-of-memory"
    return True


def _oom_advice(details: dict[str, str]) -> str:
    requested = _number(details, "requested")
    unallocated = _number(details, "reserved_unallocated")
    capacity = _number(details, "capacity")
    allocated = _number(details, "allocated")
    parts = []
    if unallocated is not None and requested is not None and unallocated >= requested:
        parts.append(
            f" PyTorch holds {details['reserved_unallocated']} reserved but unallocated, more than the "
            f"{details['requested']} it asked for: the memory is fragmented. Start the process with "
            "`PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True` (set before CUDA initialises)."
        )
    if capacity is not None and allocated is not None and allocated > capacity * 1.05:
        parts.append(
            f" PyTorch reports {details['allocated']} allocated on a {details['capacity']} GPU: on Windows the "
            "driver spills into shared system memory (very slow) before failing; disable 'CUDA - Sysmem Fallback "
            "Policy' to fail fast, and reduce the batch size."
        )
    return "".join(parts)


# --- the doctor's verdict on a pasted report -----------------------------------------------------------------


# Findings that say what failed, not why: a cause always ranks above them (issue 12).
SYMPTOM_FINDINGS = frozenset({"cuda-unavailable"})
# Categories of a cause that can make torch.cuda.is_available() False on a CUDA build.
UNAVAILABLE_CAUSES = frozenset(
    {
        "no-gpu",
        "no-driver",
        "driver-too-old",
        "cpu-only-build",
        "gpu-hidden",
        "wsl",
        "torch-broken",
        "torch-missing",
        "library-conflict",
        "duplicate-install",
        "wrong-interpreter",
        "gpu-arch-unsupported",
        "compute-failure",
    }
)


def _cpu_build(facts: Facts) -> bool:
    torch = facts.torch
    return bool(known(torch) and known(torch.version) and known(torch.cuda) and torch.cuda is None)


def gpu_expected(parsed) -> list[str]:
    """Lines of the report that show the user has (or wants) an NVIDIA GPU, beyond a listed GPU."""
    evidence = getattr(parsed, "evidence", None)
    lines = list(evidence.cuda_expected) if evidence is not None else []
    facts: Facts = parsed.facts
    if known(facts.driver.version):
        lines.append(f"NVIDIA driver {facts.driver.version}")
    if known(facts.cuda_toolkits) and facts.cuda_toolkits:
        lines.append(f"a CUDA toolkit {facts.cuda_toolkits[0].version} is installed")
    return lines


def _cuda_install(facts: Facts, knowledge) -> str:
    """The CUDA build `torchenv plan` gives for the report's machine (its GPUs when listed, else an NVIDIA
    GPU of unknown model): the fix comes from the planner, like every install fix."""
    from .fixes import doctor_plan, gpu_machine_plan, plan_command

    plan = doctor_plan(facts, knowledge) if listed_gpus(facts) else gpu_machine_plan(facts, knowledge)
    command = plan_command(plan, facts) if plan.ok and plan.cuda else None
    if command is None:
        return "see `torchenv plan --gpu NAME --driver VERSION` for the build that machine needs"
    needs = f" (needs driver >= {plan.min_driver})" if plan.min_driver else ""
    return f"`{command}`{needs}"


def report_findings(parsed, knowledge, check_findings: tuple[Finding, ...]) -> list[Finding]:
    """Findings only a pasted report needs: its own error messages, a CPU build on an unknown GPU,
    a driver the report could not reach, and the facts it lacks."""
    facts: Facts = parsed.facts
    extra: list[Finding] = []
    confident = {f.category for f in check_findings if f.severity is not Severity.INFO}
    seen: set[str] = set()
    matches = explain(parsed.messages, facts, knowledge) if parsed.messages else []
    if parsed.messages:
        for match in matches:
            said = match.finding
            if said.category in confident or said.category in seen:
                continue
            seen.add(said.category)
            # on a CPU-only torch a CUDA companion's failure is a consequence of the build, not its own cause
            consequence = said.category == "companion-mismatch" and bool(_cpu_build(facts))
            extra.append(
                dataclasses.replace(
                    said,
                    id=f"reported-{said.id}",
                    severity=Severity.ERROR
                    if said.severity is Severity.ERROR and not consequence
                    else Severity.WARNING,
                    title=f"The report itself says: {said.title}",
                    evidence=(f"printed with the report: {said.evidence[0][:300]}",),
                    explanation=f"{said.explanation} Likely cause: {match.cause}",
                )
            )
    torch = facts.torch
    cpu_build = _cpu_build(facts)
    expected = gpu_expected(parsed)
    hip = known(torch) and known(torch.hip) and torch.hip
    stated_cpu = _stated_cpu_build(parsed)
    if (
        stated_cpu
        and not cpu_build
        and (gpu_present(facts) or expected)
        and not (known(torch) and torch.cuda_available is True)
        and "cpu-only-build" not in seen | confident
    ):
        seen.add("cpu-only-build")
        extra.append(
            Finding(
                id="report-cpu-build-gpu-expected",
                category="cpu-only-build",
                severity=Severity.ERROR,
                layer="torch",
                title="The report shows a CPU-only build of torch, and that an NVIDIA GPU is meant to be used",
                evidence=(
                    f"report: {stated_cpu}",
                    *(f"report: {g.name}" for g in listed_gpus(facts)[:2]),
                    *(f"report: {e}" for e in expected[:2]),
                ),
                explanation="The text names a CPU-only torch (a '+cpu' version or the CPU index "
                "download.pytorch.org/whl/cpu) next to an NVIDIA GPU or CUDA code: a CPU build can never use it.",
                fix=f"Install a CUDA build of torch into the same environment: {_cuda_install(facts, knowledge)}.",
            )
        )
    jetson = _jetson_without_cuda(parsed)
    if jetson is not None and "cpu-only-build" not in seen | confident:
        seen.add("cpu-only-build")
        extra.append(jetson)
    if cpu_build and gpu_present(facts) is None and not hip and "cpu-only-build" not in seen | confident:
        if expected:
            extra.append(
                Finding(
                    id="report-cpu-build-gpu-expected",
                    category="cpu-only-build",
                    severity=Severity.ERROR,
                    layer="torch",
                    title=f"torch {torch.version} is a CPU-only build, and the report shows that an NVIDIA GPU is "
                    "expected",
                    evidence=(f"torch {torch.version}: no CUDA in the build", *(f"report: {e}" for e in expected[:3])),
                    explanation="A CPU-only build can never use a GPU, and the report shows a GPU is meant to be used "
                    "(CUDA code, a CUDA toolkit or CUDA packages, an NVIDIA driver or tool).",
                    fix=f"Install a CUDA build of torch into the same environment: {_cuda_install(facts, knowledge)}; "
                    "`torchenv doctor` on that machine names the exact command.",
                )
            )
        else:
            extra.append(
                Finding(
                    id="report-cpu-build-gpu-unknown",
                    category="cpu-only-build",
                    severity=Severity.WARNING,
                    layer="torch",
                    title=f"torch {torch.version} is a CPU-only build; the report does not show whether that machine "
                    "has an NVIDIA GPU",
                    evidence=(
                        f"torch {torch.version}: CUDA used to build PyTorch is None/'Could not collect'",
                        "no GPU models and no driver in the report",
                    ),
                    explanation="A CPU-only build can never use a GPU. If that machine has an NVIDIA GPU, this build "
                    "is the problem; if it has none, it is the right build.",
                    fix="On that machine run `nvidia-smi`; if it lists a GPU, install a CUDA build from "
                    "https://pytorch.org/get-started/locally/ (`torchenv doctor` there names the exact command).",
                )
            )
    unrecognised = [] if matches else _error_lines(parsed)
    if unrecognised:
        works = known(torch) and torch.cuda_available is True  # CUDA works: perhaps the program's own bug
        extra.append(
            Finding(
                id="report-unrecognised-error",
                category="other",
                severity=Severity.WARNING,  # a paste that carries an error never ends healthy
                layer="environment",
                title="The report shows an error torchenv does not recognise",
                evidence=tuple(f"line {n}: {text[:200]}" for n, text in unrecognised[:3]),
                explanation="The paste carries an error, so whatever it ran did not work, but no known error "
                "signature matches it and the facts in the report establish no cause. It may be a bug of the "
                "program itself rather than of the GPU stack"
                + (" (the report shows CUDA available)." if works else "."),
                fix="Run `torchenv explain` on the full error (the last lines of the traceback matter most), and "
                "`torchenv doctor` on that machine.",
            )
        )
    unreachable = _driver_unreachable(parsed)
    if unreachable and "no-driver" not in seen | confident:
        extra.append(unreachable)
    core = [m for m in parsed.missing if "never in this kind of report" not in m.fact]
    if core:
        errors = any(f.severity is Severity.ERROR for f in (*check_findings, *extra))
        works = known(torch) and torch.cuda_available is True
        severity = Severity.INFO if errors or works else Severity.WARNING
        extra.append(
            Finding(
                id="report-missing-facts",
                category="other",
                severity=severity,
                layer="environment",
                title="The report lacks facts the checks need"
                + ("" if severity is Severity.INFO else ": no verdict on the GPU stack is possible from it"),
                evidence=tuple(f"missing: {m.fact} (run {m.how})" for m in core),
                explanation="Checks whose facts are missing were skipped instead of guessed"
                + (
                    "; what the report does show is consistent with a working stack only as far as it goes."
                    if severity is Severity.WARNING
                    else "."
                ),
                fix="Run `torchenv doctor` on that machine (it reads all of these), or paste the full output of "
                "`python -m torch.utils.collect_env` and `nvidia-smi`.",
            )
        )
    return extra


def _stated_cpu_build(parsed) -> str | None:
    """A pasted text (not a structured report) that names a CPU-only torch: '+cpu' or the CPU index."""
    evidence = getattr(parsed, "evidence", None)
    if evidence is None or parsed.format != "text":
        return None
    for version in evidence.torch_versions:
        if re.search(r"\+cpu\b", version):
            return f"torch {version}"
    return evidence.cpu_evidence[0] if evidence.cpu_evidence else None


def _jetson_without_cuda(parsed) -> Finding | None:
    """A Jetson (Tegra/JetPack/L4T) whose torch says is_available() False with a torch that is not one of
    NVIDIA's Jetson builds (their versions carry '.nv'): PyPI's aarch64 wheels and third-party builds have no
    CUDA for Jetson."""
    evidence = getattr(parsed, "evidence", None)
    facts: Facts = parsed.facts
    jetson = bool(evidence is not None and evidence.tegra) or any(
        re.search(r"\b(?:Jetson|Orin|Xavier|Tegra)\b", g.name, re.I) for g in listed_gpus(facts)
    )
    if not jetson:
        return None
    torch = facts.torch
    available = torch.cuda_available if known(torch) and known(torch.cuda_available) else None
    if available is None and evidence is not None:
        available = evidence.cuda_available
    if available is not False:
        return None
    version = torch.version if known(torch) and known(torch.version) else None
    if version and ".nv" in version:
        return None
    return Finding(
        id="report-jetson-torch-without-cuda",
        category="cpu-only-build",
        severity=Severity.ERROR,
        layer="torch",
        title="A Jetson whose torch has no CUDA for it: torch.cuda.is_available() is False",
        evidence=(
            "the report shows a Jetson (Tegra / JetPack / L4T)",
            f"torch {version or '(version not shown)'}: is_available() False",
        ),
        explanation="pip's torch for aarch64 (PyPI) and third-party aarch64 builds are CPU-only on a Jetson; CUDA "
        "there needs NVIDIA's JetPack builds of torch (versions like 2.1.0a0+41361538.nv23.06).",
        fix="Install the torch wheel NVIDIA publishes for this JetPack release "
        "(https://docs.nvidia.com/deeplearning/frameworks/install-pytorch-jetson-platform/index.html, or "
        "https://pypi.jetson-ai-lab.io for newer JetPacks), or use an NVIDIA L4T PyTorch container.",
    )


_ERROR_LINE = re.compile(
    r"\b[A-Z]\w*(?:Error|Exception)\b\s*[:(]|^Traceback \(most recent call last\)|Segmentation fault|core dumped"
    r"|^(?:error|fatal)\b\s*:",
    re.I,
)


def _error_lines(parsed) -> list[tuple[int, str]]:
    """The report's own error lines (not warnings): a paste that carries one did not work."""
    return [
        (line.number, line.text.strip())
        for line in parsed.lines
        if line.kind == "message" and _ERROR_LINE.search(line.text.strip())
    ]


_COULD_NOT = re.compile(
    r"^\s*(GPU models and configuration|Nvidia driver version)\s*:\s*Could not collect\s*$", re.I | re.M
)


def _driver_unreachable(parsed) -> Finding | None:
    """A CUDA build that says is_available() False, 'Could not collect' for both the GPU and the driver
    (collect_env got nothing from nvidia-smi), and a CUDA runtime on the system: the driver is not
    reachable. Not on Tegra (no nvidia-smi there) and not where the report shows no GPU."""
    facts: Facts = parsed.facts
    torch = facts.torch
    if not (known(torch) and known(torch.cuda) and torch.cuda and torch.cuda_available is False):
        return None
    evidence = getattr(parsed, "evidence", None)
    if evidence is not None and evidence.tegra:
        return None
    text = "\n".join(line.text for line in parsed.lines)
    if len({m.group(1).lower() for m in _COULD_NOT.finditer(text)}) < 2:
        return None
    toolkit = known(facts.cuda_toolkits) and facts.cuda_toolkits
    if not toolkit and not (evidence is not None and evidence.cuda_expected):
        return None
    why = f"CUDA runtime/toolkit {facts.cuda_toolkits[0].version}" if toolkit else evidence.cuda_expected[0]
    return Finding(
        id="report-driver-unreachable",
        category="no-driver",
        severity=Severity.ERROR,
        layer="driver",
        title="No NVIDIA driver answered: nvidia-smi found no GPU and no driver, while CUDA is installed and "
        "torch says CUDA is unavailable",
        evidence=(
            f"torch {torch.version} (CUDA {torch.cuda}): is_available() False",
            "GPU models and configuration: Could not collect; Nvidia driver version: Could not collect",
            f"report: {why}",
        ),
        explanation="collect_env asks nvidia-smi for the GPUs and the driver; 'Could not collect' for both means "
        "nvidia-smi is missing or cannot talk to a driver. A CUDA toolkit or runtime is installed, so a GPU is "
        "meant to be used: the NVIDIA driver is not installed, not loaded, or not passed into this container.",
        fix="Run `nvidia-smi` on that machine: if it is missing or fails, install or load the driver "
        "(`sudo ubuntu-drivers install`, reboot; `dmesg | grep -i nvidia` names a blocked module); in a container "
        "start it with `--gpus all`. `torchenv doctor` there says which.",
    )


# --- what the paste shows failed (issue 12: a broken report never ends healthy) ---------------------------


@dataclass(frozen=True, slots=True)
class Symptom:
    """One piece of observed evidence that something failed, with how much it weighs in ranking causes."""

    kind: str  # "torch-warning", "cuda-unavailable", "error", "reported-failure"
    text: str
    weight: int  # the report's own error text and torch's own warnings weigh most
    category: str | None = None  # explain's category for the line, when a signature matches it


# torch's own texts for a GPU stack that does not work (torch/cuda/__init__.py's warnings and asserts, the
# CUDA/cuDNN/cuBLAS/NCCL status texts torch raises, autocast/GradScaler/serialization fallbacks): each says
# the user expected CUDA and did not get it, whatever the rest of the paste shows.
_TORCH_SYMPTOM = re.compile(
    r"CUDA initialization:|no kernel image is available|Found GPU\s?\d+ .{1,80}? which (?:is of cuda capability|"
    r"requires CUDA_VERSION)|with CUDA capability sm_\d+ is not compatible|NVIDIA driver on your system is too old|"
    r"Found no NVIDIA driver on your system|Torch not compiled with CUDA enabled|No CUDA GPUs are available|"
    r"CUDA driver initialization failed|Can.t initialize NVML|CUDA call failed lazily at initialization|"
    r"deserialize object on a CUDA device but torch\.cuda\.is_available\(\) is False|"
    r"device_type of .?cuda.?, but CUDA is not available|GradScaler is enabled, but CUDA is not available|"
    r"CUDA unknown error|Unexpected error from cudaGetDeviceCount|no CUDA-capable device is detected|"
    r"libcudart functions unavailable|Cannot re-initialize CUDA in forked subprocess|"
    r"\bCUDA error:|CUDA out of memory|CUDNN_STATUS_[A-Z_]+|CUBLAS_STATUS_[A-Z_]+|\bNCCL error\b|"
    r"CUDA driver version is insufficient for CUDA runtime version|forward compatibility was attempted",
    re.I,
)
# the reporter says, in prose, that it fails ("got this error", "fails with", "doesn't detect the GPU")
_FAILURE_PROSE = re.compile(
    r"\b(?:got|get|getting|gives?|giving|throws?|threw|triggered|triggers|raises?|shows?|see|seeing|having)\s+"
    r"(?:this|an|the following|the same|that|these|this same|a)\s+(?:\w+\s+)?(?:error|exception|crash)(?:s|e)?\b"
    r"|\b(?:fails?|failed|crash(?:es|ed)?)\s+with\b"
    r"|\b(?:does(?:n.t| not)|can.t|cannot|could(?:n.t| not)|won.t|not)\s+(?:work|detect|recogni[sz]e|see|find|use|"
    r"using|detecting|recogni[sz]ing)(?:\s+(?:the|my|any))?\s+(?:gpu|cuda|nvidia)"
    # is_available() False in the reporter's words, whatever the report's own line says (another interpreter?)
    r"|is_available\(\)\s*(?:still\s+|always\s+)?(?:returns?|returning|returned|gives?|giving|is|shows?|prints?|==?)"
    r"\s*(?:still\s+|always\s+)?:?\s*`?false\b"
    r"|\b(?:cuda|gpus?)\s+(?:is\s+|are\s+)?(?:not|isn.t|aren.t|never)\s+(?:being\s+)?(?:available|detected|found|"
    r"recogni[sz]ed|used|working|utili[sz]ed)\b"
    r"|\b(?:runs?|running|ran|falls?\s+back|fell\s+back|defaults?|defaulting)\s+(?:only\s+)?(?:on|to)\s+(?:the\s+)?"
    r"cpu\s+(?:instead|only|rather)\b"
    r"|\bgpu\s+(?:utili[sz]ation|usage|util|load)\s+(?:is\s+|stays\s+|remains\s+|stuck\s+)?(?:at\s+)?0\s?%"
    r"|\b(?:hangs|hung|freezes|froze|gets\s+killed|got\s+killed|is\s+killed|was\s+killed)\b"
    r"|\bnothing\s+works\b|\b(?:it|this|that|still)\s+(?:does(?:n.t| not)|did(?:n.t| not)|won.t)\s+work\b"
    # the shell's and the IDE's words for a process that died: the OOM killer, a signal, Windows' access violation
    r"|^\s*Killed\s*$|\b(?:zsh|bash|sh): killed\b|\bsegmentation fault\b|interrupted by signal \d+|"
    r"exit code -?\d+ \(0x[cC]0000005\)|The kernel appears to have died",
    re.I,
)
# Every branch of _FAILURE_PROSE needs one of these words: a line without any skips the regex (its many
# case-folded alternatives cost ~45 us a line, seconds on a 10 MB paste).
_FAILURE_PROSE_WORDS = (
    "error", "exception", "crash", "fail", "gpu", "cuda", "nvidia", "cpu", "hang", "hung", "freez", "froze",
    "killed", "work", "segmentation", "signal", "0xc0000005", "kernel appears", "is_available",
)  # fmt: skip


def reports_failure(text: str) -> bool:
    """The reporter says, in prose, that it fails."""
    lower = text.lower()
    return any(word in lower for word in _FAILURE_PROSE_WORDS) and bool(_FAILURE_PROSE.search(text))


MAX_SYMPTOM_LINES = 40


def observed_symptoms(parsed, knowledge=None) -> list[Symptom]:
    """What the paste shows failed: torch's own warnings, the report's error lines, is_available() False where
    CUDA was expected, and the reporter saying it fails. Each message line is also explained alone, so a cause
    of the same category counts as explaining it."""
    facts: Facts = parsed.facts
    out: list[Symptom] = []
    seen: set[str] = set()
    for line in getattr(parsed, "lines", ()):
        text = line.text.strip()
        if not text or text in seen or len(out) >= MAX_SYMPTOM_LINES:
            continue
        kind = None
        if _TORCH_SYMPTOM.search(text):
            kind, weight = "torch-warning", 3
        elif line.kind == "message" and _ERROR_LINE.search(text):
            kind, weight = "error", 2
        elif line.kind in ("prose", "noise", "message", "fact") and reports_failure(text):
            kind, weight = "reported-failure", 1
        if kind is None:
            continue
        seen.add(text)
        matches = explain(text, facts, knowledge) if kind != "reported-failure" else []
        out.append(Symptom(kind, text[:300], weight, matches[0].finding.category if matches else None))
    torch = facts.torch
    available = torch.cuda_available if known(torch) and known(torch.cuda_available) else None
    evidence = getattr(parsed, "evidence", None)
    if available is None and evidence is not None:
        available = evidence.cuda_available
    if available is False:
        cuda = known(torch) and known(torch.cuda) and bool(torch.cuda)
        expected = cuda or bool(gpu_present(facts)) or bool(gpu_expected(parsed))
        why = "a CUDA build" if cuda else ("a GPU is expected" if expected else "nothing shows a GPU")
        out.append(Symptom("cuda-unavailable", f"torch.cuda.is_available() is False ({why})", 3 if expected else 1))
    return out


# Findings that are not causes: they say what is missing or unrecognised, not why something failed.
NOT_CAUSES = frozenset({"report-missing-facts", "report-unrecognised-error", "report-unexplained-failure"})


def explains(f: Finding, s: Symptom) -> bool:
    """Whether a finding is a cause of an observed symptom: the same category as explain's reading of the
    line, a cause that can make CUDA unavailable for torch's CUDA warnings and is_available() False, and any
    GPU-stack cause for an error line or a complaint nobody recognises."""
    if f.severity is Severity.INFO or f.id in NOT_CAUSES or f.id in SYMPTOM_FINDINGS:
        return False
    if s.category is not None and f.category == s.category:
        return True
    if f.category == "cpu-only-build" and s.category == "companion-mismatch":
        return True  # a companion built for a CUDA torch cannot load on a CPU-only torch: the build is the cause
    if s.kind == "cuda-unavailable" or (s.kind == "torch-warning" and s.category in (None, *UNAVAILABLE_CAUSES)):
        return f.category in UNAVAILABLE_CAUSES
    return s.category is None and f.category != "other"


def evidence_weight(f: Finding, symptoms: list[Symptom]) -> int:
    """How much of the observed evidence a finding explains."""
    return sum(s.weight for s in symptoms if explains(f, s))


def _default_cuda(facts: Facts, knowledge) -> str | None:
    """torch's CUDA: the build's, else (a plain version) the CUDA of the release's default PyPI wheel."""
    torch = facts.torch
    if not (known(torch) and known(torch.version)):
        return None
    if known(torch.cuda):
        return torch.cuda or None
    release = knowledge.torch_release(torch.version) if knowledge is not None and "+" not in torch.version else None
    variant = getattr(release, "pypi_default_variant", None) or ""
    code = re.fullmatch(r"cu(\d+)(\d)", variant)
    return f"{code.group(1)}.{code.group(2)}" if code else None


def _version_tuple(text: str | None) -> tuple[int, ...] | None:
    match = re.match(r"(\d+)\.(\d+)", text or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def candidate_causes(parsed, knowledge) -> list[tuple[int, str, str]]:
    """Likely causes of a failure no finding explains, as (score, category, why), best first: the common causes
    with a base score, moved by what the report does show."""
    facts: Facts = parsed.facts
    evidence = getattr(parsed, "evidence", None)
    torch = facts.torch
    scores = {
        "no-driver": [2, "the NVIDIA driver is missing or not loaded"],
        "driver-too-old": [2, "the NVIDIA driver is too old for the CUDA version of this torch build"],
        "cpu-only-build": [2, "torch is a CPU-only build"],
        "gpu-hidden": [1, "the GPU is hidden from the process (CUDA_VISIBLE_DEVICES, a container without --gpus)"],
        "no-gpu": [1, "the machine has no NVIDIA GPU"],
        "library-conflict": [1, "a library conflict stops CUDA initialising (LD_LIBRARY_PATH, mixed CUDA wheels)"],
    }
    if known(torch) and known(torch.cuda):
        scores.pop("cpu-only-build") if torch.cuda else scores["cpu-only-build"].__setitem__(0, 5)
    elif known(torch) and known(torch.version):
        scores["cpu-only-build"][1] += " (the report does not show torch.version.cuda)"
    if known(facts.driver.version):
        scores.pop("no-driver", None)
        scores.pop("no-gpu", None)
    elif gpu_present(facts):
        scores.pop("no-gpu", None)
    torch_cuda = _version_tuple(_default_cuda(facts, knowledge))
    stated = [getattr(evidence, "stated_cuda", None), getattr(evidence, "driver_cuda", None)]
    if known(facts.driver.cuda_driver_version):
        stated.append(facts.driver.cuda_driver_version)
    older = [v for v in stated if v and torch_cuda and (_version_tuple(v) or torch_cuda) < torch_cuda]
    if older and "driver-too-old" in scores:
        build = ".".join(map(str, torch_cuda))
        scores["driver-too-old"] = [5, f"the report states CUDA {older[0]}, older than this torch's CUDA {build}"]
    if evidence is not None and (evidence.container or evidence.wsl):
        scores["gpu-hidden"][0] += 2
    ranked = sorted(((v[0], k, v[1]) for k, v in scores.items()), key=lambda item: -item[0])
    return ranked


NEXT_COMMANDS = (
    "`nvidia-smi`",
    '`python -c "import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available())"`',
    "`python -m torch.utils.collect_env`",
    "`torchenv doctor` on that machine",
)


def unexplained_failure(
    parsed, knowledge, findings: tuple[Finding, ...], symptoms: list[Symptom], *, healthy: bool
) -> Finding | None:
    """The paste shows a failure (torch's warnings, is_available() False where CUDA was expected, an error, the
    reporter saying so) and no finding explains it: the verdict is broken (or degraded) with the likely causes
    ranked by the report's evidence and what to run next, never healthy."""
    if not symptoms or any(f.id == "report-unexplained-failure" for f in findings):
        return None
    strong = [s for s in symptoms if s.weight >= 3]
    covered = {s for s in strong for f in findings if explains(f, s)}
    if any(f.id in SYMPTOM_FINDINGS and f.severity is not Severity.INFO for f in findings):
        covered |= {s for s in strong if s.kind == "cuda-unavailable"}  # cuda-unavailable already lists causes
    open_strong = [s for s in strong if s not in covered]
    if not open_strong and not healthy:
        return None
    shown = open_strong or symptoms
    candidates = candidate_causes(parsed, knowledge)
    top_score, top_category, _ = candidates[0]
    category = top_category if top_score >= 5 else "other"
    layer = LAYER_OF.get(category, "environment")
    severity = Severity.ERROR if open_strong else Severity.WARNING
    return Finding(
        id="report-unexplained-failure",
        category=category,
        severity=severity,
        layer=layer,
        title="The report shows a failure that no finding explains"
        + (f": most likely {candidates[0][2]}" if category != "other" else ": no cause is established by the report"),
        evidence=tuple(f"report: {s.text[:200]}" for s in shown[:4]),
        explanation="What the paste shows (torch's own warnings, its error lines, is_available() False where CUDA "
        "is expected, or the reporter saying it fails) means the stack did not work, so the verdict is not healthy. "
        "Likely causes, best supported by the report first: " + "; ".join(why for _, _, why in candidates[:4]) + ".",
        fix="Run, on that machine: " + ", ".join(NEXT_COMMANDS) + "; each of these names what decides between the "
        "causes above.",
    )


def rank_findings(
    findings: tuple[Finding, ...] | list[Finding], parsed=None, symptoms: list[Symptom] | None = None
) -> tuple[Finding, ...]:
    """Causes before symptoms; then how much of the observed evidence each explains (the report's own error
    text and torch's warnings weigh most, see observed_symptoms); then severity; then what the report's own text says (in explain's order:
    a cause before what it explains); then the layer, bottom up. A symptom that a cause explains drops to
    info; one that no cause explains keeps its place and names the candidates."""
    findings = list(findings)
    causes = [
        f
        for f in findings
        if f.id not in SYMPTOM_FINDINGS
        and f.severity is not Severity.INFO
        and f.category in UNAVAILABLE_CAUSES
        and f.id != "report-missing-facts"
    ]
    out: list[Finding] = []
    for f in findings:
        if f.id in SYMPTOM_FINDINGS:
            f = _symptom(f, causes, parsed)
        out.append(f)
    order = {id(f): i for i, f in enumerate(out)}

    if symptoms is None:
        symptoms = observed_symptoms(parsed) if parsed is not None else []

    def key(f: Finding):
        reported = f.id.startswith("reported-")
        return (
            f.severity is Severity.INFO,
            f.id in SYMPTOM_FINDINGS and bool(causes),
            -evidence_weight(f, symptoms),  # the cause explaining most of what the paste shows first
            f.severity.rank,
            0 if reported else 1,
            order[id(f)] if reported else LAYERS.index(f.layer),
        )

    return tuple(sorted(out, key=key))


def _symptom(f: Finding, causes: list[Finding], parsed) -> Finding:
    if causes:
        names = ", ".join(c.id for c in causes[:3])
        severity = Severity.INFO if any(c.severity is Severity.ERROR for c in causes) else f.severity
        return dataclasses.replace(
            f,
            severity=severity,
            title=f"{f.title} (a symptom: explained by {names})",
            explanation="A symptom, not a cause: " + f.explanation,
        )
    if parsed is None:
        return f
    facts: Facts = parsed.facts
    expected = gpu_expected(parsed)
    present = gpu_present(facts)
    missing = [m for m in parsed.missing if "never in this kind of report" not in m.fact]
    candidates = [
        "the NVIDIA driver is missing, not loaded or too old for this build"
        + ("" if known(facts.driver.version) else " (the report has no driver version)"),
        "the GPU is hidden from the process (CUDA_VISIBLE_DEVICES, a container without --gpus, a scheduler)",
        "a library conflict stops CUDA initialising (LD_LIBRARY_PATH, mixed CUDA wheels)",
    ]
    if present is not True:
        candidates.insert(1, "the machine has no NVIDIA GPU (the report lists none)")
    severity = f.severity if present or expected else Severity.WARNING
    return dataclasses.replace(
        f,
        severity=severity,
        title=f.title + ": no cause is established by the report",
        evidence=f.evidence + tuple(f"missing: {m.fact} (run {m.how})" for m in missing[:4]),
        explanation="A symptom, not a cause, and nothing in the report establishes why. Likely causes, most "
        "common first: "
        + "; ".join(candidates)
        + "."
        + (
            ""
            if severity is Severity.ERROR
            else " The report shows no GPU at all: on a machine without one, a CUDA build that says False is expected."
        ),
    )


def diagnose_report(parsed, knowledge, *, torchenv_version: str, policy=None) -> DoctorReport:
    """`torchenv doctor --from`: the same checks as on a machine, plus the report-only findings, ranked
    causes first and by how much of the observed evidence each explains (see rank_findings), graded by the
    verdict policy (as the CLI does). A paste that shows a failure no finding explains ends broken or degraded
    with ranked candidates (unexplained_failure), never healthy."""
    from . import cuda_usable, diagnose
    from .policy import DEFAULT, apply_policy

    report = diagnose(parsed.facts, knowledge, torchenv_version=torchenv_version)
    extra = report_findings(parsed, knowledge, report.findings)
    symptoms = observed_symptoms(parsed, knowledge)
    findings = rank_findings((*report.findings, *extra), parsed, symptoms)
    blocked = any(f.severity is Severity.ERROR and f.layer not in ("environment",) for f in findings)
    report = dataclasses.replace(
        report,
        findings=findings,
        verdict=verdict_for(findings),
        cuda_usable=False if blocked or _cpu_build(parsed.facts) else cuda_usable(parsed.facts, findings),
        summary=_report_summary(parsed, findings),
    )
    report = apply_policy(report, policy or DEFAULT)
    unexplained = unexplained_failure(parsed, knowledge, report.findings, symptoms, healthy=report.verdict == "healthy")
    if unexplained is None:
        return report
    findings = rank_findings((*report.findings, unexplained), parsed, symptoms)
    return dataclasses.replace(
        report,
        findings=findings,
        verdict=verdict_for(findings),
        cuda_usable=False if unexplained.severity is Severity.ERROR else report.cuda_usable,
        summary=_report_summary(parsed, findings),
        cpu_only=False,
    )


def _report_summary(parsed, findings: tuple[Finding, ...]) -> str:
    facts: Facts = parsed.facts
    errors = [f for f in findings if f.severity is Severity.ERROR]
    warnings = [f for f in findings if f.severity is Severity.WARNING]
    where = f"the {parsed.format} report"
    if errors:
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"Broken, per {where}: {errors[0].title}{more}"
    torch = facts.torch
    stack = ""
    if known(torch) and known(torch.version):
        build = (
            f"CUDA {torch.cuda}"
            if known(torch.cuda) and torch.cuda
            else ("CPU build" if known(torch.cuda) else "CUDA version not shown")
        )
        gpus = sorted({g.name for g in listed_gpus(facts)})
        stack = f"torch {torch.version} ({build})" + (f" on {', '.join(gpus)}" if gpus else "")
        if torch.cuda_available is True:
            stack += ", CUDA available"
    if warnings:
        return f"Works with {len(warnings)} warning(s), per {where}: {stack + '; ' if stack else ''}{warnings[0].title}"
    return f"Healthy as far as {where} shows" + (f": {stack}" if stack else "")


__all__ = [
    "ExplainMatch",
    "Symptom",
    "candidate_causes",
    "diagnose_report",
    "evidence_weight",
    "explain",
    "gpu_expected",
    "message_details",
    "observed_symptoms",
    "prepare",
    "rank_findings",
    "report_findings",
    "unexplained_failure",
]
