"""Catalog rows, round 12: error rows derived from the producers' own texts, not from corpus items.

Every message here is built from the producer's exact text as it is printed, with realistic variable parts and
surrounding traceback lines filled in: Triton's driver selection and MLIR pass manager, FlashAttention's dtype,
head-dimension and FA3 GPU checks, TransformerEngine's FP8 checks, vLLM's model registry, quantization capability,
custom-op import and prompt-length checks, JAX's CUDA plugin, XLA's libdevice and ptxas lookup, torchvision's video
backend, torchaudio's FFmpeg extension, the CUDA-version check of torch companions (torchaudio, PyG), NCCL's
shared-memory segments, Gloo's full-mesh connect, Ray's autoscaler, CUDA's named-symbol and invalid-argument
errors, MAGMA, ROCm's HSA runtime and libdrm, Lightning's notebook check, Apptainer's --nv, the NGC banner, numba,
CTranslate2, DGL, CPU-only extension builds, DeepSpeed's JIT loader, mamba-ssm, NVRTC headers, TensorRT's builder
and ONNX Runtime's TensorRT provider. None is a corpus item. The rows live in
knowledge/data/errors.d/catalog_round12.toml.
"""

from __future__ import annotations

import pytest

from testsupport import assert_rows_exercised_and_sourced, assert_top_match
from torchenv.knowledge.errors import ERRORS_FAMILIES, parse_error_files

RETRIEVED = "2026-12-03"
FAMILY_FILE = ERRORS_FAMILIES / "catalog_round12.toml"

TRITON_NO_DRIVER = (
    '  File "/home/user/.venv/lib/python3.11/site-packages/triton/runtime/driver.py", line 8, in _create_driver\n'
    '    raise RuntimeError(f"{len(actives)} active drivers ({actives}). There should only be one.")\n'
    "RuntimeError: 0 active drivers ([]). There should only be one."
)

TRITON_PASS_MANAGER = (
    '  File "/usr/local/lib/python3.12/dist-packages/triton/backends/nvidia/compiler.py", line 321, in make_ttgir\n'
    "    pm.run(mod)\n"
    "RuntimeError: PassManager::run failed"
)

FA_DTYPE = (
    '  File "/home/user/.venv/lib/python3.10/site-packages/flash_attn/flash_attn_interface.py", line 91, in '
    "_flash_attn_forward\n"
    "    out, softmax_lse, S_dmask, rng_state = flash_attn_gpu.fwd(\n"
    "RuntimeError: FlashAttention only support fp16 and bf16 data type"
)

FA_HEAD_DIM = (
    '  File "/home/user/.venv/lib/python3.10/site-packages/flash_attn/flash_attn_interface.py", line 96, in '
    "_flash_attn_varlen_forward\n"
    "    out, softmax_lse, S_dmask, rng_state = flash_attn_gpu.varlen_fwd(\n"
    "RuntimeError: FlashAttention forward only supports head dimension at most 256"
)

TE_FP8 = (
    '  File "/usr/local/lib/python3.10/dist-packages/transformer_engine/pytorch/fp8.py", line 644, in fp8_autocast\n'
    "    assert fp8_available, reason_for_no_fp8\n"
    "AssertionError: Device compute capability 8.9 or higher required for FP8 execution."
)

VLLM_ARCH = (
    "(APIServer pid=352089) ERROR 12-03 11:02:17 [registry.py:706] Value error, Model architectures "
    "['Qwen3NextForCausalLM'] are not supported for now. Supported architectures: dict_keys(['AquilaModel', "
    "'AquilaForCausalLM', 'ArcticForCausalLM', 'BaiChuanForCausalLM', 'BloomForCausalLM'])"
)

VLLM_PROMPT = (
    '  File "/usr/local/lib/python3.12/dist-packages/vllm/v1/engine/processor.py", line 440, in '
    "_validate_model_input\n"
    "    raise ValueError(\n"
    "ValueError: The decoder prompt (length 12324) is longer than the maximum model length of 8192. Make sure that "
    "`max_model_len` is no smaller than the number of text tokens plus multimodal tokens."
)

JAX_PLUGIN = (
    "ERROR:2026-12-03 10:31:02,118:jax._src.xla_bridge:477: Jax plugin configuration error: Exception when calling "
    "jax_plugins.xla_cuda12.initialize()\n"
    "Traceback (most recent call last):\n"
    '  File "/home/user/.venv/lib/python3.12/site-packages/jax_plugins/xla_cuda12/__init__.py", line 205, in '
    "_version_check\n"
    "    raise RuntimeError(err_msg) from e\n"
    "RuntimeError: Unable to load cuSPARSE. Is it installed?\n"
    "WARNING:2026-12-03 10:31:02,120:jax._src.xla_bridge:852: An NVIDIA GPU may be present on this machine, but a "
    "CUDA-enabled jaxlib is not installed. Falling back to cpu."
)

XLA_LIBDEVICE = (
    "2026-12-03 10:19:54.078251: W external/local_xla/xla/service/gpu/llvm_gpu_backend/nvptx_libdevice_path.cc:41] "
    "Can't find libdevice directory ${CUDA_DIR}/nvvm/libdevice. This may result in compilation or runtime failures, "
    "if the program we try to run uses routines from libdevice.\n"
    "Searched for CUDA in the following directories:\n"
    "  ./cuda_sdk_lib\n"
    "  /usr/local/cuda-12.3\n"
    "  /usr/local/cuda\n"
    "  .\n"
    "You can choose the search directory by setting xla_gpu_cuda_data_dir in HloModule's DebugOptions."
)

NCCL_SHM = (
    "3d3e22c3066f:168:168 [0] misc/shmutils.cc:72 NCCL WARN Error: failed to extend /dev/shm/nccl-UbzKZ9 to "
    "9637892 bytes\n"
    "3d3e22c3066f:168:168 [0] misc/shmutils.cc:113 NCCL WARN Error while creating shared memory segment "
    "/dev/shm/nccl-UbzKZ9 (size 9637888)\n"
    "3d3e22c3066f:168:168 [0] NCCL INFO transport/shm.cc:114 -> 2\n"
    "torch.distributed.DistBackendError: NCCL error in: /pytorch/torch/csrc/distributed/c10d/NCCLUtils.cpp:77, "
    "unhandled system error (run with NCCL_DEBUG=INFO for details), NCCL version 2.21.5\n"
    "ncclSystemError: System call (e.g. socket, malloc) or external library call failed or device error."
)

HSA_OOM = (
    ":0:rocdevice.cpp            :3020: 1342109871 us: [pid:2231  tid:0x7f5e2bfff640] Callback: Queue 0x7f5c40200000 "
    "Aborting with error : HSA_STATUS_ERROR_OUT_OF_RESOURCES: The runtime failed to allocate the necessary "
    "resources. This error may also occur when the core runtime library needs to spawn threads or create internal "
    "OS-specific events. Code: 0x1008 Available Free mem : 62 MB\n"
    "Aborted (core dumped)"
)

LIGHTNING_NOTEBOOK = (
    "MisconfigurationException: `Trainer(strategy='ddp')` is not compatible with an interactive environment. Run "
    "your code as a script, or choose a notebook-compatible strategy: `Trainer(strategy='ddp_notebook')`. In case you "
    "are spawning processes yourself, make sure to include the Trainer creation inside the worker function."
)

NUMBA_DRIVER = (
    '  File "/opt/conda/lib/python3.11/site-packages/numba/cuda/cudadrv/driver.py", line 302, in __getattr__\n'
    '    raise CudaSupportError("Error at driver init: \\n%s:" % self.initialization_error)\n'
    "numba.cuda.cudadrv.error.CudaSupportError: Error at driver init: \n"
    "\n"
    "CUDA driver library cannot be found.\n"
    "If you are sure that a CUDA driver is installed,\n"
    "try setting environment variable NUMBA_CUDA_DRIVER\n"
    "with the file path of the CUDA driver shared library.\n"
)

CT2_FP16 = (
    '  File "/home/user/.venv/lib/python3.11/site-packages/faster_whisper/transcribe.py", line 634, in __init__\n'
    "    self.model = ctranslate2.models.Whisper(\n"
    "ValueError: Requested float16 compute type, but the target device or backend do not support efficient float16 "
    "computation."
)

DGL_CPU = (
    '  File "/home/user/.venv/lib/python3.10/site-packages/dgl/_ffi/_ctypes/function.py", line 212, in __call__\n'
    "    check_call(\n"
    "dgl._ffi.base.DGLError: [10:22:01] /opt/dgl/src/runtime/c_runtime_api.cc:82: Check failed: allow_missing: Device "
    "API cuda is not enabled. Please install the cuda version of dgl.\n"
    "Stack trace:\n"
    "  [bt] (0) /home/user/.venv/lib/python3.10/site-packages/dgl/libdgl.so(+0x8b3b15) [0x7f2f1e4b3b15]"
)

MAMBA = (
    '  File "/home/user/.venv/lib/python3.10/site-packages/mamba_ssm/ops/selective_scan_interface.py", line 20, in '
    "<module>\n"
    "    import selective_scan_cuda\n"
    "ModuleNotFoundError: No module named 'selective_scan_cuda'"
)

NGC_BANNER = (
    "=============\n"
    "== PyTorch ==\n"
    "=============\n"
    "\n"
    "NVIDIA Release 24.05 (build 92818592)\n"
    "PyTorch Version 2.4.0a0+07cecf4\n"
    "\n"
    "WARNING: The NVIDIA Driver was not detected.  GPU functionality will not be available.\n"
    "   Use the NVIDIA Container Toolkit to start this container with GPU support; see\n"
    "   https://docs.nvidia.com/datacenter/cloud-native/ ."
)

CUPY_HEADER = (
    "cupy.cuda.compiler.CompileException: /tmp/tmpk1f0x2/3b2c4f.cubin.cu(1): catastrophic error: cannot open source "
    'file "cuda_fp16.h"\n'
    "  #include <cuda_fp16.h>\n"
    "                        ^\n"
    "\n"
    "1 catastrophic error detected in the compilation of "
    '"/tmp/tmpk1f0x2/3b2c4f.cubin.cu".\n'
    "Compilation terminated."
)

CASES = [
    (TRITON_NO_DRIVER, "triton-no-active-driver", "gpu-hidden"),
    (TRITON_PASS_MANAGER, "triton-pass-manager-failed", "compile-toolchain"),
    (FA_DTYPE, "flash-attn-dtype-unsupported", "user-code"),
    (
        "RuntimeError: FlashAttention-3 bwd only support fp16 and bf16 data type",
        "flash-attn-dtype-unsupported",
        "user-code",
    ),
    (FA_HEAD_DIM, "flash-attn-head-dim-unsupported", "user-code"),
    (
        "RuntimeError: query, key, value, and out_ must have a head_size that is a multiple of 8",
        "flash-attn-head-dim-unsupported",
        "user-code",
    ),
    (
        '  File "/home/user/.venv/lib/python3.11/site-packages/flash_attn_interface.py", line 62, in '
        "_flash_attn_forward\n"
        "    out, softmax_lse, *rest = flash_attn_3_cuda.fwd(\n"
        "RuntimeError: FlashAttention-3 only supports Hopper GPUs or newer.",
        "flash-attn-3-needs-hopper",
        "gpu-arch-unsupported",
    ),
    (TE_FP8, "te-fp8-gpu-unsupported", "gpu-arch-unsupported"),
    (
        "RuntimeError: Device compute capability 10.0 or higher required for MXFP8 execution.",
        "te-fp8-gpu-unsupported",
        "gpu-arch-unsupported",
    ),
    (
        "AssertionError: CublasLt version 12.1.3.x or higher required for FP8 execution on Ada.",
        "te-fp8-ada-cuda-too-old",
        "companion-mismatch",
    ),
    (
        "AssertionError: Cuda version 12.1 or higher required for FP8 execution on Ada.",
        "te-fp8-ada-cuda-too-old",
        "companion-mismatch",
    ),
    (VLLM_ARCH, "vllm-model-architecture-unsupported", "companion-mismatch"),
    (
        '  File "/usr/local/lib/python3.10/dist-packages/vllm/config.py", line 3720, in _get_quantization_config\n'
        "    raise ValueError(\n"
        "ValueError: The quantization method awq is not supported for the current GPU. Minimum capability: 75. "
        "Current capability: 70.",
        "vllm-quantization-gpu-too-old",
        "gpu-arch-unsupported",
    ),
    (
        "WARNING 12-03 10:15:30 [_custom_ops.py:20] Failed to import from vllm._C with "
        "ModuleNotFoundError(\"No module named 'vllm._C'\")",
        "vllm-custom-ops-import-failed",
        "companion-mismatch",
    ),
    (VLLM_PROMPT, "vllm-prompt-longer-than-max-model-len", "user-code"),
    (JAX_PLUGIN, "jax-cuda-plugin-library-unloadable", "library-conflict"),
    (
        "/home/user/.venv/lib/python3.12/site-packages/jaxlib/plugin_support.py:71: RuntimeWarning: JAX plugin "
        "jax_cuda12_plugin version 0.7.2 is installed, but it is not compatible with the installed jaxlib version "
        "0.7.1, so it will not be used.\n"
        "  warnings.warn(",
        "jax-plugin-jaxlib-incompatible",
        "companion-mismatch",
    ),
    (XLA_LIBDEVICE, "xla-libdevice-not-found", "compile-toolchain"),
    (
        "tensorflow.python.framework.errors_impl.InternalError: libdevice not found at ./libdevice.10.bc "
        "[Op:__inference_train_function_1215]",
        "xla-libdevice-not-found",
        "compile-toolchain",
    ),
    (
        "2026-12-03 18:50:37.138811: W tensorflow/compiler/xla/stream_executor/gpu/asm_compiler.cc:109] Couldn't "
        "get ptxas version : FAILED_PRECONDITION: Couldn't get ptxas/nvlink version string: INTERNAL: Couldn't invoke "
        "ptxas --version",
        "xla-ptxas-not-found",
        "compile-toolchain",
    ),
    (
        '  File "/home/user/.venv/lib/python3.10/site-packages/torchvision/__init__.py", line 78, in '
        "set_video_backend\n"
        "    raise RuntimeError(message)\n"
        "RuntimeError: video_reader video backend is not available. Please compile torchvision from source and try "
        "again",
        "torchvision-video-reader-unavailable",
        "other",
    ),
    (
        '  File "/home/user/.venv/lib/python3.11/site-packages/torio/_extension/utils.py", line 116, in '
        "_find_ffmpeg_extension\n"
        "    raise ImportError(\n"
        "ImportError: Failed to intialize FFmpeg extension. Tried versions: ['6', '5', '4', '']. Enable DEBUG logging "
        "to see more details about the error.",
        "torchaudio-ffmpeg-extension-failed",
        "companion-mismatch",
    ),
    (
        '  File "/home/user/.venv/lib/python3.10/site-packages/torch_sparse/__init__.py", line 39, in <module>\n'
        "    raise RuntimeError(\n"
        "RuntimeError: Detected that PyTorch and torch_sparse were compiled with different CUDA versions. PyTorch has "
        "CUDA version 11.8 and torch_sparse has CUDA version 11.7. Please reinstall the torch_sparse that matches your "
        "PyTorch install.",
        "companion-compiled-cuda-mismatch",
        "companion-mismatch",
    ),
    (
        "RuntimeError: Detected that PyTorch and TorchAudio were compiled with different CUDA versions. PyTorch has "
        "CUDA version 12.8 whereas TorchAudio has CUDA version 12.9. Please install the TorchAudio version that "
        "matches your PyTorch version.",
        "companion-compiled-cuda-mismatch",
        "companion-mismatch",
    ),
    (NCCL_SHM, "nccl-shm-segment-failed", "distributed"),
    (
        "[rank8]:[E ProcessGroupGloo.cpp:144] Gloo connectFullMesh failed with "
        "[../third_party/gloo/gloo/transport/tcp/pair.cc:144] no error",
        "gloo-connect-full-mesh-failed",
        "distributed",
    ),
    (
        "(autoscaler +2m31s) Error: No available node types can fulfill resource request {'GPU': 8.0, 'CPU': 8.0}. "
        "Add suitable node types to this cluster to resolve this issue.",
        "ray-resource-request-infeasible",
        "distributed",
    ),
    (
        '  File "/home/user/proj/ext/ops.py", line 44, in forward\n'
        "    return _C.fused_gather(x, idx)\n"
        "RuntimeError: CUDA error: named symbol not found\n"
        "CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be "
        "incorrect.\n"
        "For debugging consider passing CUDA_LAUNCH_BLOCKING=1",
        "cuda-named-symbol-not-found",
        "companion-mismatch",
    ),
    (
        '  File "/home/user/proj/train.py", line 88, in <module>\n'
        "    batch = batch.to(device, non_blocking=True)\n"
        "RuntimeError: CUDA error: invalid argument\n"
        "CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be "
        "incorrect.\n"
        "For debugging consider passing CUDA_LAUNCH_BLOCKING=1\n"
        "Compile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.",
        "cuda-invalid-argument",
        "compute-failure",
    ),
    (
        '  File "/usr/local/lib/python3.10/dist-packages/transformers/modeling_utils.py", line 2187, in '
        "_init_added_embeddings_weights_with_mean\n"
        "    is_covariance_psd = constraints.positive_definite.check(epsilon * covariance).all()\n"
        "RuntimeError: Calling torch.linalg.cholesky on a CUDA tensor requires compiling PyTorch with MAGMA. Please "
        "use PyTorch built with MAGMA support.",
        "torch-magma-missing",
        "other",
    ),
    (
        "ROCk module is loaded\n"
        "hsa api call failure at: /longer_pathname_so_that_rpms_can_support_packaging_the_debug_info_for_all_os_"
        "profiles/src/rocminfo/rocminfo.cc:1304\n"
        "Call returned HSA_STATUS_ERROR_OUT_OF_RESOURCES: The runtime failed to allocate the necessary resources. This "
        "error may also occur when the core runtime library needs to spawn threads or create internal OS-specific "
        "events.",
        "rocm-hsa-out-of-resources",
        "gpu-hidden",
    ),
    (HSA_OOM, "rocm-hsa-out-of-resources", "out-of-memory"),
    (
        "/opt/amdgpu/share/libdrm/amdgpu.ids: No such file or directory",
        "rocm-amdgpu-ids-missing",
        "other",
    ),
    (LIGHTNING_NOTEBOOK, "lightning-strategy-not-interactive", "user-code"),
    (
        'INFO:    Could not find any nv files on this host!\nFATAL:   "python": executable file not found in $PATH',
        "apptainer-no-nv-files",
        "no-driver",
    ),
    (NGC_BANNER, "ngc-container-driver-not-detected", "gpu-hidden"),
    (
        '  File "/usr/local/lib/python3.11/site-packages/numba/cuda/cudadrv/nvvm.py", line 144, in __new__\n'
        "    raise NvvmSupportError(errmsg % e)\n"
        "numba.cuda.cudadrv.error.NvvmSupportError: libNVVM cannot be found. Do `conda install cudatoolkit`:\n"
        "libnvvm.so: cannot open shared object file: No such file or directory",
        "numba-libnvvm-missing",
        "compile-toolchain",
    ),
    (NUMBA_DRIVER, "numba-cuda-driver-not-found", "no-driver"),
    (
        "/usr/local/lib/python3.10/dist-packages/numba/cuda/dispatcher.py:536: NumbaPerformanceWarning: Grid size 2 "
        "will likely result in GPU under-utilization due to low occupancy.\n"
        "  warn(NumbaPerformanceWarning(msg))",
        "numba-low-occupancy-warning",
        "performance",
    ),
    (CT2_FP16, "ctranslate2-compute-type-unsupported", "user-code"),
    (
        '  File "whisperx\\asr.py", line 104, in encode\n'
        "    return self.model.encode(features, to_cpu=to_cpu)\n"
        "RuntimeError: Library cublas64_12.dll is not found or cannot be loaded",
        "ctranslate2-cuda-library-missing",
        "companion-mismatch",
    ),
    (
        "RuntimeError: Library libcublas.so.12 is not found or cannot be loaded",
        "ctranslate2-cuda-library-missing",
        "companion-mismatch",
    ),
    (DGL_CPU, "dgl-cuda-not-enabled", "cpu-only-build"),
    (
        '  File "/home/user/detectron2/detectron2/layers/nms.py", line 106, in batched_nms_rotated\n'
        "    keep = nms_rotated(boxes_for_nms, scores, iou_threshold)\n"
        "RuntimeError: Not compiled with GPU support",
        "extension-not-compiled-with-gpu",
        "compile-toolchain",
    ),
    (
        '  File "/usr/local/lib/python3.10/dist-packages/deepspeed/ops/op_builder/builder.py", line 491, in jit_load\n'
        "    raise RuntimeError(\n"
        "RuntimeError: Unable to JIT load the async_io op due to it not being compatible due to hardware/software "
        "issue. None",
        "deepspeed-op-incompatible",
        "compile-toolchain",
    ),
    (
        "RuntimeError: Unable to JIT load the fused_adam op due to ninja not being installed.",
        "deepspeed-op-ninja-missing",
        "compile-toolchain",
    ),
    (MAMBA, "mamba-cuda-extension-missing", "companion-mismatch"),
    (
        "ModuleNotFoundError: No module named 'causal_conv1d_cuda'",
        "mamba-cuda-extension-missing",
        "companion-mismatch",
    ),
    (CUPY_HEADER, "nvrtc-header-not-found", "compile-toolchain"),
    (
        "[12/03/2026-14:04:47] [TRT] [I] Some tactics do not have sufficient workspace memory to run. Increasing "
        "workspace size will enable more tactics, please check verbose output for requested sizes.",
        "tensorrt-insufficient-workspace",
        "performance",
    ),
    (
        "2026-12-03 01:24:35.075534148 [W:onnxruntime:Default, onnxruntime_pybind_state.cc:965 "
        "CreateExecutionProviderInstance] Failed to create TensorrtExecutionProvider. Please reference "
        "https://onnxruntime.ai/docs/execution-providers/TensorRT-ExecutionProvider.html#requirements to ensure all "
        "dependencies are met.",
        "onnxruntime-tensorrt-provider-failed",
        "companion-mismatch",
    ),
]


@pytest.mark.parametrize(("message", "row", "category"), CASES, ids=[f"{r}-{i}" for i, (_, r, _) in enumerate(CASES)])
def test_catalog_message_matches_its_row(message, row, category, knowledge):
    assert_top_match(message, row, category, knowledge)


# Messages near the new rows that must still go to the rows they went to before round 12.
OLD_ROWS = [
    ("RuntimeError: FlashAttention only supports Ampere GPUs or newer.", "flash-attn-needs-ampere"),
    (
        "RuntimeError: Detected that PyTorch and torchvision were compiled with different CUDA versions. PyTorch has "
        "CUDA Version=11.7 and torchvision has CUDA Version=11.8. Please reinstall the torchvision that matches your "
        "PyTorch install.",
        "torchvision-cuda-mismatch",
    ),
    ("RuntimeError: Ninja is required to load C++ extensions", "ninja-missing"),
    (
        "WARNING 12-03 09:11:27 _custom_ops.py:18] Failed to import from vllm._C with ImportError('libcudart.so.12: "
        "cannot open shared object file: No such file or directory')",
        "cudart-missing",
    ),
    (
        "numba.cuda.cudadrv.error.CudaSupportError: Error at driver init: Call to cuInit results in "
        "CUDA_ERROR_NO_DEVICE (100)",
        "no-cuda-capable-device",
    ),
    (
        "RuntimeError: [../third_party/gloo/gloo/transport/tcp/pair.cc:598] Connection closed by peer "
        "[10.0.0.12]:24117",
        "gloo-peer-connection-lost",
    ),
]


@pytest.mark.parametrize(("message", "row"), OLD_ROWS, ids=[r for _, r in OLD_ROWS])
def test_neighbouring_messages_keep_their_rows(message, row, knowledge):
    from torchenv.checks.explain import explain

    matches = explain(message, None, knowledge)
    assert matches and matches[0].id == row, [(m.id, m.category) for m in matches]


def test_new_warnings_yield_to_a_real_error(knowledge):
    from torchenv.checks.explain import explain

    message = (
        "/opt/amdgpu/share/libdrm/amdgpu.ids: No such file or directory\n"
        "[TRT] [I] Some tactics do not have sufficient workspace memory to run. Increasing workspace size will enable "
        "more tactics, please check verbose output for requested sizes.\n"
        "NumbaPerformanceWarning: Grid size 1 will likely result in GPU under-utilization due to low occupancy.\n"
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB."
    )
    matches = explain(message, None, knowledge)
    assert matches and matches[0].id == "cuda-out-of-memory", [(m.id, m.category) for m in matches]


def test_nccl_shm_failure_comes_before_the_generic_nccl_rows(knowledge):
    from torchenv.checks.explain import explain

    ids = [m.id for m in explain(NCCL_SHM, None, knowledge)]
    assert ids[0] == "nccl-shm-segment-failed", ids
    assert "nccl-system-error" in ids[1:], ids


def test_jax_plugin_failure_comes_before_the_cpu_fallback(knowledge):
    from torchenv.checks.explain import explain

    ids = [m.id for m in explain(JAX_PLUGIN, None, knowledge)]
    assert ids[:2] == ["jax-cuda-plugin-library-unloadable", "jax-cuda-jaxlib-missing"], ids


def test_every_round12_row_is_exercised_and_sourced():
    new_rows = {row.id for row in parse_error_files([FAMILY_FILE]).patterns}
    assert_rows_exercised_and_sourced(new_rows, CASES, RETRIEVED, minimum=40)
