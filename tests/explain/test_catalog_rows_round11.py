"""Catalog rows, round 11: error rows derived from the producers' own texts, not from corpus items.

Every message here is built from the producer's exact text as it is printed, with realistic variable parts filled
in: DeepSpeed's op builder (CUDA mismatch, missing CUDA_HOME, the libaio warning), Intel Extension for PyTorch's
version check, torch.xpu and c10's device-guard check, Level Zero / Unified Runtime out of device memory,
accelerate's quantized-training and meta-device checks, transformers' quantization arguments, torch's meta-tensor
copy and CUDA library preload, APIs of newer torch releases, vLLM's KV-cache, startup-memory, profiling, tensor
parallel and platform checks, JAX's CUDA component check, TensorFlow's CUDA stub and TF-TRT warnings, ROCm's HSA
page fault, rocBLAS's Tensile libraries, MIOpen's kernel database, text-generation-inference's launcher, TensorRT's
engine device check and pip's resolver. None is a corpus item. The rows live in
knowledge/data/errors.d/catalog_round11.toml.
"""

from __future__ import annotations

import pytest

from testsupport import assert_rows_exercised_and_sourced, assert_top_match
from torchenv.knowledge.errors import ERRORS_FAMILIES, parse_error_files

RETRIEVED = "2026-12-03"
FAMILY_FILE = ERRORS_FAMILIES / "catalog_round11.toml"

DEEPSPEED_MISMATCH = (
    '  File "/home/user/.venv/lib/python3.10/site-packages/deepspeed/ops/op_builder/builder.py", line 101, in '
    "assert_no_cuda_mismatch\n"
    "    raise CUDAMismatchException(\n"
    "deepspeed.ops.op_builder.builder.CUDAMismatchException: >- DeepSpeed Op Builder: Installed CUDA version 11.8 "
    "does not match the version torch was compiled with 12.1, unable to compile cuda/cpp extensions without a "
    "matching cuda version."
)

VLLM_KV_V1 = (
    "(EngineCore_0 pid=2211) ERROR 12-03 10:41:07 [core.py:700] ValueError: To serve at least one request with the "
    "models's max seq len (131072), (16.00 GiB KV cache is needed, which is larger than the available KV cache "
    "memory (5.87 GiB). Based on the available memory, the estimated maximum model length is 48016. Try increasing "
    "`gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine."
)

JAX_OUTDATED = (
    "WARNING:2026-12-03 10:12:44,101:jax._src.xla_bridge:909: CUDA backend failed to initialize: Unable to use CUDA "
    "because of the following issues with CUDA components:\n"
    "Outdated cuDNN installation found.\n"
    "Version JAX was built against: 90800\n"
    "Minimum supported: 90300\n"
    "Installed version: 90100\n"
    "The local installation version must be no lower than 90300..(Set TF_CPP_MIN_LOG_LEVEL=0 and rerun for more "
    "info.)"
)

ROCBLAS_TENSILE = (
    "rocBLAS error: Cannot read /opt/conda/lib/python3.10/site-packages/torch/lib/rocblas/library/"
    "TensileLibrary.dat: No such file or directory for GPU arch : gfx1031\n"
    " List of available TensileLibrary Files : \n"
    '"/opt/conda/lib/python3.10/site-packages/torch/lib/rocblas/library/TensileLibrary_lazy_gfx1030.dat"\n'
    '"/opt/conda/lib/python3.10/site-packages/torch/lib/rocblas/library/TensileLibrary_lazy_gfx1100.dat"\n'
    "Aborted (core dumped)"
)

TGI_SHARD = (
    "2026-12-03T10:20:31.118542Z ERROR shard-manager: text_generation_launcher: Shard complete standard error "
    "output:\n"
    "2026-12-03T10:20:31.212911Z ERROR text_generation_launcher: Shard 0 failed to start\n"
    "2026-12-03T10:20:31.212930Z  INFO text_generation_launcher: Shutting down shards\n"
    "Error: ShardCannotStart"
)

PIP_CONFLICT = (
    "ERROR: Cannot install torch==2.1.2 and torchvision==0.17.0 because these package versions have conflicting "
    "dependencies.\n\n"
    "The conflict is caused by:\n"
    "    The user requested torch==2.1.2\n"
    "    torchvision 0.17.0 depends on torch==2.2.0\n\n"
    "To fix this you could try to:\n"
    "1. loosen the range of package versions you've specified\n"
    "2. remove package versions to allow pip to attempt to solve the dependency conflict\n\n"
    "ERROR: ResolutionImpossible: for help visit "
    "https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts"
)

CASES = [
    (DEEPSPEED_MISMATCH, "deepspeed-cuda-version-mismatch", "compile-toolchain"),
    (
        '  File "/usr/local/lib/python3.10/dist-packages/deepspeed/ops/op_builder/builder.py", line 51, in '
        "installed_cuda_version\n"
        '    raise MissingCUDAException("CUDA_HOME does not exist, unable to compile CUDA op(s)")\n'
        "deepspeed.ops.op_builder.builder.MissingCUDAException: CUDA_HOME does not exist, unable to compile CUDA "
        "op(s)",
        "deepspeed-cuda-home-missing",
        "compile-toolchain",
    ),
    (
        " [WARNING]  async_io requires the dev libaio .so object and headers but these were not found.\n"
        " [WARNING]  async_io: please install the libaio-dev package with apt\n"
        " [WARNING]  If libaio is already installed (perhaps from source), try setting the CFLAGS and LDFLAGS "
        "environment variables to where it can be found.",
        "deepspeed-async-io-libaio",
        "compile-toolchain",
    ),
    (
        "ERROR! Intel® Extension for PyTorch* needs to work with PyTorch 2.1.*, but PyTorch 2.3.1+cxx11.abi is "
        "found. Please switch to the matching version and run again.",
        "ipex-torch-version-mismatch",
        "companion-mismatch",
    ),
    (
        '  File "/home/user/.venv/lib/python3.11/site-packages/torch/xpu/__init__.py", line 120, in _lazy_init\n'
        '    raise AssertionError("Torch not compiled with XPU enabled")\n'
        "AssertionError: Torch not compiled with XPU enabled",
        "torch-xpu-not-compiled",
        "cpu-only-build",
    ),
    (
        "RuntimeError: PyTorch is not linked with support for mps devices\n"
        "Exception raised from getDeviceGuardImpl at /pytorch/c10/core/impl/DeviceGuardImplInterface.h:356 (most "
        "recent call first):",
        "torch-device-backend-not-linked",
        "no-gpu",
    ),
    (
        "Error in torch_tensor_cpp(data, dtype, device, requires_grad, pin_memory): PyTorch is not linked with "
        "support for cuda devices\n"
        "Exception raised from getDeviceGuardImpl at ../c10/core/impl/DeviceGuardImplInterface.h:356",
        "torch-device-backend-not-linked",
        "cpu-only-build",
    ),
    (
        '  File "/home/user/llm/generate.py", line 58, in main\n'
        "    out = model.generate(**inputs, max_new_tokens=256)\n"
        "RuntimeError: UR error: UR_RESULT_ERROR_OUT_OF_DEVICE_MEMORY",
        "xpu-out-of-device-memory",
        "out-of-memory",
    ),
    (
        "RuntimeError: Native API failed. Native API returns: -5 (PI_ERROR_OUT_OF_RESOURCES) -5 "
        "(PI_ERROR_OUT_OF_RESOURCES)",
        "xpu-out-of-device-memory",
        "out-of-memory",
    ),
    (
        '  File "/usr/local/lib/python3.10/dist-packages/accelerate/utils/modeling.py", line 299, in '
        "set_module_tensor_to_device\n"
        '    raise ValueError(f"{tensor_name} is on the meta device, we need a `value` to put in on {device}.")\n'
        "ValueError: lm_head.weight is on the meta device, we need a `value` to put in on 0.",
        "accelerate-meta-value-needed",
        "user-code",
    ),
    (
        "ValueError: You can't train a model that has been loaded in 8-bit or 4-bit precision on a different device "
        "than the one you're training on. Make sure you loaded the model on the correct device using for example "
        "`device_map={'':torch.cuda.current_device()}` or `device_map={'':torch.xpu.current_device()}`",
        "accelerate-quantized-train-wrong-device",
        "user-code",
    ),
    (
        "ValueError: You can't train a model that has been loaded in 8-bit or 4-bit precision on multiple devices in "
        "any distributed mode. In order to use 8-bit or 4-bit models that have been loaded across multiple GPUs the "
        "solution is to use Naive Pipeline Parallelism. Therefore you should not specify that you are under any "
        "distributed regime in your accelerate config.",
        "accelerate-quantized-train-distributed",
        "user-code",
    ),
    (
        "ValueError: You can't train a model that has been loaded with `device_map='auto'` in any distributed mode. "
        "Please rerun your script specifying `--num_processes=1` or by launching with `python {{myscript.py}}`.",
        "accelerate-quantized-train-distributed",
        "user-code",
    ),
    (
        "ValueError: You can't train a model that has been loaded in 8-bit or 4-bit precision with CPU or disk "
        "offload. If you want train the 8-bit or 4-bit model in CPU, please install bitsandbytes with multi-backend, "
        "see https://huggingface.co/docs/bitsandbytes/main/en/installation#multi-backend",
        "accelerate-quantized-train-offload",
        "out-of-memory",
    ),
    (
        "ValueError: You can't pass `load_in_4bit`or `load_in_8bit` as a kwarg when passing `quantization_config` "
        "argument at the same time.",
        "transformers-quantization-kwargs-conflict",
        "user-code",
    ),
    (
        "ValueError: Calling `cuda()` is not supported for `4-bit` or `8-bit` quantized models. Please use the model "
        "as it is, since the model has already been set to the correct devices and casted to the correct `dtype`.",
        "transformers-quantized-model-cuda",
        "user-code",
    ),
    (
        '  File "/usr/local/lib/python3.10/dist-packages/torch/nn/modules/module.py", line 1326, in convert\n'
        "    return t.to(\n"
        "NotImplementedError: Cannot copy out of meta tensor; no data! Please use torch.nn.Module.to_empty() instead "
        "of torch.nn.Module.to() when moving module from meta to a different device.",
        "meta-tensor-copy",
        "user-code",
    ),
    (
        "NotImplementedError: Cannot copy out of meta tensor; no data!",
        "meta-tensor-copy",
        "user-code",
    ),
    (
        '  File "/home/user/env/lib/python3.11/site-packages/torch/__init__.py", line 232, in _preload_cuda_deps\n'
        '    raise ValueError(f"{lib_name} not found in the system path {sys.path}")\n'
        "ValueError: libcublas.so.*[0-9] not found in the system path ['/home/user/project', "
        "'/usr/lib/python311.zip', '/usr/lib/python3.11', '/home/user/env/lib/python3.11/site-packages']",
        "torch-preload-cuda-lib-not-found",
        "torch-broken",
    ),
    (
        '  File "/app/train.py", line 41, in <module>\n'
        "    model = torch.compile(model)\n"
        "AttributeError: module 'torch' has no attribute 'compile'",
        "torch-feature-too-old",
        "companion-mismatch",
    ),
    (
        "AttributeError: module 'torch.nn.functional' has no attribute 'scaled_dot_product_attention'",
        "torch-feature-too-old",
        "companion-mismatch",
    ),
    (
        "ERROR 12-03 09:12:40 engine.py:366] ValueError: No available memory for the cache blocks. Try increasing "
        "`gpu_memory_utilization` when initializing the engine.",
        "vllm-no-kv-cache-memory",
        "out-of-memory",
    ),
    (
        "ERROR 12-03 09:30:02 engine.py:387] ValueError: The model's max seq len (32768) is larger than the maximum "
        "number of tokens that can be stored in KV cache (20672). Try increasing `gpu_memory_utilization` or "
        "decreasing `max_model_len` when initializing the engine.",
        "vllm-max-model-len-exceeds-kv-cache",
        "out-of-memory",
    ),
    (VLLM_KV_V1, "vllm-max-model-len-exceeds-kv-cache", "out-of-memory"),
    (
        "(EngineCore_0 pid=412) ValueError: Free memory on device (18.52/79.19 GiB) on startup is less than desired "
        "GPU memory utilization (0.9, 71.27 GiB). Decrease GPU memory utilization or reduce GPU memory used by other "
        "processes.",
        "vllm-startup-free-memory-low",
        "out-of-memory",
    ),
    (
        "AssertionError: Error in memory profiling. Initial free memory 40.12 GiB, current free memory 42.38 GiB. "
        "This happens when other processes sharing the same container release GPU memory while vLLM is profiling "
        "during initialization. To fix this, ensure consistent GPU memory allocation or isolate vLLM in its own "
        "container.",
        "vllm-memory-profiling-error",
        "other",
    ),
    (
        "ValueError: Total number of attention heads (40) must be divisible by tensor parallel size (3).",
        "vllm-tp-heads-not-divisible",
        "user-code",
    ),
    (
        '  File "/usr/local/lib/python3.12/dist-packages/vllm/config/device.py", line 58, in __post_init__\n'
        '    raise RuntimeError("Failed to infer device type")\n'
        "RuntimeError: Failed to infer device type",
        "vllm-device-type-unknown",
        "gpu-hidden",
    ),
    (JAX_OUTDATED, "jax-cuda-components-outdated", "library-conflict"),
    (
        '  File "/home/user/.venv/lib/python3.11/site-packages/jax/_src/interpreters/pxla.py", line 1297, in __call__\n'
        "    results = self.xla_executable.execute_sharded(input_bufs)\n"
        "jaxlib.xla_extension.XlaRuntimeError: RESOURCE_EXHAUSTED: Out of memory while trying to allocate 17179869184 "
        "bytes.",
        "xla-out-of-memory",
        "out-of-memory",
    ),
    (
        "2026-12-03 10:02:11.402311: I external/local_xla/xla/tsl/cuda/cudart_stub.cc:32] Could not find cuda "
        "drivers on your machine, GPU will not be used.",
        "tensorflow-no-cuda-drivers",
        "no-driver",
    ),
    (
        "2026-12-03 10:02:13.118004: W tensorflow/compiler/tf2tensorrt/utils/py_utils.cc:38] TF-TRT Warning: Could "
        "not find TensorRT",
        "tensorflow-tensorrt-not-found",
        "other",
    ),
    (
        "Memory access fault by GPU node-1 (Agent handle: 0x55d5d6e8a0a0) on address 0x7f1c2a000000. Reason: Page "
        "not present or supervisor privilege.\n"
        "Aborted (core dumped)",
        "rocm-memory-access-fault",
        "compute-failure",
    ),
    (ROCBLAS_TENSILE, "rocblas-tensile-missing-arch", "gpu-arch-unsupported"),
    (
        "MIOpen(HIP): Warning [SQLiteBase] Missing system database file: gfx1030_40.kdb Performance may degrade. "
        "Please follow instructions to install: https://github.com/ROCm/MIOpen#installing-miopen-kernels-package",
        "miopen-missing-kernel-db",
        "performance",
    ),
    (TGI_SHARD, "tgi-shard-failed-to-start", "other"),
    (
        "[12/03/2026-10:44:01] [TRT] [E] 6: The engine plan file is generated on an incompatible device, expecting "
        "compute 8.6 got compute 7.5, please rebuild.\n"
        "[12/03/2026-10:44:01] [TRT] [E] 2: [engine.cpp::deserializeEngine::951] Error Code 2: Internal Error "
        "(Assertion engine->deserialize(start, size, allocator, runtime) failed. )",
        "tensorrt-engine-incompatible-device",
        "gpu-arch-unsupported",
    ),
    (PIP_CONFLICT, "pip-resolution-impossible-torch", "companion-mismatch"),
]


@pytest.mark.parametrize(("message", "row", "category"), CASES, ids=[f"{r}-{i}" for i, (_, r, _) in enumerate(CASES)])
def test_catalog_message_matches_its_row(message, row, category, knowledge):
    assert_top_match(message, row, category, knowledge)


def test_warnings_yield_to_a_real_error(knowledge):
    from torchenv.checks.explain import explain

    message = (
        "2026-12-03 10:02:11.402311: I external/local_xla/xla/tsl/cuda/cudart_stub.cc:32] Could not find cuda "
        "drivers on your machine, GPU will not be used.\n"
        " [WARNING]  async_io requires the dev libaio .so object and headers but these were not found.\n"
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB."
    )
    matches = explain(message, None, knowledge)
    assert matches and matches[0].id == "cuda-out-of-memory", [(m.id, m.category) for m in matches]


def test_deepspeed_accepted_minor_mismatch_is_not_claimed(knowledge):
    from torchenv.checks.explain import explain

    message = (
        "Installed CUDA version 12.4 does not match the version torch was compiled with 12.1 but since the APIs are "
        "compatible, accepting this combination"
    )
    matches = explain(message, None, knowledge)
    assert not matches or matches[0].id != "deepspeed-cuda-version-mismatch", [(m.id, m.category) for m in matches]


def test_every_round11_row_is_exercised_and_sourced():
    new_rows = {row.id for row in parse_error_files([FAMILY_FILE]).patterns}
    assert_rows_exercised_and_sourced(new_rows, CASES, RETRIEVED, minimum=30)
