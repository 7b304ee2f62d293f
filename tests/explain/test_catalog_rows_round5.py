"""Catalog rows, round 5 (issue 12): error rows derived from the producers' own catalogs, not from corpus items.

Every message here is built from the producer's exact text (the CUDA runtime's cudaGetErrorString strings as
libcudart.so.13 holds them, the driver API's CUresult names, torch 2.15's TORCH_CHECK/warning texts, cuDNN 9's
cudnnStatus_t names, NCCL's ncclGetErrorString and bootstrap texts, NVML's nvmlErrorString table, nvidia-smi, the
NVIDIA Container Toolkit and the companion packages' own checks), wrapped the way torch or the tool prints it.
None is a corpus item.
"""

from __future__ import annotations

import pytest

from testsupport import assert_rows_exercised_and_sourced, assert_top_match
from torchenv.checks.explain import explain

RETRIEVED = "2026-12-03"

# (message built from the catalog text, row id, category of the top match)
CASES = [
    # CUDA runtime / driver error strings (cudaGetErrorString, cuGetErrorString; names from cudaError_t / CUresult)
    ("RuntimeError: CUDA error: driver shutting down", "cuda-driver-shutting-down", "user-code"),
    ("cuInit failed: CUDA_ERROR_DEINITIALIZED", "cuda-driver-shutting-down", "user-code"),
    ("RuntimeError: CUDA error: a PTX JIT compilation failed", "ptx-jit-compilation-failed", "gpu-arch-unsupported"),
    ("CUDA error: PTX JIT compilation was disabled", "ptx-jit-disabled", "gpu-arch-unsupported"),
    (
        "RuntimeError: CUDA error: exclusive-thread device already in use by a different thread",
        "device-exclusive-in-use",
        "gpu-hidden",
    ),
    ("RuntimeError: CUDA error: operation not supported", "cuda-operation-not-supported", "other"),
    (
        "RuntimeError: CUDA error: OS call failed or operation not supported on this OS",
        "cuda-os-call-failed",
        "other",
    ),
    ("RuntimeError: CUDA error: invalid resource handle", "cuda-invalid-resource-handle", "user-code"),
    ("RuntimeError: CUDA error: device doesn't have valid Grid license", "vgpu-not-licensed", "gpu-hidden"),
    (
        "RuntimeError: CUDA error: the provided PTX contains unsupported call to cudaDeviceSynchronize",
        "cdp-device-sync-unsupported",
        "compile-toolchain",
    ),
    ("RuntimeError: CUDA error: unknown error", "cuda-unknown-error", "other"),
    ("RuntimeError: CUDA driver error: unknown error", "cuda-unknown-error", "other"),
    (
        "failed call to cuInit: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected",
        "no-cuda-capable-device",
        "gpu-hidden",
    ),
    ("cuDeviceGet failed: CUDA_ERROR_INVALID_DEVICE", "invalid-device-ordinal", "gpu-hidden"),
    ("CUDA error: all CUDA-capable devices are busy or unavailable", "devices-busy", "gpu-hidden"),
    ("CUDA_ERROR_DEVICE_UNAVAILABLE", "devices-busy", "gpu-hidden"),
    ("cuMemAlloc failed: CUDA_ERROR_OUT_OF_MEMORY", "cuda-out-of-memory", "out-of-memory"),
    ("NCCL WARN Cuda failure 2 'out of memory'", "cuda-out-of-memory", "out-of-memory"),
    ("CUDA_ERROR_ASSERT", "device-side-assert", "user-code"),
    ("cuStreamSynchronize: CUDA_ERROR_LAUNCH_FAILED", "launch-failure", "compute-failure"),
    ("CUDA_ERROR_ECC_UNCORRECTABLE", "ecc-uncorrectable", "compute-failure"),
    (
        "RuntimeError: CUDA error: the remote procedural call between the MPS server and the MPS client failed",
        "mps-daemon-connection",
        "other",
    ),
    ("CUDA error: the MPS client has been terminated by the server", "mps-daemon-connection", "other"),
    (
        "RuntimeError: CUDA error: Invalid access of peer GPU memory over nvlink or a hardware error",
        "nvlink-uncorrectable",
        "compute-failure",
    ),
    # torch's own texts
    (
        "UserWarning: Found GPU0 NVIDIA GeForce RTX 5090 which is of compute capability (CC) 12.0.\n"
        "The following list shows the CCs this version of PyTorch was built for and the hardware CCs it supports:\n"
        "- 5.0 which supports hardware CC >=5.0,<9.0\n"
        "Your installed torch==2.15.0+cu126 does not include kernels for this GPU. Reinstall the same version "
        "against a CUDA build that does, e.g.:",
        "gpu-arch-not-compatible",
        "gpu-arch-unsupported",
    ),
    ("RuntimeError: PyTorch was compiled without CUDA support", "torch-not-compiled-with-cuda", "cpu-only-build"),
    (
        "RuntimeError: CUDA call failed lazily at initialization with error: device >= 0 && device < num_gpus "
        'INTERNAL ASSERT FAILED at "../aten/src/ATen/cuda/CUDAContext.cpp":50, please report a bug to PyTorch.',
        "cuda-device-index-assert",
        "gpu-hidden",
    ),
    (
        "RuntimeError: Expected idx >= 0 && idx < num_gpus to be true, but got false.  (Could this error message "
        "be improved?  If so, please report an enhancement request to PyTorch.)",
        "cuda-device-index-assert",
        "gpu-hidden",
    ),
    (
        "RuntimeError: ProcessGroupNCCL is only supported with GPUs, no GPUs found!",
        "processgroupnccl-no-gpus",
        "no-gpu",
    ),
    (
        "torch.distributed.DistStoreError: use_libuv was requested but PyTorch was build without libuv support",
        "tcpstore-libuv-missing",
        "distributed",
    ),
    (
        "AssertionError: libcudart functions unavailable. It looks like you have a broken build?",
        "cudart-functions-unavailable",
        "torch-broken",
    ),
    ("RuntimeError: cuda driver can't be loaded, is cuda enabled?", "nvml-driver-not-loaded", "no-driver"),
    ("RuntimeError: NCCL communicator was aborted on rank 3.", "nccl-communicator-aborted", "distributed"),
    (
        "UserWarning: The detected CUDA version (12.1) has a minor version mismatch with the version that was used "
        "to compile PyTorch (12.4). Most likely this shouldn't be a problem.",
        "extension-cuda-minor-mismatch",
        "compile-toolchain",
    ),
    (
        "UserWarning: Your compiler (clang++) may be ABI-incompatible with PyTorch!",
        "extension-compiler-abi-warning",
        "compile-toolchain",
    ),
    ("ValueError: Unknown CUDA arch (12.0) or GPU not supported", "extension-unknown-cuda-arch", "compile-toolchain"),
    (
        "OSError: CUDA was not found on the system, please set the CUDA_HOME or the CUDA_PATHenvironment variable "
        "or add NVCC to your system PATH. The extension compilation will fail.",
        "cuda-home-not-set",
        "compile-toolchain",
    ),
    (
        "UserWarning: This DataLoader will create 16 worker processes in total. Our suggested max number of worker "
        "in current system is 4, which is smaller than what this DataLoader is going to create.",
        "dataloader-too-many-workers",
        "data-loading",
    ),
    ("RuntimeError: DataLoader timed out after 120 seconds", "dataloader-timeout", "data-loading"),
    ("RuntimeError: Pin memory thread exited unexpectedly", "dataloader-pin-memory-thread-died", "data-loading"),
    (
        "torch.distributed.elastic.rendezvous.api.RendezvousConnectionError: The connection to the C10d store has "
        "failed. See inner exception for details.",
        "elastic-store-connection-failed",
        "distributed",
    ),
    (
        "RuntimeError: Tensors allocated with expandable_segments:True cannot be shared between processes. Consider "
        "using expandable_segments:False in data loading workers",
        "expandable-segments-ipc",
        "data-loading",
    ),
    (
        "RuntimeError: Flash attention only supports gpu architectures in the range [sm80, sm121]. Attempting to run on a sm 7.5 gpu.",
        "torch-sdpa-fp8-arch",
        "gpu-arch-unsupported",
    ),
    (
        "RuntimeError: torch._scaled_mm is only supported on CUDA devices with compute capability >= 9.0 or 8.9, or ROCm MI300+",
        "torch-sdpa-fp8-arch",
        "gpu-arch-unsupported",
    ),
    # cuDNN 9 cudnnStatus_t, cuBLAS cublasStatus_t
    (
        "RuntimeError: cuDNN error: CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH",
        "cudnn-arch-mismatch",
        "gpu-arch-unsupported",
    ),
    (
        "cuDNN error: CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER",
        "cudnn-incompatible-cuda-driver",
        "driver-too-old",
    ),
    ("cuDNN error: CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDART", "cudnn-incompatible-cudart", "library-conflict"),
    (
        "cuDNN error: CUDNN_STATUS_RUNTIME_PREREQUISITE_MISSING",
        "cudnn-runtime-prerequisite-missing",
        "library-conflict",
    ),
    (
        "cuDNN error: CUDNN_STATUS_NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING",
        "cudnn-runtime-prerequisite-missing",
        "library-conflict",
    ),
    ("cuDNN error: CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED", "cudnn-alloc-failed", "out-of-memory"),
    (
        "cuDNN error: CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE",
        "cudnn-version-mismatch-status",
        "library-conflict",
    ),
    ("cuDNN error: CUDNN_STATUS_INTERNAL_ERROR_TEXTURE_CREATION_FAILED", "cudnn-mapping-error", "compute-failure"),
    (
        "RuntimeError: CUDA error: CUBLAS_STATUS_MAPPING_ERROR when calling `cublasSgemm( handle)`",
        "cublas-execution-failed",
        "compute-failure",
    ),
    # NCCL (ncclGetErrorString, bootstrap, init)
    (
        "ncclInvalidArgument: invalid argument (run with NCCL_DEBUG=WARN for details)",
        "nccl-invalid-usage",
        "distributed",
    ),
    (
        "ncclRemoteError: remote process exited or there was a network error, NCCL version 2.21.5",
        "nccl-remote-error",
        "distributed",
    ),
    ("internal error - please report this issue to the NCCL developers", "nccl-error", "distributed"),
    ("node1:123:456 [0] NCCL WARN Bootstrap : no socket interface found", "nccl-no-socket-interface", "distributed"),
    ("NCCL WARN NET/Socket : No usable listening interface found", "nccl-no-socket-interface", "distributed"),
    (
        "NCCL WARN NCCL library is too old. This application was compiled with NCCL version 2.21.5, but is running "
        "with NCCL library version 2.18.1.",
        "nccl-library-too-old",
        "library-conflict",
    ),
    (
        "NCCL WARN Mismatched NCCL version detected : rank 0 version 21805 rank 1 version 21903",
        "nccl-rank-version-mismatch",
        "distributed",
    ),
    # NVML (nvmlErrorString) and nvidia-smi
    ("Failed to initialize NVML: Driver Not Loaded", "nvml-driver-not-loaded", "no-driver"),
    ("Failed to initialize NVML: Insufficient Permissions", "nvml-insufficient-permissions", "gpu-hidden"),
    ("pynvml.NVMLError_LibraryNotFound: NVML Shared Library Not Found", "nvml-library-not-found", "no-driver"),
    (
        "pynvml.NVMLError_LibRmVersionMismatch: RM has detected an NVML/RM version mismatch.",
        "nvml-driver-library-mismatch",
        "no-driver",
    ),
    ("WARNING: infoROM is corrupted at gpu 0000:01:00.0", "gpu-inforom-corrupted", "compute-failure"),
    ("pynvml.NVMLError_ResetRequired: GPU requires restart", "gpu-reset-required", "compute-failure"),
    (
        "Unable to determine the device handle for GPU0000:01:00.0: Unknown Error",
        "nvidia-smi-device-handle-error",
        "compute-failure",
    ),
    ("pynvml.NVMLError_GPUIsLost: GPU is lost", "gpu-fallen-off-bus", "compute-failure"),
    # NVIDIA Container Toolkit
    (
        "docker: Error response from daemon: failed to create task for container: ... nvidia-container-cli: "
        "initialization error: nvml error: driver not loaded: unknown.",
        "nvml-driver-not-loaded",
        "no-driver",
    ),
    (
        "nvidia-container-cli: requirement error: unsatisfied condition: driver>=470, please update your driver to a newer version",
        "container-cuda-requirement",
        "driver-too-old",
    ),
    ("Error: unresolvable CDI devices nvidia.com/gpu=all", "cdi-device-unresolvable", "gpu-hidden"),
    (
        "nvidia-container-cli: mount error: failed to add device rules: unable to find any existing device filters "
        "attached to the cgroup: bpf_prog_query(BPF_CGROUP_DEVICE) failed: operation not permitted: unknown",
        "container-cgroup-device-rules",
        "gpu-hidden",
    ),
    # NVRTC
    ("CUDA NVRTC error: NVRTC_ERROR_BUILTIN_OPERATION_FAILURE", "cuda-library-missing", "torch-broken"),
    # companion packages' and other producers' own checks
    (
        "UserWarning: Failed to load image Python extension: 'Could not find module "
        "'C:\\venv\\Lib\\site-packages\\torchvision\\image.pyd' (or one of its dependencies).'",
        "torchvision-image-extension",
        "companion-mismatch",
    ),
    (
        "UserWarning: Failed to load image Python extension: 'libc10_cuda.so: cannot open shared object file'. If you "
        "don't plan on using image functionality from `torchvision.io`, you can ignore this warning.",
        "torchvision-cuda-build-on-cpu-torch",
        "companion-mismatch",
    ),
    (
        "AssertionError: MMCV==2.2.0 is used but incompatible. Please install mmcv>=2.0.0rc4, <2.2.0.",
        "openmmlab-version-assert",
        "companion-mismatch",
    ),
    ("ModuleNotFoundError: No module named 'mmcv._ext'", "mmcv-ext-missing", "companion-mismatch"),
    (
        "None of PyTorch, TensorFlow >= 2.0, or Flax have been found. Models won't be available and only tokenizers, "
        "configuration and file/data utilities can be used.",
        "transformers-no-framework",
        "torch-missing",
    ),
    (
        "Disabling PyTorch because PyTorch >= 2.1 is required but found 2.0.1",
        "transformers-torch-too-old",
        "companion-mismatch",
    ),
    (
        "NotImplementedError: No operator found for `memory_efficient_attention_forward` with inputs:\n"
        "`cutlassF` is not supported because:\n    xFormers wasn't build with CUDA support",
        "xformers-build-mismatch",  # the reason line names the cause: the specific row outranks the dispatcher's
        "companion-mismatch",
    ),
    (
        "NotImplementedError: No operator found for `memory_efficient_attention_forward` with inputs:\n"
        "`flshattF@v2.3.2` is not supported because:\n    requires device with capability > (8, 0) but your GPU has "
        "capability (7, 5) (too old)",
        "xformers-no-operator",
        "gpu-arch-unsupported",
    ),
    (
        "ImportError: cannot import name 'triton_key' from 'triton.compiler.compiler'",
        "triton-key-import",
        "companion-mismatch",
    ),
    (
        "kernel version 535.54.3 does not match DSO version 545.23.6 -- cannot find working devices in this configuration",
        "tf-kernel-dso-mismatch",
        "no-driver",
    ),
    (
        "numpy.core._exceptions._ArrayMemoryError: Unable to allocate 12.5 GiB for an array with shape (100000, 33554) and data type float32",
        "host-array-alloc-failed",
        "out-of-memory",
    ),
    ("terminate called after throwing an instance of 'std::bad_alloc'", "host-array-alloc-failed", "out-of-memory"),
]

NEW_ROWS = {
    "cuda-driver-shutting-down",
    "ptx-jit-compilation-failed",
    "ptx-jit-disabled",
    "device-exclusive-in-use",
    "cuda-operation-not-supported",
    "cuda-os-call-failed",
    "cuda-invalid-resource-handle",
    "vgpu-not-licensed",
    "cdp-device-sync-unsupported",
    "cuda-device-index-assert",
    "processgroupnccl-no-gpus",
    "tcpstore-libuv-missing",
    "cudart-functions-unavailable",
    "nvml-driver-not-loaded",
    "nvml-insufficient-permissions",
    "gpu-inforom-corrupted",
    "gpu-reset-required",
    "nvidia-smi-device-handle-error",
    "nccl-communicator-aborted",
    "nccl-no-socket-interface",
    "nccl-library-too-old",
    "nccl-rank-version-mismatch",
    "cudnn-incompatible-cuda-driver",
    "cudnn-incompatible-cudart",
    "cudnn-runtime-prerequisite-missing",
    "cdi-device-unresolvable",
    "container-cgroup-device-rules",
    "extension-compiler-abi-warning",
    "extension-cuda-minor-mismatch",
    "extension-unknown-cuda-arch",
    "dataloader-too-many-workers",
    "dataloader-timeout",
    "dataloader-pin-memory-thread-died",
    "elastic-store-connection-failed",
    "expandable-segments-ipc",
    "torch-sdpa-fp8-arch",
    "torchvision-image-extension",
    "torchvision-cuda-build-on-cpu-torch",
    "openmmlab-version-assert",
    "mmcv-ext-missing",
    "transformers-no-framework",
    "transformers-torch-too-old",
    "xformers-no-operator",
    "triton-key-import",
    "tf-kernel-dso-mismatch",
    "host-array-alloc-failed",
}


@pytest.mark.parametrize(("message", "row", "category"), CASES, ids=[f"{i:02d}-{c[1]}" for i, c in enumerate(CASES)])
def test_catalog_text_finds_its_row(message, row, category, knowledge):
    assert_top_match(message, row, category, knowledge)


def test_every_new_row_is_exercised_and_sourced():
    assert_rows_exercised_and_sourced(NEW_ROWS, CASES, RETRIEVED)


def test_generic_runtime_texts_rank_below_specific_rows(knowledge):
    # "operation not supported" is generic: a specific row in the same paste wins
    text = "CUDA error: operation not supported\nRuntimeError: CUDA error: no kernel image is available for execution on the device"
    assert explain(text, None, knowledge)[0].id == "no-kernel-image"
    # the communicator abort is a symptom: the watchdog timeout that caused it comes first
    text = (
        "[Rank 0] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=5, OpType=ALLREDUCE) ran for 600000 "
        "milliseconds before timing out.\nRuntimeError: NCCL communicator was aborted on rank 0."
    )
    assert explain(text, None, knowledge)[0].id == "nccl-watchdog-timeout"
    # the CUDA minor-version warning never outranks the real build error after it
    text = (
        "UserWarning: The detected CUDA version (12.1) has a minor version mismatch with the version that was used to "
        "compile PyTorch (12.4). Most likely this shouldn't be a problem.\n"
        "fatal error: cuda_runtime.h: No such file or directory"
    )
    assert explain(text, None, knowledge)[0].id == "cuda-headers-missing"


def test_wsl_picks_the_wsl_cause_for_os_call_failed(knowledge):
    matches = explain(
        "RuntimeError: CUDA error: OS call failed or operation not supported on this OS "
        "(running under WSL2: /usr/lib/wsl/lib/libcuda.so.1)",
        None,
        knowledge,
    )
    assert matches[0].id == "cuda-os-call-failed"
