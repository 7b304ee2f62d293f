"""The producer catalog, round 2: the environment banners and reports of PyTorch applications and tools
(reports/app_reports.py).

Every sample is written from its producer's print/format statements (the `source` of each names the file),
or, for `nvidia-smi -q`, from NVIDIA's manual page; none comes from an issue thread or from tests/corpus.
Each sample asserts the exact facts `read_report` extracts; each producer also has a near miss, a line of
the same look whose meaning the producer's code does not give, and which must yield no fact.
"""

from __future__ import annotations

import pytest
from test_producer_catalog import Sample, check_facts, check_not_refused

from torchenv.reports.collect_env import normalise_text
from torchenv.reports.lines import classify_text

COMFY_MM = "https://github.com/comfyanonymous/ComfyUI/blob/master/comfy/model_management.py"
COMFY_MAIN = "https://github.com/comfyanonymous/ComfyUI/blob/master/main.py"
WEBUI = "https://github.com/AUTOMATIC1111/stable-diffusion-webui/blob/master/modules/launch_utils.py"
DEEPSPEED = "https://github.com/microsoft/DeepSpeed/blob/master/deepspeed/env_report.py"
XFORMERS = "https://github.com/facebookresearch/xformers/blob/main/xformers/info.py"
BNB_MAIN = "https://github.com/bitsandbytes-foundation/bitsandbytes/blob/main/bitsandbytes/diagnostics/main.py"
BNB_CUDA = "https://github.com/bitsandbytes-foundation/bitsandbytes/blob/main/bitsandbytes/diagnostics/cuda.py"
BNB_OLD = (
    "https://github.com/bitsandbytes-foundation/bitsandbytes/blob/1ab6758b36a91125e180b06fe61c2dd9132ca4ee/"
    "bitsandbytes/cuda_setup/main.py"
)
NVSMI = "https://manpages.ubuntu.com/manpages/jammy/man1/nvidia-smi.1.html (-q, GPU ATTRIBUTES)"
ACCELERATE = "https://github.com/huggingface/accelerate/blob/main/src/accelerate/commands/env.py"
TRANSFORMERS = "https://github.com/huggingface/transformers/blob/main/src/transformers/commands/env.py"
HF_HUB = "https://github.com/huggingface/huggingface_hub/blob/main/src/huggingface_hub/utils/_runtime.py"
YOLO_DEVICE = "https://github.com/ultralytics/ultralytics/blob/main/ultralytics/utils/torch_utils.py (select_device)"
YOLO_CHECKS = "https://github.com/ultralytics/ultralytics/blob/main/ultralytics/utils/checks.py (collect_system_info)"

SAMPLES = [
    Sample(
        "ComfyUI startup",
        f"{COMFY_MM} (Total VRAM, pytorch version, xformers version, Set vram state, Device) + {COMFY_MAIN}",
        "Total VRAM 24564 MB, total RAM 64729 MB\n"
        "pytorch version: 2.3.1+cu121\n"
        "xformers version: 0.0.27\n"
        "Set vram state to: NORMAL_VRAM\n"
        "Device: cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync\n"
        "Python version: 3.11.9 (tags/v3.11.9:de54cf5, Apr  2 2024, 10:12:12) [MSC v.1938 64 bit (AMD64)]\n"
        "ComfyUI version: 0.3.10\n",
        {
            "torch": "2.3.1+cu121",
            "cuda_build": "12.1",
            "available": True,
            "gpus": ["NVIDIA GeForce RTX 4090"],
            "python": "3.11.9",
            "os": "windows",
            "pip": {"xformers": "0.0.27"},
        },
    ),
    Sample(
        "AUTOMATIC1111 webui launch, torch installed",
        f"{WEBUI} (prepare_environment: Python/Version/Commit hash, run(desc='Installing torch and torchvision'))",
        "Python 3.10.6 (tags/v3.10.6:9c7b4bd, Aug  1 2022, 21:53:49) [MSC v.1932 64 bit (AMD64)]\n"
        "Version: v1.9.4\n"
        "Commit hash: feee37d75f1b168768014e4634dcb156ee649c05\n"
        "Installing torch and torchvision\n"
        "Looking in indexes: https://pypi.org/simple, https://download.pytorch.org/whl/cu121\n"
        "Collecting torch==2.1.2\n"
        "  Downloading https://download.pytorch.org/whl/cu121/torch-2.1.2%2Bcu121-cp310-cp310-win_amd64.whl (2473.9 MB)\n"
        "Launching Web UI with arguments: --xformers\n",
        {"torch": "2.1.2+cu121", "cuda_build": "12.1", "python": "3.10.6", "os": "windows"},
    ),
    Sample(
        "AUTOMATIC1111 webui launch, torch install failed",
        f"{WEBUI} (run(): on failure 'Couldn't install torch.', 'Command: {{command}}', 'Error code: N')",
        "Python 3.10.6 (tags/v3.10.6:9c7b4bd, Aug  1 2022, 21:53:49) [MSC v.1932 64 bit (AMD64)]\n"
        "Version: v1.9.4\n"
        "Commit hash: feee37d75f1b168768014e4634dcb156ee649c05\n"
        "Installing torch and torchvision\n"
        "RuntimeError: Couldn't install torch.\n"
        'Command: "C:\\sd\\venv\\Scripts\\python.exe" -m pip install torch==2.1.2 torchvision==0.16.2 '
        "--extra-index-url https://download.pytorch.org/whl/cu121\n"
        "Error code: 1\n",
        {"torch": None, "python": "3.10.6", "os": "windows"},
    ),
    Sample(
        "DeepSpeed ds_report",
        f"{DEEPSPEED} (op_report, debug_report: print(name, '.' * (33 - len(name)), value))",
        "--------------------------------------------------\n"
        "DeepSpeed C++/CUDA extension op report\n"
        "--------------------------------------------------\n"
        "JIT compiled ops requires ninja\n"
        "ninja .................. [OKAY]\n"
        "--------------------------------------------------\n"
        "op name ................ installed .. compatible\n"
        "--------------------------------------------------\n"
        "async_io ............... [NO] ....... [OKAY]\n"
        "cpu_adam ............... [NO] ....... [OKAY]\n"
        "--------------------------------------------------\n"
        "DeepSpeed general environment info:\n"
        "torch install path ............... ['/usr/local/lib/python3.10/dist-packages/torch']\n"
        "torch version .................... 2.1.0+cu121\n"
        "deepspeed install path ........... ['/usr/local/lib/python3.10/dist-packages/deepspeed']\n"
        "deepspeed info ................... 0.12.6, unknown, unknown\n"
        "torch cuda version ............... 12.1\n"
        "torch hip version ................ None\n"
        "nvcc version ..................... 12.2\n"
        "deepspeed wheel compiled w. ...... torch 2.1, cuda 12.1\n"
        "shared memory (/dev/shm) size .... 31.36 GB\n",
        {
            "torch": "2.1.0+cu121",
            "cuda_build": "12.1",
            "location": "/usr/local/lib/python3.10/dist-packages/torch",
            "toolkits": ["12.2"],
            "python": "3.10",
            "os": "linux",
            "pip": {"deepspeed": "0.12.6"},
        },
    ),
    Sample(
        "DeepSpeed ds_report, CPU torch",
        f"{DEEPSPEED} (torch.version.cuda and torch.version.hip both None; nvcc_version()'s [FAIL])",
        "torch install path ............... ['/opt/venv/lib/python3.11/site-packages/torch']\n"
        "torch version .................... 2.3.0\n"
        "torch cuda version ............... None\n"
        "torch hip version ................ None\n"
        "nvcc version ..................... [FAIL] cannot find CUDA_HOME via torch.utils.cpp_extension.CUDA_HOME=None\n",
        {"torch": "2.3.0", "cuda_build": None, "toolkits": None, "python": "3.11"},
    ),
    Sample(
        "python -m xformers.info",
        f"{XFORMERS} (print_info: 'xFormers {{__version__}}', then '{{:<50}} {{}}'.format(name + ':', status))",
        "xFormers 0.0.23.post1\n"
        "memory_efficient_attention.cutlassF:               available\n"
        "is_triton_available:                               True\n"
        "pytorch.version:                                   2.1.2+cu121\n"
        "pytorch.cuda:                                      available\n"
        "gpu.compute_capability:                            8.6\n"
        "gpu.name:                                          NVIDIA GeForce RTX 3090\n"
        "dcgm_profiler:                                     unavailable\n"
        "build.info:                                        available\n"
        "build.cuda_version:                                1201\n"
        "build.hip_version:                                 None\n"
        "build.python_version:                              3.10.13\n"
        "build.torch_version:                               2.1.2+cu121\n"
        "build.nvcc_version:                                12.1.66\n"
        "source.privacy:                                    open source\n",
        {
            "torch": "2.1.2+cu121",
            "cuda_build": "12.1",
            "available": True,
            "gpus": ["NVIDIA GeForce RTX 3090"],
            "cc": (8, 6),
            "python": None,  # build.python_version is the build's, not the interpreter's
            "pip": {"xformers": "0.0.23.post1"},
        },
    ),
    Sample(
        "python -m bitsandbytes",
        f"{BNB_MAIN} (print_header, show_environment) + {BNB_CUDA} (_print_cuda_diagnostics)",
        "=================== bitsandbytes v0.45.0 ===================\n"
        "Platform: Linux-5.15.0-91-generic-x86_64-with-glibc2.35\n"
        "  libc: glibc-2.35\n"
        "Python: 3.10.12\n"
        "PyTorch: 2.5.1+cu124\n"
        "  CUDA: 12.4\n"
        "  HIP: N/A\n"
        "  XPU: N/A\n"
        "Related packages:\n"
        "  accelerate: 1.2.1\n"
        "  transformers: 4.47.0\n"
        "  triton: not found\n"
        "============================================================\n"
        "PyTorch settings found: CUDA_VERSION=124, Highest Compute Capability: (8, 6).\n"
        "The directory listed in your path is found to be non-existent: /usr/local/nvidia/lib64\n"
        "Checking that the library is importable and callable...\n"
        "SUCCESS!\n",
        {
            "torch": "2.5.1+cu124",
            "cuda_build": "12.4",
            "available": True,
            "python": "3.10.12",
            "glibc": "2.35",
            "os": "linux",
            "toolkits": None,
            "pip": {"bitsandbytes": "0.45.0", "accelerate": "1.2.1", "transformers": "4.47.0"},
        },
    ),
    Sample(
        "python -m bitsandbytes, CPU torch",
        f"{BNB_MAIN} (show_environment: torch.version.cuda/hip/xpu or 'N/A')",
        "=================== bitsandbytes v0.45.0 ===================\n"
        "Python: 3.12.3\n"
        "PyTorch: 2.5.1\n"
        "  CUDA: N/A\n"
        "  HIP: N/A\n"
        "  XPU: N/A\n"
        "No CUDA, ROCm, or XPU detected; CPU library loaded successfully.\n",
        {"torch": "2.5.1", "cuda_build": None, "python": "3.12.3"},
    ),
    Sample(
        "nvidia-smi -q",
        f"{NVSMI}",
        "\n==============NVSMI LOG==============\n\n"
        "Timestamp                                 : Mon Oct  2 10:14:27 2023\n"
        "Driver Version                            : 535.104.05\n"
        "CUDA Version                              : 12.2\n\n"
        "Attached GPUs                             : 1\n"
        "GPU 00000000:00:04.0\n"
        "    Product Name                          : NVIDIA A100-SXM4-40GB\n"
        "    Product Brand                         : NVIDIA\n"
        "    Persistence Mode                      : Enabled\n"
        "    MIG Mode\n"
        "        Current                           : Enabled\n"
        "        Pending                           : Enabled\n"
        "    PCI\n"
        "        Bus Id                            : 00000000:00:04.0\n"
        "    FB Memory Usage\n"
        "        Total                             : 40960 MiB\n",
        {"gpus": ["NVIDIA A100-SXM4-40GB"], "driver": "535.104.05", "driver_cuda": "12.2"},
    ),
    Sample(
        "accelerate env (PyTorch version (GPU?))",
        f"{ACCELERATE} (before 2025-05: '- PyTorch version (GPU?): {{pt_version}} ({{pt_cuda_available}})')",
        "- `Accelerate` version: 0.25.0\n"
        "- Platform: Linux-5.15.0-1051-aws-x86_64-with-glibc2.31\n"
        "- Python version: 3.10.13\n"
        "- Numpy version: 1.26.2\n"
        "- PyTorch version (GPU?): 2.1.0+cu121 (True)\n"
        "- PyTorch XPU available: False\n"
        "- System RAM: 186.70 GB\n"
        "- GPU type: NVIDIA A10G\n"
        "- `Accelerate` default config:\n"
        "\t- compute_environment: LOCAL_MACHINE\n"
        "\t- gpu_ids: all\n",
        {
            "torch": "2.1.0+cu121",
            "available": True,
            "gpus": ["NVIDIA A10G"],
            "python": "3.10.13",
            "pip": {"accelerate": "0.25.0"},
        },
    ),
    Sample(
        "accelerate env (PyTorch accelerator)",
        f"{ACCELERATE} (accelerator = 'CUDA' if torch.cuda.is_available() else ... else 'N/A')",
        "- `Accelerate` version: 1.8.0\n"
        "- Python version: 3.12.3\n"
        "- PyTorch version: 2.7.1+cpu\n"
        "- PyTorch accelerator: N/A\n"
        "- System RAM: 31.02 GB\n"
        "- `Accelerate` default config:\n"
        "\tNot found\n",
        {"torch": "2.7.1+cpu", "available": False, "pip": {"accelerate": "1.8.0"}},
    ),
    Sample(
        "transformers env (accelerator?)",
        f"{TRANSFORMERS} ('PyTorch version (accelerator?)': f'{{pt_version}} ({{pt_accelerator}})')",
        "- `transformers` version: 4.46.0\n"
        "- Platform: Linux-5.15.0-1051-aws-x86_64-with-glibc2.31\n"
        "- Python version: 3.10.13\n"
        "- Huggingface_hub version: 0.26.1\n"
        "- Safetensors version: 0.4.5\n"
        "- Accelerate version: 1.0.1\n"
        "- DeepSpeed version: not installed\n"
        "- PyTorch version (accelerator?): 2.5.0+cu124 (CUDA)\n"
        "- Tensorflow version (GPU?): not installed (NA)\n"
        "- Using distributed or parallel set-up in script?: <fill in>\n"
        "- Using GPU in script?: <fill in>\n"
        "- GPU type: NVIDIA A10G\n",
        {
            "torch": "2.5.0+cu124",
            "available": True,
            "gpus": ["NVIDIA A10G"],
            "pip": {
                "transformers": "4.46.0",
                "huggingface-hub": "0.26.1",
                "safetensors": "0.4.5",
                "accelerate": "1.0.1",
            },
        },
    ),
    Sample(
        "transformers env (GPU?) False",
        f"{TRANSFORMERS} (older releases: 'PyTorch version (GPU?)': f'{{pt_version}} ({{pt_cuda_available}})')",
        "- `transformers` version: 4.36.2\n"
        "- Platform: Windows-10-10.0.22631-SP0\n"
        "- Python version: 3.11.7\n"
        "- PyTorch version (GPU?): 2.1.2+cu121 (False)\n"
        "- Tensorflow version (GPU?): not installed (NA)\n"
        "- Using GPU in script?: <fill in>\n",
        {"torch": "2.1.2+cu121", "cuda_build": "12.1", "available": False, "os": "windows", "python": "3.11.7"},
    ),
    Sample(
        "huggingface-cli env",
        f"{HF_HUB} (dump_environment_info: '- {{prop}}: {{val}}', 'Torch': get_torch_version() or 'N/A')",
        "- huggingface_hub version: 0.26.2\n"
        "- Platform: Linux-6.1.85+-x86_64-with-glibc2.35\n"
        "- Python version: 3.10.12\n"
        "- Running in iPython ?: Yes\n"
        "- Torch: 2.5.1+cu121\n"
        "- numpy: 1.26.4\n",
        {"torch": "2.5.1+cu121", "cuda_build": "12.1", "python": "3.10.12", "pip": {"huggingface-hub": "0.26.2"}},
    ),
    Sample(
        "Ultralytics banner (CUDA)",
        f"{YOLO_DEVICE} ('Ultralytics {{__version__}} 🚀 Python-{{PYTHON_VERSION}} torch-{{TORCH_VERSION}} CUDA:{{d}} ({{name}}, {{MiB}}MiB)')",
        "Ultralytics YOLOv8.0.196 🚀 Python-3.10.12 torch-2.0.1+cu118 CUDA:0 (Tesla T4, 15102MiB)\n"
        "Setup complete ✅ (2 CPUs, 12.7 GB RAM, 26.3/78.2 GB disk)\n",
        {
            "torch": "2.0.1+cu118",
            "cuda_build": "11.8",
            "gpus": ["Tesla T4"],
            "python": "3.10.12",
            "pip": {"ultralytics": "8.0.196"},
        },
    ),
    Sample(
        "Ultralytics banner (CPU)",
        f"{YOLO_DEVICE} ('CPU ({{get_cpu_info()}})': device=cpu asked or no CUDA; the banner does not say which)",
        "Ultralytics 8.3.40 🚀 Python-3.11.9 torch-2.1.0 CPU (Intel Core(TM) i7-10750H 2.60GHz)\n",
        {"torch": "2.1.0", "available": None, "gpus": None, "python": "3.11.9", "pip": {"ultralytics": "8.3.40"}},
    ),
    Sample(
        "yolo checks",
        f"{YOLO_CHECKS} (f'{{k:<23}}{{v}}'; 'CUDA': torch.version.cuda, 'GPU count': torch.cuda.device_count())",
        "Ultralytics 8.3.40 🚀 Python-3.11.9 torch-2.5.1+cu124 CUDA:0 (NVIDIA GeForce RTX 4090, 24217MiB)\n"
        "Setup complete ✅ (32 CPUs, 62.7 GB RAM, 412.6/915.3 GB disk)\n\n"
        "OS                     Linux-6.8.0-49-generic-x86_64-with-glibc2.39\n"
        "Environment            Linux\n"
        "Python                 3.11.9\n"
        "Install                pip\n"
        "RAM                    62.72 GB\n"
        "CPU                    AMD Ryzen 9 7950X 16-Core Processor\n"
        "CPU count              32\n"
        "GPU                    NVIDIA GeForce RTX 4090, 24217MiB\n"
        "GPU count              1\n"
        "CUDA                   12.4\n\n"
        "numpy                  ✅ 1.26.4>=1.23.0\n"
        "torch                  ✅ 2.5.1+cu124>=1.8.0\n",
        {
            "torch": "2.5.1+cu124",
            "cuda_build": "12.4",
            "device_count": 1,
            "gpus": ["NVIDIA GeForce RTX 4090"],
            "python": "3.11.9",
            "os": "linux",
        },
    ),
    Sample(
        "yolo checks without CUDA",
        f"{YOLO_CHECKS} ('GPU': get_gpu_info(0) if torch.cuda.is_available() else None)",
        "Ultralytics 8.3.40 🚀 Python-3.11.9 torch-2.5.1+cu124 CPU (AMD Ryzen 9 7950X 16-Core Processor)\n"
        "Setup complete ✅ (32 CPUs, 62.7 GB RAM, 412.6/915.3 GB disk)\n\n"
        "Python                 3.11.9\n"
        "GPU                    None\n"
        "GPU count              None\n"
        "CUDA                   None\n",
        {"torch": "2.5.1+cu124", "available": False, "gpus": None, "device_count": None},
    ),
]


def _id(sample: Sample) -> str:
    return sample.producer


@pytest.mark.parametrize("sample", SAMPLES, ids=_id)
def test_producer_facts(sample):
    check_facts(sample)


@pytest.mark.parametrize("sample", SAMPLES, ids=_id)
def test_no_sample_is_refused(sample, knowledge):
    check_not_refused(sample, knowledge)


def test_every_sample_names_its_format_source():
    assert all(s.source.startswith("http") for s in SAMPLES)
    assert len({s.producer for s in SAMPLES}) == len(SAMPLES)


def _evidence(text: str):
    """What the line reader found, also in a text too thin for read_report to take."""
    return classify_text(normalise_text(text)).facts


# --- what only the line reader's evidence holds (no torch version to hang it on) -------------------------


def test_bitsandbytes_settings_line_states_torch_cuda_and_the_highest_cc():
    for line in (
        "PyTorch settings found: CUDA_VERSION=121, Highest Compute Capability: (8, 6).",  # BNB_CUDA
        "CUDA SETUP: PyTorch settings found: CUDA_VERSION=118, Highest Compute Capability: 8.6.",  # BNB_OLD
    ):
        evidence = _evidence(line + "\n")
        assert (evidence.cuda_build, evidence.cc, evidence.cuda_available) in (
            ("12.1", (8, 6), True),
            ("11.8", (8, 6), True),
        ), line


def test_bitsandbytes_rocm_settings_line_is_a_rocm_build():
    evidence = _evidence("PyTorch settings found: ROCM_VERSION=61\n")  # BNB_CUDA, _print_hip_diagnostics
    assert evidence.rocm_build is True and evidence.cuda_build is None


def test_comfyui_device_line_is_gpu_evidence():
    evidence = _evidence("Device: cuda:0 NVIDIA GeForce RTX 3060 : native\n")  # COMFY_MM
    assert evidence.gpus == ["NVIDIA GeForce RTX 3060"] and evidence.cuda_available is True
    assert evidence.cuda_expected  # as the generic reader keeps a "cuda:0" line


def test_deepspeed_rocm_torch():
    text = "torch cuda version ............... None\ntorch hip version ................ 6.0.32830-d62f6a171\n"
    evidence = _evidence(text)  # DEEPSPEED
    assert evidence.rocm_build is True and evidence.cpu_build is False


# --- near misses: the same look, no fact -----------------------------------------------------------------


def test_near_miss_comfyui_cpu_device_names_no_gpu():
    evidence = _evidence("Set vram state to: DISABLED\nDevice: cpu\n")  # COMFY_MM: --cpu, or no GPU torch
    assert evidence.gpus == [] and evidence.cuda_available is None


def test_near_miss_webui_command_is_no_installed_torch():
    # WEBUI: the command of a failed run() names the torch it asked for, not one that is installed
    evidence = _evidence(
        "Installing torch and torchvision\n"
        'Command: "/home/u/sd/venv/bin/python3" -m pip install torch==2.1.2 torchvision==0.16.2 '
        "--extra-index-url https://download.pytorch.org/whl/cu121\n"
    )
    assert evidence.torch_version is None and evidence.packages == []
    assert any("webui" in line for line in evidence.cuda_expected)


def test_near_miss_deepspeed_build_rows_are_not_the_installed_torch():
    evidence = _evidence(
        "deepspeed wheel compiled w. ...... torch 2.1, cuda 12.1\n"  # DEEPSPEED: the wheel's build, not this torch
        "nvcc version ..................... [FAIL] nvcc missing\n"
        "torch version .................... [FAIL]\n"
    )
    assert evidence.torch_version is None and evidence.cuda_build is None and evidence.system_cuda is None


def test_near_miss_xformers_build_rows_are_not_the_installed_torch():
    evidence = _evidence(
        "build.cuda_version:                                1201\n"  # XFORMERS: what xFormers was built for
        "build.python_version:                              3.10.13\n"
        "build.torch_version:                               2.1.2+cu121\n"
        "pytorch.cuda:                                      not available\n"
    )
    assert evidence.torch_version is None and evidence.cuda_build is None and evidence.python_version is None
    assert evidence.cuda_available is False


def test_near_miss_bitsandbytes_lines_without_the_settings():
    evidence = _evidence(
        "PyTorch settings found: CUDA_VERSION=121\n"  # cut before the capability: not the line BNB_CUDA prints
        "The directory listed in your path is found to be non-existent: /usr/local/cuda/lib64\n"
    )
    assert evidence.cuda_build is None and evidence.cc is None and evidence.cuda_available is None
    assert evidence.toolkits == [] and evidence.environment == {}


def test_near_miss_product_name_outside_nvidia_smi_q():
    evidence = _evidence("Product Name : PowerEdge R750\nCUDA Version                              : 12.2\n")  # NVSMI
    assert evidence.gpus == [] and evidence.driver_cuda is None  # whose CUDA, only the -q log says


def test_near_miss_transformers_env_without_torch():
    evidence = _evidence("- PyTorch version (accelerator?): not installed (NA)\n")  # TRANSFORMERS
    assert evidence.torch_version is None and evidence.cuda_available is None


def test_near_miss_huggingface_cli_torch_na_is_not_installed_not_broken():
    evidence = _evidence("- huggingface_hub version: 0.26.2\n- Torch: N/A\n")  # HF_HUB: N/A = not installed
    assert evidence.torch_not_importable is False and evidence.torch_version is None


def test_near_miss_ultralytics_cpu_banner_says_nothing_of_cuda():
    evidence = _evidence("Ultralytics 8.3.40 🚀 Python-3.11.9 torch-2.5.1+cu124 CPU (Apple M2)\n")  # YOLO_DEVICE
    assert evidence.cuda_available is None and evidence.gpus == [] and evidence.no_gpu is False


def test_near_miss_yolo_checks_rows_without_the_setup_line():
    evidence = _evidence("GPU count              1\nCUDA                   12.4\n")  # YOLO_CHECKS: whose table?
    assert evidence.device_count is None and evidence.cuda_build is None
