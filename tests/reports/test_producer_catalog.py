"""The producer catalog (issue 12): what people paste when asked "what's your setup", one sample per format.

Each sample is written from its producer's own output format (the `source` of each names where that format
was taken from: the producer's docs or source, or a real output in a public issue). None comes from
tests/corpus (a held-out measure). Each test asserts what `read_report` extracts; the last one that no
sample is refused (a paste that carries evidence always gets a verdict).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from torchenv.checks.explain import diagnose_report
from torchenv.model import known
from torchenv.reports.detect import read_report


@dataclass(frozen=True)
class Sample:
    producer: str
    source: str  # where the output format was taken from
    text: str
    expect: dict = field(default_factory=dict)


def summary(parsed) -> dict:
    """The facts a sample can state, flattened; an unknown fact is None."""
    facts = parsed.facts
    out: dict = {}
    if facts is None:
        return out
    torch = facts.torch if known(facts.torch) else None
    out["torch"] = torch.version if torch and known(torch.version) else None
    out["cuda_build"] = torch.cuda if torch and known(torch.cuda) else "unknown"
    out["available"] = torch.cuda_available if torch and known(torch.cuda_available) else None
    out["cudnn"] = torch.cudnn_version if torch and known(torch.cudnn_version) else None
    out["arch_list"] = tuple(torch.arch_list) if torch and known(torch.arch_list) else None
    out["device_count"] = torch.device_count if torch and known(torch.device_count) else None
    out["location"] = torch.location if torch and known(torch.location) else None
    out["companions"] = {c.name: c.version for c in torch.companions} if torch and known(torch.companions) else None
    gpus = facts.gpus.gpus if known(facts.gpus.gpus) else None
    out["gpus"] = [g.name for g in gpus] if gpus is not None else None
    out["cc"] = next((g.cc for g in gpus or () if known(g.cc)), None)
    out["driver"] = facts.driver.version if known(facts.driver.version) else None
    out["driver_cuda"] = facts.driver.cuda_driver_version if known(facts.driver.cuda_driver_version) else None
    out["kernel_module"] = facts.driver.kernel_module if known(facts.driver.kernel_module) else None
    toolkits = facts.cuda_toolkits if known(facts.cuda_toolkits) else None
    out["toolkits"] = [t.version for t in toolkits] if toolkits is not None else None
    libraries = facts.system_libraries if known(facts.system_libraries) else None
    out["libraries"] = {lib.name: lib.version for lib in libraries} if libraries is not None else None
    out["os"] = facts.host.os
    out["os_release"] = facts.host.os_release if known(facts.host.os_release) else None
    out["kernel"] = facts.host.kernel if known(facts.host.kernel) else None
    out["wsl"] = facts.host.wsl if known(facts.host.wsl) else None
    out["glibc"] = facts.host.glibc if known(facts.host.glibc) else None
    python = facts.python if known(facts.python) else None
    out["python"] = python.version if python and python.version != "unknown" else None
    out["executable"] = python.executable if python and python.executable != "python" else None
    out["conda_prefix"] = python.conda_prefix if python else None
    dists = python.distributions if python and known(python.distributions) else None
    out["pip"] = {d.name: d.version for d in dists} if dists is not None else None
    conda = python.conda_packages if python and known(python.conda_packages) else None
    out["conda"] = {p.name: p.build for p in conda} if conda is not None else None
    out["environment"] = dict(facts.environment)
    return out


SAMPLES = [
    # --- pip and uv ------------------------------------------------------------------------------
    Sample(
        "pip show torch",
        "https://pip.pypa.io/en/stable/cli/pip_show/ (Name/Version/Summary/.../Location/Requires/Required-by)",
        "$ pip show torch\n"
        "Name: torch\n"
        "Version: 2.1.0+cu121\n"
        "Summary: Tensors and Dynamic neural networks in Python with strong GPU acceleration\n"
        "Home-page: https://pytorch.org/\n"
        "Author: PyTorch Team\n"
        "Author-email: packages@pytorch.org\n"
        "License: BSD-3\n"
        "Location: /home/ana/.venv/lib/python3.10/site-packages\n"
        "Requires: filelock, fsspec, jinja2, networkx, sympy, triton, typing-extensions\n"
        "Required-by: torchaudio, torchvision\n",
        {
            "torch": "2.1.0+cu121",
            "cuda_build": "12.1",
            "python": "3.10",
            "os": "linux",
            "location": "/home/ana/.venv/lib/python3.10/site-packages/torch",
        },
    ),
    Sample(
        "pip show torch torchvision (two records, --- between them)",
        "https://pip.pypa.io/en/stable/cli/pip_show/ (records of several packages are separated by ---)",
        "C:\\Users\\ana> pip show torch torchvision\n"
        "Name: torch\n"
        "Version: 2.2.1+cpu\n"
        "Summary: Tensors and Dynamic neural networks in Python with strong GPU acceleration\n"
        "Location: C:\\Users\\ana\\AppData\\Local\\Programs\\Python\\Python311\\Lib\\site-packages\n"
        "Requires: filelock, fsspec, jinja2, networkx, sympy, typing-extensions\n"
        "Required-by: torchvision\n"
        "---\n"
        "Name: torchvision\n"
        "Version: 0.17.1+cpu\n"
        "Summary: image and video datasets and models for torch deep learning\n"
        "Location: C:\\Users\\ana\\AppData\\Local\\Programs\\Python\\Python311\\Lib\\site-packages\n"
        "Requires: numpy, pillow, torch\n"
        "Required-by:\n",
        {
            "torch": "2.2.1+cpu",
            "cuda_build": None,
            "os": "windows",
            "companions": {"torchvision": "0.17.1+cpu"},
        },
    ),
    Sample(
        "pip show torchvision (torch not shown)",
        "https://pip.pypa.io/en/stable/cli/pip_show/",
        "Name: torchvision\n"
        "Version: 0.16.0+cu121\n"
        "Summary: image and video datasets and models for torch deep learning\n"
        "Location: /opt/conda/lib/python3.11/site-packages\n"
        "Requires: numpy, pillow, requests, torch\n"
        "Required-by:\n",
        {"torch": None, "pip": {"torchvision": "0.16.0+cu121"}, "python": "3.11", "os": "linux"},
    ),
    Sample(
        "pip freeze (+cu121 locals)",
        "https://pip.pypa.io/en/stable/cli/pip_freeze/ (name==version lines)",
        "filelock==3.13.1\nfsspec==2023.12.2\nJinja2==3.1.2\nnumpy==1.26.3\n"
        "torch==2.1.0+cu121\ntorchaudio==2.1.0+cu121\ntorchvision==0.16.0+cu121\ntriton==2.1.0\n",
        {
            "torch": "2.1.0+cu121",
            "cuda_build": "12.1",
            "companions": {"torchaudio": "2.1.0+cu121", "torchvision": "0.16.0+cu121"},
        },
    ),
    Sample(
        "pip freeze (PEP 610 direct URL to download.pytorch.org)",
        "https://pip.pypa.io/en/stable/cli/pip_freeze/ and https://packaging.python.org/en/latest/specifications/direct-url/"
        " (`name @ url` for a package installed from a URL)",
        "numpy==1.26.3\n"
        "torch @ https://download.pytorch.org/whl/cu121/torch-2.1.0%2Bcu121-cp310-cp310-linux_x86_64.whl\n"
        "torchvision @ https://download.pytorch.org/whl/cu121/torchvision-0.16.0%2Bcu121-cp310-cp310-linux_x86_64.whl\n"
        "typing_extensions==4.9.0\n",
        {
            "torch": "2.1.0+cu121",
            "cuda_build": "12.1",
            "python": "3.10",
            "os": "linux",
            "companions": {"torchvision": "0.16.0+cu121"},
        },
    ),
    Sample(
        "pip list --format=freeze (file:// wheel)",
        "https://pip.pypa.io/en/stable/cli/pip_list/ (--format=freeze) and PEP 610 direct URLs",
        "Pillow==10.2.0\n"
        "torch @ file:///tmp/wheels/torch-2.0.1%2Bcu118-cp39-cp39-win_amd64.whl\n"
        "torchvision==0.15.2+cu118\n",
        {"torch": "2.0.1+cu118", "cuda_build": "11.8", "python": "3.9", "os": "windows"},
    ),
    Sample(
        "uv pip list",
        "https://docs.astral.sh/uv/pip/inspection/ (uv pip list: Package/Version columns)",
        "$ uv pip list\n"
        "Package           Version\n"
        "----------------- ------------\n"
        "filelock          3.13.1\n"
        "mpmath            1.3.0\n"
        "nvidia-cudnn-cu12 8.9.2.26\n"
        "torch             2.1.2+cu121\n"
        "torchvision       0.16.2+cu121\n"
        "triton            2.1.0\n",
        {"torch": "2.1.2+cu121", "cuda_build": "12.1", "companions": {"torchvision": "0.16.2+cu121"}},
    ),
    Sample(
        "pip install log (Successfully installed)",
        "https://github.com/pypa/pip/blob/main/src/pip/_internal/commands/install.py ('Successfully installed %s')",
        "Looking in indexes: https://download.pytorch.org/whl/cu121\n"
        "Collecting torch\n"
        "  Downloading https://download.pytorch.org/whl/cu121/torch-2.1.0%2Bcu121-cp311-cp311-linux_x86_64.whl "
        "(2200.6 MB)\n"
        "Installing collected packages: mpmath, typing-extensions, sympy, networkx, MarkupSafe, fsspec, filelock, "
        "triton, jinja2, torch\n"
        "Successfully installed MarkupSafe-2.1.3 filelock-3.13.1 fsspec-2023.12.2 jinja2-3.1.2 mpmath-1.3.0 "
        "networkx-3.2.1 sympy-1.12 torch-2.1.0+cu121 triton-2.1.0 typing-extensions-4.9.0\n",
        {"torch": "2.1.0+cu121", "cuda_build": "12.1", "python": "3.11"},
    ),
    Sample(
        "pip download log (Saved ...whl)",
        "https://pip.pypa.io/en/stable/cli/pip_download/ ('Saved ./name-version-tags.whl')",
        "$ pip download torch==2.1.0 --index-url https://download.pytorch.org/whl/cpu -d wheels\n"
        "Looking in indexes: https://download.pytorch.org/whl/cpu\n"
        "Collecting torch==2.1.0\n"
        "  Downloading https://download.pytorch.org/whl/cpu/torch-2.1.0%2Bcpu-cp310-cp310-linux_x86_64.whl (184.9 MB)\n"
        "Saved ./wheels/torch-2.1.0+cpu-cp310-cp310-linux_x86_64.whl\n"
        "Successfully downloaded torch\n",
        {"torch": "2.1.0+cpu", "cuda_build": None},
    ),
    # --- REPL, one-liners, notebooks ---------------------------------------------------------------
    Sample(
        "python REPL session (torch's version, CUDA, cuDNN, device)",
        "https://docs.pytorch.org/docs/stable/cuda.html (get_device_name, get_device_capability, get_arch_list) and "
        "https://docs.pytorch.org/docs/stable/backends.html (torch.backends.cudnn.version)",
        "Python 3.10.12 (main, Nov 20 2023, 15:14:05) [GCC 11.4.0] on linux\n"
        'Type "help", "copyright", "credits" or "license" for more information.\n'
        ">>> import torch; torch.__version__\n"
        "'2.1.0+cu121'\n"
        ">>> torch.version.cuda\n"
        "'12.1'\n"
        ">>> torch.cuda.is_available()\n"
        "True\n"
        ">>> torch.backends.cudnn.version()\n"
        "8902\n"
        ">>> torch.cuda.device_count()\n"
        "1\n"
        ">>> torch.cuda.get_device_name(0)\n"
        "'NVIDIA GeForce RTX 3090'\n"
        ">>> torch.cuda.get_device_capability()\n"
        "(8, 6)\n"
        ">>> torch.cuda.get_arch_list()\n"
        "['sm_50', 'sm_60', 'sm_70', 'sm_75', 'sm_80', 'sm_86', 'sm_90']\n",
        {
            "torch": "2.1.0+cu121",
            "cuda_build": "12.1",
            "available": True,
            "cudnn": 8902,
            "device_count": 1,
            "gpus": ["NVIDIA GeForce RTX 3090"],
            "cc": (8, 6),
            "arch_list": ("sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"),
            "python": "3.10.12",
            "os": "linux",
        },
    ),
    Sample(
        "REPL: is_available False",
        "https://docs.pytorch.org/docs/stable/generated/torch.cuda.is_available.html",
        ">>> import torch\n>>> torch.__version__\n'2.3.0+cu118'\n>>> torch.cuda.is_available()\nFalse\n",
        {"torch": "2.3.0+cu118", "cuda_build": "11.8", "available": False},
    ),
    Sample(
        "print(torch.cuda.get_device_properties(0))",
        "https://github.com/pytorch/pytorch/blob/main/torch/csrc/cuda/Module.cpp (_CudaDeviceProperties __repr__)",
        ">>> print(torch.cuda.get_device_properties(0))\n"
        "_CudaDeviceProperties(name='NVIDIA GeForce RTX 3090', major=8, minor=6, total_memory=24259MB, "
        "multi_processor_count=82, uuid=5e4f1d2c-0b1a-4e3c-9f2d-7a8b9c0d1e2f, L2_cache_size=6MB)\n",
        {"gpus": ["NVIDIA GeForce RTX 3090"], "cc": (8, 6)},
    ),
    Sample(
        "torch.__config__.show()",
        "https://github.com/pytorch/pytorch/pull/18579 and https://github.com/pytorch/pytorch/issues/54829 "
        "(the 'PyTorch built with:' block)",
        ">>> print(torch.__config__.show())\n"
        "PyTorch built with:\n"
        "  - GCC 9.3\n"
        "  - C++ Version: 201703\n"
        "  - Intel(R) oneAPI Math Kernel Library Version 2022.2-Product Build 20220804 for Intel(R) 64 architecture "
        "applications\n"
        "  - OpenMP 201511 (a.k.a. OpenMP 4.5)\n"
        "  - CPU capability usage: AVX2\n"
        "  - CUDA Runtime 12.1\n"
        "  - NVCC architecture flags: -gencode;arch=compute_50,code=sm_50;-gencode;arch=compute_60,code=sm_60;"
        "-gencode;arch=compute_70,code=sm_70;-gencode;arch=compute_75,code=sm_75;-gencode;arch=compute_80,code=sm_80;"
        "-gencode;arch=compute_86,code=sm_86;-gencode;arch=compute_90,code=sm_90\n"
        "  - CuDNN 8.9.2\n"
        "  - Magma 2.6.1\n"
        "  - Build settings: BLAS_INFO=mkl, BUILD_TYPE=Release, CUDA_VERSION=12.1, CUDNN_VERSION=8.9.2, "
        "CXX_COMPILER=/opt/rh/devtoolset-9/root/usr/bin/c++, TORCH_VERSION=2.1.0, USE_CUDA=ON, USE_CUDNN=ON, "
        "USE_NCCL=1,\n",
        {
            "torch": "2.1.0",
            "cuda_build": "12.1",
            "cudnn": 8902,
            "arch_list": ("sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"),
        },
    ),
    Sample(
        "Jupyter cells (In/Out)",
        "https://ipython.readthedocs.io/en/stable/interactive/tutorial.html (In [n]: / Out[n]: prompts)",
        "In [1]: import torch\n\n"
        "In [2]: torch.__version__\n"
        "Out[2]: '2.1.0+cu121'\n\n"
        "In [3]: torch.cuda.is_available()\n"
        "Out[3]: False\n",
        {"torch": "2.1.0+cu121", "cuda_build": "12.1", "available": False},
    ),
    Sample(
        "python -c one-liner with bare answers",
        "https://docs.python.org/3/using/cmdline.html#cmdoption-c (each print() writes one line)",
        '$ python -c "import torch; print(torch.__version__); print(torch.version.cuda); '
        'print(torch.cuda.is_available())"\n'
        "2.1.0+cu121\n"
        "12.1\n"
        "True\n",
        {"torch": "2.1.0+cu121", "cuda_build": "12.1", "available": True},
    ),
    Sample(
        "python -c one-liner, CPU build (None)",
        "https://docs.pytorch.org/docs/stable/notes/get_start_xpu.html and torch/version.py (cuda = None on CPU builds)",
        'python -c "import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available())"\n'
        "2.2.0+cpu None False\n",
        {"torch": "2.2.0+cpu", "cuda_build": None, "available": False},
    ),
    # --- the system --------------------------------------------------------------------------------
    Sample(
        "nvcc --version",
        "https://docs.nvidia.com/cuda/cuda-installation-guide-linux/ (verify the install: nvcc -V)",
        "$ nvcc --version\n"
        "nvcc: NVIDIA (R) Cuda compiler driver\n"
        "Copyright (c) 2005-2023 NVIDIA Corporation\n"
        "Built on Mon_Apr__3_17:16:06_PDT_2023\n"
        "Cuda compilation tools, release 12.1, V12.1.105\n"
        "Build cuda_12.1.r12.1/compiler.32688072_0\n",
        {"toolkits": ["12.1"]},
    ),
    Sample(
        "nvidia-smi -L",
        "https://docs.nvidia.com/deploy/nvidia-smi/index.html (-L, --list-gpus)",
        "$ nvidia-smi -L\n"
        "GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-2b1f7c43-9c1e-7d6a-5f0e-1c2d3e4f5a6b)\n"
        "GPU 1: NVIDIA A100-SXM4-80GB (UUID: GPU-8e7d6c5b-4a39-2817-0f6e-5d4c3b2a1908)\n",
        {"gpus": ["NVIDIA A100-SXM4-80GB"]},
    ),
    Sample(
        "nvidia-smi --query-gpu CSV (header)",
        "https://docs.nvidia.com/deploy/nvidia-smi/index.html (--query-gpu, --format=csv)",
        "$ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv\n"
        "name, driver_version, memory.total [MiB]\n"
        "NVIDIA GeForce RTX 3090, 535.129.03, 24576 MiB\n",
        {"gpus": ["NVIDIA GeForce RTX 3090"], "driver": "535.129.03"},
    ),
    Sample(
        "nvidia-smi --query-gpu CSV (noheader)",
        "https://docs.nvidia.com/deploy/nvidia-smi/index.html (--format=csv,noheader)",
        "$ nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader\n"
        "NVIDIA GeForce RTX 4090, 8.9, 550.54.14\n",
        {"gpus": ["NVIDIA GeForce RTX 4090"], "cc": (8, 9), "driver": "550.54.14"},
    ),
    Sample(
        "cat /proc/driver/nvidia/version (open kernel module)",
        "https://download.nvidia.com/XFree86/Linux-x86_64/535.129.03/README/procinterface.html",
        "$ cat /proc/driver/nvidia/version\n"
        "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  535.129.03  Release Build  "
        "(dvs-builder@U16-I3-B03-4-3)  Thu Oct 19 18:46:10 UTC 2023\n"
        "GCC version:  gcc version 11.4.0 (Ubuntu 11.4.0-1ubuntu1~22.04)\n",
        {"driver": "535.129.03", "kernel_module": "open", "os": "linux"},
    ),
    Sample(
        "cat /proc/driver/nvidia/version (proprietary)",
        "https://download.nvidia.com/XFree86/Linux-x86_64/535.129.03/README/procinterface.html",
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  470.223.02  Sat Oct  7 15:39:11 UTC 2023\n"
        "GCC version:  gcc version 9.4.0 (Ubuntu 9.4.0-1ubuntu1~20.04.2)\n",
        {"driver": "470.223.02", "kernel_module": "proprietary"},
    ),
    Sample(
        "lspci | grep -i nvidia",
        "https://github.com/noonghunna/club-3090/pull/594 (lspci -nnk | grep -A3 -i nvidia in a real issue)",
        "$ lspci | grep -i nvidia\n"
        "01:00.0 VGA compatible controller: NVIDIA Corporation GA102 [GeForce RTX 3090] (rev a1)\n"
        "01:00.1 Audio device: NVIDIA Corporation GA102 High Definition Audio Controller (rev a1)\n",
        {"gpus": ["NVIDIA GeForce RTX 3090"], "os": "linux"},
    ),
    Sample(
        "lspci -nnk (3D controller, driver in use)",
        "https://github.com/noonghunna/club-3090/pull/594",
        "41:00.0 3D controller [0302]: NVIDIA Corporation GA100 [A100 SXM4 80GB] [10de:20b2] (rev a1)\n"
        "\tSubsystem: NVIDIA Corporation Device [10de:1463]\n"
        "\tKernel driver in use: nvidia\n"
        "\tKernel modules: nvidiafb, nouveau, nvidia_drm, nvidia\n",
        {"gpus": ["NVIDIA A100 SXM4 80GB"], "os": "linux"},
    ),
    Sample(
        "lsmod | grep nvidia",
        "https://man7.org/linux/man-pages/man8/lsmod.8.html (Module Size Used-by columns)",
        "$ lsmod | grep nvidia\n"
        "nvidia_uvm           1523712  0\n"
        "nvidia_drm             77824  4\n"
        "nvidia_modeset       1306624  6 nvidia_drm\n"
        "nvidia              56455168  207 nvidia_uvm,nvidia_modeset\n",
        {"os": "linux"},
    ),
    Sample(
        "dpkg -l | grep nvidia / cuda / cudnn",
        "https://github.com/NVIDIA/gpu-driver-container/pull/186 (dpkg -l | grep -i nvidia in a real PR) and "
        "dpkg-query(1) (ii name version arch description)",
        "$ dpkg -l | grep -E 'nvidia|cuda|cudnn'\n"
        "ii  cuda-toolkit-12-1                      12.1.1-1                                amd64        "
        "CUDA Toolkit 12.1 meta-package\n"
        "ii  libcudnn8                              8.9.2.26-1+cuda12.1                     amd64        "
        "cuDNN runtime libraries\n"
        "ii  libnvidia-compute-535:amd64            535.129.03-0ubuntu0.22.04.1             amd64        "
        "NVIDIA libcompute package\n"
        "ii  nvidia-driver-535                      535.129.03-0ubuntu0.22.04.1             amd64        "
        "NVIDIA driver metapackage\n",
        {"driver": "535.129.03", "toolkits": ["12.1"], "libraries": {"libcudnn": "8.9.2.26"}, "os": "linux"},
    ),
    Sample(
        "apt list --installed | grep nvidia",
        "https://manpages.ubuntu.com/manpages/jammy/man8/apt.8.html (apt list: name/suite,now version arch [installed])",
        "nvidia-driver-550/jammy-updates,jammy-security,now 550.120-0ubuntu0.22.04.1 amd64 [installed]\n"
        "libcudnn9-cuda-12/unknown,now 9.1.0.70-1 amd64 [installed]\n"
        "cuda-toolkit-12-4/unknown,now 12.4.1-1 amd64 [installed]\n",
        {"driver": "550.120", "toolkits": ["12.4"], "libraries": {"libcudnn": "9.1.0.70"}},
    ),
    Sample(
        "uname -a (WSL 2)",
        "https://learn.microsoft.com/en-us/windows/wsl/compare-versions (the microsoft-standard-WSL2 kernel)",
        "$ uname -a\n"
        "Linux DESKTOP-7H2K 5.15.133.1-microsoft-standard-WSL2 #1 SMP Thu Oct 5 21:02:42 UTC 2023 x86_64 x86_64 "
        "x86_64 GNU/Linux\n",
        {"os": "linux", "wsl": True, "kernel": "5.15.133.1-microsoft-standard-WSL2 (WSL 2)"},
    ),
    Sample(
        "uname -a (Ubuntu)",
        "https://github.com/NVIDIA/nvidia-docker/issues/895 (uname -a in a real issue)",
        "Linux gpu-box 6.5.0-14-generic #14~22.04.1-Ubuntu SMP PREEMPT_DYNAMIC Mon Nov 20 18:15:30 UTC 2 x86_64 "
        "x86_64 x86_64 GNU/Linux\n",
        {"os": "linux", "kernel": "6.5.0-14-generic"},
    ),
    Sample(
        "cat /etc/os-release",
        "https://www.freedesktop.org/software/systemd/man/latest/os-release.html",
        "$ cat /etc/os-release\n"
        'PRETTY_NAME="Ubuntu 22.04.3 LTS"\n'
        'NAME="Ubuntu"\n'
        'VERSION_ID="22.04"\n'
        'VERSION="22.04.3 LTS (Jammy Jellyfish)"\n'
        "ID=ubuntu\n"
        "ID_LIKE=debian\n",
        {"os": "linux", "os_release": "Ubuntu 22.04.3 LTS"},
    ),
    Sample(
        "cat /usr/local/cuda/version.json",
        "https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/ (version.json replaces version.txt from CUDA 11.1)",
        "{\n"
        '   "cuda" : {\n'
        '      "name" : "CUDA SDK",\n'
        '      "version" : "12.1.1"\n'
        "   },\n"
        '   "cuda_cudart" : {\n'
        '      "name" : "CUDA Runtime (cudart)",\n'
        '      "version" : "12.1.105"\n'
        "   }\n"
        "}\n",
        {"toolkits": ["12.1.1"]},
    ),
    Sample(
        "cat /usr/local/cuda/version.txt",
        "https://docs.nvidia.com/cuda/archive/10.2/ (toolkits up to 11.0 ship version.txt: 'CUDA Version X')",
        "$ cat /usr/local/cuda/version.txt\nCUDA Version 10.2.89\n",
        {"toolkits": ["10.2.89"]},
    ),
    Sample(
        "ls /usr/local/ | grep cuda",
        "https://docs.nvidia.com/cuda/cuda-installation-guide-linux/ (toolkits install to /usr/local/cuda-X.Y)",
        "$ ls /usr/local/ | grep cuda\ncuda\ncuda-11.8\ncuda-12.1\n",
        {"toolkits": ["11.8", "12.1"], "os": "linux"},
    ),
    Sample(
        "echo $CUDA_HOME / $LD_LIBRARY_PATH",
        "https://docs.nvidia.com/cuda/cuda-installation-guide-linux/ (post-installation: PATH and LD_LIBRARY_PATH)",
        "$ echo $CUDA_HOME\n"
        "/usr/local/cuda-12.1\n"
        "$ echo $LD_LIBRARY_PATH\n"
        "/usr/local/cuda-12.1/lib64:/usr/lib/wsl/lib\n",
        {
            "environment": {
                "CUDA_HOME": "/usr/local/cuda-12.1",
                "LD_LIBRARY_PATH": "/usr/local/cuda-12.1/lib64:/usr/lib/wsl/lib",
            },
            "wsl": True,
            "os": "linux",
        },
    ),
    Sample(
        "which python / python --version",
        "https://docs.python.org/3/using/cmdline.html#cmdoption-V ('Python 3.x.y') and which(1)",
        "(torch) ana@box:~$ which python\n"
        "/home/ana/miniconda3/envs/torch/bin/python\n"
        "(torch) ana@box:~$ python --version\n"
        "Python 3.11.7\n",
        {"executable": "/home/ana/miniconda3/envs/torch/bin/python", "python": "3.11.7", "os": "linux"},
    ),
    Sample(
        "where python (Windows)",
        "https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/where",
        "C:\\Users\\ana>where python\n"
        "C:\\Users\\ana\\AppData\\Local\\Programs\\Python\\Python311\\python.exe\n"
        "C:\\Users\\ana\\AppData\\Local\\Microsoft\\WindowsApps\\python.exe\n\n"
        "C:\\Users\\ana>python -V\n"
        "Python 3.11.5\n",
        {
            "executable": "C:\\Users\\ana\\AppData\\Local\\Programs\\Python\\Python311\\python.exe",
            "python": "3.11.5",
            "os": "windows",
        },
    ),
    Sample(
        "conda info",
        "https://github.com/conda/conda/issues/7230 (conda info in a real issue) and "
        "https://docs.conda.io/projects/conda/en/latest/user-guide/tasks/manage-virtual.html (__cuda)",
        "$ conda info\n\n"
        "     active environment : torch\n"
        "    active env location : /home/ana/miniconda3/envs/torch\n"
        "            shell level : 2\n"
        "       user config file : /home/ana/.condarc\n"
        "          conda version : 23.11.0\n"
        "    conda-build version : not installed\n"
        "         python version : 3.11.5.final.0\n"
        "                 solver : libmamba (default)\n"
        "       virtual packages : __archspec=1=x86_64\n"
        "                          __conda=23.11.0=0\n"
        "                          __cuda=12.2=0\n"
        "                          __glibc=2.35=0\n"
        "                          __linux=5.15.0=0\n"
        "                          __unix=0=0\n"
        "       base environment : /home/ana/miniconda3  (writable)\n"
        "               platform : linux-64\n"
        "             user-agent : conda/23.11.0 requests/2.31.0 CPython/3.11.5 Linux/5.15.0-91-generic "
        "ubuntu/22.04.3 glibc/2.35 solver/libmamba conda-libmamba-solver/23.12.0 libmambapy/1.5.3\n",
        {
            "os": "linux",
            "driver_cuda": "12.2",
            "glibc": "2.35",
            "conda_prefix": "/home/ana/miniconda3/envs/torch",
            "python": None,  # conda's own Python (base), not the active environment's
        },
    ),
    Sample(
        "conda list | grep torch",
        "https://docs.conda.io/projects/conda/en/latest/commands/list.html (Name Version Build Channel)",
        "$ conda list | grep -E 'torch|cuda'\n"
        "pytorch                   2.1.0           py3.10_cuda12.1_cudnn8.9.2_0    pytorch\n"
        "pytorch-cuda              12.1                 ha16c6d3_5    pytorch\n"
        "pytorch-mutex             1.0                        cuda    pytorch\n"
        "torchaudio                2.1.0               py310_cu121    pytorch\n"
        "torchvision               0.16.0              py310_cu121    pytorch\n",
        {"torch": "2.1.0", "cuda_build": "12.1"},
    ),
    Sample(
        "nvidia-container-cli info",
        "https://github.com/NVIDIA/nvidia-docker/issues/904 (nvidia-container-cli -k -d /dev/tty info in a real issue)",
        "$ nvidia-container-cli info\n"
        "NVRM version:   535.129.03\n"
        "CUDA version:   12.2\n\n"
        "Device Index:   0\n"
        "Device Minor:   0\n"
        "Model:          NVIDIA GeForce RTX 3090\n"
        "Brand:          GeForce\n"
        "GPU UUID:       GPU-5d49bdf4-b8d0-21ce-9260-a89c66748d92\n"
        "Bus Location:   00000000:01:00.0\n"
        "Architecture:   8.6\n",
        {"driver": "535.129.03", "driver_cuda": "12.2", "gpus": ["NVIDIA GeForce RTX 3090"], "cc": (8, 6)},
    ),
    Sample(
        "docker info | grep -i runtime",
        "https://docs.docker.com/reference/cli/docker/system/info/ (Runtimes / Default Runtime)",
        "$ docker info | grep -i runtime\n Runtimes: io.containerd.runc.v2 nvidia runc\n Default Runtime: runc\n",
        {},
    ),
    Sample(
        "wmic path win32_VideoController get name",
        "https://github.com/incheon-kim/tarkov-settings/issues/15 (its output in a real issue)",
        "C:\\Users\\ana>wmic path win32_VideoController get name\n"
        "Name\n"
        "NVIDIA GeForce RTX 3080\n"
        "Intel(R) UHD Graphics 630\n",
        {"gpus": ["NVIDIA GeForce RTX 3080"], "os": "windows"},
    ),
    Sample(
        "wmic path win32_VideoController get name,driverversion",
        "https://learn.microsoft.com/en-us/windows/win32/cimwin32prov/win32-videocontroller (DriverVersion) and "
        "NVIDIA's Windows driver numbering (31.0.15.3623 is 536.23)",
        "PS C:\\> wmic path win32_VideoController get name,driverversion\n"
        "DriverVersion     Name\n"
        "31.0.15.3623      NVIDIA GeForce RTX 3080\n"
        "31.0.101.4502     Intel(R) UHD Graphics 630\n",
        {"gpus": ["NVIDIA GeForce RTX 3080"], "driver": "536.23", "os": "windows"},
    ),
    Sample(
        "systeminfo (OS lines)",
        "https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/systeminfo",
        "Host Name:                 DESKTOP-7H2K\n"
        "OS Name:                   Microsoft Windows 11 Pro\n"
        "OS Version:                10.0.22631 N/A Build 22631\n"
        "OS Manufacturer:           Microsoft Corporation\n"
        "System Type:               x64-based PC\n",
        {"os": "windows", "os_release": "Microsoft Windows 11 Pro 10.0.22631"},
    ),
    Sample(
        "dxdiag display lines",
        "https://support.microsoft.com/en-us/windows/open-and-run-dxdiag-exe (dxdiag /t report: Display Devices)",
        "------------------\n"
        "System Information\n"
        "------------------\n"
        "Operating System: Windows 11 Pro 64-bit (10.0, Build 22631)\n"
        "---------------\n"
        "Display Devices\n"
        "---------------\n"
        "           Card name: NVIDIA GeForce RTX 4070\n"
        "        Manufacturer: NVIDIA\n"
        "           Chip type: NVIDIA GeForce RTX 4070\n"
        "    Dedicated Memory: 12010 MB\n"
        "      Driver Version: 31.0.15.4633\n",
        {"gpus": ["NVIDIA GeForce RTX 4070"], "driver": "546.33", "os": "windows"},
    ),
    Sample(
        "macOS system_profiler SPDisplaysDataType (Apple silicon)",
        "https://github.com/zeam-vm/cpu_info/issues/17 (its output in a real issue)",
        "$ system_profiler SPDisplaysDataType\n"
        "Graphics/Displays:\n\n"
        "    Apple M2 Pro:\n\n"
        "      Chipset Model: Apple M2 Pro\n"
        "      Type: GPU\n"
        "      Bus: Built-In\n"
        "      Total Number of Cores: 19\n"
        "      Vendor: Apple (0x106b)\n"
        "      Metal Support: Metal 3\n",
        {"os": "macos", "gpus": []},
    ),
]


def _id(sample: Sample) -> str:
    return sample.producer


def check_facts(sample: Sample) -> None:
    """The facts a producer sample states are the facts read (shared with test_producer_catalog_round2)."""
    got = summary(read_report(sample.text))
    wrong = {key: (got.get(key), want) for key, want in sample.expect.items() if got.get(key) != want}
    assert not wrong, f"{sample.producer}: (got, want) {wrong}"


def check_not_refused(sample: Sample, knowledge) -> None:
    parsed = read_report(sample.text)
    assert parsed.facts is not None, f"{sample.producer} refused: {parsed.error}"
    assert diagnose_report(parsed, knowledge, torchenv_version="x") is not None


@pytest.mark.parametrize("sample", SAMPLES, ids=_id)
def test_producer_facts(sample):
    check_facts(sample)


@pytest.mark.parametrize("sample", SAMPLES, ids=_id)
def test_no_sample_is_refused(sample, knowledge):
    check_not_refused(sample, knowledge)


def test_every_sample_names_its_format_source():
    assert all(s.source.startswith("http") for s in SAMPLES)
    assert len({s.producer for s in SAMPLES}) == len(SAMPLES)


# --- the rules do not overreach -------------------------------------------------------------------------


def test_a_warning_before_the_answer_leaves_the_question_waiting():
    text = (
        ">>> torch.cuda.is_available()\n"
        "/opt/conda/lib/python3.10/site-packages/torch/cuda/__init__.py:138: UserWarning: CUDA initialization: "
        "The NVIDIA driver on your system is too old (found version 11040).\n"
        "False\n"
    )
    parsed = read_report(text)
    assert parsed.facts.torch is not None
    assert parsed.evidence.cuda_available is False
    assert "UserWarning" in parsed.messages


def test_running_text_naming_a_call_asks_nothing():
    parsed = read_report("I ran torch.cuda.get_device_name(0) in my notebook\nNVIDIA GeForce RTX 3060 is my card\n")
    # the second line is prose, not the call's answer: read (if at all) as the reporter's own setup sentence
    (second,) = [r for r in parsed.lines if r.number == 2]
    assert second.kind == "prose" or second.detail.endswith("(prose)")


def test_an_intel_driver_version_is_not_the_nvidia_driver():
    text = (
        "           Card name: Intel(R) UHD Graphics 770\n"
        "      Driver Version: 31.0.101.4502\n"
        "           Card name: NVIDIA GeForce RTX 3060\n"
        "      Driver Version: 31.0.15.5222\n"
    )
    parsed = read_report(text)
    assert summary(parsed)["driver"] == "552.22"
    assert summary(parsed)["gpus"] == ["NVIDIA GeForce RTX 3060"]


def test_conda_info_python_is_the_environment_s_only_in_base():
    base = (
        "     active environment : base\n         python version : 3.12.1.final.0\n               platform : win-64\n"
    )
    assert summary(read_report(base))["python"] == "3.12.1"
    assert summary(read_report(base))["os"] == "windows"


def test_pip_freeze_direct_url_without_a_wheel_keeps_no_invented_version():
    parsed = read_report("numpy==1.26.3\ntorch @ git+https://github.com/pytorch/pytorch@abc123\n")
    assert summary(parsed)["torch"] is None or summary(parsed)["torch"] == "(direct URL)"


def test_a_traceback_line_is_not_the_device_name():
    text = (
        ">>> torch.cuda.get_device_name(0)\n"
        "Traceback (most recent call last):\n"
        '  File "<stdin>", line 1, in <module>\n'
        '  File "/usr/lib/python3/dist-packages/torch/cuda/__init__.py", line 419, in get_device_name\n'
        "    return get_device_properties(device).name\n"
        "RuntimeError: Found no NVIDIA driver on your system.\n"
    )
    parsed = read_report(text)
    assert parsed.evidence.gpus == []
    assert "Found no NVIDIA driver" in parsed.messages


def test_proc_version_names_the_kernel():
    text = "Linux version 5.15.153.1-microsoft-standard-WSL2 (root@941d701f84f1) (gcc (GCC) 11.2.0) #1 SMP\n"
    got = summary(read_report(text))
    assert got["kernel"] == "5.15.153.1-microsoft-standard-WSL2 (WSL 2)" and got["wsl"] is True
