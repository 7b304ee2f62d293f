"""The output of the commands people paste when asked "what's your setup", read line by line (issue 12).

`lines.py` reads any syntax by key names and inline shapes; this module knows the producers whose lines only
mean something in their own layout: `pip show` records, dpkg/apt rows, `lspci`/`lsmod` rows, `uname -a`,
`/etc/os-release`, `version.json`/`version.txt` of a CUDA toolkit, `ls /usr/local | grep cuda`, `conda info`,
`nvidia-container-cli info`, `docker info`, Windows `wmic`/`systeminfo`/`dxdiag`, macOS `system_profiler`,
`torch.__config__.show()`, `_CudaDeviceProperties(...)`, and the answers to REPL questions and
`python -c "print(...)"` one-liners, `echo $VAR` and `which python`.

`read_line` is called once per non-blank line with a small state object (the producer whose block is being
read, the questions waiting for an answer); every rule sits behind a cheap substring gate, so 10 MB stay well
under a second. Pure: it fills a TextFacts and imports nothing but the standard library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import app_reports, torch_version

if TYPE_CHECKING:
    from .lines import TextFacts


@dataclass(slots=True)
class ProducerState:
    block: str | None = None  # "pip show", "container-cli", "config", "cuda-sdk-json", "conda info"
    package: str | None = None  # the `pip show` record being read
    conda_env: str | None = None  # conda info's active environment
    answers: list[list[str]] = field(default_factory=list)  # questions waiting for their output lines, in order
    nvidia_seen: bool = False  # an NVIDIA GPU was named (dxdiag/wmic: a Windows driver version is its driver's)


# --- questions and their answers ---------------------------------------------------------------------

# What a REPL line, a print() or a one-liner asks; the answer is on the next output line.
ASK = re.compile(
    r"torch\.__version__|torch\.version\.cuda|torch\.version\.hip|torch\.cuda\.is_available\(\)"
    r"|torch\.backends\.cudnn\.version\(\)|torch\.cuda\.device_count\(\)|torch\.cuda\.get_device_name\([^()]*\)"
    r"|torch\.cuda\.get_device_capability\([^()]*\)|torch\.cuda\.get_arch_list\(\)|torch\.__file__"
    r"|sys\.version\b|sys\.executable|platform\.python_version\(\)"
)
_PRINT = re.compile(r"print\s*\((.*)\)\s*$")
_ONE_LINER = re.compile(r"\bpython[\d.]*(?:\.exe)?\s+-c\s+(['\"])(.*?)(?:\1|$)")
_ECHO = re.compile(r"^(?:echo|printf '%s\\n')\s+[\"']?(?:\$\{?(\w+)\}?|%(\w+)%)[\"']?\s*$|^\$env:(\w+)\s*$")
_WHICH = re.compile(r"^(?:which|where(?:\.exe)?|command -v|type -p|Get-Command)\s+(python[\d.]*|py)(?:\.exe)?\b")
_ENV_NAME = re.compile(r"^(?:CUDA_\w+|NVIDIA_\w+|NCCL_\w+|TORCH_\w+|PYTORCH_\w+|CUDNN_\w+|LD_LIBRARY_PATH|LD_PRELOAD)$")
_OUT_PROMPT = re.compile(r"^Out\[\d+\]:\s*")


def questions_in(command: str) -> list[list[str]]:
    """The questions a command asks, one list per output line: `>>> torch.__version__` asks one,
    `python -c "import torch; print(a); print(b, c)"` asks [a] then [b, c]; `echo $CUDA_HOME` asks for a
    variable; `which python` for the interpreter."""
    command = command.strip()
    echo = _ECHO.match(command)
    if echo:
        return [[f"env:{echo.group(1) or echo.group(2) or echo.group(3)}"]]
    if _WHICH.match(command):
        return [["which:python"]]
    if "torch" not in command and "sys." not in command and "platform." not in command:
        return []
    one_liner = _ONE_LINER.search(command)
    code = one_liner.group(2) if one_liner else command
    asked: list[list[str]] = []
    for statement in code.split(";"):
        statement = statement.strip()
        printed = _PRINT.match(statement)
        found = ASK.findall(printed.group(1) if printed else statement)
        if not found:
            continue
        if printed or not one_liner:  # a REPL echoes a bare expression; `python -c` prints only print()s
            asked.append([_canonical(q) for q in found])
    return asked


def _canonical(question: str) -> str:
    return re.sub(r"\([^()]*\)$", "()", question)


def answer(facts: TextFacts, state: ProducerState, question: list[str], line: str) -> str | None:
    """Apply one output line to the question(s) it answers; None when it is not an answer to them."""
    text = _OUT_PROMPT.sub("", line.strip())
    if len(question) == 1:
        values = [text]
    else:
        values = text.split()
        if len(values) != len(question):
            return None
    given = [name for q, v in zip(question, values, strict=True) if (name := _apply_answer(facts, state, q, v))]
    return ", ".join(given) if given else None


def _apply_answer(facts: TextFacts, state: ProducerState, question: str, raw: str) -> str | None:
    # `>>false`: people retype the REPL's output after a prompt-like mark, in any case
    value = raw.strip().lstrip(">").strip().strip("'\"`")
    if question == "torch.__version__":
        match = re.match(r"(\d+\.\d+\.\d+[\w.+]*)$", value)
        if match:
            torch_version.take_stated(facts, match.group(1))
            return "torch (REPL)"
    elif question == "torch.version.cuda":
        if value == "None":
            facts.cpu_build = True
            return "cuda_build: none (REPL)"
        if re.match(r"\d+\.\d+$", value):
            facts.cuda_build = facts.cuda_build or value
            return "cuda_build (REPL)"
    elif question == "torch.version.hip":
        if re.match(r"\d+\.\d+", value):
            facts.rocm_build = True
            return "hip (REPL)"
    elif question == "torch.cuda.is_available()":
        if value.lower() in ("true", "false"):
            facts.cuda_available = value.lower() == "true" if facts.cuda_available is None else facts.cuda_available
            return "cuda_available (REPL)"
    elif question == "torch.backends.cudnn.version()":
        if value.isdigit():
            facts.cudnn_version = facts.cudnn_version or int(value)
            return "cudnn (REPL)"
        if value == "None":
            return "cudnn: none (REPL)"
    elif question == "torch.cuda.device_count()":
        if value.isdigit():
            facts.device_count = int(value)
            return "device_count (REPL)"
    elif question == "torch.cuda.get_device_name()":
        # the REPL quotes it, print() does not; either way a GPU's name, not a line of a traceback
        if value and "(" not in value and (raw.strip()[:1] in "'\"" or _GPU_NAME_WORD.search(value)):
            _add_gpu(facts, state, value)
            return "gpu (REPL)"
    elif question == "torch.cuda.get_device_capability()":
        match = re.match(r"\((\d+),\s*(\d+)\)$", value)
        if match:
            facts.cc = facts.cc or (int(match.group(1)), int(match.group(2)))
            return "cc (REPL)"
    elif question == "torch.cuda.get_arch_list()":
        arches = re.findall(r"'((?:sm|compute|gfx)_?\w+)'", value)
        if arches or value == "[]":
            facts.arch_list = facts.arch_list or arches
            return "arch_list (REPL)"
    elif question == "torch.__file__":
        match = re.match(r"(.+)[/\\]__init__\.py$", value)
        if match:
            facts.torch_location = facts.torch_location or match.group(1)
            return "torch location (REPL)"
    elif question in ("sys.version", "platform.python_version()"):
        match = re.match(r"(\d\.\d{1,2}\.\d+)", value)
        if match:
            facts.python_version = facts.python_version or match.group(1)
            return "python (REPL)"
    elif question in ("sys.executable", "which:python"):
        if re.match(r"(?:/|[A-Za-z]:\\|~)\S*python[\w.]*$", value, re.I):
            facts.executable = facts.executable or value
            return "interpreter path"
    elif question.startswith("env:"):
        name = question[4:]
        if value and _ENV_NAME.match(name) and not value.startswith("$") and value != f"%{name}%":
            facts.environment.setdefault(name, value)
            _toolkit_dir(facts, value)
            return f"environment ({name})"
    return None


# --- line shapes of the producers ----------------------------------------------------------------------

_PIP_SHOW_NAME = re.compile(r"^Name:\s*([A-Za-z0-9][\w.\-]*)\s*$")
_PIP_SHOW_FIELD = re.compile(
    r"^(Version|Summary|Home-page|Author|Author-email|License|Location|Editable project location|Requires"
    r"|Required-by|Metadata-Version|Installer|Classifiers|Entry-points|Files|Project-URLs?):\s*(.*)$"
)
_DPKG = re.compile(r"^[hirpu][ncUiFHWt]\s+([a-z0-9][\w.+\-]*)(?::\w+)?\s+(\d\S*)\s+(?:amd64|arm64|all|i386|ppc64el)\b")
_APT = re.compile(r"^([a-z0-9][\w.+\-]*)/\S+\s+(\d\S*)\s+(?:amd64|arm64|all|i386|ppc64el)\s+\[installed")
_LSPCI = re.compile(
    r"^(?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]\s+(?:VGA compatible controller|3D controller|Display controller)"
    r"(?:\s*\[[0-9a-f]{4}\])?:\s+NVIDIA Corporation\s+(.+?)\s*(?:\[10de:[0-9a-f]{4}\])?\s*(?:\(rev [0-9a-f]+\))?\s*$",
    re.I,
)
_LSMOD = re.compile(r"^(nvidia(?:_uvm|_drm|_modeset|_peermem)?)\s+\d+\s+\d+(?:\s+\S+)?\s*$")
# `uname -a` (Linux host 6.5.0-14-generic #14~22.04.1-Ubuntu ...) and /proc/version (Linux version 6.5.0-14-generic (...))
_UNAME = re.compile(r"^(Linux|Darwin)\s+\S+\s+(\d+\.\d+[\w.\-+~]*)\s+(?:#\d+|Darwin Kernel|\()")
_GPU_NAME_WORD = re.compile(r"\b(?:NVIDIA|GeForce|Tesla|Quadro|TITAN|RTX|GTX|Jetson|Orin|[AHBLTV]\d{2,4})\b", re.I)
_OS_RELEASE = re.compile(r"^PRETTY_NAME=\"?([^\"]+?)\"?\s*$")
_VERSION_TXT = re.compile(r"^CUDA Version (\d+\.\d+(?:\.\d+)?)\s*$")
_CUDA_DIR = re.compile(r"^(?:(/\S*?)/)?cuda-(\d+\.\d+)/?\s*$")
_CONDA_INFO = re.compile(
    r"^\s*(active environment|active env location|python version|platform|virtual packages|base environment"
    r"|conda version|user-agent)\s+:\s+(.*?)\s*$"
)
_VIRTUAL = re.compile(
    r"^\s*(?:virtual packages\s+:\s+)?__(cuda|glibc|linux|osx|win|unix|archspec)=([\w.]+)(?:=\S*)?\s*$"
)
_NVRM_PLAIN = re.compile(r"^NVRM version:\s+(\d{3,4}\.\d{1,3}(?:\.\d{1,3})?)\s*$")
_CONTAINER_CLI = re.compile(
    r"^(CUDA version|Model|Architecture|Brand|Device Index|Device Minor|GPU UUID|Bus Location):\s+(.*?)\s*$"
)
_DOCKER_RUNTIME = re.compile(r"^\s*(?:Runtimes|Default Runtime):\s*(.*)$")
_WIN_DRIVER = re.compile(r"(?<![\d.])\d{2}\.\d{1,2}\.(1\d)\.(\d{4})(?![\d.])")
_WMIC_ROW = re.compile(
    r"^\s*(?:(\d{2}\.\d{1,2}\.\d{2,5}\.\d{4})\s+(NVIDIA\s.+?)|(NVIDIA\s.+?)\s{2,}(\d{2}\.\d{1,2}\.\d{2,5}\.\d{4}))\s*$"
)
_SYSTEMINFO = re.compile(r"^OS (Name|Version):\s{2,}(.+?)\s*$")
_CHIPSET = re.compile(r"^\s*(?:Chipset Model|Card name|Chip type):\s*(.+?)\s*$")
_CONFIG_HEAD = re.compile(r"^\s*PyTorch built with:\s*$")
_CONFIG_ITEM = re.compile(r"^\s*-\s+(.*)$")
_PROPERTIES = re.compile(r"_CudaDeviceProperties\(name='([^']+)',\s*major=(\d+),\s*minor=(\d+)")
_JSON_NAME = re.compile(r'^\s*"name"\s*:\s*"CUDA SDK"\s*,?\s*$')
_JSON_VERSION = re.compile(r'^\s*"version"\s*:\s*"(\d+\.\d+(?:\.\d+)?)"\s*,?\s*$')
# a line that is only a GeForce model, as people write it under their OS ("Nvidia GeForce RTX 3050 laptop GPU",
# issue 12, p102): NVIDIA may be left out, any case
_GEFORCE_ONLY_LINE = re.compile(
    r"^\s*((?:NVIDIA\s+)?(?:GeForce\s+)?(?:RTX|GTX)\s?\d{3,4}(?:\s?(?:Ti|SUPER))?(?:\s+Laptop)?(?:\s+GPU)?)\s*$", re.I
)
_GPU_ONLY_LINE = re.compile(
    r"^\s*(NVIDIA\s+(?:GeForce\s+|Quadro\s+|Tesla\s+|TITAN\s+)?(?:RTX\s+|GTX\s+|MX\s?|GT\s+)?"
    r"(?:[A-Z]{0,3}\d{2,4}[A-Za-z]{0,3}|TITAN \w+|A\d{3,4}|[A-Z]\d{1,4})"
    r"(?:[\s-](?:Ti|SUPER|Laptop|GPU|Ada|Generation|Max-Q|Design|with|\d+\s?GB|SXM\d?|PCIe|NVL|[A-Z]?\d{1,3}GB))*)\s*$"
)

# dpkg/apt package -> the fact it states. The driver packages carry the driver's version; the CUDA toolkit
# packages carry the toolkit's X-Y in their names; cuDNN's packages its version.
_DRIVER_PACKAGE = re.compile(
    r"^(?:nvidia-driver|nvidia-utils|libnvidia-compute|nvidia-kernel-common|nvidia-dkms)-\d{3}(-open|-server|-server-open)?$"
)
_TOOLKIT_PACKAGE = re.compile(r"^cuda-(?:toolkit-|cudart-|nvcc-|runtime-|libraries-)?(\d+)-(\d+)$")
_CUDNN_PACKAGE = re.compile(r"^(?:lib)?cudnn(\d+)(?:-cuda-\d+)?$")


def read_line(facts: TextFacts, state: ProducerState, line: str) -> list[str]:
    """The facts a producer's own layout states on this line; empty when it is none of them."""
    stripped = line.strip()
    found: list[str] = []
    block = state.block
    if block is not None and not _still_in(state, stripped, line):
        state.block = block = None
    if block == "pip show":
        return _pip_show(facts, state, stripped)
    if block == "config":
        return _config(facts, stripped)
    if block == "cuda-sdk-json":
        state.block = None
        version = _JSON_VERSION.match(stripped)
        if version:
            _add_toolkit(facts, "/usr/local/cuda", version.group(1), "version.json")
            return ["system_cuda (version.json)"]
        return []
    if block == "container-cli":
        return _container_cli(facts, state, stripped)
    found = app_reports.read_line(facts, state, line, stripped)  # applications' banners and env reports
    if found:
        return found
    first = stripped[:1]
    if first == "N" and stripped.startswith("Name:"):
        name = _PIP_SHOW_NAME.match(stripped)
        if name:
            state.block, state.package = "pip show", name.group(1).lower().replace("_", "-")
            return ["pip show record"]
    if first == "N" and stripped.startswith("NVRM version:"):
        plain = _NVRM_PLAIN.match(stripped)
        if plain:  # nvidia-container-cli info: a block of "Key:   value" rows follows
            facts.driver_version = facts.driver_version or plain.group(1)
            state.block = "container-cli"
            return ["driver (nvidia-container-cli)"]
        return []
    low = stripped.lower()
    if "built with" in low and _CONFIG_HEAD.match(stripped):
        state.block = "config"
        return ["torch.__config__.show()"]
    if "_cudadeviceproperties" in low:
        props = _PROPERTIES.search(stripped)
        if props:
            _add_gpu(facts, state, props.group(1), (int(props.group(2)), int(props.group(3))))
            return ["gpu, cc (device properties)"]
    if first == '"' and _JSON_NAME.match(stripped):
        state.block = "cuda-sdk-json"
        return ["version.json"]
    if "nvidia" in low or "cuda" in low or "cudnn" in low:
        found += _packages_and_devices(facts, state, stripped, low)
        if found:
            return found
    if first in "LD" and _UNAME.match(stripped):
        uname = _UNAME.match(stripped)
        facts.kernel = facts.kernel or uname.group(2)
        facts.os = facts.os or ("linux" if uname.group(1) == "Linux" else "macos")
        return ["kernel (uname)"]
    if first == "P" and stripped.startswith("PRETTY_NAME="):
        pretty = _OS_RELEASE.match(stripped)
        if pretty:
            facts.os_release = facts.os_release or pretty.group(1)
            facts.os = facts.os or ("linux" if "windows" not in low else None)
            return ["os_release (/etc/os-release)"]
    if first == "O" and stripped.startswith("OS "):
        info = _SYSTEMINFO.match(stripped)
        if info:
            return _systeminfo(facts, info.group(1), info.group(2))
    if " : " in stripped:
        info = _CONDA_INFO.match(line)
        if info:
            return _conda_info(facts, state, info.group(1), info.group(2))
    if first == "_" and stripped.startswith("__"):
        virtual = _VIRTUAL.match(stripped)
        if virtual:
            return _virtual_package(facts, virtual.group(1), virtual.group(2))
    if ("model" in low or "card name" in low or "chip type" in low) and ":" in stripped:
        chipset = _CHIPSET.match(stripped)
        if chipset:
            name = chipset.group(1)
            if name.upper().startswith("NVIDIA") or "geforce" in name.lower() or "quadro" in name.lower():
                _add_gpu(facts, state, name)
                return ["gpu (display adapter)"]
            if re.match(r"(?:Apple M\d|Intel|AMD|Radeon)", name):
                facts.other_displays = True
                return ["display adapter (not NVIDIA)"]
    return found


def _still_in(state: ProducerState, stripped: str, line: str) -> bool:
    if state.block == "pip show":
        return bool(_PIP_SHOW_FIELD.match(stripped)) or (line[:1] in " \t" and stripped != "") or stripped == "---"
    if state.block == "config":
        return bool(_CONFIG_ITEM.match(line)) or line[:1] in " \t"
    if state.block == "container-cli":
        return bool(_CONTAINER_CLI.match(stripped))
    return True


def _pip_show(facts: TextFacts, state: ProducerState, stripped: str) -> list[str]:
    if stripped == "---":
        state.block = state.package = None
        return []
    match = _PIP_SHOW_FIELD.match(stripped)
    if not match or state.package is None:
        return []
    key, value = match.group(1), match.group(2).strip()
    package = state.package
    if key == "Version" and re.match(r"\d", value):
        facts.packages.append((package, value))
        if package == "torch":
            torch_version.take_stated(facts, value, over_stated=True)  # pip's record of the installed torch
        return [f"package (pip show {package})"]
    if key == "Location" and value:
        separator = "\\" if "\\" in value else "/"
        if package == "torch":
            facts.torch_location = facts.torch_location or f"{value.rstrip(separator)}{separator}torch"
        site = re.search(r"python(\d\.\d{1,2})[/\\](?:site|dist)-packages", value)
        if site:
            facts.python_version = facts.python_version or site.group(1)
        return [f"location (pip show {package})"]
    return []


def _config(facts: TextFacts, stripped: str) -> list[str]:
    item = _CONFIG_ITEM.match(stripped)
    if not item:
        return []
    text = item.group(1)
    found: list[str] = []
    runtime = re.match(r"CUDA Runtime (\d+\.\d+)", text)
    if runtime:
        facts.cuda_build = facts.cuda_build or runtime.group(1)
        found.append("cuda_build (torch.__config__)")
    cudnn = re.match(r"Cu[Dd][Nn][Nn] (\d+)\.(\d+)(?:\.(\d+))?", text)
    if cudnn:
        major, minor, patch = int(cudnn.group(1)), int(cudnn.group(2)), int(cudnn.group(3) or 0)
        facts.cudnn_version = facts.cudnn_version or (
            major * 10000 + minor * 100 + patch if major >= 9 else major * 1000 + minor * 100 + patch
        )
        found.append("cudnn (torch.__config__)")
    if text.startswith("NVCC architecture flags:"):
        arches = list(dict.fromkeys(re.findall(r"code=((?:sm|compute)_\d+a?)", text)))
        arches = [a for a in arches if a.startswith("sm_")] + [a for a in arches if a.startswith("compute_")][-1:]
        if arches:
            facts.arch_list = facts.arch_list or [a for a in arches if a.startswith("sm_")]
            found.append("arch_list (torch.__config__)")
    if text.startswith("Build settings:"):
        version = re.search(r"\bTORCH_VERSION=(\d+\.\d+\.\d+[\w.+]*?),", text + ",")
        if version:
            torch_version.take_running(facts, version.group(1))
        cuda = re.search(r"\bCUDA_VERSION=(\d+\.\d+)", text)
        if cuda:
            facts.cuda_build = cuda.group(1)  # the build's own setting beats the runtime line
        found.append("build settings (torch.__config__)")
    return found


def _container_cli(facts: TextFacts, state: ProducerState, stripped: str) -> list[str]:
    match = _CONTAINER_CLI.match(stripped)
    if not match:
        return []
    key, value = match.groups()
    if key == "CUDA version" and re.match(r"\d+\.\d+$", value):
        facts.driver_cuda = facts.driver_cuda or value  # libcuda's version: the highest CUDA the driver supports
        return ["driver_cuda (nvidia-container-cli)"]
    if key == "Model" and value != "(null)":
        _add_gpu(facts, state, value)
        return ["gpu (nvidia-container-cli)"]
    if key == "Architecture":
        cc = re.match(r"(\d+)\.(\d+)$", value)
        if cc:
            _set_last_cc(facts, (int(cc.group(1)), int(cc.group(2))))
            return ["cc (nvidia-container-cli)"]
    return []


def _packages_and_devices(facts: TextFacts, state: ProducerState, stripped: str, low: str) -> list[str]:
    first = stripped[:1]
    row = None
    if first in "hirpu" and stripped[1:2] in "ncUiFHWt" and stripped[2:3] in " \t":
        row = _DPKG.match(stripped)
    elif "[installed" in stripped:
        row = _APT.match(stripped)
    if row:
        return _system_package(facts, row.group(1), row.group(2))
    if "nvidia corporation" in low:
        pci = _LSPCI.match(stripped)
        if pci:
            facts.os = facts.os or "linux"
            described = re.search(r"\[([^\]]+)\]", pci.group(1))
            if described:
                name = described.group(1)
                _add_gpu(facts, state, name if name.upper().startswith("NVIDIA") else f"NVIDIA {name}")
                return ["gpu (lspci)"]
            facts.cuda_expected.append(f"an NVIDIA GPU on the PCI bus (lspci): {stripped[:120]}")
            return ["nvidia gpu on the pci bus (lspci)"]
    if first == "n" and low.startswith("nvidia"):
        module = _LSMOD.match(stripped)
        if module:
            facts.os = facts.os or "linux"
            facts.cuda_expected.append(f"the NVIDIA kernel module is loaded (lsmod: {module.group(1)})")
            return ["nvidia kernel module (lsmod)"]
    if "runtime" in low:
        runtime = _DOCKER_RUNTIME.match(stripped)
        if runtime and re.search(r"\bnvidia\b", runtime.group(1)):
            facts.cuda_expected.append(f"the NVIDIA container runtime is installed (docker info: {stripped[:100]})")
            return ["nvidia container runtime (docker info)"]
    if first == "C" and stripped.startswith("CUDA Version "):
        txt = _VERSION_TXT.match(stripped)
        if txt:
            _add_toolkit(facts, "/usr/local/cuda", txt.group(1), "version.txt")
            return ["system_cuda (version.txt)"]
    if "cuda-" in low:
        directory = _CUDA_DIR.match(stripped)
        if directory:
            _add_toolkit(
                facts,
                f"{directory.group(1) or '/usr/local'}/cuda-{directory.group(2)}",
                directory.group(2),
                "directory",
            )
            return ["cuda toolkit directory"]
    if "nvidia" in low:
        wmic = _WMIC_ROW.match(stripped)
        if wmic:
            name = wmic.group(2) or wmic.group(3)
            _add_gpu(facts, state, name.strip())
            driver = windows_driver(wmic.group(1) or wmic.group(4))
            if driver:
                facts.driver_version = facts.driver_version or driver
            return ["gpu, driver (wmic)"]
        only = _GPU_ONLY_LINE.match(stripped)
        if only:
            _add_gpu(facts, state, only.group(1))
            return ["gpu (a line naming it)"]
    if "rtx" in low or "gtx" in low:
        only = _GEFORCE_ONLY_LINE.match(stripped)
        if only:
            _add_gpu(facts, state, only.group(1))
            return ["gpu (a line naming it)"]
    return []


def _system_package(facts: TextFacts, name: str, version: str) -> list[str]:
    facts.os = facts.os or "linux"
    upstream = re.match(r"(?:\d+:)?([\d.]+)", version)
    upstream_version = upstream.group(1).rstrip(".") if upstream else version
    if _DRIVER_PACKAGE.match(name):
        driver = re.match(r"(\d{3}\.\d{1,3}(?:\.\d{1,3})?)", upstream_version)
        if driver:
            facts.driver_version = facts.driver_version or driver.group(1)
            if name.endswith("-open"):
                facts.kernel_module = facts.kernel_module or "open"
            return [f"driver (package {name})"]
    toolkit = _TOOLKIT_PACKAGE.match(name)
    if toolkit:
        _add_toolkit(
            facts,
            f"/usr/local/cuda-{toolkit.group(1)}.{toolkit.group(2)}",
            f"{toolkit.group(1)}.{toolkit.group(2)}",
            f"package {name}",
        )
        return [f"cuda toolkit (package {name})"]
    if _CUDNN_PACKAGE.match(name) and not name.endswith("-dev"):
        facts.libraries.append(("libcudnn", upstream_version, f"package {name}"))
        return [f"cudnn (package {name})"]
    return ["system package"] if "nvidia" in name or "cuda" in name else []


def _systeminfo(facts: TextFacts, key: str, value: str) -> list[str]:
    if key == "Name" and "windows" in value.lower():
        facts.os = "windows" if facts.os in (None, "windows") else facts.os
        facts.os_release = facts.os_release or value
        return ["os (systeminfo)"]
    if key == "Version" and facts.os_release and facts.os_release.startswith("Microsoft Windows"):
        build = re.match(r"(\d+\.\d+\.\d+)", value)
        if build and build.group(1) not in facts.os_release:
            facts.os_release = f"{facts.os_release} {build.group(1)}"
            return ["os version (systeminfo)"]
    return []


def _conda_info(facts: TextFacts, state: ProducerState, key: str, value: str) -> list[str]:
    if key == "active environment":
        state.conda_env = value
        return ["conda env (conda info)"]
    if key == "active env location":
        if value and value != "None":
            facts.conda_prefix = facts.conda_prefix or value
        return ["conda prefix (conda info)"]
    if key == "python version":
        # conda's own interpreter (the base environment's), the active environment's only when that is base
        match = re.match(r"(\d\.\d{1,2}\.\d+)", value)
        if match and state.conda_env == "base":
            facts.python_version = facts.python_version or match.group(1)
            return ["python (conda info, base)"]
        return ["conda's python (conda info)"]
    if key == "platform":
        os_name = {"linux": "linux", "win": "windows", "osx": "macos"}.get(value.split("-")[0])
        if os_name:
            facts.os = facts.os or os_name
            return ["os (conda info)"]
        return []
    if key == "virtual packages":
        virtual = _VIRTUAL.match(value)
        return _virtual_package(facts, virtual.group(1), virtual.group(2)) if virtual else []
    return ["conda info"]


def _virtual_package(facts: TextFacts, name: str, version: str) -> list[str]:
    if name == "cuda" and re.match(r"\d+\.\d+$", version):
        facts.driver_cuda = facts.driver_cuda or version  # conda detects __cuda from the driver (libcuda)
        return ["driver_cuda (conda __cuda)"]
    if name == "glibc":
        facts.glibc = facts.glibc or version
        facts.os = facts.os or "linux"
        return ["glibc (conda __glibc)"]
    os_name = {"linux": "linux", "osx": "macos", "win": "windows"}.get(name)
    if os_name:
        facts.os = facts.os or os_name
        return [f"os (conda __{name})"]
    return ["conda virtual package"]


def windows_driver(version: str | None) -> str | None:
    """NVIDIA's Windows driver numbering: `31.0.15.3623` is driver 536.23 (the last five digits)."""
    match = _WIN_DRIVER.search(version or "")
    if not match:
        return None
    digits = match.group(1)[-1] + match.group(2)
    return f"{digits[:3]}.{digits[3:]}"


def windows_driver_if_nvidia(state: ProducerState, value: str) -> str | None:
    """A `Driver Version: 31.0.15.4633` key (dxdiag) is the NVIDIA driver when an NVIDIA adapter was named above."""
    return windows_driver(value) if state.nvidia_seen else None


def _add_gpu(facts: TextFacts, state: ProducerState, name: str, cc: tuple[int, int] | None = None) -> None:
    name = re.sub(r"\s+", " ", name.strip().strip("'\""))
    if not name:
        return
    facts.gpus.append(name)
    state.nvidia_seen = state.nvidia_seen or "nvidia" in name.lower() or "geforce" in name.lower()
    if cc:
        facts.gpu_cc.setdefault(name, cc)


def _set_last_cc(facts: TextFacts, cc: tuple[int, int]) -> None:
    if facts.gpus:
        facts.gpu_cc.setdefault(facts.gpus[-1], cc)
    else:
        facts.cc = facts.cc or cc


def _add_toolkit(facts: TextFacts, path: str, version: str, source: str) -> None:
    if not any(v == version for _, v, _ in facts.toolkits):
        facts.toolkits.append((path, version, source))


def _toolkit_dir(facts: TextFacts, value: str) -> None:
    match = re.match(r"^(/\S*?/cuda-(\d+\.\d+))/?$", value)
    if match:
        _add_toolkit(facts, match.group(1), match.group(2), "CUDA_HOME")


__all__ = ["ProducerState", "answer", "questions_in", "read_line", "windows_driver", "windows_driver_if_nvidia"]
