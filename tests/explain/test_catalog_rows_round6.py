"""Catalog rows, round 6 (issue 12): error rows derived from the producers' own catalogs, not from corpus items.

Every message here is built from the producer's exact text, wrapped the way it is printed: Triton's OutOfResources,
libcuda and ptxas look-ups, TorchInductor's macOS OpenMP hint, torch's TORCH_CUSOLVER_CHECK / CUFFT_CHECK /
TORCH_CUDASPARSE_CHECK texts with the libraries' status names (cusolverStatus_t, cufftResult, curandStatus), the
OpenMP runtime's duplicate-library message, torch's Windows DLL loader texts and the Windows system error strings,
pip's long-path hint, NumPy's and Cython's ABI checks, bitsandbytes' CUDA setup (0.41 and current cextension.py),
flash-attn's setup.py, ONNX Runtime's provider bridge, torchaudio's dispatcher, TorchCodec's loader, torch's ROCm
and MPS texts. None is a corpus item. The rows live in knowledge/data/errors.d/catalog_round6.toml.
"""

from __future__ import annotations

import pytest

from testsupport import assert_rows_exercised_and_sourced, assert_top_match
from torchenv.checks.explain import explain
from torchenv.knowledge.errors import ERRORS_FAMILIES, parse_error_files

RETRIEVED = "2026-12-03"
FAMILY_FILE = ERRORS_FAMILIES / "catalog_round6.toml"

# (message built from the catalog text, row id, category of the top match)
CASES = [
    # Triton / TorchInductor
    (
        "triton.runtime.errors.OutOfResources: out of resource: shared memory, Required: 98304, Hardware limit: 65536. "
        "Reducing block sizes or `num_stages` may help.",
        "triton-out-of-resources-shared-memory",
        "gpu-arch-unsupported",
    ),
    (
        "torch._inductor.exc.InductorError: RuntimeError: No valid triton configs. OutOfResources: out of resource: "
        "shared memory, Required: 110592, Hardware limit: 101376. Reducing block sizes or `num_stages` may help.",
        "triton-out-of-resources-shared-memory",
        "gpu-arch-unsupported",
    ),
    (
        "torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised:\nAssertionError: libcuda.so cannot found!\n"
        'Please make sure GPU is set up and then run "/sbin/ldconfig" (requires sudo) to refresh the linker cache.',
        "triton-libcuda-not-found",
        "compile-toolchain",
    ),
    (
        "torch._inductor.exc.CppCompileError: C++ compile error\n\nOpenMP support not found. Please try one of the "
        "following solutions:\n(1) Set the `CXX` environment variable to a compiler other than Apple clang++/g++ that "
        "has builtin OpenMP support;\n(2) install OpenMP via conda: `conda install llvm-openmp`;\n(3) install libomp "
        "via brew: `brew install libomp`;",
        "inductor-macos-openmp-missing",
        "compile-toolchain",
    ),
    (
        "ImportError: cannot import name 'AttrsDescriptor' from 'triton.compiler.compiler' "
        "(/opt/venv/lib/python3.11/site-packages/triton/compiler/compiler.py)",
        "triton-attrs-descriptor-import",
        "companion-mismatch",
    ),
    (
        "torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised:\n"
        "ImportError: cannot import name 'AttrsDescriptor' from 'triton.backends.compiler' "
        "(C:\\ComfyUI\\python_embeded\\Lib\\site-packages\\triton\\backends\\compiler.py)",
        "triton-attrs-descriptor-import",
        "companion-mismatch",
    ),
    (
        'File "C:\\venv\\lib\\site-packages\\triton\\backends\\amd\\compiler.py", line 2, in <module>\n'
        "    from triton._C.libtriton import ir, passes, llvm, amd\n"
        "ImportError: DLL load failed while importing libtriton: A dynamic link library (DLL) initialization routine "
        "failed.",
        "triton-windows-dll-load",
        "compile-toolchain",
    ),
    ("RuntimeError: Cannot find ptxas", "triton-ptxas-missing", "compile-toolchain"),
    # cuSOLVER (torch's TORCH_CUSOLVER_CHECK)
    (
        "RuntimeError: cusolver error: CUSOLVER_STATUS_NOT_INITIALIZED, when calling `cusolverDnCreate(handle)`",
        "cusolver-not-initialized",
        "out-of-memory",
    ),
    (
        "RuntimeError: cusolver error: CUSOLVER_STATUS_ALLOC_FAILED, when calling "
        "`cusolverDnXsyevd_bufferSize(handle, params, jobz, uplo, n, CUDA_R_32F, A, lda, CUDA_R_32F, W, CUDA_R_32F, "
        "&worksize_device, &worksize_host)`",
        "cusolver-alloc-failed",
        "out-of-memory",
    ),
    (
        "torch._C._LinAlgError: cusolver error: CUSOLVER_STATUS_INVALID_VALUE, when calling "
        "`cusolverDnSgetrf_bufferSize(handle, m, n, dA, ldda, lwork)`. This error may appear if the input matrix "
        "contains NaN. If you keep seeing this error, you may use `torch.backends.cuda.preferred_linalg_library()` to "
        "try linear algebra operators with other supported backends.",
        "cusolver-invalid-value-nan",
        "user-code",
    ),
    (
        "RuntimeError: cusolver error: CUSOLVER_STATUS_EXECUTION_FAILED, when calling "
        "`cusolverDnXgeqrf(handle, params, m, n, CUDA_R_32F, A, lda, CUDA_R_32F, tau, CUDA_R_32F, bufferOnDevice, "
        "workspaceInBytesOnDevice, bufferOnHost, workspaceInBytesOnHost, info)`",
        "cusolver-internal-error",
        "compute-failure",
    ),
    (
        "RuntimeError: cusolver error: CUSOLVER_STATUS_INTERNAL_ERROR, when calling `cusolverDnCreate(handle)`",
        "cusolver-internal-error",
        "library-conflict",  # the handle itself could not be created: the message picks the library cause
    ),
    (
        "RuntimeError: cusolver error: CUSOLVER_STATUS_ARCH_MISMATCH, when calling `cusolverDnCreate(handle)`",
        "cusolver-arch-mismatch",
        "gpu-arch-unsupported",
    ),
    # cuFFT (torch's CUFFT_CHECK and SpectralOps)
    ("RuntimeError: cuFFT error: CUFFT_ALLOC_FAILED", "cufft-alloc-failed", "out-of-memory"),
    ("RuntimeError: cuFFT error: CUFFT_SETUP_FAILED", "cufft-setup-failed", "library-conflict"),
    ("RuntimeError: cuFFT error: CUFFT_EXEC_FAILED", "cufft-setup-failed", "library-conflict"),
    (
        "RuntimeError: cuFFT doesn't support signals of half type with compute capability less than SM_53, but the "
        "device containing input half tensor only has SM_37",
        "cufft-half-needs-sm53",
        "gpu-arch-unsupported",
    ),
    # cuSPARSE (torch's TORCH_CUDASPARSE_CHECK: "CUDA error: <cusparseGetErrorString> when calling `...`")
    (
        "RuntimeError: CUDA error: insufficient resources when calling `cusparseSpGEMM_workEstimation(handle, opA, "
        "opB, &alpha, descA, descB, &beta, descC, computeType, CUSPARSE_SPGEMM_DEFAULT, spgemmDesc, &bufferSize1, "
        "nullptr)`",
        "cusparse-call-failed",
        "out-of-memory",
    ),
    (
        "RuntimeError: CUDA error: operation not supported when calling `cusparseCreate(handle)`",
        "cusparse-call-failed",
        "library-conflict",
    ),
    # cuRAND (status names, as CuPy and CUDA extensions print them)
    (
        "cupy_backends.cuda.libs.curand.CURANDError: CURAND_STATUS_INITIALIZATION_FAILED",
        "curand-initialization-failed",
        "no-driver",
    ),
    (
        "RuntimeError: curandCreateGenerator failed: CURAND_STATUS_VERSION_MISMATCH",
        "curand-version-mismatch",
        "library-conflict",
    ),
    (
        "cupy_backends.cuda.libs.curand.CURANDError: CURAND_STATUS_ALLOCATION_FAILED",
        "curand-allocation-failed",
        "out-of-memory",
    ),
    ("curandGenerateUniform: CURAND_STATUS_LAUNCH_FAILURE", "curand-launch-failure", "compute-failure"),
    ("CURAND_STATUS_PREEXISTING_FAILURE", "curand-launch-failure", "compute-failure"),
    # OpenMP runtime and Windows loading
    (
        "OMP: Error #15: Initializing libiomp5md.dll, but found libiomp5md.dll already initialized.\n"
        "OMP: Hint This means that multiple copies of the OpenMP runtime have been linked into the program. That is "
        "dangerous, since it can degrade performance or cause incorrect results.",
        "openmp-duplicate-runtime",
        "library-conflict",
    ),
    (
        "OMP: Error #15: Initializing libiomp5.dylib, but found libomp.dylib already initialized.",
        "openmp-duplicate-runtime",
        "library-conflict",
    ),
    (
        "OSError: [WinError 126] The specified module could not be found. Error loading "
        '"C:\\Users\\me\\venv\\Lib\\site-packages\\torch\\lib\\fbgemm.dll" or one of its dependencies.',
        "windows-fbgemm-dll",
        "torch-broken",
    ),
    (
        "OSError: [WinError 1114] A dynamic link library (DLL) initialization routine failed. Error loading "
        '"C:\\Program Files\\Python311\\Lib\\site-packages\\torch\\lib\\c10.dll" or one of its dependencies.',
        "windows-c10-dll-init-failed",
        "torch-broken",
    ),
    (
        "OSError: [WinError 126] The specified module could not be found. Error loading "
        '"C:\\Users\\me\\AppData\\Roaming\\Python\\Python310\\site-packages\\torch\\lib\\shm.dll" or one of its '
        "dependencies.",
        "windows-shm-dll",
        "torch-broken",
    ),
    (
        "OSError: [WinError 193] %1 is not a valid Win32 application",
        "windows-not-valid-win32-app",
        "library-conflict",
    ),
    (
        "ERROR: Could not install packages due to an OSError: [Errno 2] No such file or directory: "
        "'C:\\Users\\me\\AppData\\Local\\Packages\\PythonSoftwareFoundation.Python.3.11\\LocalCache\\local-packages\\"
        "Python311\\site-packages\\torch\\include\\torch\\csrc\\api\\include\\torch\\nn\\modules\\container\\moduledict.h'\n"
        "HINT: This error might have occurred since this system does not have Windows Long Path support enabled. You "
        "can find information on how to enable this at https://pip.pypa.io/warnings/enable-long-paths",
        "pip-windows-long-paths",
        "torch-missing",
    ),
    # NumPy and Cython ABI checks
    (
        "ValueError: numpy.dtype size changed, may indicate binary incompatibility. Expected 96 from C header, got 88 "
        "from PyObject",
        "numpy-dtype-size-changed",
        "companion-mismatch",
    ),
    (
        "RuntimeError: module compiled against ABI version 0x1000009 but this version of numpy is 0x2000000",
        "numpy-abi-version-mismatch",
        "companion-mismatch",
    ),
    (
        "RuntimeError: module compiled against API version 0x10 but this version of numpy is 0xe . Check the section "
        "C-API incompatibility at the Troubleshooting ImportError section at "
        "https://numpy.org/devdocs/user/troubleshooting-importerror.html#c-api-incompatibility for indications on how "
        "to solve this problem .",
        "numpy-c-api-too-old",
        "companion-mismatch",
    ),
    (
        "AttributeError: module 'numpy' has no attribute 'float'.\n`np.float` was a deprecated alias for the builtin "
        "`float`. To avoid this error in existing code, use `float` by itself. Doing this will not modify any behavior "
        "and is safe. If you specifically wanted the numpy scalar type, use `np.float64` here.",
        "numpy-removed-alias",
        "companion-mismatch",
    ),
    (
        "AttributeError: `np.NaN` was removed in the NumPy 2.0 release. Use `np.nan` instead.",
        "numpy-2-removed-member",
        "companion-mismatch",
    ),
    # bitsandbytes: 0.41 cuda_setup texts, then the current cextension.py texts
    (
        "CUDA SETUP: Problem: The main issue seems to be that the main CUDA runtime library was not detected.\n"
        "CUDA SETUP: Solution 1: To solve the issue the libcudart.so location needs to be added to the LD_LIBRARY_PATH "
        "variable",
        "bitsandbytes-cuda-runtime-not-detected",
        "companion-mismatch",
    ),
    (
        "CUDA SETUP: Required library version not found: libbitsandbytes_cuda122.so. Maybe you need to compile it from "
        "source?\nCUDA SETUP: Defaulting to libbitsandbytes_cpu.so...",
        "bitsandbytes-binary-not-shipped",
        "companion-mismatch",
    ),
    (
        "================================================ERROR=====================================\n"
        "CUDA SETUP: CUDA detection failed! Possible reasons:\n"
        "1. You need to manually override the PyTorch CUDA version. Please see: "
        '"https://github.com/TimDettmers/bitsandbytes/blob/main/how_to_use_nonpytorch_cuda.md\n'
        "2. CUDA driver not installed",
        "bitsandbytes-binary-not-shipped",
        "companion-mismatch",
    ),
    (
        "\n🚨 CUDA VERSION MISMATCH 🚨\nRequested CUDA version:          12.9\n"
        "Detected PyTorch CUDA version:   12.9\nAvailable pre-compiled versions: \n  - 11.8\n  - 12.1\n\n"
        "This means:\nThe version you're trying to use is NOT distributed with this package\n\n"
        "Attempted to use bitsandbytes native library functionality but it's not available.",
        "bitsandbytes-binary-not-shipped",  # the analysis outranks the generic closing line
        "companion-mismatch",
    ),
    (
        "\n🚨 CUDA SETUP ERROR: Missing dependency: libcusparse.so.12 🚨\n\nCUDA 12.x runtime libraries were not "
        "found in the LD_LIBRARY_PATH.\n\nOriginal error: libcusparse.so.12: cannot open shared object file: No such "
        "file or directory",
        "bitsandbytes-missing-cuda-dependency",
        "library-conflict",
    ),
    (
        "RuntimeError: Attempted to use bitsandbytes native library functionality but it's not available.\n\n"
        "Native code method attempted to call: lib.cquantize_blockwise_fp16_nf4()",
        "bitsandbytes-native-unavailable",
        "companion-mismatch",
    ),
    # flash-attn
    (
        "ImportError: /usr/local/lib/python3.10/dist-packages/flash_attn_2_cuda.cpython-310-x86_64-linux-gnu.so: "
        "undefined symbol: _ZN3c104cuda9SetDeviceEi",
        "flash-attn-abi-mismatch",
        "companion-mismatch",
    ),
    (
        "UserWarning: flash_attn was requested, but nvcc was not found.  Are you sure your environment has nvcc "
        "available?  If you're installing within a container from https://hub.docker.com/r/pytorch/pytorch, only "
        "images whose names contain 'devel' will provide nvcc.",
        "flash-attn-nvcc-missing",
        "compile-toolchain",
    ),
    (
        "RuntimeError: FlashAttention is only supported on CUDA 11.7 and above.  Note: make sure nvcc has a supported "
        "version by running nvcc -V.",
        "flash-attn-cuda-too-old",
        "compile-toolchain",
    ),
    ("ModuleNotFoundError: No module named 'flash_attn_2_cuda'", "flash-attn-extension-missing", "companion-mismatch"),
    # ONNX Runtime
    (
        "[E:onnxruntime:Default, provider_bridge_ort.cc:1480 TryGetProviderInfo_CUDA] "
        "/onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:1193 onnxruntime::Provider& "
        "onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load library "
        "libonnxruntime_providers_cuda.so with error: libcufft.so.10: cannot open shared object file: No such file or "
        "directory",
        "onnxruntime-cuda-provider-load-failed",
        "library-conflict",
    ),
    (
        "[E:onnxruntime:Default, provider_bridge_ort.cc:1992 onnxruntime::TryGetProviderInfo_CUDA] "
        "D:\\a\\_work\\1\\s\\onnxruntime\\core\\session\\provider_bridge_ort.cc:1637 onnxruntime::ProviderLibrary::Get "
        '[ONNXRuntimeError] : 1 : FAIL : LoadLibrary failed with error 126 "" when trying to load '
        '"C:\\venv\\lib\\site-packages\\onnxruntime\\capi\\onnxruntime_providers_cuda.dll"',
        "onnxruntime-cuda-provider-load-failed",
        "library-conflict",
    ),
    (
        "[W:onnxruntime:Default, onnxruntime_pybind_state.cc:993 CreateExecutionProviderInstance] Failed to create "
        "CUDAExecutionProvider. Require cuDNN 9.* and CUDA 12.*. Please install all dependencies as mentioned in the "
        "GPU requirements page (https://onnxruntime.ai/docs/execution-providers/CUDA-ExecutionProvider.html"
        "#requirements), make sure they're in the PATH, and that your GPU is supported.",
        "onnxruntime-cuda-ep-requirements",
        "library-conflict",
    ),
    (
        "UserWarning: Specified provider 'CUDAExecutionProvider' is not in available provider names.Available "
        "providers: 'AzureExecutionProvider, CPUExecutionProvider'",
        "onnxruntime-cuda-provider-unavailable",
        "cpu-only-build",  # the CPU package has no CUDA provider: recategorised from sweep 9's m358
    ),
    # torchaudio / TorchCodec
    (
        "RuntimeError: Couldn't find appropriate backend to handle uri output.wav and format None.",
        "torchaudio-no-backend",
        "companion-mismatch",
    ),
    (
        "RuntimeError: Could not load libtorchcodec. Likely causes:\n"
        "          1. FFmpeg is not properly installed in your environment. We support\n"
        "             versions 4, 5, 6 and 7.\n"
        "          2. The PyTorch version (2.8.0+cu128) is not compatible with\n"
        "             this version of TorchCodec.",
        "torchcodec-load-failed",
        "companion-mismatch",
    ),
    (
        "ImportError: TorchCodec is required for load_with_torchcodec. Please install torchcodec to use this function.",
        "torchaudio-torchcodec-required",
        "companion-mismatch",
    ),
    # ROCm builds and MPS
    (
        'File "/opt/venv/lib/python3.12/site-packages/torch/cuda/__init__.py", line 372, in _lazy_init\n'
        "    torch._C._cuda_init()\nRuntimeError: No HIP GPUs are available",
        "rocm-no-hip-gpus",
        "cpu-only-build",
    ),
    (
        "RuntimeError: No HIP GPUs are available (AMD Radeon RX 6600 XT not listed by rocminfo)",
        "rocm-no-hip-gpus",
        "gpu-hidden",
    ),
    (
        "TypeError: Cannot convert a MPS Tensor to float64 dtype as the MPS framework doesn't support float64. Please "
        "use float32 instead.",
        "mps-float64-unsupported",
        "user-code",
    ),
    (
        "RuntimeError: Placeholder storage has not been allocated on MPS device!",
        "mps-placeholder-storage",
        "user-code",
    ),
]

NEW_ROWS = {row.id for row in parse_error_files([FAMILY_FILE]).patterns}


@pytest.mark.parametrize(("message", "row", "category"), CASES, ids=[f"{i:02d}-{c[1]}" for i, c in enumerate(CASES)])
def test_catalog_text_finds_its_row(message, row, category, knowledge):
    assert_top_match(message, row, category, knowledge)


def test_every_new_row_is_exercised_and_sourced():
    assert_rows_exercised_and_sourced(NEW_ROWS, CASES, RETRIEVED, minimum=35)


def test_specific_rows_rank_above_generic_ones(knowledge):
    # a missing CUDA library inside ONNX Runtime's provider load is ONNX Runtime's problem, not a broken torch
    text = (
        "FAIL : Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.11: cannot open "
        "shared object file: No such file or directory"
    )
    ids = [m.id for m in explain(text, None, knowledge)]
    assert ids[0] == "onnxruntime-cuda-provider-load-failed" and "cuda-library-missing" in ids
    # the concrete load failure outranks ORT's generic fallback warning printed after it
    text += (
        "\nFailed to create CUDAExecutionProvider. Require cuDNN 9.* and CUDA 12.*. Please install all dependencies "
        "as mentioned in the GPU requirements page"
    )
    assert explain(text, None, knowledge)[0].id == "onnxruntime-cuda-provider-load-failed"
    # torch's generic Windows DLL row ranks below the DLL-specific rows
    for dll, row in (("fbgemm.dll", "windows-fbgemm-dll"), ("shm.dll", "windows-shm-dll")):
        text = (
            "OSError: [WinError 126] The specified module could not be found. Error loading "
            f'"C:\\venv\\Lib\\site-packages\\torch\\lib\\{dll}" or one of its dependencies.'
        )
        ids = [m.id for m in explain(text, None, knowledge)]
        assert ids[0] == row and "windows-dll-load-failed" in ids, ids
    # the flash-attn row names the package's own fix; the generic extension row still matches after it
    text = "flash_attn_2_cuda.cpython-311-x86_64-linux-gnu.so: undefined symbol: _ZN3c104cuda9SetDeviceEi"
    ids = [m.id for m in explain(text, None, knowledge)]
    assert ids[0] == "flash-attn-abi-mismatch" and "extension-undefined-symbol" in ids
    # a cuSPARSE call's "operation not supported" is cuSPARSE's, not the generic CUDA runtime row
    ids = [
        m.id
        for m in explain("CUDA error: operation not supported when calling `cusparseCreate(handle)`", None, knowledge)
    ]
    assert ids[0] == "cusparse-call-failed" and "cuda-operation-not-supported" in ids
    # bitsandbytes' missing-dependency analysis outranks the bare missing-library row
    text = (
        "CUDA SETUP ERROR: Missing dependency: libcudart.so.12\nOriginal error: libcudart.so.12: cannot open shared "
        "object file: No such file or directory"
    )
    assert explain(text, None, knowledge)[0].id == "bitsandbytes-missing-cuda-dependency"


def test_the_wrapping_inductor_error_ranks_below_its_cause(knowledge):
    for text, row in (
        (
            "torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised:\nRuntimeError: Cannot find ptxas",
            "triton-ptxas-missing",
        ),
        (
            "torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised:\nOutOfResources: out of resource: "
            "shared memory, Required: 81920, Hardware limit: 65536. Reducing block sizes or `num_stages` may help.",
            "triton-out-of-resources-shared-memory",
        ),
    ):
        ids = [m.id for m in explain(text, None, knowledge)]
        assert ids[0] == row and ids.index("inductor-backend-failed") > 0, ids


def test_facts_pick_the_cause_where_the_message_cannot(knowledge):
    # OpenMP's duplicate-runtime message on macOS names the macOS cause
    match = explain(
        "OMP: Error #15: Initializing libiomp5.dylib, but found libomp.dylib already initialized. "
        "(/Users/me/miniconda3/lib/libiomp5.dylib)",
        None,
        knowledge,
    )[0]
    assert match.id == "openmp-duplicate-runtime" and "macOS" in match.cause
    # torch 2.4.0 named in the fbgemm message picks the known release cause
    match = explain(
        "torch 2.4.0: OSError: [WinError 126] The specified module could not be found. Error loading "
        '"C:\\venv\\Lib\\site-packages\\torch\\lib\\fbgemm.dll" or one of its dependencies.',
        None,
        knowledge,
    )[0]
    assert match.id == "windows-fbgemm-dll" and "2.4.1" in match.cause
