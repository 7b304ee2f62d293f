"""Parse `python -m torch.utils.collect_env` output of every torch version, and its relatives.

Handles the torch 1.x style (`PyTorch version 1.5.0`, `Is CUDA available: Yes`), 2.x, the
`[pip3]`/`[conda]` lists, warnings printed above or inside the report, Windows and macOS
variants, vLLM's sectioned `key : value` variant, third-party copies with extra lines, and
detectron2's `collect_env` table (with its `PyTorch built with:` block).

The result is `ReportFields`: what the text said, each field `None` when the report does not
contain it. `detect.build_facts` turns it into Facts. Pure and total: never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..model import CondaPackage
from .conda_list import parse_conda_list
from .pip_list import canonical_name, parse_pip_freeze

ABSENT = "absent"  # sentinel for tri-state fields (e.g. torch.version.cuda is None vs not reported)
NOT_COLLECTED = ("could not collect", "n/a", "no cuda", "none", "")


@dataclass(slots=True)
class ReportGpu:
    index: int
    name: str
    cc: tuple[int, int] | None = None
    mig: bool | None = None


@dataclass(slots=True)
class ReportFields:
    """Everything a foreign report said; None = not in the report."""

    format: str = "collect_env"
    torch_version: str | None = None
    torch_importable: bool | None = None  # False: collect_env printed "PyTorch version: N/A"
    torch_location: str | None = None
    debug: bool | None = None
    cuda_build: str | None = ABSENT  # torch.version.cuda; None = a CPU (or ROCm) build
    hip: str | None = ABSENT
    cuda_available: bool | None = None
    cuda_unavailable_reason: str | None = None
    arch_list: tuple[str, ...] | None = None
    os: str | None = None  # "linux", "windows", "macos"
    os_release: str | None = None
    arch: str | None = None
    kernel: str | None = None
    glibc: str | None = None
    wsl: bool | None = None
    python_version: str | None = None
    python_location: str | None = None
    system_cuda: str | None = None  # "CUDA runtime version": the system toolkit's nvcc
    environment: dict[str, str] = field(default_factory=dict)
    gpus: list[ReportGpu] | None = None
    gpus_reason: str | None = None  # why gpus is None, when the report said something
    driver_version: str | None = None
    driver_reason: str | None = None
    cuda_driver_version: str | None = None
    system_cudnn: list[tuple[str, str]] | None = None  # (path, version)
    pip: list[tuple[str, str]] | None = None
    conda: list[CondaPackage] | None = None
    companions: dict[str, str] = field(default_factory=dict)  # torchvision -> version (detectron2 table)
    messages: list[str] = field(default_factory=list)  # warnings and errors printed with the report
    truncated_hint: bool = False


# --- normalisation shared with detect.py -------------------------------------------------------

_ANSI = re.compile(r"(?:\x1b)?\[(?:\d{1,3}(?:;\d{1,3})*)?m|\x1b\[[0-9;?]*[A-Za-z]")
_LOG_PREFIXES = (
    re.compile(r"^\d{4}-\d\d-\d\d[T ][\d:.,]+(?:Z|[+-]\d\d:?\d\d)?[ \t]+", re.M),  # ISO timestamps (docker logs -t)
    re.compile(r"^[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d \S+ [^:\s]+(?:\[\d+\])?: ", re.M),  # journalctl / syslog
    re.compile(r"^\[\d\d/\d\d \d\d:\d\d:\d\d [\w.]+\]: ", re.M),  # detectron2's logger
    re.compile(r"^(?:>(?!>>)[ \t]?)+", re.M),  # markdown blockquote (not the Python REPL's >>> prompt)
    re.compile(
        r"^(?:INFO|WARNING|ERROR|DEBUG|CRITICAL) \d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \[?[\w.]+:\d+\][ \t]*", re.M
    ),  # vLLM
    re.compile(r"^\[rank\d+\]:[ \t]*", re.M),  # torchrun's per-rank prefix
)


def normalise_text(text: str) -> str:
    """Undo what pasting does: CRLF, ANSI colours, log prefixes, quote marks, fullwidth colons. Each prefix
    pattern is removed once at the start of every line (one pass over the whole text per pattern)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "").replace("\x00", "")
    text = _ANSI.sub("", text)
    text = text.replace("\uff1a", ":")  # fullwidth colon, as in "GPU 0：Tesla P100"
    text = text.replace("\\_", "_")  # GitHub's markdown escape: `torch.__version\_\_` as pasted in an issue
    for prefix in _LOG_PREFIXES:
        text = prefix.sub("", text)
    return text


# --- collect_env key: value parsing -------------------------------------------------------------

_KEY_VALUE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 _./()-]{1,60}?)\s*:\s?(.*?)\s*$")
_OLD_TORCH = re.compile(r"^\s*PyTorch version\s+(\S+)\s*$")
_GPU_LINE = re.compile(r"^\s*GPU\s+(\d+)\s*:\s*(.+?)\s*$")
_MIG_LINE = re.compile(r"^\s*MIG\s+\S+\s+Device\s+\d+\s*:", re.I)
_LIB_LINE = re.compile(r"^\s*\[(pip\d?|conda)\]\s+(.*)$")
_CUDNN_PATH = re.compile(r"(\S*libcudnn\S*?\.so\.(\d+(?:\.\d+)*))|(\S*cudnn\S*\.dll)")
_VERSION = re.compile(r"\d+(?:\.\d+)+")
_SM_WARNING = re.compile(
    r"with CUDA capability sm_(\d+?)(\d) is not compatible.*?supports CUDA capabilities ((?:(?:sm|compute)_\d+[af]?\s*)+)",
    re.S,
)
_CUDA_INIT = re.compile(r"CUDA initialization:\s*(.+?)(?:\(Triggered internally|\n|$)")
_REPORT_KEYS = {
    "pytorch version": "torch",
    "is debug build": "debug",
    "cuda used to build pytorch": "cuda_build",
    "rocm used to build pytorch": "hip",
    "os": "os",
    "libc version": "libc",
    "python version": "python",
    "python platform": "platform",
    "is cuda available": "available",
    "cuda runtime version": "runtime",
    "cuda_module_loading set to": "module_loading",
    "gpu models and configuration": "gpus",
    "nvidia driver version": "driver",
    "cudnn version": "cudnn",
    "gcc version": "ignore",
    "clang version": "ignore",
    "cmake version": "ignore",
    "hip runtime version": "ignore",
    "miopen runtime version": "ignore",
    "is xnnpack available": "ignore",
    "is xpu available": "ignore",
    "caching allocator config": "allocator",
    "cpu": "cpu",
    "versions of relevant libraries": "libs",
    "version of relevant libraries": "libs",
    "torchvision version": "torchvision",
    "vllm version": "ignore",
    "vllm build flags": "ignore",
    "nvidia topology": "ignore",
}
_COLLECT_ENV_MARKERS = re.compile(
    r"^\s*(PyTorch version\s*[: ]|Is CUDA available\s*:|CUDA used to build PyTorch\s*:|Collecting environment information)",
    re.M,
)


def looks_like_collect_env(text: str) -> bool:
    return len(_COLLECT_ENV_MARKERS.findall(text)) >= 2 or bool(
        re.search(r"^\s*PyTorch version\s*:?\s*\S", text, re.M)
        and re.search(r"^\s*(OS|Python version|Is CUDA available|GPU models|\[pip\d?\]|\[conda\])", text, re.M)
    )


def _unwrap(value: str) -> str:
    return value.strip().strip("`").strip()


def _not_collected(value: str) -> bool:
    return _unwrap(value).lower().rstrip(".") in NOT_COLLECTED or _unwrap(value).lower().startswith("could not")


def _bool(value: str) -> bool | None:
    lowered = _unwrap(value).lower()
    if lowered in ("true", "yes"):
        return True
    if lowered in ("false", "no"):
        return False
    return None


def _version_token(value: str) -> str | None:
    token = _unwrap(value).split()[0] if _unwrap(value) else ""
    return token if token and token[0].isdigit() else None


def parse_collect_env(text: str) -> ReportFields:
    text = normalise_text(text)
    fields = ReportFields()
    if re.search(r"^={10,}\s*$", text, re.M) and re.search(r"^\s*PyTorch version\s{2,}:", text, re.M):
        fields.format = "vllm collect_env"
    lines = text.split("\n")
    consumed = [False] * len(lines)
    section: str | None = None  # "gpus", "cudnn", "libs", "cpu": a multi-line value being read
    for number, raw in enumerate(lines):
        line = raw.rstrip()
        stripped = line.strip().strip("`").strip()
        if not stripped:
            if section in ("gpus", "cudnn", "cpu"):
                section = None  # collect_env ends each block with a blank line: whatever follows is not CPU info
            consumed[number] = True
            continue
        if stripped in ("...", "…") or set(stripped) <= set("=-`~"):
            consumed[number] = True
            continue
        old = _OLD_TORCH.match(stripped)
        match = None if old else _KEY_VALUE.match(stripped)
        key = _REPORT_KEYS.get(match.group(1).strip().lower()) if match else None
        if old:
            key, value = "torch", old.group(1)
        elif match:
            value = match.group(2)
        if key is None and section:
            consumed[number] = _continue_section(fields, section, stripped)
            if consumed[number]:
                continue
            if section == "cpu" and not _LIB_LINE.match(stripped) and not _EXCEPTION_LINE.search(stripped):
                consumed[number] = True  # lscpu / WMI / sysctl lines: nothing torchenv needs
                continue
        if key is None:
            lib = _LIB_LINE.match(stripped)
            if lib:
                _add_library(fields, lib.group(1), lib.group(2))
                consumed[number] = True
            elif match and section is None and _plausible_extra_key(match.group(1)):
                consumed[number] = True  # an unknown "key: value" line of some variant
            continue
        consumed[number] = True
        section = None
        _apply(fields, key, value)
        if key in ("gpus", "cudnn", "libs", "cpu"):
            section = key
    fields.messages = _messages(lines, consumed)
    _from_messages(fields, "\n".join(fields.messages))
    return fields


_EXCEPTION_LINE = re.compile(r"\b[A-Z]\w*(?:Error|Exception|Warning)\b|^Traceback|^\s*File \"")


def _plausible_extra_key(key: str) -> bool:
    """An unknown `key: value` line of some collect_env variant, not an error message shaped like one."""
    key = key.strip()
    if _EXCEPTION_LINE.search(key) or key.lower().startswith(("traceback", "file ", "error", "warning")):
        return False
    return len(key.split()) <= 6


def _continue_section(fields: ReportFields, section: str, line: str) -> bool:
    if section == "gpus":
        gpu = _GPU_LINE.match(line)
        if gpu:
            _add_gpu(fields, int(gpu.group(1)), gpu.group(2))
            return True
        if _MIG_LINE.match(line) and fields.gpus:
            fields.gpus[-1].mig = True
            return True
        return False
    if section == "cudnn":
        found = _CUDNN_PATH.search(line)
        if found:
            _add_cudnn(fields, line)
            return True
        return False
    if section == "libs":
        lib = _LIB_LINE.match(line)
        if lib:
            _add_library(fields, lib.group(1), lib.group(2))
            return True
        return False
    return False


def _add_gpu(fields: ReportFields, index: int, text: str) -> None:
    name = _unwrap(text)
    cc = None
    arch = re.search(r"\(arch=(\d+)\.(\d+)\)", name)
    if arch:
        cc = (int(arch.group(1)), int(arch.group(2)))
        name = name[: arch.start()].strip()
    name = re.sub(r"\s*\(UUID:.*\)$", "", name)
    if fields.gpus is None:
        fields.gpus = []
    if any(g.index == index for g in fields.gpus):
        return
    fields.gpus.append(ReportGpu(index=index, name=name, cc=cc))


def _add_cudnn(fields: ReportFields, line: str) -> None:
    found = _CUDNN_PATH.search(line)
    if not found:
        return
    if fields.system_cudnn is None:
        fields.system_cudnn = []
    path = found.group(1) or found.group(3)
    version = found.group(2) or ""
    if "libcudnn.so" in path or "cudnn64" in path or version:
        fields.system_cudnn.append((path, version))


def _add_library(fields: ReportFields, kind: str, text: str) -> None:
    if kind.startswith("pip"):
        if fields.pip is None:
            fields.pip = []
        if not _not_collected(text):
            fields.pip.extend(parse_pip_freeze(text))
    else:
        if fields.conda is None:
            fields.conda = []
        if not _not_collected(text):
            fields.conda.extend(parse_conda_list(text))


def _apply(fields: ReportFields, key: str, value: str) -> None:
    value = _unwrap(value)
    collected = not _not_collected(value)
    if key == "torch":
        if value.upper() == "N/A":
            fields.torch_importable = False
        elif collected and value[:1].isdigit():
            fields.torch_version = value.split()[0]
            fields.torch_importable = True
    elif key == "debug":
        fields.debug = _bool(value)
    elif key == "cuda_build":
        if value.upper() == "N/A":
            fields.cuda_build = ABSENT  # torch did not import: nothing known about its build
        elif not collected:
            fields.cuda_build = None  # torch.version.cuda is None: collect_env prints None/"Could not collect"
        else:
            fields.cuda_build = _version_token(value)
    elif key == "hip":
        fields.hip = _version_token(value) if collected else None
    elif key == "os":
        _apply_os(fields, value)
    elif key == "libc":
        glibc = re.match(r"glibc[- ]([\d.]+)", value)
        if glibc:
            fields.glibc = glibc.group(1)
    elif key == "python":
        version = re.match(r"(\d+\.\d+(?:\.\d+)?)", value)
        if version:
            fields.python_version = version.group(1)
    elif key == "platform":
        _apply_platform(fields, value)
    elif key == "available":
        fields.cuda_available = _bool(value)
    elif key == "runtime":
        fields.system_cuda = _version_token(value) if collected else None
    elif key == "module_loading":
        if collected:
            fields.environment["CUDA_MODULE_LOADING"] = value
    elif key == "allocator":
        if collected:
            fields.environment["PYTORCH_CUDA_ALLOC_CONF"] = value
    elif key == "gpus":
        if fields.gpus is None:
            fields.gpus = []
        gpu = _GPU_LINE.match(value)
        if gpu:
            _add_gpu(fields, int(gpu.group(1)), gpu.group(2))
        elif value.lower() == "no cuda":
            fields.gpus = None
            fields.gpus_reason = "collect_env found no nvidia-smi and torch had no CUDA ('No CUDA')"
        elif not collected:
            fields.gpus = None
            fields.gpus_reason = "collect_env could not collect the GPUs (nvidia-smi failed or is missing)"
        elif value and not value.lower().startswith("gpu"):
            _add_gpu(fields, 0, value)  # a single GPU printed without "GPU 0:"
    elif key == "driver":
        if collected and _version_token(value):
            fields.driver_version = _version_token(value)
        elif value.lower() == "no cuda":
            fields.driver_reason = "collect_env found no NVIDIA driver ('No CUDA': no nvidia-smi)"
        else:
            fields.driver_reason = f"collect_env could not read it ({value or 'empty'!r})"
    elif key == "cudnn":
        if fields.system_cudnn is None:
            fields.system_cudnn = []
        if collected:
            _add_cudnn(fields, value)
    elif key == "libs":
        if fields.pip is None and fields.conda is None:
            pass  # the lists follow
    elif key == "torchvision" and collected and value[:1].isdigit():
        fields.companions["torchvision"] = value.split()[0]


def _apply_os(fields: ReportFields, value: str) -> None:
    if not value or _not_collected(value):
        return
    arch = re.search(r"\((x86_64|aarch64|arm64|AMD64|ppc64le|i686)\)\s*$", value)
    release = value[: arch.start()].strip() if arch else value.strip()
    fields.os_release = release
    if arch:
        fields.arch = {"AMD64": "x86_64"}.get(arch.group(1), arch.group(1))
    lowered = release.lower()
    if "windows" in lowered:
        fields.os = "windows"
    elif lowered.startswith(("macos", "mac os", "darwin")):
        fields.os = "macos"
    elif fields.os is None:
        fields.os = "linux"


def _apply_platform(fields: ReportFields, value: str) -> None:
    lowered = value.lower()
    if lowered.startswith("linux"):
        fields.os = "linux"
        kernel = re.match(r"linux-(.+?)-(x86_64|aarch64|ppc64le|i686)", value, re.I)
        if kernel:
            fields.kernel = kernel.group(1)
            fields.arch = fields.arch or kernel.group(2)
        if "microsoft" in lowered or "wsl" in lowered:
            fields.wsl = True
    elif lowered.startswith("windows"):
        fields.os = "windows"
    elif lowered.startswith(("macos", "darwin")):
        fields.os = "macos"
        if "arm64" in lowered:
            fields.arch = fields.arch or "arm64"
        elif "x86_64" in lowered:
            fields.arch = fields.arch or "x86_64"


_MESSAGE_HINT = re.compile(
    r"(error|warning|warn\b|failed|not compatible|no longer supports|cannot|could not load|undefined symbol|"
    r"not found|killed|too old|insufficient|exception|traceback|no kernel image)",
    re.I,
)


def _messages(lines: list[str], consumed: list[bool]) -> list[str]:
    """The lines around the report that are not part of it: warnings, tracebacks, errors."""
    out: list[str] = []
    for line, used in zip(lines, consumed, strict=True):
        if used:
            continue
        out.append(line)
    text = "\n".join(out)
    if not _MESSAGE_HINT.search(text):
        return []
    return [line for line in out if line.strip()]


def _from_messages(fields: ReportFields, text: str) -> None:
    """Facts a warning printed with the report states outright (the arch list, why CUDA failed)."""
    warning = _SM_WARNING.search(text)
    if warning and fields.arch_list is None:
        fields.arch_list = tuple(warning.group(3).split())
    init = _CUDA_INIT.search(text)
    if init:
        fields.cuda_unavailable_reason = init.group(1).strip()


# --- detectron2's collect_env table ----------------------------------------------------------------

_D2_RULE = re.compile(r"^\s*-{6,}\s+-{6,}\s*$")
_D2_ROW = re.compile(r"^\s*([A-Za-z_][\w .,/()-]*?)\s{2,}(\S.*?)\s*$")
_D2_FIRST_ROW = re.compile(r"^\s*sys\.platform\s{2,}\S")  # detectron2's table always starts with this row


def looks_like_detectron2(text: str) -> bool:
    has_rule = re.search(r"^\s*-{6,}\s+-{6,}\s*$", text, re.M)
    return bool(has_rule and re.search(r"^\s*(sys\.platform|PyTorch)\s{2,}\S", text, re.M))


def parse_detectron2(text: str) -> ReportFields:
    text = normalise_text(text)
    fields = ReportFields(format="detectron2 collect_env")
    lines = text.split("\n")
    consumed = [False] * len(lines)
    in_table = False
    in_built_with = False
    built_with: list[str] = []
    for number, raw in enumerate(lines):
        line = raw.rstrip().strip("`")
        if _D2_RULE.match(line):
            in_table = not in_table
            consumed[number] = True
            continue
        if not in_table and _D2_FIRST_ROW.match(line):
            in_table = True  # a paste cut above the opening rule: the table starts at its sys.platform row (p153)
        if line.strip().startswith("PyTorch built with"):
            in_built_with = True
            consumed[number] = True
            continue
        if in_built_with:
            if line.startswith(("  ", "\t")) or line.strip().startswith("-"):
                built_with.append(line.strip())
                consumed[number] = True
                continue
            in_built_with = False
        row = _D2_ROW.match(line) if in_table else None
        if not row:
            if not line.strip():
                consumed[number] = True
            continue
        consumed[number] = _apply_d2(fields, row.group(1).strip(), row.group(2).strip())
    if built_with:
        _apply_built_with(fields, built_with)
    fields.messages = _messages(lines, consumed)
    _from_messages(fields, "\n".join(fields.messages))
    return fields


def _apply_d2(fields: ReportFields, key: str, value: str) -> bool:
    lowered = key.lower()
    if lowered == "sys.platform":
        fields.os = {"linux": "linux", "win32": "windows", "darwin": "macos"}.get(value.lower(), fields.os)
    elif lowered == "python":
        version = re.match(r"(\d+\.\d+(?:\.\d+)?)", value)
        if version:
            fields.python_version = version.group(1)
    elif lowered == "pytorch":
        version, _, location = value.partition("@")
        if version.strip()[:1].isdigit():
            fields.torch_version = version.strip().split()[0]
            fields.torch_importable = True
            if location.strip():
                fields.torch_location = location.strip()
    elif lowered == "pytorch debug build":
        fields.debug = _bool(value)
    elif lowered == "gpu available":
        fields.cuda_available = _bool(value.split()[0] if value else "")
        if fields.cuda_available is False and fields.gpus is None:
            fields.gpus_reason = "detectron2's table lists GPUs only when torch can use them"
    elif re.fullmatch(r"gpu [\d,]+", lowered):
        indices = [int(i) for i in lowered[4:].split(",") if i.isdigit()]
        for index in indices:
            _add_gpu(fields, index, value)
    elif lowered == "cuda_home":
        fields.environment["CUDA_HOME"] = value
    elif lowered in ("torchvision", "torchaudio"):
        version = value.split("@")[0].strip().split()
        if version and version[0][:1].isdigit():
            fields.companions[lowered] = version[0]
    elif lowered == "nvidia driver version":
        if _version_token(value):
            fields.driver_version = _version_token(value)
    elif lowered == "cudnn":
        token = _version_token(value)
        if token:
            fields.system_cudnn = [("(detectron2 table)", token)]
    elif lowered in ("detectron2._c", "detectron2 _c", "detectron2") and re.search(
        r"fail|not built|no module|error", value, re.I
    ):
        return False  # an error: keep it as a message for explain
    return True


def _apply_built_with(fields: ReportFields, lines: list[str]) -> None:
    text = "\n".join(lines)
    runtime = re.search(r"CUDA Runtime\s+([\d.]+)", text)
    if runtime:
        fields.cuda_build = ".".join(runtime.group(1).split(".")[:2])
    elif "Build settings" in text:
        fields.cuda_build = None  # the whole build configuration lists no CUDA: a CPU build
    arches = re.findall(r"code=((?:sm|compute)_\d+[af]?)", text)
    if arches:
        seen: list[str] = []
        for arch in arches:
            if arch not in seen:
                seen.append(arch)
        fields.arch_list = tuple(seen)


def companion_versions(pip: list[tuple[str, str]] | None) -> dict[str, str]:
    if not pip:
        return {}
    return {name: version for name, version in pip if canonical_name(name) in ("torchvision", "torchaudio")}


__all__ = [
    "ABSENT",
    "ReportFields",
    "ReportGpu",
    "companion_versions",
    "looks_like_collect_env",
    "looks_like_detectron2",
    "normalise_text",
    "parse_collect_env",
    "parse_detectron2",
]
