"""Read any pasted environment report into Facts: detect the format, parse it, say what is missing.

Formats: `python -m torch.utils.collect_env` (every torch version, vLLM's and other tools'
variants), detectron2's collect_env table, torchenv's own `doctor --json`, `pip list`,
`pip freeze`, `conda list`, the `nvidia-smi` table and `nvidia-smi --query-gpu` CSV.

A fact the report does not contain is `Unknown("not in the report")`, so the checks skip
instead of guessing. `read_report` is pure and total: any bytes give a ParsedReport, and a
problem with the input (binary, empty, unrecognised) is `error`, never an exception.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ..model import (
    Companion,
    CondaPackage,
    CudaToolkit,
    Distribution,
    DriverFacts,
    Facts,
    GpuFacts,
    GpuInventory,
    HostFacts,
    PythonEnv,
    SystemLibrary,
    TorchFacts,
    Unknown,
    known,
)
from ..model.codec import DecodeError, from_json
from .collect_env import (
    ABSENT,
    ReportFields,
    looks_like_collect_env,
    looks_like_detectron2,
    normalise_text,
    parse_collect_env,
    parse_detectron2,
)
from .conda_list import conda_prefix, looks_like_conda_list, parse_conda_list
from .lines import LineRecord, TextFacts, TextReading, classify_text
from .nvidia_smi import parse_query_gpu_csv
from .pip_list import (
    looks_like_bare_columns,
    looks_like_pip_freeze,
    looks_like_pip_list,
    parse_bare_columns,
    parse_pip_freeze,
    parse_pip_list,
)
from .smi_table import looks_like_smi_table, parse_smi_table

MAX_BYTES = 512 * 1024  # a real report is a few KiB; more is a log or the wrong file
NOT_IN_REPORT = "not in the report"
TORCHENV_DOCTOR = "`torchenv doctor` on that machine (reads all of these and runs a GPU smoke test)"


@dataclass(frozen=True, slots=True)
class MissingFact:
    fact: str  # what the checks would have needed, in words
    how: str  # the command that shows it on that machine


@dataclass(frozen=True, slots=True)
class ParsedReport:
    format: str  # "collect_env", "vllm collect_env", "detectron2 collect_env", "torchenv doctor JSON", ...
    facts: Facts | None  # None when nothing could be read (see error)
    missing: tuple[MissingFact, ...] = ()
    messages: str = ""  # warnings and errors printed with the report, for explain
    notes: tuple[str, ...] = ()
    error: str | None = None  # why the input could not be read as a report (one line)
    lines: tuple[LineRecord, ...] = ()  # every input line with its kind and the facts it gave
    evidence: TextFacts | None = None  # what the line reader found in the whole text (before merging)


# --- input handling ------------------------------------------------------------------------------


def decode_input(data: bytes, total_size: int | None = None) -> tuple[str | None, tuple[str, ...], str | None]:
    """(text, notes, error): reject binary input, cap the size, decode leniently."""
    notes: list[str] = []
    size = total_size if total_size is not None else len(data)
    if not data.strip():
        return None, (), "the input is empty"
    sample = data[:8192]
    if b"\x00" in sample or _binary_share(sample) > 0.1:
        return None, (), f"the input looks binary ({_size(size)}), not a text report"
    if len(data) > MAX_BYTES:  # a log: its head (the report) and its tail (where the error is), whole lines
        head = data[: MAX_BYTES * 3 // 4]
        head = head[: head.rfind(b"\n") + 1] or head
        tail = data[-(MAX_BYTES // 4) :]
        tail = tail[tail.find(b"\n") + 1 :] if b"\n" in tail else tail
        data = head + tail
        notes.append(
            f"read only the first {_size(len(head))} and the last {_size(len(tail))} of {_size(size)}: "
            "a report is a few KiB"
        )
    elif size > MAX_BYTES:
        notes.append(f"read only the first {_size(len(data))} of {_size(size)}: a report is a few KiB")
    text = data.decode("utf-8", errors="replace")
    if text.count("\ufffd") > max(16, len(text) // 20):
        return None, tuple(notes), "the input is not UTF-8 text"
    return text, tuple(notes), None


def _binary_share(sample: bytes) -> float:
    if not sample:
        return 0.0
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    return control / len(sample)


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB" if n >= 1 << 20 else f"{n / 1024:.0f} KiB" if n >= 1024 else f"{n} bytes"


def read_report(source: str | bytes, *, total_size: int | None = None) -> ParsedReport:
    """Detect the format of `source` and parse it into Facts. Never raises."""
    raw = source.encode("utf-8", errors="replace") if isinstance(source, str) else bytes(source)
    text, notes, error = decode_input(raw, total_size)
    if text is None:
        return ParsedReport(format="unreadable", facts=None, notes=notes, error=error)
    parsed = _dispatch(text)
    return ParsedReport(
        format=parsed.format,
        facts=parsed.facts,
        missing=parsed.missing,
        messages=parsed.messages,
        notes=notes + parsed.notes,
        error=parsed.error,
        lines=parsed.lines,
        evidence=parsed.evidence,
    )


def _dispatch(text: str) -> ParsedReport:
    """Any text in: a known producer's format where one is recognised, and in every case the line reader
    over the whole text, whose facts fill what the format left unknown and whose messages are all kept."""
    stripped = text.strip().strip("`").strip()
    if stripped.lstrip("json").lstrip().startswith("{"):
        return _read_json(stripped.lstrip("json").strip())
    clean = normalise_text(text)
    reading = classify_text(clean)
    parsed = _read_format(clean)
    if parsed is not None and parsed.facts is None:
        parsed = None  # e.g. a pip list without torch: the line reader may still find something
    if parsed is None:
        if not has_evidence(reading):
            return ParsedReport(
                format="unknown",
                facts=None,
                error="not a report torchenv can read: no facts and no error message in it (expected e.g. the output "
                "of `python -m torch.utils.collect_env`, `nvidia-smi`, `pip list`, or the error text itself)",
                lines=tuple(reading.lines),
            )
        base = _bare_facts("text report")
        fmt, messages, notes = "text", "", ("no known report format: facts and messages were read line by line",)
    else:
        base, fmt, messages, notes = parsed.facts, parsed.format, parsed.messages, parsed.notes
    facts = augment_facts(base, reading.facts)
    return ParsedReport(
        format=fmt,
        facts=facts,
        missing=_missing(facts),
        messages=_merge_messages(reading.messages, messages),
        notes=notes,
        lines=tuple(reading.lines),
        evidence=reading.facts,
    )


def has_evidence(reading: TextReading) -> bool:
    tf = reading.facts
    return bool(
        reading.messages
        or tf.torch_version
        or tf.torch_not_importable
        or tf.gpus
        or tf.driver_version
        or tf.system_cuda
        or tf.packages
        or tf.conda_builds
        or tf.cuda_available is not None
        or tf.cuda_build
        or tf.cpu_build
        or tf.no_gpu
        or tf.driver_cuda
        or tf.tegra
        or tf.wsl
        or tf.kernel
        or tf.container
        or tf.cuda_expected
        or tf.cpu_evidence
        or tf.python_version
        or tf.os_release
        or tf.toolkits
        or tf.libraries
        or tf.environment
        or tf.executable
        or tf.cudnn_version is not None
        or tf.arch_list
        or tf.glibc
        or tf.conda_prefix
        or tf.other_displays
    )


def _merge_messages(lines: list[str], parser_messages: str) -> str:
    seen = set(lines)
    extra = [m for m in parser_messages.split("\n") if m.strip() and m.strip() not in seen and m not in seen]
    return "\n".join([*lines, *extra])


def _read_format(clean: str) -> ParsedReport | None:
    """The known producers' formats; None when the text is none of them."""
    if looks_like_collect_env(clean):
        fields = parse_collect_env(clean)
        _merge_smi(fields, clean)
        return from_fields(fields, clean)
    if looks_like_detectron2(clean):
        fields = parse_detectron2(clean)
        return from_fields(fields, clean)
    if looks_like_smi_table(clean):
        return _read_smi_table(clean)
    if ("--query-gpu=" in clean or re.search(r"^\s*(index|name)\s*,", clean, re.M)) and "," in clean:
        result = _read_smi_csv(clean)
        if result is not None:
            return result
    if looks_like_conda_list(clean):
        return _read_packages(clean, "conda list")
    if looks_like_pip_list(clean):
        return _read_packages(clean, "pip list")
    if looks_like_pip_freeze(clean):
        return _read_packages(clean, "pip freeze")
    if looks_like_bare_columns(clean):
        return _read_packages(clean, "pip list")
    return None


# --- torchenv's own JSON -------------------------------------------------------------------------


def _read_json(text: str) -> ParsedReport:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return ParsedReport(format="json", facts=None, error=f"the input starts like JSON but does not parse ({exc})")
    toolkit = data.get("cuda") if isinstance(data, dict) else None
    if isinstance(toolkit, dict) and isinstance(toolkit.get("version"), str) and "kind" not in data:
        return _read_cuda_version_json(toolkit["version"])
    if not isinstance(data, dict) or data.get("kind") != "torchenv.doctor" or not isinstance(data.get("facts"), dict):
        return ParsedReport(
            format="json",
            facts=None,
            error="JSON that is not a torchenv report (expected `torchenv doctor --json` output, kind torchenv.doctor)",
        )
    version = data.get("schema_version")
    try:
        facts = from_json(Facts, data["facts"])
    except (DecodeError, TypeError, ValueError, RecursionError) as exc:
        return ParsedReport(
            format="torchenv doctor JSON",
            facts=None,
            error=f"torchenv JSON (schema_version {version}) whose facts this version cannot read: {exc}",
        )
    origin = facts.origin if facts.origin != "this machine" else "another machine"
    facts = _replace(facts, origin=f"torchenv doctor JSON from {origin}")
    notes = () if version == 1 else (f"schema_version {version!r}; this torchenv writes 1",)
    return ParsedReport(format="torchenv doctor JSON", facts=facts, missing=_missing(facts), notes=notes)


def _read_cuda_version_json(version: str) -> ParsedReport:
    """A CUDA toolkit's `version.json` (`{"cuda": {"name": "CUDA SDK", "version": "12.1.1"}, ...}`)."""
    origin = "CUDA version.json report"
    facts = _replace(
        _bare_facts(origin),
        cuda_toolkits=(CudaToolkit(path="(path not in the report)", version=version, source="version.json"),),
    )
    return ParsedReport(format="CUDA version.json", facts=facts, missing=_missing(facts))


def _replace(facts: Facts, **changes) -> Facts:
    import dataclasses

    return dataclasses.replace(facts, **changes)


# --- collect_env and detectron2 -------------------------------------------------------------------


def _merge_smi(fields: ReportFields, text: str) -> None:
    """A user who pasted collect_env and nvidia-smi together: take the driver's CUDA version from the table."""
    if not looks_like_smi_table(text):
        return
    table = parse_smi_table(text)
    if table is None:
        return
    fields.driver_version = fields.driver_version or table.driver_version
    fields.cuda_driver_version = table.cuda_driver_version


def _infer_os(text: str) -> str | None:
    if re.search(r"[A-Za-z]:\\(?:Users|Program Files|ProgramData|Python)", text):
        return "windows"
    if re.search(r"(^|[\s'\"(])/Users/\w", text):
        return "macos"
    if re.search(r"(^|[\s'\"(=])/(home|root|usr|opt|var|data|scratch|nix)/", text):
        return "linux"
    return None


def from_fields(fields: ReportFields, text: str = "") -> ParsedReport:
    origin = f"{fields.format} report"
    os_name = fields.os or _infer_os(text) or "unknown"
    if fields.wsl:
        wsl: bool | Unknown = True  # a WSL kernel string; the checks that need /dev/dxg skip report facts
    elif fields.kernel is not None:
        wsl = False
    else:
        wsl = Unknown(NOT_IN_REPORT)
    host = HostFacts(
        os=os_name,
        arch=fields.arch or "unknown",
        os_release=fields.os_release or Unknown(NOT_IN_REPORT),
        kernel=(fields.kernel + (" (WSL 2)" if fields.wsl else "")) if fields.kernel else Unknown(NOT_IN_REPORT),
        glibc=fields.glibc or Unknown(NOT_IN_REPORT),
        container=Unknown(NOT_IN_REPORT),
        wsl=wsl,
        shm_bytes=Unknown(NOT_IN_REPORT),
        cpu_count=Unknown(NOT_IN_REPORT),
        pci_gpus=Unknown(NOT_IN_REPORT),
        dev_nodes=(),
        source=origin,
    )
    driver = DriverFacts(
        version=fields.driver_version or Unknown(fields.driver_reason or NOT_IN_REPORT),
        source=origin,
        kernel_module=Unknown(NOT_IN_REPORT),
        userspace_version=Unknown(NOT_IN_REPORT),
        cuda_driver_version=fields.cuda_driver_version or Unknown(NOT_IN_REPORT),
    )
    if fields.gpus:
        gpus: tuple[GpuFacts, ...] | Unknown = tuple(_gpu(g.index, g.name, g.cc, g.mig) for g in fields.gpus)
    elif fields.gpus_reason and "No CUDA" in fields.gpus_reason:
        # collect_env prints "No CUDA" only when nvidia-smi listed nothing, no driver answered and torch has no
        # CUDA: no NVIDIA GPU is usable there (on macOS none can exist)
        gpus = ()
    else:
        gpus = Unknown(fields.gpus_reason or NOT_IN_REPORT)
    pip = fields.pip
    conda = fields.conda
    python = _python(fields.python_version, pip, conda, text)
    torch = _torch(fields, pip, conda)
    libraries: tuple[SystemLibrary, ...] | Unknown = Unknown(NOT_IN_REPORT)
    if fields.system_cudnn:
        libraries = tuple(
            SystemLibrary(
                name="libcudnn",
                version=version or Unknown("no version in the file name"),
                path=path,
                via=f"{origin} (cuDNN version)",
            )
            for path, version in fields.system_cudnn
        )
    if fields.system_cuda:
        toolkits: tuple[CudaToolkit, ...] | Unknown = (
            CudaToolkit(path="(path not in the report)", version=fields.system_cuda, source="collect_env: nvcc"),
        )
    elif fields.system_cuda is None and "CUDA runtime version" in text:
        toolkits = ()
    else:
        toolkits = Unknown(NOT_IN_REPORT)
    facts = Facts(
        host=host,
        driver=driver,
        gpus=GpuInventory(source=origin, gpus=gpus),
        environment=dict(fields.environment),
        system_libraries=libraries,
        cuda_toolkits=toolkits,
        python=python,
        shell=Unknown(NOT_IN_REPORT),
        torch=torch,
        origin=origin,
    )
    notes: tuple[str, ...] = ()
    if fields.format == "collect_env" and fields.torch_version is None and fields.torch_importable is None:
        notes = ("no 'PyTorch version' line: the report may be cut short",)
    return ParsedReport(
        format=fields.format,
        facts=facts,
        missing=_missing(facts),
        messages="\n".join(fields.messages),
        notes=notes,
    )


def _gpu(index: int, name: str, cc: tuple[int, int] | None, mig: bool | None) -> GpuFacts:
    return GpuFacts(
        index=index,
        name=name,
        uuid=Unknown(NOT_IN_REPORT),
        cc=cc if cc else Unknown(NOT_IN_REPORT),
        memory_total_mib=Unknown(NOT_IN_REPORT),
        memory_used_mib=Unknown(NOT_IN_REPORT),
        pcie_gen_current=Unknown(NOT_IN_REPORT),
        pcie_gen_max=Unknown(NOT_IN_REPORT),
        pcie_width_current=Unknown(NOT_IN_REPORT),
        pcie_width_max=Unknown(NOT_IN_REPORT),
        mig_enabled=True if mig else Unknown(NOT_IN_REPORT),
        persistence_mode=Unknown(NOT_IN_REPORT),
        ecc_enabled=Unknown(NOT_IN_REPORT),
        ecc_uncorrected_errors=Unknown(NOT_IN_REPORT),
        compute_processes=Unknown(NOT_IN_REPORT),
        other_processes_memory_mib=Unknown(NOT_IN_REPORT),
        utilization_percent=Unknown(NOT_IN_REPORT),
    )


def _python(
    version: str | None,
    pip: list[tuple[str, str]] | None,
    conda: list[CondaPackage] | None,
    text: str,
    prefix: str | None = None,
) -> PythonEnv | Unknown:
    if version is None and conda:
        version = next((p.version for p in conda if p.name == "python"), None)
    if version is None:
        site = re.search(r"python(3\.\d{1,2})[/\\]site-packages", text)
        version = site.group(1) if site else None
    if version is None and pip is None:
        return Unknown(NOT_IN_REPORT)
    distributions: tuple[Distribution, ...] | Unknown = Unknown(NOT_IN_REPORT)
    if pip is not None:
        distributions = tuple(
            Distribution(name=name, version=v, location="(not in the report)", installer=_installer(name, v, conda))
            for name, v in pip
        )
    elif conda is not None:
        distributions = tuple(
            Distribution(name=p.name, version=p.version, location="(not in the report)", installer="pip")
            for p in conda
            if known(p.channel) and p.channel == "pypi"
        )
    return PythonEnv(
        executable="python",
        version=version or "unknown",  # a package list without the Python version: keep the list
        implementation="CPython",
        prefix=prefix or "",
        base_prefix=prefix or "",
        is_venv=False,
        conda_prefix=prefix,
        user_site=Unknown(NOT_IN_REPORT),
        user_site_enabled=False,
        sys_path=(),
        distributions=distributions,
        conda_packages=tuple(conda) if conda is not None else Unknown(NOT_IN_REPORT),
    )


_CONDA_NAMES = {"torch": ("pytorch", "pytorch-gpu", "pytorch-cpu"), "torchvision": ("torchvision",)}


def _installer(name: str, version: str, conda: list[CondaPackage] | None) -> str | Unknown:
    """pip's list also shows what conda installed; tell the two apart by conda's own list."""
    if conda is None:
        return Unknown("a pip list does not say which installer put a package there")
    names = _CONDA_NAMES.get(name, (name,))
    for package in conda:
        if package.name in names or package.name == name:
            if known(package.channel) and package.channel == "pypi":
                return "pip"
            if package.version.split("+")[0] == version.split("+")[0]:
                return "conda"
    return "pip"


def _variant_cuda(version: str) -> str | Unknown | None:
    local = version.split("+", 1)[1] if "+" in version else ""
    match = re.fullmatch(r"cu(\d+)(\d)", local)
    if match:
        return f"{match.group(1)}.{match.group(2)}"
    if local == "cpu" or local.startswith(("cpu", "rocm")):
        return None
    return Unknown(NOT_IN_REPORT)


def _conda_cuda(package: CondaPackage) -> str | Unknown | None:
    build = package.build.lower()
    match = re.search(r"cuda(\d+)\.(\d+)", build) or re.search(r"cuda(\d+)(\d)_", build)
    if match:
        return f"{match.group(1)}.{match.group(2)}"
    if build.startswith("cpu") or "_cpu_" in build or (build.startswith("py") and "cpu" in build):
        return None
    return Unknown(NOT_IN_REPORT)


def _torch(fields: ReportFields, pip, conda) -> TorchFacts | Unknown:
    pip_torch = next((v for name, v in pip or () if name == "torch"), None)
    conda_torch = next((p for p in conda or () if p.name in ("pytorch", "pytorch-gpu", "pytorch-cpu")), None)
    companions = _companions(fields, pip)
    if fields.torch_importable is False:
        installed_lists = pip is not None or conda is not None
        missing = installed_lists and pip_torch is None and conda_torch is None
        return _torch_facts(
            status="missing" if missing else "import-error",
            stage="import",
            error=(
                "No module named 'torch' (collect_env printed 'PyTorch version: N/A' and no torch in its package lists)"
                if missing
                else "collect_env could not import torch ('PyTorch version: N/A'); its error is not in the report"
            ),
            version=Unknown("torch did not import when the report was made"),
            cuda=Unknown("torch did not import when the report was made"),
            companions=Unknown(NOT_IN_REPORT),
        )
    version = fields.torch_version
    source = "report"
    if version is None and pip_torch is not None:
        version, source = pip_torch, "pip"
    if version is None and conda_torch is not None:
        version, source = conda_torch.version, "conda"
    if version is None:
        return Unknown(NOT_IN_REPORT)
    if fields.cuda_build != ABSENT:
        cuda: str | Unknown | None = fields.cuda_build
        if fields.hip not in (ABSENT, None):
            cuda = None
    elif source == "conda" and conda_torch is not None:
        cuda = _conda_cuda(conda_torch)
    else:
        cuda = _variant_cuda(version)
    debug: bool | Unknown = fields.debug if fields.debug is not None else Unknown(NOT_IN_REPORT)
    if debug is True and version.startswith("1.7.0"):
        debug = Unknown("collect_env of torch 1.7.0 printed 'Is debug build: True' for release builds (pytorch#47003)")
    return _torch_facts(
        status="ok",
        stage="build" if source == "report" else "env",
        error=None,
        version=version,
        cuda=cuda,
        hip=(fields.hip if fields.hip != ABSENT else Unknown(NOT_IN_REPORT)),
        debug=debug,
        cuda_available=fields.cuda_available if fields.cuda_available is not None else Unknown(NOT_IN_REPORT),
        reason=fields.cuda_unavailable_reason,
        arch_list=fields.arch_list,
        location=fields.torch_location,
        companions=companions,
    )


def _companions(fields: ReportFields, pip) -> tuple[Companion, ...] | Unknown:
    found = dict(fields.companions)
    if pip is not None:
        for name, version in pip:
            if name in ("torchvision", "torchaudio"):
                found.setdefault(name, version)
    if not found and pip is None:
        return Unknown(NOT_IN_REPORT)
    return tuple(Companion(name=name, version=version) for name, version in sorted(found.items()))


def _torch_facts(
    *,
    status: str,
    stage: str,
    error: str | None,
    version,
    cuda,
    hip=None,
    debug=None,
    cuda_available=None,
    reason: str | None = None,
    arch_list: tuple[str, ...] | None = None,
    location: str | None = None,
    companions=None,
    cudnn_version: int | None = None,
    device_count: int | None = None,
) -> TorchFacts:
    unknown = Unknown(NOT_IN_REPORT)
    return TorchFacts(
        status=status,
        stage=stage,
        error=error,
        version=version,
        cuda=cuda,
        hip=hip if hip is not None or cuda is None else unknown,
        git_version=unknown,
        debug=debug if debug is not None else unknown,
        cuda_available=cuda_available if cuda_available is not None else unknown,
        cuda_unavailable_reason=reason,
        device_count=device_count if device_count is not None else unknown,
        devices=(),
        arch_list=arch_list if arch_list else unknown,
        cudnn_enabled=unknown,
        cudnn_version=cudnn_version
        if cudnn_version is not None
        else Unknown("collect_env's cuDNN line is the system's cuDNN, not the one torch loads"),
        nccl_version=unknown,
        loaded_libraries=unknown,
        smoke=Unknown("a report has no GPU smoke test"),
        cuda_init_seconds=unknown,
        location=location or unknown,
        companions=companions if companions is not None else unknown,
    )


# --- nvidia-smi and package lists ----------------------------------------------------------------


def _bare_facts(origin: str, *, os_name: str = "unknown", **parts) -> Facts:
    unknown = Unknown(NOT_IN_REPORT)
    host = HostFacts(
        os=os_name,
        arch="unknown",
        os_release=unknown,
        kernel=unknown,
        glibc=unknown,
        container=unknown,
        wsl=unknown,
        shm_bytes=unknown,
        cpu_count=unknown,
        pci_gpus=unknown,
        dev_nodes=(),
        source=origin,
    )
    return Facts(
        host=host,
        driver=parts.get("driver")
        or DriverFacts(
            version=unknown,
            source=origin,
            kernel_module=unknown,
            userspace_version=unknown,
            cuda_driver_version=unknown,
        ),
        gpus=parts.get("gpus") or GpuInventory(source=origin, gpus=unknown),
        environment={},
        system_libraries=unknown,
        cuda_toolkits=unknown,
        python=parts.get("python") or unknown,
        shell=unknown,
        torch=parts.get("torch") or unknown,
        origin=origin,
    )


def _read_smi_table(text: str) -> ParsedReport:
    table = parse_smi_table(text)
    if table is None:
        return ParsedReport(format="nvidia-smi", facts=None, error="an nvidia-smi table without a header")
    origin = "nvidia-smi report"
    driver = DriverFacts(
        version=table.driver_version or Unknown("not in the nvidia-smi table"),
        source=origin,
        kernel_module=Unknown(NOT_IN_REPORT),
        userspace_version=table.driver_version or Unknown(NOT_IN_REPORT),
        cuda_driver_version=table.cuda_driver_version or Unknown(NOT_IN_REPORT),
    )
    gpus = GpuInventory(source=origin, gpus=table.gpus if table.gpus else Unknown("no GPU rows in the table"))
    facts = _bare_facts(
        origin, os_name="windows" if table.windows else _infer_os(text) or "unknown", driver=driver, gpus=gpus
    )
    return ParsedReport(format="nvidia-smi", facts=facts, missing=_missing(facts))


def _read_smi_csv(text: str) -> ParsedReport | None:
    lines = [
        line
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith(("$", "#")) and "--query-gpu" not in line
    ]
    # `--format=csv,noheader`: the fields are the ones the command line asked for, in its order
    asked = re.search(r"--query-gpu[= ]([\w.,]+)", text)
    fields = tuple(f.strip() for f in asked.group(1).split(",") if f.strip()) if asked else None
    if fields:
        gpus, driver_version = parse_query_gpu_csv("\n".join(lines), fields)
    else:
        gpus, driver_version = parse_query_gpu_csv("\n".join(lines))
    if not gpus:
        return None
    origin = "nvidia-smi --query-gpu report"
    driver = DriverFacts(
        version=driver_version or Unknown("not in the query"),
        source=origin,
        kernel_module=Unknown(NOT_IN_REPORT),
        userspace_version=driver_version or Unknown(NOT_IN_REPORT),
        cuda_driver_version=Unknown(NOT_IN_REPORT),
    )
    facts = _bare_facts(origin, driver=driver, gpus=GpuInventory(source=origin, gpus=tuple(gpus)))
    return ParsedReport(format="nvidia-smi CSV", facts=facts, missing=_missing(facts))


def _read_packages(text: str, kind: str) -> ParsedReport:
    conda: list[CondaPackage] | None = None
    pip: list[tuple[str, str]] | None = None
    prefix = None
    if kind == "conda list":
        conda = parse_conda_list(text)
        prefix = conda_prefix(text)
        pip = [(p.name, p.version) for p in conda if known(p.channel) and p.channel == "pypi"]
    elif kind == "pip freeze":
        pip = parse_pip_freeze(text)
    else:
        pip = parse_pip_list(text) or parse_bare_columns(text)
    origin = f"{kind} report"
    fields = ReportFields(format=kind)
    torch = _torch(fields, pip, conda)
    python = _python(None, pip, conda, text, prefix)
    facts = _bare_facts(origin, os_name=_infer_os(text) or "unknown", python=python, torch=torch)
    if not known(facts.python) and not known(facts.torch):
        return ParsedReport(
            format=kind,
            facts=None,
            error=f"a {kind} without torch or Python in it: nothing the checks can use",
        )
    return ParsedReport(format=kind, facts=facts, missing=_missing(facts))


# --- what is missing -------------------------------------------------------------------------------


def _missing(facts: Facts) -> tuple[MissingFact, ...]:
    out: list[MissingFact] = []
    torch = facts.torch
    collect_env = "`python -m torch.utils.collect_env`"
    if not known(torch):
        out.append(MissingFact("the torch build (version, CUDA version)", collect_env))
    else:
        if not known(torch.version) and torch.status == "import-error":
            out.append(MissingFact("why `import torch` failed", "`python -c 'import torch'` (the last lines)"))
        if known(torch.version) and not known(torch.cuda):
            out.append(
                MissingFact(
                    "the CUDA version torch was built with", "`python -c 'import torch; print(torch.version.cuda)'`"
                )
            )
        if known(torch.version) and not known(torch.cuda_available):
            out.append(
                MissingFact(
                    "whether torch can use CUDA", "`python -c 'import torch; print(torch.cuda.is_available())'`"
                )
            )
    if not known(facts.driver.version):
        out.append(MissingFact("the NVIDIA driver version", "`nvidia-smi`"))
    if not known(facts.gpus.gpus):
        out.append(MissingFact("the GPU models", "`nvidia-smi -L`"))
    if facts.host.os == "unknown":
        out.append(MissingFact("the operating system", collect_env))
    if not known(facts.python):
        out.append(MissingFact("the Python version", "`python --version`"))
    elif not known(facts.python.distributions):
        out.append(MissingFact("the installed packages", "`python -m pip list`"))
    if facts.origin != "this machine" and not facts.origin.startswith("torchenv"):
        out.append(
            MissingFact(
                "shared memory, containers, loaded CUDA libraries and a real GPU computation "
                "(never in this kind of report)",
                TORCHENV_DOCTOR,
            )
        )
    return tuple(out)


# --- facts any text states (the line reader) ----------------------------------------------------------


def _text_cuda(tf: TextFacts, version: str | None) -> str | Unknown | None:
    """torch's CUDA from what the text said: the version's variant, a CUDA-used-to-build line, a conda build."""
    if version:
        variant = _variant_cuda(version)
        if not isinstance(variant, Unknown):
            return variant
    if tf.cuda_build:
        return ".".join(tf.cuda_build.split(".")[:2])
    if tf.cpu_build or tf.rocm_build:
        return None
    if tf.cpu_evidence and not any(isinstance(_variant_cuda(v), str) for v in tf.torch_versions):
        return None  # installed from the CPU index, and no CUDA variant stated
    for name, conda_version, build in tf.conda_builds:
        if name in ("pytorch", "pytorch-gpu", "pytorch-cpu") and (
            not version or conda_version == version.split("+")[0]
        ):
            cuda = _conda_cuda(CondaPackage(name=name, version=conda_version, build=build, channel=Unknown("")))
            if not isinstance(cuda, Unknown):
                return cuda
    return Unknown(NOT_IN_REPORT)


def augment_facts(facts: Facts, tf: TextFacts) -> Facts:
    """Fill what a format parser left unknown with what the line reader found; never overwrite a known fact."""
    import dataclasses

    host = facts.host
    host_changes: dict = {}
    if host.os == "unknown" and tf.os:
        host_changes["os"] = tf.os
    if not known(host.kernel) and tf.kernel:
        host_changes["kernel"] = tf.kernel + (" (WSL 2)" if tf.wsl else "")
    if tf.wsl and not known(host.wsl):
        host_changes["wsl"] = True
    if host.arch == "unknown" and tf.tegra:
        host_changes["arch"] = "aarch64"
    if not known(host.os_release) and tf.os_release:
        host_changes["os_release"] = tf.os_release
    if not known(host.glibc) and tf.glibc:
        host_changes["glibc"] = tf.glibc
    changes: dict = {}
    if host_changes:
        changes["host"] = dataclasses.replace(host, **host_changes)
    driver = facts.driver
    driver_changes: dict = {}
    if not known(driver.version) and tf.driver_version:
        driver_changes["version"] = tf.driver_version
    if not known(driver.cuda_driver_version) and tf.driver_cuda:
        driver_changes["cuda_driver_version"] = tf.driver_cuda
    if not known(driver.kernel_module) and tf.kernel_module:
        driver_changes["kernel_module"] = tf.kernel_module
    if driver_changes:
        changes["driver"] = dataclasses.replace(driver, **driver_changes)
    if not known(facts.gpus.gpus):
        names: list[str] = []
        for name in tf.gpus:
            if name not in names:
                names.append(name)
        if names:
            ccs = [tf.gpu_cc.get(n) for n in names]
            if tf.cc and not ccs[0]:
                ccs[0] = tf.cc  # get_device_capability() of the current device, the first
            changes["gpus"] = GpuInventory(
                source=facts.gpus.source,
                gpus=tuple(_gpu(i, n, cc, None) for i, (n, cc) in enumerate(zip(names, ccs, strict=True))),
            )
        elif tf.no_gpu:
            changes["gpus"] = GpuInventory(source=facts.gpus.source, gpus=())
    changes.update(_augment_torch(facts, tf))
    changes.update(_augment_python(facts, tf))
    if not known(facts.cuda_toolkits) and (tf.system_cuda or tf.toolkits):
        toolkits = []
        if tf.system_cuda:
            toolkits.append(
                CudaToolkit(path="(path not in the report)", version=tf.system_cuda, source="report text: nvcc")
            )
        for path, version, source in tf.toolkits:
            if not any(version.startswith(t.version) or t.version.startswith(version) for t in toolkits):
                toolkits.append(CudaToolkit(path=path, version=version, source=f"report text: {source}"))
        changes["cuda_toolkits"] = tuple(toolkits)
    if not known(facts.system_libraries) and tf.libraries:
        changes["system_libraries"] = tuple(
            SystemLibrary(name=stem, version=version, path="(path not in the report)", via=f"report text: {via}")
            for stem, version, via in tf.libraries
        )
    if tf.environment and any(k not in facts.environment for k in tf.environment):
        changes["environment"] = {**tf.environment, **facts.environment}
    return dataclasses.replace(facts, **changes) if changes else facts


def _augment_torch(facts: Facts, tf: TextFacts) -> dict:
    import dataclasses

    torch = facts.torch
    package = next((v for n, v in tf.packages if n == "torch"), None)
    conda_torch = next((v for n, v, _ in tf.conda_builds if n in ("pytorch", "pytorch-gpu", "pytorch-cpu")), None)
    if not known(torch):
        version = tf.torch_version or package or conda_torch
        if version:
            return {
                "torch": _torch_facts(
                    status="ok",
                    stage="build" if tf.torch_version else "env",
                    error=None,
                    version=version,
                    cuda=_text_cuda(tf, version),
                    cuda_available=tf.cuda_available if tf.cuda_available is not None else None,
                    arch_list=tuple(tf.arch_list) if tf.arch_list else None,
                    location=tf.torch_location,
                    companions=_text_companions(tf),
                    **_text_torch_extras(tf),
                )
            }
        if tf.torch_not_importable:
            return {
                "torch": _torch_facts(
                    status="import-error",
                    stage="import",
                    error="the report says torch did not import ('N/A'); its error is not in the report",
                    version=Unknown("torch did not import when the report was made"),
                    cuda=Unknown("torch did not import when the report was made"),
                    companions=Unknown(NOT_IN_REPORT),
                )
            }
        return {}
    if torch.status != "ok":
        return {}
    torch_changes: dict = {}
    if not known(torch.cuda):
        cuda = _text_cuda(tf, torch.version if known(torch.version) else None)
        if not isinstance(cuda, Unknown):
            torch_changes["cuda"] = cuda
    if not known(torch.cuda_available) and tf.cuda_available is not None:
        torch_changes["cuda_available"] = tf.cuda_available
    if not known(torch.arch_list) and tf.arch_list:
        torch_changes["arch_list"] = tuple(tf.arch_list)
    if not known(torch.location) and tf.torch_location:
        torch_changes["location"] = tf.torch_location
    for name, value in _text_torch_extras(tf).items():
        if not known(getattr(torch, name)):
            torch_changes[name] = value
    return {"torch": dataclasses.replace(torch, **torch_changes)} if torch_changes else {}


def _text_torch_extras(tf: TextFacts) -> dict:
    """What torch itself answered in the text (REPL, torch.__config__.show()): its cuDNN, its device count."""
    extras: dict = {}
    if tf.cudnn_version is not None:
        extras["cudnn_version"] = tf.cudnn_version
    if tf.device_count is not None:
        extras["device_count"] = tf.device_count
    return extras


def _text_companions(tf: TextFacts) -> tuple[Companion, ...] | Unknown:
    found = {n: v for n, v in tf.packages if n in ("torchvision", "torchaudio")}
    if not found:
        return Unknown(NOT_IN_REPORT)
    return tuple(Companion(name=n, version=v) for n, v in sorted(found.items()))


def _augment_python(facts: Facts, tf: TextFacts) -> dict:
    import dataclasses

    conda = [CondaPackage(name=n, version=v, build=b, channel=Unknown(NOT_IN_REPORT)) for n, v, b in tf.conda_builds]
    pip = list(dict.fromkeys(tf.packages))
    if not known(facts.python):
        if not (tf.python_version or pip or conda or tf.executable or tf.conda_prefix):
            return {}
        python = _python(tf.python_version, pip or None, conda or None, "")
        if not known(python):  # only the interpreter's path or the conda env is stated
            python = _python("unknown", None, None, "")
        return {"python": _with_interpreter(python, tf)}
    changes: dict = {}
    if not known(facts.python.distributions) and pip:
        changes["distributions"] = tuple(
            Distribution(name=n, version=v, location="(not in the report)", installer=Unknown(NOT_IN_REPORT))
            for n, v in pip
        )
    if not known(facts.python.conda_packages) and conda:
        changes["conda_packages"] = tuple(conda)
    if facts.python.version == "unknown" and tf.python_version:
        changes["version"] = tf.python_version
    python = dataclasses.replace(facts.python, **changes) if changes else facts.python
    with_interpreter = _with_interpreter(python, tf)
    return {"python": with_interpreter} if with_interpreter is not facts.python else {}


def _with_interpreter(python: PythonEnv, tf: TextFacts) -> PythonEnv:
    """The interpreter `which python` / sys.executable named, and the conda env `conda info` showed."""
    import dataclasses

    changes: dict = {}
    if tf.executable and python.executable == "python":
        changes["executable"] = tf.executable
    if tf.conda_prefix and not python.conda_prefix:
        changes["conda_prefix"] = tf.conda_prefix
    return dataclasses.replace(python, **changes) if changes else python


__all__ = [
    "MAX_BYTES",
    "MissingFact",
    "ParsedReport",
    "augment_facts",
    "decode_input",
    "from_fields",
    "has_evidence",
    "read_report",
]
