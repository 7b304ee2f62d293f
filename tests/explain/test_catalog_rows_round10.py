"""Catalog rows, round 10 (issue 12): error rows derived from the producers' own texts, not from corpus items.

Every message here is built from the producer's exact text as it is printed, with realistic variable parts filled
in: Dynamo's recompile-limit warning and graph-break errors, the fake-tensor and unbacked-symbol errors, Inductor's
CUDA-graph and autotuning warnings, Triton's driver error, CUDA graph capture failures (the CUDA runtime's strings
and torch's own checks), DDP's reducer, c10d, torchrun's rendezvous, FSDP's FlatParameter checks, DTensor, the
Half-on-CPU dispatch error, GradScaler, SDPA's kernel selection, determinism, torch.load/pickle/load_state_dict and
safetensors, the caching allocator's NVML and driver paths, and torch.utils.cpp_extension's compiler checks. None is a
corpus item. The rows live in knowledge/data/errors.d/catalog_round10.toml.
"""

from __future__ import annotations

import pytest

from testsupport import assert_rows_exercised_and_sourced, assert_top_match
from torchenv.knowledge.errors import ERRORS_FAMILIES, parse_error_files

RETRIEVED = "2026-12-03"
FAMILY_FILE = ERRORS_FAMILIES / "catalog_round10.toml"

RECOMPILE_LIMIT = (
    "W1203 10:12:31.402000 8121 torch/_dynamo/convert_frame.py:1016] [0/8] torch._dynamo hit config.recompile_limit "
    "(8)\n"
    "W1203 10:12:31.402000 8121 torch/_dynamo/convert_frame.py:1016] [0/8]    function: 'forward' "
    "(/home/user/project/model.py:211)\n"
    "W1203 10:12:31.402000 8121 torch/_dynamo/convert_frame.py:1016] [0/8]    last reason: 0/7: "
    "L['self']._modules['attn'].layer_idx == 7\n"
    "W1203 10:12:31.402000 8121 torch/_dynamo/convert_frame.py:1016] [0/8] To log all recompilation reasons, use "
    'TORCH_LOGS="recompiles".\n'
    "W1203 10:12:31.402000 8121 torch/_dynamo/convert_frame.py:1016] [0/8] To diagnose recompilation issues, see "
    "https://pytorch.org/docs/main/torch.compiler_troubleshooting.html"
)

GRAPH_BREAK = (
    "torch._dynamo.exc.Unsupported: Data-dependent branching\n"
    "  Explanation: Detected data-dependent branching (e.g. `if my_tensor.sum() > 0:`). Dynamo does not support "
    "tracing dynamic control flow.\n"
    "  Hint: This graph break is fundamental - it is unlikely that Dynamo will ever be able to trace through your "
    "code. Consider finding a workaround.\n"
    "  Hint: Use `torch.cond` to express dynamic control flow.\n\n"
    "  Developer debug context: attempted to jump with TensorVariable()"
)

ITEM_BREAK = (
    "W1203 11:02:11.550000 4410 torch/_dynamo/variables/tensor.py:1097] [2/0] Graph break from `Tensor.item()`, "
    "consider setting:\n"
    "W1203 11:02:11.550000 4410 torch/_dynamo/variables/tensor.py:1097] [2/0]     "
    "torch._dynamo.config.capture_scalar_outputs = True\n"
    "W1203 11:02:11.550000 4410 torch/_dynamo/variables/tensor.py:1097] [2/0] or:\n"
    "W1203 11:02:11.550000 4410 torch/_dynamo/variables/tensor.py:1097] [2/0]     env "
    "TORCHDYNAMO_CAPTURE_SCALAR_OUTPUTS=1\n"
    "W1203 11:02:11.550000 4410 torch/_dynamo/variables/tensor.py:1097] [2/0] to include these operations in the "
    "captured graph."
)

DDP_UNUSED = (
    "RuntimeError: Expected to have finished reduction in the prior iteration before starting a new one. This error "
    "indicates that your module has parameters that were not used in producing loss. You can enable unused "
    "parameter detection by passing the keyword argument `find_unused_parameters=True` to "
    "`torch.nn.parallel.DistributedDataParallel`, and by \n"
    "making sure all `forward` function outputs participate in calculating loss. \n"
    "If you already have done the above, then the distributed data parallel module wasn't able to locate the output "
    "tensors in the return value of your module's `forward` function. Please include the loss function and the "
    "structure of the return value of `forward` of your module when reporting this issue (e.g. list, dict, "
    "iterable).\n"
    "Parameter indices which did not receive grad for rank 1: 158 159\n"
    " In addition, you can set the environment variable TORCH_DISTRIBUTED_DEBUG to either INFO or DETAIL to print "
    "out information about which particular parameters did not receive gradient on this rank as part of this error"
)

DDP_READY_TWICE = (
    "RuntimeError: Expected to mark a variable ready only once. This error is caused by one of the following "
    "reasons: 1) Use of a module parameter outside the `forward` function. Please make sure model parameters are not "
    "shared across multiple concurrent forward-backward passes. or try to use _set_static_graph() as a workaround if "
    "this module graph does not change during training loop.2) Reused parameters in multiple reentrant backward "
    "passes. For example, if you use multiple `checkpoint` functions to wrap the same part of your model, it would "
    "result in the same set of parameters been used by different reentrant backward passes multiple times, and "
    "hence marking a variable ready multiple times. DDP does not support such use cases in default."
)

COLLECTIVE_MISMATCH = (
    "RuntimeError: Detected mismatch between collectives on ranks. Rank 1 is running collective: "
    "CollectiveFingerPrint(SequenceNumber=1151, OpType=ALLREDUCE, TensorShape=[1], TensorDtypes=Float, "
    "TensorDeviceTypes=TensorOptions(dtype=float (default), device=cuda, layout=Strided (default), requires_grad=false "
    "(default), pinned_memory=false (default), memory_format=(nullopt))), but Rank 0 is running collective: "
    "CollectiveFingerPrint(SequenceNumber=1151, OpType=BROADCAST)."
)

CUBLAS_DETERMINISTIC = (
    "RuntimeError: Deterministic behavior was enabled with either `torch.use_deterministic_algorithms(True)` or "
    "`at::Context::setDeterministicAlgorithms(true)`, but this operation is not deterministic because it uses CuBLAS "
    "and you have CUDA >= 10.2. To enable deterministic behavior in this case, you must set an environment variable "
    "before running your PyTorch application: CUBLAS_WORKSPACE_CONFIG=:4096:8 or CUBLAS_WORKSPACE_CONFIG=:16:8. For "
    "more information, go to https://docs.nvidia.com/cuda/cublas/index.html#results-reproducibility"
)

SDPA_NO_KERNEL = (
    "/app/model.py:88: UserWarning: Memory efficient kernel not used because: (Triggered internally at "
    "/pytorch/aten/src/ATen/native/transformers/cuda/sdp_utils.cpp:859.)\n"
    "  out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)\n"
    "/app/model.py:88: UserWarning: Memory Efficient attention has been runtime disabled. (Triggered internally at "
    "/pytorch/aten/src/ATen/native/transformers/sdp_utils_cpp.h:551.)\n"
    "/app/model.py:88: UserWarning: Flash attention kernel not used because: (Triggered internally at "
    "/pytorch/aten/src/ATen/native/transformers/cuda/sdp_utils.cpp:861.)\n"
    "/app/model.py:88: UserWarning: Both fused kernels do not support non-null attn_mask. (Triggered internally at "
    "/pytorch/aten/src/ATen/native/transformers/sdp_utils_cpp.h:263.)\n"
    "RuntimeError: No available kernel.  Aborting execution."
)

STATE_DICT_PREFIX = (
    "RuntimeError: Error(s) in loading state_dict for ResNet:\n"
    '\tMissing key(s) in state_dict: "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean". \n'
    '\tUnexpected key(s) in state_dict: "module.conv1.weight", "module.bn1.weight", "module.bn1.bias", '
    '"module.bn1.running_mean". '
)

SIZE_MISMATCH = (
    "RuntimeError: Error(s) in loading state_dict for ResNet:\n"
    "\tsize mismatch for fc.weight: copying a param with shape torch.Size([10, 512]) from checkpoint, the shape in "
    "current model is torch.Size([1000, 512]).\n"
    "\tsize mismatch for fc.bias: copying a param with shape torch.Size([10]) from checkpoint, the shape in current "
    "model is torch.Size([1000])."
)

NVML_ASSERT = (
    '  File "/usr/local/lib/python3.10/dist-packages/torch/nn/modules/module.py", line 1160, in convert\n'
    "    return t.to(device, dtype if t.is_floating_point() or t.is_complex() else None, non_blocking)\n"
    'RuntimeError: NVML_SUCCESS == r INTERNAL ASSERT FAILED at "../c10/cuda/CUDACachingAllocator.cpp":1123, please '
    "report a bug to PyTorch."
)

CXX17 = (
    "/opt/conda/lib/python3.10/site-packages/torch/include/torch/csrc/api/include/torch/all.h:4:2: error: #error C++17 "
    "or later compatible compiler is required to use PyTorch.\n"
    "    4 | #error C++17 or later compatible compiler is required to use PyTorch.\n"
    "      |  ^~~~~"
)

# (message built from the producer's text, row id, category of the top match)
CASES = [
    (RECOMPILE_LIMIT, "dynamo-recompile-limit", "performance"),
    (
        "W0612 torch/_dynamo/convert_frame.py:762] [0/8] torch._dynamo hit config.cache_size_limit (8)\n"
        "   function: 'fn' (/tmp/playground.py:3)\n   last reason: 0/0: L['c'] == 1.5",
        "dynamo-recompile-limit",
        "performance",
    ),
    (GRAPH_BREAK, "dynamo-graph-break-fullgraph", "user-code"),
    (
        "torch.fx.experimental.symbolic_shapes.GuardOnDataDependentSymNode: Could not guard on data-dependent "
        "expression Eq(u0, 1) (unhinted: Eq(u0, 1)).  (Size-like symbols: none)",
        "dynamo-data-dependent-guard",
        "user-code",
    ),
    (
        "torch._subclasses.fake_tensor.DynamicOutputShapeException: aten.nonzero.default",
        "fake-tensor-dynamic-output-shape",
        "user-code",
    ),
    (
        "torch._subclasses.fake_tensor.DataDependentOutputException: aten._local_scalar_dense.default",
        "fake-tensor-dynamic-output-shape",
        "user-code",
    ),
    (ITEM_BREAK, "dynamo-item-graph-break", "performance"),
    (
        "torch._dynamo.exc.TorchRuntimeError: Dynamo failed to run FX node with fake tensors: call_function "
        "<built-in function linear>(*(FakeTensor(..., device='cuda:0', size=(8, 300)), Parameter(FakeTensor(..., "
        "device='cuda:0', size=(10, 256), requires_grad=True))), **{}): got RuntimeError('a and b must have same "
        "reduction dim, but got [8, 300] X [256, 10].')",
        "dynamo-fake-tensor-run-failed",
        "user-code",
    ),
    (
        "torch._dynamo.exc.TorchRuntimeError: Failed running call_function <built-in function mul>(*(FakeTensor(..., "
        "size=(4, 3)), FakeTensor(..., size=(5, 3))), **{}):",
        "dynamo-fake-tensor-run-failed",
        "user-code",
    ),
    (
        "W1203 12:00:01.000000 771 torch/_inductor/cudagraph_trees.py:2345] skipping cudagraphs due to mutated "
        'inputs (2 instances). Found from : \n   File "/app/train.py", line 61, in forward',
        "inductor-cudagraphs-skipped",
        "performance",
    ),
    (
        "RuntimeError: Error: accessing tensor output of CUDAGraphs that has been overwritten by a subsequent run. "
        'Stack trace: File "/app/model.py", line 40, in forward\n    return self.head(x). To prevent overwriting, '
        "clone the tensor outside of torch.compile() or call torch.compiler.cudagraph_mark_step_begin() before each "
        "model invocation.",
        "inductor-cudagraph-output-overwritten",
        "user-code",
    ),
    (
        "W1203 12:10:44.120000 3310 torch/_inductor/utils.py:1250] [0/0] Not enough SMs to use max_autotune_gemm mode",
        "inductor-max-autotune-gemm-unavailable",
        "performance",
    ),
    (
        "/usr/local/lib/python3.11/site-packages/torch/_inductor/compile_fx.py:236: UserWarning: TensorFloat32 tensor "
        "cores for float32 matrix multiplication available but not enabled. Consider setting "
        "`torch.set_float32_matmul_precision('high')` for better performance.",
        "tf32-available-not-enabled",
        "performance",
    ),
    (
        '  File "/usr/local/lib/python3.10/dist-packages/triton/backends/nvidia/driver.py", line 71, in load_binary\n'
        "RuntimeError: Triton Error [CUDA]: device kernel image is invalid",
        "triton-cuda-driver-error",
        "driver-too-old",
    ),
    (
        "RuntimeError: CUDA error: operation failed due to a previous error during capture\n"
        "CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be "
        "incorrect.\nFor debugging consider passing CUDA_LAUNCH_BLOCKING=1",
        "cuda-graph-capture-invalidated",
        "user-code",
    ),
    (
        "RuntimeError: CUDA error: capture sequence contains a fork that was not joined to the primary stream "
        "(cudaErrorStreamCaptureUnjoined)",
        "cuda-graph-capture-unjoined",
        "user-code",
    ),
    (
        "RuntimeError: Cannot call CUDAGeneratorImpl::current_seed during CUDA graph capture. If you need this call to "
        "be captured, please file an issue. Current cudaStreamCaptureStatus: cudaStreamCaptureStatusActive",
        "cuda-graph-uncapturable-call",
        "user-code",
    ),
    (
        "RuntimeError: CUDA graphs must be captured on a non-default stream. (However, after capture, it's ok to "
        "replay them on the default stream.)",
        "cuda-graph-default-stream",
        "user-code",
    ),
    (
        "RuntimeError: Attempting CUDA graph capture of step() for an instance of AdamW but param_groups' capturable "
        "is False.",
        "optimizer-graph-capture-not-capturable",
        "user-code",
    ),
    (DDP_UNUSED, "ddp-unused-parameters", "distributed"),
    (DDP_READY_TWICE, "ddp-variable-marked-ready-twice", "distributed"),
    (
        "RuntimeError: DistributedDataParallel is not needed when a module doesn't have any parameter that requires a "
        "gradient.",
        "ddp-no-trainable-parameters",
        "user-code",
    ),
    (
        "[W reducer.cpp:1346] Warning: find_unused_parameters=True was specified in DDP constructor, but did not find "
        "any unused parameters in the forward pass. This flag results in an extra traversal of the autograd graph "
        "every iteration,  which can adversely affect performance. (function operator())",
        "ddp-find-unused-parameters-unneeded",
        "performance",
    ),
    (
        "UserWarning: Grad strides do not match bucket view strides. This may indicate grad was not created according "
        "to the gradient layout contract, or that the param's strides changed since DDP was constructed.  This is not "
        "an error, but may impair performance.\ngrad.sizes() = [64, 3, 7, 7], strides() = [147, 1, 21, 3]\n"
        "bucket_view.sizes() = [64, 3, 7, 7], strides() = [147, 49, 7, 1]",
        "ddp-grad-strides-mismatch",
        "performance",
    ),
    (COLLECTIVE_MISMATCH, "dist-collective-mismatch", "distributed"),
    (
        '  File "/app/train.py", line 120, in reduce_metric\n    dist.all_reduce(t)\n'
        "ValueError: Tensors must be CUDA and dense",
        "nccl-cpu-tensor",
        "user-code",
    ),
    (
        "RuntimeError: No backend type associated with device type cpu",
        "dist-no-backend-for-device",
        "user-code",
    ),
    (
        '  File "/usr/local/lib/python3.10/dist-packages/torch/distributed/elastic/rendezvous/dynamic_rendezvous.py", '
        "line 680, in run\n    raise RendezvousTimeoutError\n"
        "torch.distributed.elastic.rendezvous.api.RendezvousTimeoutError",
        "elastic-rendezvous-timeout",
        "distributed",
    ),
    (
        "torch.distributed.elastic.rendezvous.api.RendezvousClosedError",
        "elastic-rendezvous-closed",
        "distributed",
    ),
    (
        "ValueError: Must flatten tensors with uniform dtype but got torch.bfloat16 and torch.float32",
        "fsdp-flatten-mixed-dtype",
        "user-code",
    ),
    (
        "ValueError: Must flatten tensors with uniform `requires_grad` when `use_orig_params=False`",
        "fsdp-flatten-mixed-requires-grad",
        "user-code",
    ),
    (
        "RuntimeError: aten.add.Tensor: got mixed torch.Tensor and DTensor, need to convert all torch.Tensor to "
        "DTensor before calling distributed operators! Please see "
        "https://docs.pytorch.org/docs/main/distributed.tensor.html#mixed-tensor-and-dtensor-operations for more "
        "details.",
        "dtensor-mixed-tensor",
        "user-code",
    ),
    ("RuntimeError: \"addmm_impl_cpu_\" not implemented for 'Half'", "half-op-on-cpu", "user-code"),
    ("RuntimeError: \"LayerNormKernelImpl\" not implemented for 'Half'", "half-op-on-cpu", "user-code"),
    ("RuntimeError: \"slow_conv2d_cpu\" not implemented for 'Half'", "half-op-on-cpu", "user-code"),
    (
        '  File "/usr/local/lib/python3.10/dist-packages/torch/amp/grad_scaler.py", line 260, in _unscale_grads_\n'
        '    raise ValueError("Attempting to unscale FP16 gradients.")\n'
        "ValueError: Attempting to unscale FP16 gradients.",
        "gradscaler-fp16-params",
        "user-code",
    ),
    (SDPA_NO_KERNEL, "sdpa-no-available-kernel", "user-code"),
    (
        "/app/model.py:88: UserWarning: Flash attention kernel not used because: (Triggered internally at "
        "/pytorch/aten/src/ATen/native/transformers/cuda/sdp_utils.cpp:861.)\n"
        "/app/model.py:88: UserWarning: Flash attention requires q,k,v to have the same last dimension and to be "
        "less than or equal to 256. Got Query.size(-1): 512, Key.size(-1): 512, Value.size(-1): 512 instead.",
        "sdpa-kernel-not-used-warning",
        "other",
    ),
    (
        "C:\\Users\\me\\ComfyUI\\comfy\\ldm\\modules\\attention.py:407: UserWarning: 1Torch was not compiled with flash "
        "attention. (Triggered internally at ..\\aten\\src\\ATen\\native\\transformers\\cuda\\sdp_utils.cpp:455.)\n"
        "  out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)",
        "sdpa-flash-not-compiled",
        "performance",
    ),
    (CUBLAS_DETERMINISTIC, "deterministic-cublas-workspace", "user-code"),
    (
        "RuntimeError: adaptive_avg_pool2d_backward_cuda does not have a deterministic implementation, but you set "
        "'torch.use_deterministic_algorithms(True)'. You can turn off determinism just for this operation, or you can "
        "use the 'warn_only=True' option, if that's acceptable for your application. You can also file an issue at "
        "https://github.com/pytorch/pytorch/issues to help us prioritize adding deterministic support for this "
        "operation.",
        "deterministic-op-unsupported",
        "user-code",
    ),
    (
        "/usr/local/lib/python3.10/dist-packages/torch/autograd/graph.py:825: UserWarning: Attempting to run cuBLAS, "
        "but there was no current CUDA context! Attempting to set the primary context... (Triggered internally at "
        "/pytorch/aten/src/ATen/cuda/CublasHandlePool.cpp:180.)\n"
        "  return Variable._execution_engine.run_backward(",
        "cublas-no-current-context",
        "other",
    ),
    (
        "/usr/local/lib/python3.10/dist-packages/torch/cuda/__init__.py:654: UserWarning: Can't initialize NVML\n"
        '  warnings.warn("Can\'t initialize NVML")',
        "torch-cant-initialize-nvml",
        "other",
    ),
    (
        "/usr/local/lib/python3.10/dist-packages/torch/amp/grad_scaler.py:131: UserWarning: torch.cuda.amp.GradScaler "
        "is enabled, but CUDA is not available.  Disabling.\n  warnings.warn(",
        "amp-cuda-unavailable-disabled",
        "cpu-only-build",
    ),
    (
        "/usr/local/lib/python3.10/dist-packages/torch/amp/autocast_mode.py:266: UserWarning: User provided "
        "device_type of 'cuda', but CUDA is not available. Disabling\n  warnings.warn(",
        "amp-cuda-unavailable-disabled",
        "cpu-only-build",
    ),
    (
        "/usr/local/lib/python3.10/dist-packages/torch/utils/data/dataloader.py:683: UserWarning: 'pin_memory' "
        "argument is set as true but no accelerator is found, then device pinned memory won't be used.\n"
        "  warnings.warn(warn_msg)",
        "dataloader-pin-memory-no-accelerator",
        "cpu-only-build",
    ),
    (
        "RuntimeError: Attempting to deserialize object on CUDA device 1 but torch.cuda.device_count() is 1. Please "
        "use torch.load with map_location to map your storages to an existing device.",
        "deserialize-device-index-missing",
        "user-code",
    ),
    (
        '  File "/usr/local/lib/python3.10/dist-packages/torch/serialization.py", line 1005, in load\n'
        "    with _open_zipfile_reader(opened_file) as opened_zipfile:\n"
        "RuntimeError: PytorchStreamReader failed reading zip archive: failed finding central directory",
        "checkpoint-zip-central-directory",
        "other",
    ),
    (
        '  File "/usr/lib/python3.10/site-packages/torch/serialization.py", line 1172, in _legacy_load\n'
        "    magic_number = pickle_module.load(f, **pickle_load_args)\n"
        "_pickle.UnpicklingError: invalid load key, 'v'.",
        "unpickling-invalid-load-key",
        "other",
    ),
    (SIZE_MISMATCH, "state-dict-size-mismatch", "user-code"),
    (STATE_DICT_PREFIX, "state-dict-module-prefix", "user-code"),
    (
        "safetensors_rust.SafetensorError: Error while deserializing header: HeaderTooLarge",
        "safetensors-header-invalid",
        "other",
    ),
    (
        "safetensors_rust.SafetensorError: Error while deserializing header: MetadataIncompleteBuffer",
        "safetensors-header-invalid",
        "other",
    ),
    (NVML_ASSERT, "caching-allocator-nvml-assert", "out-of-memory"),
    (
        '  File "/app/train.py", line 210, in train_step\n    loss.backward()\n'
        "RuntimeError: CUDA driver error: out of memory",
        "cuda-driver-api-error",
        "out-of-memory",
    ),
    (
        "RuntimeError: CUDA driver error: invalid argument",
        "cuda-driver-api-error",
        "other",
    ),
    (
        "torch._dynamo.exc.InternalTorchDynamoError: AttributeError: 'NoneType' object has no attribute 'shape'\n\n"
        'from user code:\n   File "/app/model.py", line 77, in forward\n    n = self.cache.shape[0]',
        "dynamo-internal-error",
        "compile-toolchain",
    ),
    (
        "/usr/local/lib/python3.10/dist-packages/torch/optim/optimizer.py:500: UserWarning: This instance was "
        "constructed with capturable=True or some of all the param_groups came with capturable=True, but step() is "
        "running without CUDA graph capture. If you never intend to graph-capture this instance, capturable=True can "
        "impair performance, and you should set capturable=False.",
        "optimizer-capturable-without-capture",
        "performance",
    ),
    (
        "RuntimeError: CUDA error: invalid configuration argument\n"
        "CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be "
        "incorrect.\nFor debugging consider passing CUDA_LAUNCH_BLOCKING=1\n"
        "Compile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.",
        "cuda-invalid-configuration",
        "user-code",
    ),
    (
        "RuntimeError: expected mat1 and mat2 to have the same dtype, but got: float != c10::Half",
        "matmul-dtype-mismatch",
        "user-code",
    ),
    (
        "RuntimeError: expected m1 and m2 to have the same dtype, but got: float != c10::BFloat16",
        "matmul-dtype-mismatch",
        "user-code",
    ),
    (
        '  File "/usr/local/lib/python3.10/dist-packages/torch/utils/data/sampler.py", line 164, in __iter__\n'
        "    yield from torch.randperm(n, generator=generator).tolist()\n"
        "RuntimeError: Expected a 'cuda' device type for generator but found 'cpu'",
        "generator-device-mismatch",
        "user-code",
    ),
    (
        "RuntimeError: PytorchStreamReader failed reading file data/0: invalid header or archive is corrupted",
        "checkpoint-zip-central-directory",
        "other",
    ),
    (
        "RuntimeError: PytorchStreamReader failed reading zip archive: not a ZIP archive",
        "checkpoint-zip-central-directory",
        "other",
    ),
    (CXX17, "extension-cxx17-required", "compile-toolchain"),
    (
        "RuntimeError: The current installed version of g++ (13.2.0) is greater than the maximum required version by "
        "CUDA 12.1. Please make sure to use an adequate version of g++ (>=6.0.0, <13.0).",
        "extension-compiler-version-bounds",
        "compile-toolchain",
    ),
    (
        "W1203 09:00:00.000000 1 torch/utils/cpp_extension.py:532] There are no g++ version bounds defined for CUDA "
        "version 12.9",
        "extension-no-compiler-bounds",
        "other",
    ),
]


@pytest.mark.parametrize(("message", "row", "category"), CASES, ids=[f"{r}-{i}" for i, (_, r, _) in enumerate(CASES)])
def test_catalog_message_matches_its_row(message, row, category, knowledge):
    assert_top_match(message, row, category, knowledge)


def test_warnings_yield_to_a_real_error(knowledge):
    from torchenv.checks.explain import explain

    message = (
        "UserWarning: TensorFloat32 tensor cores for float32 matrix multiplication available but not enabled. "
        "Consider setting `torch.set_float32_matmul_precision('high')` for better performance.\n"
        "skipping cudagraphs due to mutated inputs (2 instances)\n"
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB."
    )
    matches = explain(message, None, knowledge)
    assert matches and matches[0].id == "cuda-out-of-memory", [(m.id, m.category) for m in matches]


def test_half_on_cuda_is_not_claimed(knowledge):
    from torchenv.checks.explain import explain

    matches = explain("RuntimeError: \"bitwise_and_cuda\" not implemented for 'Half'", None, knowledge)
    assert not matches or matches[0].id != "half-op-on-cpu", [(m.id, m.category) for m in matches]


def test_every_round10_row_is_exercised_and_sourced():
    new_rows = {row.id for row in parse_error_files([FAMILY_FILE]).patterns}
    assert_rows_exercised_and_sourced(new_rows, CASES, RETRIEVED, minimum=30)
