"""Catalog rows, round 7 (issue 12): error rows derived from the producers' own catalogs, not from corpus items.

Every message here is built from the producer's exact text, wrapped the way it is printed: the kernel log's
`NVRM: Xid (PCI:...): NN, ...` lines with the descriptions of NVIDIA's Xid catalog, torch.distributed's rendezvous,
TCPStore, c10d and torchrun/elastic texts, Gloo's pair.cc / unbound_buffer.cc errors, NCCL's misc/socket.cc warnings,
transformers' / accelerate's / diffusers' environment checks, Lightning's device parser and launcher, JAX's
xla_bridge and version check, XLA's cuda_dnn.cc, TensorFlow's gpu_device.cc and dso_loader, CuPy's import checks,
and the install-time texts of pip, uv, conda/libmamba, CMake and nvcc. None is a corpus item. The rows live in
knowledge/data/errors.d/catalog_round7.toml.
"""

from __future__ import annotations

import pytest

from testsupport import assert_rows_exercised_and_sourced, assert_top_match
from torchenv.checks.explain import explain
from torchenv.knowledge.errors import ERRORS_FAMILIES, parse_error_files

RETRIEVED = "2026-12-03"
FAMILY_FILE = ERRORS_FAMILIES / "catalog_round7.toml"


def xid(number: int, rest: str, bus: str = "0000:3b:00") -> str:
    """A kernel-log Xid line as journalctl prints it."""
    return f"Dec 03 10:11:12 node7 kernel: NVRM: Xid (PCI:{bus}): {number}, {rest}"


# (message built from the catalog text, row id, category of the top match)
CASES = [
    # NVIDIA Xid catalog
    (
        xid(13, "pid=2345, name=python, Graphics SM Warp Exception on (GPC 0, TPC 1, SM 0): Out Of Range Address"),
        "xid-graphics-engine-exception",
        "compute-failure",
    ),
    (
        xid(69, "pid=2345, name=python, Class Error: ChId 003b, Class 0000c197, Offset 00002040, Data 00004b30"),
        "xid-graphics-engine-exception",
        "compute-failure",
    ),
    (
        xid(
            31,
            "pid=2345, name=python, Ch 00000008, intr 10000000. MMU Fault: ENGINE GRAPHICS GPCCLIENT_T1_0 faulted @ "
            "0x7f2d_3e000000. Fault is of type FAULT_PDE ACCESS_TYPE_READ",
        ),
        "xid-mmu-page-fault",
        "compute-failure",
    ),
    (xid(43, "pid=2345, name=python, Ch 00000008"), "xid-channel-stopped", "compute-failure"),
    (xid(45, "pid=2345, name=python, Ch 00000010"), "xid-channel-stopped", "compute-failure"),
    (
        xid(48, "An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer at partition 0"),
        "xid-double-bit-ecc",
        "compute-failure",
    ),
    (
        xid(63, "pid=1896, Row Remapper: New row marked for remapping, reset gpu to activate.", bus="0000:10:1c"),
        "xid-row-remapping",
        "compute-failure",
    ),
    (xid(64, "pid=0, Row Remapper Error"), "xid-row-remapping", "compute-failure"),
    (xid(92, "pid=0, High single-bit ECC error rate"), "xid-sbe-rate-high", "compute-failure"),
    (
        xid(94, "pid=2345, name=python, Contained: SM (0x1). RST: No, D-RST: No"),
        "xid-ecc-contained-uncontained",
        "compute-failure",
    ),
    (
        xid(95, "pid=2345, name=python, Uncontained: FBHUB. RST: Yes, D-RST: No"),
        "xid-ecc-contained-uncontained",
        "compute-failure",
    ),
    (xid(61, "pid=0, Internal micro-controller breakpoint/warning"), "xid-microcontroller-halt", "compute-failure"),
    (xid(62, "pid=0, Internal micro-controller halt"), "xid-microcontroller-halt", "compute-failure"),
    (xid(74, "pid=0, NVLink: fatal error detected on link 3"), "xid-nvlink-error", "compute-failure"),
    (
        xid(109, "pid=2345, name=python, Ch 00000010, errorString CTX SWITCH TIMEOUT, Info 0x1c024"),
        "xid-context-switch-timeout",
        "compute-failure",
    ),
    (xid(68, "pid=2345, NVDEC0 Exception: Video processor exception"), "xid-video-engine-exception", "compute-failure"),
    (
        xid(
            119,
            "pid=0, Timeout after 6s of waiting for RPC response from GPU0 GSP! Expected function 76 (GSP_RM_CONTROL)",
        ),
        "xid-gsp-error",
        "compute-failure",
    ),
    (xid(120, "pid=0, GSP task exception"), "xid-gsp-error", "compute-failure"),
    (
        xid(154, "pid=0, GPU recovery action changed from 0x0 (None) to 0x1 (GPU Reset Required)"),
        "xid-recovery-action-changed",
        "compute-failure",
    ),
    # torch.distributed launch and setup
    (
        "ValueError: Error initializing torch.distributed using env:// rendezvous: environment variable MASTER_ADDR "
        "expected, but not set",
        "dist-env-rendezvous-variable-unset",
        "distributed",
    ),
    (
        "ValueError: Error initializing torch.distributed using env:// rendezvous: environment variable RANK expected, "
        "but not set",
        "dist-env-rendezvous-variable-unset",
        "distributed",
    ),
    (
        "torch.distributed.DistStoreError: Timed out after 901 seconds waiting for clients. 1/2 clients joined.",
        "tcpstore-clients-join-timeout",
        "distributed",
    ),
    (
        "torch.distributed.DistNetworkError: Failed to recv, got 0 bytes. Connection was likely closed. Did the remote "
        "server shutdown or crash?",
        "c10d-store-connection-closed",
        "distributed",
    ),
    (
        "RuntimeError: [../third_party/gloo/gloo/transport/tcp/pair.cc:598] Connection closed by peer [10.0.0.2]:5432",
        "gloo-peer-connection-lost",
        "distributed",
    ),
    (
        "RuntimeError: [../third_party/gloo/gloo/transport/tcp/pair.cc:534] Read error [10.0.0.2]:4321: Connection "
        "reset by peer",
        "gloo-peer-connection-lost",
        "distributed",
    ),
    (
        "RuntimeError: [/opt/conda/conda-bld/pytorch_1/work/third_party/gloo/gloo/transport/tcp/unbound_buffer.cc:81] "
        "Timed out waiting 1800000ms for recv operation to complete",
        "gloo-recv-timeout",
        "distributed",
    ),
    (
        "torch.distributed.elastic.multiprocessing.errors.ChildFailedError:\n"
        "============================================================\ntrain.py FAILED\n"
        "------------------------------------------------------------\nFailures:\n  <NO_OTHER_FAILURES>\n"
        "Root Cause (first observed failure):\n[0]:\n  time      : 2026-12-01_10:00:00\n  host      : node1\n"
        "  rank      : 0 (local_rank: 0)\n  exitcode  : -9 (pid: 1234)\n  error_file: <N/A>\n"
        "  traceback : Signal 9 (SIGKILL) received by PID 1234",
        "elastic-worker-killed-by-signal",
        "out-of-memory",
    ),
    (
        "torch.distributed.elastic.multiprocessing.errors.ChildFailedError: train.py FAILED Root Cause (first "
        "observed failure): [1]: rank : 1 (local_rank: 1) exitcode : -6 (pid: 1799) error_file: <N/A> "
        "traceback : Signal 6 (SIGABRT) received by PID 1799",
        "elastic-worker-killed-by-signal",
        "distributed",
    ),
    (
        "exitcode  : -7 (pid: 4242)\n  error_file: <N/A>\n  traceback : Signal 7 (SIGBUS) received by PID 4242",
        "elastic-worker-killed-by-signal",
        "data-loading",
    ),
    (
        "torch.distributed.elastic.multiprocessing.api.SignalException: Process 1234 got signal: 1",
        "elastic-signal-exception",
        "distributed",
    ),
    (
        "torch.distributed.DistBackendError: NCCL error in: ../torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:1970, "
        "unhandled system error (run with NCCL_DEBUG=INFO for details), NCCL version 2.19.3\nncclSystemError: System "
        "call (e.g. socket, malloc) or external library call failed or device error.\nLast error:\n"
        "socketStartConnect: Connect to 10.0.0.2<35261> failed : Software caused connection abort",
        "nccl-socket-connect-failed",
        "distributed",
    ),
    (
        "misc/socket.cc:484 NCCL WARN socketStartConnect: Connect to 10.170.1.33<37999> failed : Cannot assign "
        "requested address",
        "nccl-socket-connect-failed",
        "distributed",
    ),
    # Hugging Face stack
    (
        "ImportError: Using `low_cpu_mem_usage=True` or a `device_map` requires Accelerate: `pip install accelerate`",
        "transformers-accelerate-required",
        "companion-mismatch",
    ),
    (
        "ImportError: Using `low_cpu_mem_usage=True`, a `device_map` or a `tp_plan` requires Accelerate: "
        "`pip install 'accelerate>=0.26.0'`",
        "transformers-accelerate-required",
        "companion-mismatch",
    ),
    (
        "ImportError: Using the `Trainer` with `PyTorch` requires `accelerate>=0.26.0`: Please run "
        "`pip install transformers[torch]` or `pip install 'accelerate>=0.26.0'`",
        "transformers-accelerate-required",
        "companion-mismatch",
    ),
    (
        "RuntimeError: You can't move a model that has some modules offloaded to cpu or disk.",
        "accelerate-offloaded-model-move",
        "user-code",
    ),
    (
        "ImportError: FlashAttention2 has been toggled on, but it cannot be used due to the following error: the "
        "package flash_attn seems to be not installed. Please refer to the documentation of "
        "https://huggingface.co/docs/transformers/perf_infer_gpu_one#flashattention-2 to install Flash Attention 2.",
        "transformers-flash-attn-not-installed",
        "companion-mismatch",
    ),
    (
        "ValueError: FlashAttention2 has been toggled on, but it cannot be used due to the following error: Flash "
        "Attention 2 is not available on CPU. Please make sure torch can access a CUDA device.",
        "transformers-flash-attn-unusable",
        "cpu-only-build",
    ),
    (
        "ImportError: FlashAttention2 has been toggled on, but it cannot be used due to the following error: you need "
        "flash_attn package version to be greater or equal than 2.1.0. Detected version 1.0.9. Please refer to the "
        "documentation of https://huggingface.co/docs/transformers/perf_infer_gpu_one#flashattention-2 to install "
        "Flash Attention 2.",
        "transformers-flash-attn-unusable",
        "companion-mismatch",
    ),
    (
        "You are attempting to use Flash Attention 2.0 with a model not initialized on GPU. Make sure to move the "
        "model to GPU after initializing it on CPU with `model.to('cuda')`.",
        "transformers-flash-attn-model-on-cpu",
        "user-code",
    ),
    (
        "ValueError: Flash Attention 2.0 only supports torch.float16 and torch.bfloat16 dtypes, but the current dype "
        "in LlamaForCausalLM is torch.float32. You should run training or inference using Automatic Mixed-Precision "
        "via the `with torch.autocast(device_type='torch_device'):` decorator, or load the model with the "
        "`torch_dtype` argument.",
        "transformers-flash-attn-dtype",
        "user-code",
    ),
    (
        "ImportError: AutoModelForCausalLM requires the PyTorch library but it was not found in your environment. "
        "Checkout the instructions on the installation page: https://pytorch.org/get-started/locally/ and follow the "
        "ones that match your environment. Please note that you may need to restart your runtime after installation.",
        "transformers-requires-pytorch",
        "torch-missing",
    ),
    (
        "ValueError: GPTNeoForCausalLM does not support an attention implementation through "
        "torch.nn.functional.scaled_dot_product_attention yet. Please request the support for this architecture: "
        "https://github.com/huggingface/transformers/issues/28005. If you believe this error is a bug, please open an "
        'issue in Transformers GitHub repository and load your model with the argument `attn_implementation="eager"` '
        "meanwhile.",
        "transformers-sdpa-unsupported-model",
        "user-code",
    ),
    (
        "ImportError: PyTorch SDPA requirements in Transformers are not met. Please install torch>=2.1.1.",
        "transformers-sdpa-torch-too-old",
        "companion-mismatch",
    ),
    (
        "ModuleNotFoundError: Refer to https://github.com/facebookresearch/xformers for more information on how to "
        "install xformers",
        "diffusers-xformers-not-available",
        "companion-mismatch",
    ),
    (
        "ValueError: xformers is not available. Make sure it is installed correctly",
        "diffusers-xformers-not-available",
        "companion-mismatch",
    ),
    (
        "ImportError: Using `bitsandbytes` 4-bit quantization requires the latest version of bitsandbytes: "
        "`pip install -U bitsandbytes`",
        "transformers-bitsandbytes-required",
        "companion-mismatch",
    ),
    (
        "ImportError: Using `bitsandbytes` 8-bit quantization requires Accelerate: `pip install 'accelerate>=0.26.0'` "
        "and the latest version of bitsandbytes: `pip install -i https://pypi.org/simple/ bitsandbytes`",
        "transformers-bitsandbytes-required",
        "companion-mismatch",
    ),
    (
        "RuntimeError: No GPU found. A GPU is needed for quantization.",
        "transformers-quantization-no-gpu",
        "no-gpu",
    ),
    (
        "ValueError: Some modules are dispatched on the CPU or the disk. Make sure you have enough GPU RAM to fit the "
        "quantized model. If you want to dispatch the model on the CPU or the disk while keeping these modules in "
        "32-bit, you need to set `llm_int8_enable_fp32_cpu_offload=True` and pass a custom `device_map` to "
        "`from_pretrained`.",
        "transformers-quantized-modules-offloaded",
        "out-of-memory",
    ),
    (
        "ValueError: FP16 Mixed precision training with AMP or APEX (`--fp16`) and FP16 half precision evaluation "
        "(`--fp16_full_eval`) can only be used on CUDA or MLU devices or NPU devices or certain XPU devices (with IPEX).",
        "transformers-fp16-needs-cuda",
        "no-gpu",
    ),
    (
        "ValueError: `.to` is not supported for `4-bit` or `8-bit` bitsandbytes models. Please use the model as it "
        "is, since the model has already been set to the correct devices and casted to the correct `dtype`.",
        "transformers-quantized-model-to",
        "user-code",
    ),
    # Lightning, JAX / XLA, TensorFlow, CuPy
    (
        "lightning.fabric.utilities.exceptions.MisconfigurationException: You requested gpu: [0]\n"
        " But your machine only has: []",
        "lightning-requested-gpus-unavailable",
        "no-gpu",
    ),
    (
        "pytorch_lightning.utilities.exceptions.MisconfigurationException: You requested gpu: [0, 1, 2, 3]\n"
        " But your machine only has: [0]",
        "lightning-requested-gpus-unavailable",
        "gpu-hidden",
    ),
    (
        "RuntimeError: Lightning can't create new processes if CUDA is already initialized. Did you manually call "
        "`torch.cuda.*` functions, have moved the model to the device, or allocated memory on the GPU any other way? "
        "Please remove any such calls, or change the selected strategy. You will have to restart the Python kernel.",
        "lightning-cuda-initialized-before-fork",
        "user-code",
    ),
    (
        "WARNING:2026-08-13 18:43:55,006:jax._src.xla_bridge:876: An NVIDIA GPU may be present on this machine, but a "
        "CUDA-enabled jaxlib is not installed. Falling back to cpu.",
        "jax-cuda-jaxlib-missing",
        "cpu-only-build",
    ),
    (
        "RuntimeError: Unable to initialize backend 'cuda': FAILED_PRECONDITION: No visible GPU devices. (you may "
        "need to uninstall the failing plugin package, or set JAX_PLATFORMS=cpu to skip this backend.)",
        "jax-cuda-backend-init-failed",
        "gpu-hidden",
    ),
    (
        "RuntimeError: Unable to initialize backend 'cuda': INTERNAL: no supported devices found for platform CUDA",
        "jax-cuda-backend-init-failed",
        "gpu-hidden",
    ),
    (
        "E external/xla/xla/stream_executor/cuda/cuda_dnn.cc:407] Loaded runtime CuDNN library: 8.6.0 but source was "
        "compiled with: 8.9.4.  CuDNN library needs to have matching major version and equal or higher minor version. "
        "If using a binary install, upgrade your CuDNN library.  If building from sources, make sure the library "
        "loaded at runtime is compatible with the version specified during compile configuration.",
        "xla-cudnn-version-mismatch",
        "library-conflict",
    ),
    (
        "jaxlib.xla_extension.XlaRuntimeError: FAILED_PRECONDITION: DNN library initialization failed. Look at the "
        "errors above for more details.",
        "jax-dnn-init-failed",
        "library-conflict",
    ),
    (
        "RuntimeError: jaxlib version 0.4.20 is newer than and incompatible with jax version 0.4.13. Please update "
        "your jax and/or jaxlib packages.",
        "jax-jaxlib-version-mismatch",
        "companion-mismatch",
    ),
    (
        "2026-12-01 10:00:00.000000: W tensorflow/core/common_runtime/gpu/gpu_device.cc:2251] Cannot dlopen some GPU "
        "libraries. Please make sure the missing libraries mentioned above are installed properly if you would like "
        "to use GPU. Follow the guide at https://www.tensorflow.org/install/gpu for how to download and setup the "
        "required libraries for your platform.\nSkipping registering GPU devices...",
        "tensorflow-gpu-libraries-missing",
        "companion-mismatch",
    ),
    (
        "W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library "
        "'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object file: No such file or directory",
        "tensorflow-gpu-libraries-missing",
        "companion-mismatch",
    ),
    (
        "I tensorflow/core/common_runtime/gpu/gpu_device.cc:1858] Ignoring visible gpu device (device: 0, name: "
        "NVIDIA GeForce GTX 1060, pci bus id: 0000:01:00.0, compute capability: 6.1) with Cuda compute capability "
        "6.1. The minimum required Cuda capability is 7.0.",
        "tensorflow-gpu-capability-too-low",
        "gpu-arch-unsupported",
    ),
    (
        "E external/local_xla/xla/stream_executor/cuda/cuda_dnn.cc:9261] Unable to register cuDNN factory: "
        "Attempting to register factory for plugin cuDNN when one has already been registered",
        "xla-duplicate-factory-registration",
        "other",
    ),
    (
        "RuntimeError: CuPy is not correctly installed.\n\nIf you are using wheel distribution (cupy-cudaXX), make\n"
        "sure that the version of CuPy you installed matches with\nthe version of CUDA on your host.",
        "cupy-not-correctly-installed",
        "companion-mismatch",
    ),
    (
        "UserWarning: CuPy may not function correctly because multiple CuPy packages are installed in your "
        "environment:\n  cupy-cuda11x, cupy-cuda12x\nFollow these steps to resolve this issue:",
        "cupy-multiple-packages",
        "duplicate-install",
    ),
    (
        "RuntimeError: CuPy failed to load libnvrtc.so.12: OSError: libnvrtc.so.12: cannot open shared object file: "
        "No such file or directory",
        "cupy-nvrtc-load-failed",
        "companion-mismatch",
    ),
    # Install-time failures
    (
        "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE. If you have updated the package "
        "versions, please update the hashes. Otherwise, examine the package contents carefully; someone may have "
        "tampered with them.\n    torch==2.1.0 from https://files.pythonhosted.org/packages/torch-2.1.0-cp311-cp311-"
        "manylinux1_x86_64.whl:\n        Expected sha256 0d4e8c52a1fcf5ed6cfc256d9a370fcf4360958fc79d0b08a51d55e70914df46"
        "\n             Got        a2c7b1e5a3a0d0b7c1f2e1d8a8c6f5e4d3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8",
        "pip-hash-mismatch",
        "torch-missing",
    ),
    (
        "Collecting torch\n  Downloading torch-2.1.0-cp310-cp310-manylinux1_x86_64.whl (670.2 MB)\n"
        "     |████████████████████████████████| 670.2 MB 2.1 MB/s eta 0:00:01Killed",
        "pip-killed-installing-torch",
        "out-of-memory",
    ),
    (
        'File "/usr/lib/python3/dist-packages/pip/_internal/utils/hashes.py", line 52, in check_against_chunks\n'
        "    for chunk in chunks:\nMemoryError",
        "pip-killed-installing-torch",
        "out-of-memory",
    ),
    (
        "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device",
        "pip-no-space-left-installing",
        "torch-missing",
    ),
    (
        "ERROR: pip's dependency resolver does not currently take into account all the packages that are installed. "
        "This behaviour is the source of the following dependency conflicts.\ntorchvision 0.16.0 requires "
        "torch==2.1.0, but you have torch 2.2.0 which is incompatible.",
        "pip-resolver-torch-conflict",
        "companion-mismatch",
    ),
    (
        "  error: subprocess-exited-with-error\n\n  × Getting requirements to build wheel did not run successfully.\n"
        "  │ exit code: 1\n  ╰─> [20 lines of output]\n      ModuleNotFoundError: No module named 'torch'",
        "pip-build-isolation-no-torch",
        "compile-toolchain",
    ),
    (
        "  × No solution found when resolving dependencies:\n  ╰─▶ Because torch==2.1.0 has no wheels with a matching "
        "Python ABI tag (e.g., `cp313`) and you require torch==2.1.0, we can conclude that your requirements are "
        "unsatisfiable.",
        "uv-no-solution-torch",
        "python-unsupported",
    ),
    (
        "error: No solution found when resolving dependencies:\n  ╰─▶ Because there is no version of "
        "torch==2.5.1+cu121 and you require torch==2.5.1+cu121, we can conclude that your requirements are "
        "unsatisfiable.",
        "uv-no-solution-torch",
        "other",
    ),
    (
        "  hint: `torch` was found on https://download.pytorch.org/whl/cu121, but not at the requested version "
        "(torch==2.5.1). A compatible version may be available on a subsequent index (e.g., https://pypi.org/simple). "
        "By default, uv will only consider versions that are published on the first index that contains a given "
        "package, to avoid dependency confusion attacks. If all indexes are intended to be used, add "
        "`--index-strategy unsafe-best-match`.",
        "uv-first-index-strategy",
        "other",
    ),
    (
        "error: Distribution `torch==2.5.1+cu124 @ registry+https://download.pytorch.org/whl/cu124` can't be installed "
        "because it doesn't have a source distribution or wheel for the current platform",
        "uv-no-wheel-for-platform",
        "python-unsupported",
    ),
    (
        "UnsatisfiableError: The following specifications were found to be incompatible with each other:\n\n"
        "Output in format: Requested package -> Available versions\n\nPackage python conflicts for:\n"
        "pytorch==1.8.0 -> python[version='>=3.6,<3.7.0a0|>=3.7,<3.8.0a0|>=3.8,<3.9.0a0|>=3.9,<3.10.0a0']",
        "conda-unsatisfiable-pytorch",
        "python-unsupported",
    ),
    (
        "LibMambaUnsatisfiableError: Encountered problems while solving:\n  - nothing provides cuda-cudart >=12.1,<12.2 "
        "needed by pytorch-cuda-12.1-ha16c6d3_5",
        "conda-unsatisfiable-pytorch",
        "torch-missing",
    ),
    (
        "PackagesNotFoundError: The following packages are not available from current channels:\n\n  - pytorch-cuda=12.1",
        "conda-packages-not-found-pytorch",
        "torch-missing",
    ),
    (
        "ClobberError: This transaction has incompatible packages due to a shared path.\n  packages: "
        "nvidia/linux-64::cuda-nvtx-12.1.105-0, conda-forge/linux-64::cuda-nvtx-12.1.105-0\n"
        "  path: 'include/nvtx3/nvToolsExt.h'",
        "conda-clobber-shared-path",
        "duplicate-install",
    ),
    (
        "C:\\Program Files\\NVIDIA GPU Computing Toolkit\\CUDA\\v11.8\\include\\crt/host_config.h(153): fatal error "
        "C1189: #error:  -- unsupported Microsoft Visual Studio version! Only the versions between 2017 and 2022 "
        "(inclusive) are supported! The nvcc flag '-allow-unsupported-compiler' can be used to override this version "
        "check; however, using an unsupported host compiler may cause compilation failure or incorrect run time "
        "execution. Use at your own risk.",
        "nvcc-unsupported-msvc-version",
        "compile-toolchain",
    ),
    (
        "CMake Error at /usr/share/cmake-3.22/Modules/FindPackageHandleStandardArgs.cmake:230 (message):\n"
        "  Could NOT find CUDA (missing: CUDA_TOOLKIT_ROOT_DIR CUDA_NVCC_EXECUTABLE CUDA_INCLUDE_DIRS "
        "CUDA_CUDART_LIBRARY)",
        "cmake-could-not-find-cuda",
        "compile-toolchain",
    ),
    (
        "CMake Error at CMakeLists.txt:10 (project):\n  No CMAKE_CUDA_COMPILER could be found.\n\n  Tell CMake where "
        'to find the compiler by setting either the environment\n  variable "CUDACXX" or the CMake cache entry '
        "CMAKE_CUDA_COMPILER to the full\n  path to the compiler, or to the compiler name if it is in the PATH.",
        "cmake-no-cuda-compiler",
        "compile-toolchain",
    ),
    (
        "nvcc fatal   : Value 'sm_89' is not defined for option 'gpu-architecture'",
        "nvcc-arch-value-not-defined",
        "compile-toolchain",
    ),
]

NEW_ROWS = {row.id for row in parse_error_files([FAMILY_FILE]).patterns}


@pytest.mark.parametrize(("message", "row", "category"), CASES, ids=[f"{i:02d}-{c[1]}" for i, c in enumerate(CASES)])
def test_catalog_text_finds_its_row(message, row, category, knowledge):
    assert_top_match(message, row, category, knowledge)


def test_every_new_row_is_exercised_and_sourced():
    assert_rows_exercised_and_sourced(NEW_ROWS, CASES, RETRIEVED, minimum=35)


def test_an_xid_number_is_read_from_its_field_not_from_the_pci_bus(knowledge):
    # the bus number 13 / 48 is not Xid 13 / 48: the number after the PCI address decides
    ids = [m.id for m in explain(xid(62, "pid=0, Internal micro-controller halt", bus="0000:13:00"), None, knowledge)]
    assert ids[0] == "xid-microcontroller-halt" and "xid-graphics-engine-exception" not in ids, ids
    ids = [m.id for m in explain(xid(31, "pid=7, MMU Fault: ENGINE GRAPHICS", bus="0000:48:00"), None, knowledge)]
    assert ids[0] == "xid-mmu-page-fault" and "xid-double-bit-ecc" not in ids, ids


def test_the_xid_number_picks_the_cause(knowledge):
    match = explain(xid(45, "pid=2345, name=python, Ch 00000010"), None, knowledge)[0]
    assert match.id == "xid-channel-stopped" and match.cause.startswith("Xid 45")
    match = explain(xid(43, "pid=2345, name=python, Ch 00000008"), None, knowledge)[0]
    assert match.cause.startswith("Xid 43")
    match = explain(xid(64, "pid=0, Row Remapper Error"), None, knowledge)[0]
    assert match.id == "xid-row-remapping" and match.cause.startswith("Xid 64")
    match = explain(xid(95, "pid=1, Uncontained: FBHUB. RST: Yes, D-RST: No"), None, knowledge)[0]
    assert match.cause.startswith("Xid 95") and "reset" in match.finding.fix
    match = explain(
        xid(154, "pid=0, GPU recovery action changed from 0x0 (None) to 0x2 (Node Reboot Required)"), None, knowledge
    )[0]
    assert match.id == "xid-recovery-action-changed" and "reboot" in match.cause


def test_specific_rows_rank_above_generic_ones(knowledge):
    # a hardware Xid in the same paste as torch's CUDA error is the cause of that error
    text = "RuntimeError: CUDA error: uncorrectable ECC error encountered\n" + xid(
        48, "An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer"
    )
    ids = [m.id for m in explain(text, None, knowledge)]
    assert ids[0] == "xid-double-bit-ecc" and "ecc-uncorrectable" in ids, ids
    # Xid 79 (errors.toml) still wins over the follow-up Xid lines around it
    text = xid(62, "pid=0, Internal micro-controller halt") + "\n" + xid(79, "pid=0, GPU has fallen off the bus.")
    assert explain(text, None, knowledge)[0].id == "gpu-fallen-off-bus"
    # NCCL's socket warning names the cause of the generic 'unhandled system error'
    text = (
        "NCCL error in: ProcessGroupNCCL.cpp:1970, unhandled system error (run with NCCL_DEBUG=INFO for details)\n"
        "socketStartConnect: Connect to 10.0.0.2<35261> failed : Software caused connection abort"
    )
    ids = [m.id for m in explain(text, None, knowledge)]
    assert ids[0] == "nccl-socket-connect-failed" and {"nccl-system-error", "nccl-error"} <= set(ids), ids
    # the signal in torchrun's summary outranks the bare ChildFailedError row
    text = (
        "torch.distributed.elastic.multiprocessing.errors.ChildFailedError: train.py FAILED "
        "traceback : Signal 9 (SIGKILL) received by PID 1234"
    )
    ids = [m.id for m in explain(text, None, knowledge)]
    assert ids[0] == "elastic-worker-killed-by-signal" and "elastic-child-failed" in ids, ids
    # MSVC's version check gets the MSVC fix, not errors.toml's gcc one (which still matches after it)
    text = (
        "host_config.h(153): fatal error C1189: #error:  -- unsupported Microsoft Visual Studio version! Only the "
        "versions between 2017 and 2022 (inclusive) are supported!"
    )
    match, *rest = explain(text, None, knowledge)
    assert match.id == "nvcc-unsupported-msvc-version" and "unsupported-host-compiler" in [m.id for m in rest]
    assert "gcc" not in match.finding.fix
    # TensorFlow's loader line is TensorFlow's problem, not a broken torch
    text = (
        "Could not load dynamic library 'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object "
        "file: No such file or directory"
    )
    ids = [m.id for m in explain(text, None, knowledge)]
    assert ids[0] == "tensorflow-gpu-libraries-missing" and "cudart-missing" in ids, ids
    # transformers' own 'not installed' reason outranks its generic FlashAttention2 row
    text = (
        "FlashAttention2 has been toggled on, but it cannot be used due to the following error: the package "
        "flash_attn seems to be not installed."
    )
    ids = [m.id for m in explain(text, None, knowledge)]
    assert ids[:2] == ["transformers-flash-attn-not-installed", "transformers-flash-attn-unusable"], ids
    # uv's first-index hint names the cause of its 'No solution found'
    text = (
        "× No solution found when resolving dependencies:\n╰─▶ Because torch==2.5.1 was not found in the package "
        "registry and you require torch==2.5.1, we can conclude that your requirements are unsatisfiable.\n"
        "hint: `torch` was found on https://download.pytorch.org/whl/cu121, but not at the requested version "
        "(torch==2.5.1). By default, uv will only consider versions that are published on the first index that "
        "contains a given package, to avoid dependency confusion attacks."
    )
    ids = [m.id for m in explain(text, None, knowledge)]
    assert ids[0] == "uv-first-index-strategy" and "uv-no-solution-torch" in ids, ids
    # build isolation, not a missing torch, when pip's build step cannot import torch
    text = (
        "× Getting requirements to build wheel did not run successfully.\n  ModuleNotFoundError: No module named "
        "'torch'"
    )
    ids = [m.id for m in explain(text, None, knowledge)]
    assert ids[0] == "pip-build-isolation-no-torch" and "torch-not-installed" in ids, ids
    # XLA's cuDNN version line is the cause of JAX's 'DNN library initialization failed'
    text = (
        "Loaded runtime CuDNN library: 9.1.0 but source was compiled with: 9.8.0. CuDNN library needs to have "
        "matching major version and equal or higher minor version.\njaxlib.xla_extension.XlaRuntimeError: "
        "FAILED_PRECONDITION: DNN library initialization failed."
    )
    ids = [m.id for m in explain(text, None, knowledge)]
    assert ids[0] == "xla-cudnn-version-mismatch" and "jax-dnn-init-failed" in ids, ids
    # the harmless XLA factory line never outranks the real TensorFlow error next to it
    text = (
        "Unable to register cuDNN factory: Attempting to register factory for plugin cuDNN when one has already been "
        "registered\nCannot dlopen some GPU libraries. Please make sure the missing libraries mentioned above are "
        "installed properly if you would like to use GPU.\nSkipping registering GPU devices..."
    )
    assert explain(text, None, knowledge)[0].id == "tensorflow-gpu-libraries-missing"


def test_the_message_picks_the_cause_where_it_can(knowledge):
    # a CPU-only torch named in the text: transformers' bitsandbytes / flash-attn checks fail because of the build
    text = (
        "torch 2.5.1+cpu\nImportError: Using `bitsandbytes` 4-bit quantization requires the latest version of "
        "bitsandbytes: `pip install -U bitsandbytes`"
    )
    match = explain(text, None, knowledge)[0]
    assert (match.id, match.category) == ("transformers-bitsandbytes-required", "cpu-only-build")
    # a Windows path in TensorFlow's loader text names the native-Windows cause
    text = (
        "W C:\\tf\\stream_executor\\platform\\default\\dso_loader.cc:64] Could not load dynamic library "
        "'cudart64_110.dll'; dlerror: cudart64_110.dll not found\nSkipping registering GPU devices..."
    )
    match = explain(text, None, knowledge)[0]
    assert match.id == "tensorflow-gpu-libraries-missing" and "WSL2" in match.finding.fix
    # SIGHUP to torchrun: the terminal went away
    match = explain("SignalException: Process 88 got signal: 1", None, knowledge)[0]
    assert match.id == "elastic-signal-exception" and "SIGHUP" in match.cause and "tmux" in match.finding.fix
    # RANK unset: started without a launcher
    match = explain(
        "environment variable WORLD_SIZE expected, but not set",
        None,
        knowledge,
    )[0]
    assert match.id == "dist-env-rendezvous-variable-unset" and "plain `python`" in match.cause


@pytest.mark.parametrize(
    "line",
    [
        "NVRM: Xid (PCI:0000:79:00): 13, pid=79, Graphics Exception",
        "NVRM: Xid (PCI:0000:01:00): 31, pid=7912, name=python, Ch 00000079, MMU Fault",
    ],
)
def test_a_79_elsewhere_on_an_xid_line_is_not_xid_79(line, knowledge):
    # the Xid number is the field after the PCI address; a bus, pid or channel 79 is not "fallen off the bus"
    assert explain(line, None, knowledge)[0].id != "gpu-fallen-off-bus"


def test_xid_79_in_prose_and_in_the_kernel_line(knowledge):
    for text in ("NVRM: Xid (0000:03:00): 79, GPU has fallen off the bus", "we get Xid 79 errors on node 3"):
        assert explain(text, None, knowledge)[0].id == "gpu-fallen-off-bus"
