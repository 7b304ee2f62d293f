"""Read any pasted text line by line: every line gets a kind, facts come from whatever syntax the
user's tool printed.

People paste everything: tracebacks, torch's warnings alone, a crashed collect_env, another
project's environment dump (Ultralytics, ComfyUI, SD.Next, sglang, transformers/diffusers/accelerate
`env`, Lightning's template), hand-written markdown ("- **GPU**: RTX 5090"), shell sessions (`$ nvidia-smi`,
`>>> torch.cuda.is_available()`), pip/conda lists and install logs, kernel logs. This module does not
need a parser per producer: it recognises

- key/value facts in any of the usual syntaxes (`Key: value`, `Key : value`, `Key = value`,
  `Key    value`, `- **Key**: value`, `Key (GPU?): value (False)`), by an alias table of key names;
- facts written inline (`torch-2.4.1+cu121`, `Driver Version: 570.124.06`, `CUDA:0 (NVIDIA …)`,
  `Cuda compilation tools, release 11.8`, `NVRM version: … Kernel Module 520.56.06`, `found version 11040`,
  a WSL or Tegra kernel string, Windows and macOS paths, container shell prompts);
- package rows (`torch   2.9.1+cu130`, `torch==2.1.0`, `pytorch  1.11.0  py3.8_cpu_0  pytorch`,
  `Collecting torch==2.0.1+rocm5.4.2`);
- REPL echoes (`>>> torch.__version__` and the line after it);
- messages: errors, warnings, traceback frames — kept whole for `explain`;
- noise: fences, rules, prompts without facts, banners, markup.

Every line gets one of `KINDS`; `classify_text` never raises and is linear in the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import producers, prose_facts, torch_version

KINDS = ("blank", "noise", "fact", "message", "prose")


@dataclass(frozen=True, slots=True)
class LineRecord:
    number: int  # 1-based line number in the (normalised) input
    kind: str  # one of KINDS
    detail: str  # the fact keys it gave, or the rule that classified it
    text: str


@dataclass(slots=True)
class TextFacts:
    """Facts any text stated, each None when nothing said so. Merged under a format parser's fields."""

    torch_version: str | None = None
    torch_keyed: bool = False  # torch_version came from a key/value fact ("PyTorch: X"), not running text
    torch_not_importable: bool = False
    cuda_build: str | None = None  # from a "+cu121" variant or a "CUDA used to build" key
    cpu_build: bool = False  # "+cpu", a CPU conda build, "CUDA used to build: None"
    rocm_build: bool = False
    cuda_available: bool | None = None
    gpus: list[str] = field(default_factory=list)
    no_gpu: bool = False  # the tool said outright that it saw no NVIDIA GPU ("No CUDA", "CUDA: None" + CPU)
    driver_version: str | None = None
    driver_cuda: str | None = None  # the highest CUDA the driver supports ("CUDA Version" of nvidia-smi)
    system_cuda: str | None = None  # nvcc / CUDA runtime of the system toolkit
    os: str | None = None
    kernel: str | None = None
    wsl: bool = False
    tegra: bool = False
    container: str | None = None
    python_version: str | None = None
    packages: list[tuple[str, str]] = field(default_factory=list)  # (name, version)
    conda_builds: list[tuple[str, str, str]] = field(default_factory=list)  # (name, version, build)
    cuda_expected: list[str] = field(default_factory=list)  # evidence that the user has or wants a GPU
    torch_versions: list[str] = field(default_factory=list)  # every torch version the text states, in order
    cpu_evidence: list[str] = field(default_factory=list)  # lines installing from the CPU index (whl/cpu)
    stated_cuda: str | None = None  # "cuda version: 10.0" with nothing saying whose (driver, toolkit or build)
    # what the producers' own layouts state (reports/producers.py)
    cudnn_version: int | None = None  # torch.backends.cudnn.version(), torch.__config__'s CuDNN
    device_count: int | None = None
    cc: tuple[int, int] | None = None  # a compute capability not tied to a GPU name (get_device_capability())
    gpu_cc: dict[str, tuple[int, int]] = field(default_factory=dict)  # GPU name -> compute capability
    arch_list: list[str] = field(default_factory=list)
    torch_location: str | None = None
    kernel_module: str | None = None  # "open" or "proprietary" (/proc/driver/nvidia/version)
    os_release: str | None = None
    glibc: str | None = None
    toolkits: list[tuple[str, str, str]] = field(default_factory=list)  # (path, version, source)
    libraries: list[tuple[str, str, str]] = field(default_factory=list)  # (stem, version, via)
    environment: dict[str, str] = field(default_factory=dict)  # CUDA-related variables echoed
    executable: str | None = None  # the interpreter `which python` / sys.executable named
    conda_prefix: str | None = None
    other_displays: bool = False  # a display list (system_profiler) named only non-NVIDIA adapters


@dataclass(slots=True)
class TextReading:
    lines: list[LineRecord]
    facts: TextFacts
    messages: list[str]  # message lines, in order


# --- line shapes ----------------------------------------------------------------------------------

_FENCE = re.compile(r"^\s*(```|~~~)")
_RULE = re.compile(r"^[\s|+=\-_~*#.:`]*$")  # ====, ----, +----+, |====|, ***
_HTML = re.compile(r"^\s*</?(details|summary|br|img|p|div|pre|code|sub|sup)\b[^>]*>\s*$", re.I)
_PROMPT = re.compile(
    r"^\s*(?:\([\w.\-\\/ ]+\)\s*)?"  # (venv) / (base)
    r"(?:[\w.\-]+@[\w.\-]+(?::[^$#>]*)?\s*[$#%]|[A-Za-z]:\\[^>]*>|\$|#(?=\s)|❯|↪|PS [A-Za-z]:\\[^>]*>|>>>|\.\.\.(?=\s)|In \[\d+\]:)"
    r"\s*(?P<cmd>.*)$"
)
_CONTAINER_HOST = re.compile(r"^\s*(?:\([\w.\-]+\)\s*)?[\w.\-]+@([0-9a-f]{12})(?::|\s|$)")
_MARKDOWN_HEAD = re.compile(r"^\s*#{1,6}\s+\S")
_EXCEPTION = re.compile(
    r"\b(?:[A-Z][A-Za-z]*(?:Error|Exception|Warning|Failed|Missing)|Traceback|AssertionError|Aborted|"
    r"Segmentation fault|core dumped|Killed)\b"
)
# searched on the lower-cased line: a long alternation under re.I tries every branch at every position (12x slower)
_MESSAGE_HINT_LOWER = re.compile(
    r"(error|warn(?:ing)?\b|fail(?:ed|ure)?\b|not compatible|no longer supports?|cannot|can't|couldn.t|could not (?!collect)|"
    r"undefined symbol|symbol not found|not found|no such file|killed|too old|insufficient|exception|traceback|"
    r"no kernel image|out of memory|not available|no cuda gpus|no cuda-capable|mismatch|not supported|only supports?|"
    r"is not able to use|unable to|denied|timed? ?out|invalid|abort|err!|no module named|not compiled with|"
    r"fallen off the bus|is too small|falling back|not detected|not built|nvrm:|xid\b)",
)


def _message_hint(line: str) -> bool:
    """The line has a word of an error or warning in it (error, failed, not found, out of memory, ...)."""
    return _MESSAGE_HINT_LOWER.search(line.lower()) is not None


_TRACE_FRAME = re.compile(
    r"^\s*(File \"|File ~|File [A-Za-z]:\\|at [\w.$<>]+\(|frame #\d+:|\^+\s*$|~+\^+|-{2,}>\s*\d+"
    r"|<ipython-input-[\w-]+> in |Cell In ?\[\d*\], line \d+|\S+\.py in [\w<>]+\()"  # IPython/Jupyter frames
)
_TRACE_CONT = re.compile(r"^\s{2,}\S")  # the code line under a File "…" frame
_KEY_VALUE = re.compile(
    r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?(?:\*\*|__)?(?P<key>[A-Za-z][\w .,/()?@'-]{0,60}?)\s*(?:\*\*|__)?\s*"
    r"(?:[:=：]|\s{2,}|\t)\s*(?:\*\*|__)?\s*(?P<value>\S.*?)\s*$"
)
_ANSWER_LEAD = re.compile(
    r"^(?:it\s+)?(?:returns?|returned|outputs?|prints?|printed|gives?|result|answer)\s*:?\s*$", re.I
)
_LIST_ITEM = re.compile(r"^\s*[-*•+]\s+(?!\[)(\S.*)$")  # not a checkbox "- [x]"
_TABLE_ROW = re.compile(r"^\s*\|\s*([^|]{1,60}?)\s*\|\s*([^|]*?\S[^|]*?)\s*\|")
_KEY_PAREN = re.compile(r"\s*\((?:gpu\?|accelerator\?|cpu\?/gpu\?/tpu\?|e\.g\.[^)]*)\)\s*$", re.I)

# Key names, as people and tools write them, -> canonical fact.
_ALIASES = {
    "torch": (
        "pytorch version",
        "pytorch",
        "torch",
        "torch version",
        "pytorch version (gpu?)",
        "pytorch version (accelerator?)",
        "torch.__version__",
        "torch.__version",  # `torch.__version__ = 2.1.0`: the key pattern takes the trailing __ for bold markup
        "pytorch_version",
        "torch_version",
    ),
    "cuda_build": (
        "cuda used to build pytorch",
        "torch.version.cuda",
        "cuda (pytorch)",
        "cuda version (pytorch)",
        "cuda build",  # a script printing torch.version.cuda under that label (issue 12, p157)
    ),
    "available": (
        "is cuda available",
        "cuda available",
        "gpu available",
        "cuda support",
        "torch.cuda.is_available()",
        "is cuda available (pytorch)",
        "cuda is available",
        "gpu available (cuda)",
    ),
    "gpus": (
        "gpu models and configuration",
        "gpu",
        "gpus",
        "gpu model",
        "gpu models",
        "gpu type",
        "graphics card",
        "graphics",
        "gpu name",
        "video card",
        "device name",
        "hardware: gpu",
        "hardware",
    ),
    "driver": (
        "nvidia driver version",
        "driver version",
        "nvidia driver",
        "driver",
        "cuda driver version",
        "gpu driver",
        "gpu driver version",
        "nvidia-driver",
    ),
    "runtime": (
        "cuda runtime version",
        "nvcc",
        "cuda toolkit",
        "cuda toolkit version",
        "cuda compiler",
        "nvcc version",
    ),
    "stated_cuda": ("cuda version", "cuda", "cuda ver", "cuda versions", "my cuda version", "installed cuda version"),
    "os": ("os", "operating system", "os version", "system", "environment", "distro", "os (e.g., linux)"),
    "platform": ("python platform", "platform", "sys.platform", "kernel", "kernel version", "kernel release", "uname"),
    "python": ("python version", "python", "python_version"),
}
_KEY_OF = {alias: key for key, aliases in _ALIASES.items() for alias in aliases}

_VERSION = r"\d+\.\d+(?:\.\d+)*(?:[.\w+-]*)?"
_TORCH_INLINE = (
    # xFormers' own "built for:" block (xformers/_cpp_lib.py): "PyTorch 2.1.2+cu121 with CUDA 1201
    # (you have 2.1.2+cpu)": the installed torch is the one in parentheses, not the one it was built for
    re.compile(r"\bPyTorch \S+ with CUDA \S+ \(you have (\d+\.\d+\.\d+(?:\.post\d+)?(?:\.dev\d+)?(?:\+[\w.]+)?)\)"),
    # a wheel URL: before `torch-X`, which would read it without its %2B local part (issue 12, p052)
    re.compile(r"/whl/[\w.\-/]*?torch-(\d+\.\d+\.\d+(?:\.post\d+)?)%2B([\w.]+)-"),
    re.compile(
        r"\btorch[-= ]{1,2}(\d+\.\d+\.\d+(?:\.post\d+)?(?:a0)?(?:\.dev\d+)?(?:\+[\w.]+)?)"
    ),  # torch-2.4.1+cu121, torch==1.6.0
    re.compile(r"\b(?:pytorch|torch) version:?\s+(\d+\.\d+\.\d+[\w.+]*)", re.I),  # "pytorch version: 2.7.0+cu128"
    re.compile(r"\bTorch (\d+\.\d+\.\d+\+[\w.]+)"),  # SD.Next "Torch 2.0.0+cu118"
    re.compile(r"\btorch-(\d+\.\d+\.\d+(?:\.post\d+)?)-cp\d+"),  # a downloaded wheel file name
    re.compile(r"\bPyTorch\W{1,4}(\d+\.\d+\.\d+(?:\.post\d+)?\+[\w.]+)"),  # prose "PyTorch `2.9.1+cpu`"
)
# A wheel URL or file name on a line that says the download or install failed names no installed torch
# (issue 12, p105: "*Failed URL:* `https://…/torch-2.1.0a0+41361538.nv23.06-cp310-…whl`" returning 404).
_FAILED_WHEEL = re.compile(
    r"\b(?:fail(?:ed|s|ure)?|404|not found|could not|cannot|can't|unable to|not a supported wheel)\b", re.I
)
_CUDA_VARIANT = re.compile(r"\+cu(\d{2,3})\b")
_CPU_VARIANT = re.compile(r"\+cpu\b")
_CPU_INDEX = re.compile(r"download\.pytorch\.org/whl/(?:nightly/)?cpu\b")
_AVAILABLE_PROSE = re.compile(
    r"is_available\(\)\W{0,3}\s*(?:(?:always\s+)?(?:returns?|returned|gives|gave|prints?|printed|shows?|outputs?|is|was|"
    r"=+|->|:)\s*)?\W{0,2}(True|False)\b",
    re.I,
)
_ROCM_VARIANT = re.compile(r"\+rocm[\d.]+")
_SMI_HEADER = re.compile(
    r"NVIDIA-SMI\s+([\d.]+)\s+Driver Version:\s*([\d.]+)(?:\s+CUDA Version:\s*([\d.]+|N/A|ERR!))?", re.I
)
_SMI_ROW = re.compile(r"^\|\s*(\d+)\s+(.+?)\s+(?:On|Off|WDDM|TCC|MCDM|N/A)\s*\|")
_NVRM = re.compile(r"NVRM version:.*?(Open )?Kernel Module(?: for \w+)?\s+(\d{3,4}\.\d{1,3}(?:\.\d{1,3})?)\b")
_NVCC = re.compile(r"Cuda compilation tools, release (\d+\.\d+)|Build cuda_(\d+\.\d+)\.r")
_FOUND_VERSION = re.compile(r"(?:too old \(found version|_cuda_getDriverVersion\(\)\D*?)\s*(\d{4,5})")
_DRIVER_INLINE = re.compile(
    r"(?:Driver Version:|NVIDIA Driver:|driver version:?|\bDriver)\s+(\d{3}\.\d{1,3}(?:\.\d{1,3})?)\b", re.I
)
_GPU_INLINE = (
    re.compile(r"^\s*GPU \d+(?:,\d+)*\s*[:：]\s*(.+?)\s*(?:\(UUID:.*)?$"),  # GPU 0: NAME / sglang GPU 0,1: NAME
    re.compile(r"\bcuda:\d+\s+(.+?)\s*:\s*(?:native|cudaMallocAsync)\b"),  # ComfyUI "Device: cuda:0 NAME : native"
    re.compile(r"\bCUDA:\d+ \((.+?),\s*\d+MiB\)"),  # Ultralytics "CUDA:0 (NVIDIA RTX A6000, 48670MiB)"
    re.compile(r"Torch detected GPU:\s*(.+?)\s+VRAM\b"),  # SD.Next
    re.compile(r"product:\s*\w+\s*\[(.+?)\]"),  # lshw
    re.compile(r"\]\s*\d+\)\s*(NVIDIA .+?)\s*$"),  # "[Crystools INFO] 0) NVIDIA GeForce RTX 5070 Ti"
    re.compile(r"^\s*(?:NVIDIA )?(?:GeForce |Tesla |Quadro |TITAN )?.+? with CUDA capability sm_\d+", re.I),
)  # a line that is only a GPU's name is read by producers.read_line (_GPU_ONLY_LINE, _GEFORCE_ONLY_LINE)
_GPU_WORD = re.compile(
    r"\b(NVIDIA|GeForce|Tesla|Quadro|TITAN|RTX|GTX|Jetson|Orin|Xavier|[AHBL]\d{2,3}\b|[TPVKM]\d{1,3}\b|GB\d{2,3}|A\d{4})",
    re.I,
)
_PY_INLINE = (
    re.compile(r"^\s*Python (\d\.\d{1,2}\.\d+)\s*[(|]"),  # "Python 3.10.6 (tags/v3.10.6…)" banner
    re.compile(r"\bPython-(\d\.\d{1,2}\.\d+)\b"),  # Ultralytics
    re.compile(r"python(\d\.\d{1,2})[/\\](?:site|dist)-packages"),
    re.compile(r"\bPython (\d\.\d{1,2}\.\d+) on (?:Windows|Linux|win32|linux|darwin)\b"),  # SD.Next (issue 12, p114)
    re.compile(r"^\s*Python (\d\.\d{1,2}\.\d+)\s*$"),  # `python --version`
    # a wheel's tag: pip picks the wheel of the interpreter it runs under (torch-2.1.0%2Bcu121-cp311-cp311-…)
    re.compile(r"\b(?:torch|torchvision|torchaudio)-\d[\w.%+]*-cp(3)(\d{1,2})-cp3\d{1,2}\b"),
)
_WINDOWS = re.compile(
    r"(?:^|[\s'\"(=])[A-Za-z]:\\|\bWindows-\d|\bMicrosoft Windows\b|\bwin_amd64\b|\bPlatform: Windows\b|\bOS:\s*nt\b"
    r"|\[MSC v\.\d+ (?:32|64) bit"  # CPython's banner on Windows: only the Windows builds use MSC (issue 12, p085)
    r"|\bPython \d\.\d+(?:\.\d+)? on Windows\b"  # SD.Next's "Python 3.10.11 on Windows" (issue 12, p114)
)
_MACOS = re.compile(
    r"(?:^|[\s'\"(=])/Users/\w|~/opt/anaconda3|\bmacOS-\d|\bMac OS ?X\b|\bdarwin\b|\bApple M\d|\bmacosx_", re.I
)
_LINUX = re.compile(
    r"(?:^|[\s'\"(=])/(?:home|root|usr|opt|var|data|scratch|nix|mnt)/|\bLinux-\d|\bUbuntu\b|\bmanylinux|\bDebian\b|\bCentOS\b"
    r"|\blinux_(?:x86_64|aarch64)\b|\bPython \d\.\d+(?:\.\d+)? on Linux\b|\]\s+(?:::\s+[\w ,.]+?\s+)?on linux\s*$"  # SD.Next; CPython's REPL banner
)
_WSL = re.compile(r"microsoft-standard-WSL2|-Microsoft-x86_64|\d-Microsoft\b|/mnt/c/|/usr/lib/wsl/|\bWSL ?2?\b", re.I)
_TEGRA = re.compile(r"-tegra\b|\btegra-|\bL4T\b|\bJetPack\b", re.I)
_KERNEL = re.compile(r"\bLinux-(\d[\w.\-+]*?)-(x86_64|aarch64|ppc64le)\b")
_CONDA_ROW = re.compile(
    r"^\s*(pytorch|pytorch-cuda|pytorch-gpu|pytorch-cpu|cudatoolkit|cuda-toolkit|cpuonly|pytorch-mutex|torchvision|torchaudio|cudnn)\s+(\d[\w.]*)\s+(\S+)(?:\s+(\S+))?\s*$"
)
# a conda transaction plan: "  pytorch            pytorch/win-64::pytorch-1.10.0-py3.6_cpu_0"
_CONDA_PLAN = re.compile(
    r"^\s*(pytorch|pytorch-cuda|pytorch-gpu|pytorch-cpu|cudatoolkit|cpuonly|pytorch-mutex|torchvision|torchaudio)\s+"
    r"[\w.-]+/[\w-]+::[\w.-]+?-(\d[\w.]*)-([\w.]+)\s*(?:-->.*)?$"
)
_PIP_ROW = re.compile(
    r"^\s*(?:\[pip\d?\]\s+|[+-]\s+)?(torch|torchvision|torchaudio|xformers|triton|flash[-_]attn|nvidia-[\w-]+|detectron2|vllm)\s*(?:==\s*|\s+(?:✅\s*)?)(\d+\.\d+[\w.+]*)(?:>=[\d.]+)?\s*$",
    re.I,
)
_PIP_LOG = re.compile(
    r"\b(?:Collecting|Requirement already satisfied:|Using cached|Downloading)\s+(torch|torchvision|torchaudio)[=-]=?(\d+\.\d+\.\d+[\w.+%]*)",
    re.I,
)
_INSTALLED = re.compile(r"Successfully installed (.*)$")
_CUDA_EXPECT = re.compile(
    r"(Torch not compiled with CUDA enabled|CUDA_PATH|NVIDIA GPU Computing Toolkit|nvidia driver was found|"
    r"--index-url https://download\.pytorch\.org/whl/cu|\bcudatoolkit\b|\bpytorch-cuda\b|device='cuda'|\.cuda\(\)|"
    r"to\(['\"]cuda|CUDA_VISIBLE_DEVICES|NVIDIA GeForce|nvidia-smi|"
    r"\bPyTorch \S+ with CUDA \d{3,5}\b|"  # xFormers' "built for: PyTorch X with CUDA 1201": a CUDA companion
    # a CUDA device asked for: Ultralytics' "Invalid CUDA 'device=0' requested", "cuda:0", torch.device("cuda")
    r"Invalid CUDA 'device=|\bcuda:\d+\b|torch\.device\(\s*['\"]cuda)",
    re.I,
)


def _clean_gpu(name: str) -> str | None:
    name = name.strip().strip("`*'\"").strip()
    name = re.sub(r"^\d+\s*[x×]\s*", "", name)  # "2× RTX 5090", "8x A100"
    name = re.sub(r"\s*\((?:UUID|arch=|nvgpu|\d+\s*[GM]i?B).*?\)\s*", " ", name)
    name = re.sub(r"\s+\d+\s*[GM]i?B\b.*$", "", name)  # "RTX 5000 16GB (driver …)"
    name = re.sub(r"\s*[,:(].*$", "", name) if not name.lower().startswith("orin") else name.split("(")[0]
    name = re.sub(r"\s+with CUDA capability.*$", "", name, flags=re.I)
    name = re.sub(r"^(?:UserWarning:\s*)", "", name).strip(" .")
    if not name or len(name) > 60 or not _GPU_WORD.search(name) or name.lower() in ("no cuda", "n/a", "none"):
        return None
    if name.lower().startswith(("could not", "gpu ", "cpu")):
        return None
    return name


def _version_in(value: str) -> str | None:
    match = re.search(r"(?<![\w.])(\d+\.\d+(?:\.\d+)*)", value)
    return match.group(1) if match else None


def _bool(value: str) -> bool | None:
    lowered = value.strip().strip("`*'\"").lower()
    word = re.match(r"(true|false|yes|no)\b", lowered)
    if word:
        return word.group(1) in ("true", "yes")
    return None


def _apply_key(facts: TextFacts, key: str, raw_key: str, value: str) -> str | None:
    """Apply one recognised key/value; returns the fact name for the line's detail, None if unusable."""
    value = value.strip().strip("`").strip()
    lowered = value.lower()
    if key == "torch":
        if lowered.startswith("n/a"):
            facts.torch_not_importable = True
            return "torch: N/A"
        version = re.match(r"v?(\d+\.\d+(?:\.\d+)?(?:[\w.+-]*))", value)
        if not version:
            return None
        if re.search(r"\bcpu\b", lowered) and "+cu" not in lowered:  # "1.5.0 (CPU toolkit)", "2.0.1 cpu only"
            facts.cpu_build = True
        # a stated key beats a version mentioned in running text (issue 12, p141)
        torch_version.take_stated(facts, version.group(1).rstrip(".,"))
        paren = re.search(r"\((True|False|NA)\)\s*$", value)  # transformers/accelerate "(GPU?)" value
        if paren and paren.group(1) != "NA":
            facts.cuda_available = paren.group(1) == "True"
        return "torch"
    if key == "cuda_build":
        if lowered in ("none", "could not collect"):
            facts.cpu_build = True
            return "cuda_build: none"
        version = _version_in(value)
        if version:
            facts.cuda_build = facts.cuda_build or version
            return "cuda_build"
        return None
    if key == "available":
        found = _bool(value)
        if found is None:
            return None
        facts.cuda_available = found if facts.cuda_available is None else facts.cuda_available
        return "cuda_available"
    if key == "gpus":
        if lowered.startswith("no cuda"):
            facts.no_gpu = True
            return "gpus: none"
        name = _clean_gpu(re.sub(r"^GPU \d+\s*[:：]\s*", "", value))
        if name:
            facts.gpus.append(name)
            return "gpu"
        return None
    if key == "driver":
        version = re.search(r"(?<![\d.])(\d{3}\.\d{1,3}(?:\.\d{1,3})?)(?![\d.])", value)
        if version:
            facts.driver_version = facts.driver_version or version.group(1)
            cuda = re.search(r"CUDA\s*(\d+\.\d+)", value)
            if cuda:
                facts.driver_cuda = facts.driver_cuda or cuda.group(1)
            return "driver"
        return None
    if key == "runtime":
        version = _version_in(value)
        if version and not lowered.startswith("no cuda"):
            facts.system_cuda = facts.system_cuda or version
            return "system_cuda"
        return None
    if key == "stated_cuda":  # evidence only: whose CUDA it is, the text does not say
        version = re.match(r"v?(\d+\.\d+)\b", value)
        if version:
            facts.stated_cuda = facts.stated_cuda or version.group(1)
            facts.cuda_expected.append(f"CUDA {version.group(1)} stated ({raw_key.strip()})")
            return "stated_cuda"
        return None
    if key == "python":
        version = re.match(r"(\d\.\d{1,2}(?:\.\d+)?)", value)
        if version:
            facts.python_version = facts.python_version or version.group(1)
            return "python"
        return None
    if key in ("os", "platform"):
        if "windows" in lowered or lowered in ("nt", "win32"):
            facts.os = facts.os or "windows"
        elif lowered.startswith(("macos", "mac os", "darwin")):
            facts.os = facts.os or "macos"
        elif "linux" in lowered or re.search(r"ubuntu|debian|centos|fedora|rhel|red hat|rocky|alma|arch", lowered):
            facts.os = facts.os or "linux"
        else:
            return None
        return "os"
    return None


_MACOS_WORDS = ("/users/", "~/opt/", "mac", "darwin", "apple m")
_LINUX_WORDS = ("linux", "ubuntu", "debian", "centos")
_PACKAGE_WORDS = ("torch", "cud", "cpuonly", "xformers", "triton", "flash", "nvidia", "detectron", "vllm")


def _os_of_line(facts: TextFacts, line: str, low: str, found: list[str]) -> None:
    """The OS, WSL and Tegra a line's paths and kernel strings name."""
    if (":\\" in line or "win" in low or "nt" in low or "msc v." in low) and _WINDOWS.search(line):
        facts.os = facts.os or "windows"
    elif any(w in low for w in _MACOS_WORDS) and _MACOS.search(line):
        facts.os = facts.os or "macos"
    elif ("/" in line or any(w in low for w in _LINUX_WORDS)) and _LINUX.search(line):
        facts.os = facts.os or "linux"
    if ("microsoft" in low or "wsl" in low or "/mnt/c/" in low) and _WSL.search(line):
        facts.wsl = True
        facts.os = "linux" if facts.os in (None, "windows") and "/mnt/" in line else facts.os
        found.append("wsl")
    if ("tegra" in low or "l4t" in low or "jetpack" in low) and _TEGRA.search(line):
        facts.tegra = True
        found.append("tegra")


def _inline(facts: TextFacts, line: str) -> list[str]:
    """Facts stated inline anywhere in a line; returns their names."""
    found: list[str] = []
    low = line.lower()  # cheap substring gates keep 10 MB of text well under a second
    torchy = "torch" in low
    cudaish = "cuda" in low
    header = _SMI_HEADER.search(line) if "nvidia-smi" in low else None
    if header:
        facts.driver_version = facts.driver_version or header.group(2)
        if header.group(3) and header.group(3)[0].isdigit():
            facts.driver_cuda = facts.driver_cuda or header.group(3)
        found.append("nvidia-smi header")
    row = _SMI_ROW.match(line) if line.lstrip().startswith("|") else None
    if row:
        name = _clean_gpu(row.group(2))
        if name:
            facts.gpus.append(name)
            found.append("gpu (nvidia-smi)")
    for pattern in _TORCH_INLINE if torchy else ():
        match = pattern.search(line)
        if match:
            version = match.group(1)
            if match.lastindex and match.lastindex >= 2:
                version = f"{version}+{match.group(2)}"
            if (".whl" in low or "/whl/" in low) and _FAILED_WHEEL.search(line):
                found.append("torch wheel not installed")
                break
            torch_version.take_running(facts, version)
            found.append("torch")
            break
    if torchy and _CPU_INDEX.search(line):
        facts.cpu_evidence.append(line.strip()[:160])
        found.append("cpu index")
    available = _AVAILABLE_PROSE.search(line) if "is_available" in low else None
    if available and facts.cuda_available is None:
        facts.cuda_available = available.group(1).lower() == "true"
        found.append("cuda_available")
    nvrm = _NVRM.search(line) if "NVRM" in line else None
    if nvrm:
        facts.driver_version = facts.driver_version or nvrm.group(2)
        facts.kernel_module = facts.kernel_module or ("open" if nvrm.group(1) else "proprietary")
        found.append("driver (kernel module)")
    nvcc = _NVCC.search(line) if cudaish else None
    if nvcc:
        facts.system_cuda = facts.system_cuda or nvcc.group(1) or nvcc.group(2)
        found.append("system_cuda (nvcc)")
    code = _FOUND_VERSION.search(line) if "version" in low else None
    if code and facts.driver_cuda is None:
        value = int(code.group(1))
        facts.driver_cuda = f"{value // 1000}.{value % 1000 // 10}"
        found.append("driver_cuda")
    if not header and facts.driver_version is None and "driver" in low:
        driver = _DRIVER_INLINE.search(line)
        if driver:
            facts.driver_version = driver.group(1)
            found.append("driver")
    gpuish = "gpu" in low or cudaish or "product:" in low or ") nvidia" in low or "geforce" in low or "rtx" in low
    for pattern in _GPU_INLINE if gpuish else ():
        match = pattern.search(line)
        if match:
            name = _clean_gpu(match.group(1) if match.groups() else match.group(0))
            if name:
                facts.gpus.append(name)
                found.append("gpu")
            break
    for pattern in _PY_INLINE if "python" in low or "-cp3" in low else ():
        match = pattern.search(line)
        if match:
            stated = match.group(1) if match.lastindex == 1 else f"{match.group(1)}.{match.group(2)}"
            facts.python_version = facts.python_version or stated
            found.append("python")
            break
    _os_of_line(facts, line, low, found)
    kernel = _KERNEL.search(line) if "linux-" in low else None
    if kernel:
        facts.kernel = facts.kernel or kernel.group(1)
        facts.os = facts.os or "linux"
    host = _CONTAINER_HOST.match(line) if "@" in line else None
    if host:
        facts.container = facts.container or "container (shell prompt with a container hostname)"
        found.append("container")
    packagey = any(w in low for w in _PACKAGE_WORDS)
    conda = _CONDA_ROW.match(line) if packagey else None
    if conda:
        facts.conda_builds.append((conda.group(1).lower(), conda.group(2), conda.group(3)))
        found.append("conda package")
    plan = _CONDA_PLAN.match(line) if packagey and "::" in line else None
    if plan:
        facts.conda_builds.append((plan.group(1).lower(), plan.group(2), plan.group(3)))
        found.append("conda package (transaction plan)")
    pip = _PIP_ROW.match(line) if packagey else None
    if pip:
        facts.packages.append((pip.group(1).lower().replace("_", "-"), pip.group(2)))
        found.append("package")
    log = _PIP_LOG.search(line) if torchy else None
    if log:
        facts.packages.append((log.group(1).lower(), log.group(2).replace("%2B", "+")))
        found.append("package (pip log)")
    installed = _INSTALLED.search(line) if "successfully installed" in low else None
    if installed:
        for item in installed.group(1).split():
            name, _, version = item.rpartition("-")
            if name in ("torch", "torchvision", "torchaudio") and version[:1].isdigit():
                facts.packages.append((name, version))
        found.append("packages installed")
    if (cudaish or "nvidia" in low) and _CUDA_EXPECT.search(line):
        facts.cuda_expected.append(line.strip()[:160])
    return found


def _key_value(facts: TextFacts, line: str) -> str | None:
    match = _KEY_VALUE.match(line)
    if match:
        raw_key, value = match.group("key"), match.group("value")
    elif line.lstrip().startswith("|"):  # a markdown table row: | GPU | RTX 3090 |
        row = _TABLE_ROW.match(line)
        if not row:
            return None
        raw_key, value = row.groups()
    else:
        return None
    raw_key = raw_key.strip().strip("*`_").strip()
    key_lower = raw_key.lower()
    key = _KEY_OF.get(key_lower) or _KEY_OF.get(_KEY_PAREN.sub("", key_lower).strip())
    if key is None:
        return None
    return _apply_key(facts, key, raw_key, value)


def _asks_torch(stripped: str) -> list[list[str]]:
    """A line that is only code asking torch (`print(torch.cuda.is_available())`, `torch.__version__`) or a
    `python -c "..."` one-liner: the questions its output lines answer. Running text naming the same calls asks nothing."""
    if "python" in stripped and "-c" in stripped:
        return producers.questions_in(stripped)
    if not _CODE_ONLY_GATE.search(stripped):
        return []
    rest = _CODE_NOISE.sub("", producers.ASK.sub("", stripped))
    return producers.questions_in(stripped) if not rest else []


_CODE_ONLY_GATE = re.compile(r"^(?:print\s*\(|import torch|torch\.|sys\.|platform\.)")
_CODE_NOISE = re.compile(r"import torch|import sys|import platform|print|[\s(),;]")


PROSE_SETUP_LINES = 2000


def classify_text(text: str, max_lines: int = 200_000) -> TextReading:
    """Classify every line of already-normalised text and collect the facts and messages it states."""
    facts = TextFacts()
    records: list[LineRecord] = []
    messages: list[str] = []
    in_fence_after_message = False
    in_traceback = False
    state = producers.ProducerState()
    # Logs repeat lines (progress bars, the same warning per step): a line whose classification does not
    # depend on the lines around it is classified, and its facts applied, once.
    seen: dict[str, tuple[str, str, bool]] = {}
    # A setup sentence sits in the reporter's own text, at the head of a paste, not in a 10 MB log: the first
    # PROSE_SETUP_LINES candidate lines are read for one (each costs a few microseconds of Python).
    prose_left = PROSE_SETUP_LINES
    for number, raw in enumerate(text.split("\n")[:max_lines], start=1):
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped:
            records.append(LineRecord(number, "blank", "", line))
            in_traceback = False
            continue
        if len(stripped) > 2000:  # one giant line (minified output, a binary dump): look at its head only
            line = stripped = stripped[:2000]
        if not state.answers and state.block is None and line in seen:
            kind, detail, traceback = seen[line]
            records.append(LineRecord(number, kind, detail, line))
            if kind == "message":
                messages.append(stripped)
            if traceback:
                in_traceback = True
            if detail == "markup":
                in_fence_after_message = False
            continue
        prompt = _PROMPT.match(line)
        more = _asks_torch(stripped) if state.answers and not prompt and "torch" in stripped else []
        if more:  # a code block asking several things, its outputs after it (`print(a)` / `b` / `1.3.1` / `False`)
            state.answers.extend(more)
            records.append(LineRecord(number, "noise", "code asking torch", line))
            continue
        if state.answers and not prompt:
            if (
                _EXCEPTION.search(stripped)
                or _TRACE_FRAME.match(line)
                or (in_traceback and _TRACE_CONT.match(line))
                or _ANSWER_LEAD.match(stripped)
            ):
                pass  # a warning, a traceback or the reporter's "returns:" before the answer: the question still waits
            else:
                detail = producers.answer(facts, state, state.answers.pop(0), stripped)
                if detail:
                    if "environment" in detail or "interpreter" in detail:
                        _inline(facts, line)  # a path names the OS, /usr/lib/wsl/ the WSL
                    records.append(LineRecord(number, "fact", detail, line))
                    continue
                state.answers.clear()
        if prompt:
            command = prompt.group("cmd") or ""
            state.answers = producers.questions_in(command)
            state.block = None
            found = _inline(facts, line)
            if _EXCEPTION.search(command) or _message_hint(command):
                records.append(LineRecord(number, "message", "prompt line with an error", line))
                messages.append(stripped)
                continue
            records.append(LineRecord(number, "fact" if found else "noise", ", ".join(found) or "shell prompt", line))
            continue
        asked = _asks_torch(stripped) if ("torch" in stripped or "sys." in stripped) else []
        if asked:  # `print(torch.cuda.is_available())` pasted without a prompt, its output on the next line
            state.answers = asked
            records.append(LineRecord(number, "noise", "code asking torch", line))
            continue
        produced = producers.read_line(facts, state, line)
        # (not inside a producer's block: torch.__config__'s "  - CUDA Runtime 12.1" items belong to it)
        item = _LIST_ITEM.match(line) if not produced and state.block is None and line.lstrip()[:1] in "-*•+" else None
        if item:  # "- NVIDIA GeForce GTX 1080 Ti" in a bulleted setup list: the item, read as its own line
            produced = producers.read_line(facts, state, item.group(1))
        if produced:
            _os_of_line(facts, line, stripped.lower(), produced)
            records.append(LineRecord(number, "fact", ", ".join(produced), line))
            continue
        if _FENCE.match(line) or _RULE.match(stripped) or _HTML.match(line):
            records.append(LineRecord(number, "noise", "markup", line))
            seen[line] = ("noise", "markup", False)
            in_fence_after_message = False
            continue
        exception = _EXCEPTION.search(stripped)
        frame = _TRACE_FRAME.match(line)
        if exception or frame:
            in_traceback = True
            _inline(facts, line)
            detail = "traceback" if frame else "error"
            records.append(LineRecord(number, "message", detail, line))
            seen[line] = ("message", detail, True)
            messages.append(stripped)
            continue
        key_fact = _key_value(facts, line)
        if key_fact is None and state.nvidia_seen and "driver version" in line.lower():
            key_fact = _windows_driver(facts, state, line)
        inline = _inline(facts, line)
        if key_fact is None and prose_left and "gpu" not in inline:  # "Ubuntu 20.04, GTX 1080 Ti, CUDA 11.3, ..."
            prose_left -= 1
            inline += prose_facts.read_setup_line(facts, line, _apply_key)
        if key_fact or inline:
            detail = ", ".join(([key_fact] if key_fact else []) + inline)
            kind = "message" if _message_hint(stripped) and not key_fact else "fact"
            records.append(LineRecord(number, kind, detail, line))
            if state.block is None:
                seen[line] = (kind, detail, False)
            if kind == "message":
                messages.append(stripped)
            continue
        if _message_hint(stripped) or (in_traceback and _TRACE_CONT.match(line)) or in_fence_after_message:
            records.append(LineRecord(number, "message", "message", line))
            messages.append(stripped)
            continue
        records.append(LineRecord(number, "noise" if _MARKDOWN_HEAD.match(line) else "prose", "", line))
    if facts.other_displays and not facts.gpus:
        facts.no_gpu = True  # the display list names its adapters, and none is NVIDIA's
    return TextReading(records, facts, messages)


def _windows_driver(facts: TextFacts, state: producers.ProducerState, line: str) -> str | None:
    """dxdiag's `Driver Version: 31.0.15.4633` under an NVIDIA card: NVIDIA's Windows numbering of driver 546.33."""
    match = _KEY_VALUE.match(line)
    if not match or match.group("key").strip().lower() != "driver version":
        return None
    driver = producers.windows_driver_if_nvidia(state, match.group("value"))
    if driver:
        facts.driver_version = facts.driver_version or driver
        return "driver (Windows numbering)"
    return None


__all__ = ["KINDS", "LineRecord", "TextFacts", "TextReading", "classify_text"]
