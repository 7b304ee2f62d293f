"""Catalog rows, round 9 (issue 12): error rows derived from the producers' own texts, not from corpus items.

Every message here is built from the producer's exact text as it is printed: torch.load's weights_only refusal
(torch >= 2.6), the AttributeError/ImportError a newer companion raises on an older torch (torch.compiler,
is_compiling, nn.RMSNorm, the float8 dtypes, _pytree.register_pytree_node), the reverse skew of torch._six on
torch 2.x, the CUDA caching allocator's PYTORCH_CUDA_ALLOC_CONF parser, and DataLoader worker start-up under
Windows' spawn start method. None is a corpus item. The rows live in knowledge/data/errors.d/catalog_round9.toml.
"""

from __future__ import annotations

import pytest

from testsupport import assert_rows_exercised_and_sourced, assert_top_match
from torchenv.knowledge.errors import ERRORS_FAMILIES, parse_error_files

RETRIEVED = "2026-12-03"
FAMILY_FILE = ERRORS_FAMILIES / "catalog_round9.toml"

WEIGHTS_ONLY = (
    "_pickle.UnpicklingError: Weights only load failed. This file can still be loaded, to do so you have two "
    "options, do those steps only if you trust the source of the checkpoint.\n"
    "\t(1) In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` from "
    "`False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will likely succeed, but it "
    "can result in arbitrary code execution. Do it only if you got the file from a trusted source.\n"
    "\t(2) Alternatively, to load with `weights_only=True` please check the recommended steps in the following "
    "error message.\n"
    "\tWeightsUnpickler error: Unsupported global: GLOBAL pathlib.PosixPath was not an allowed global by default. "
    "Please use `torch.serialization.add_safe_globals([PosixPath])` or the "
    "`torch.serialization.safe_globals([PosixPath])` context manager to allowlist this global if you trust this "
    "class/function.\n\n"
    "Check the documentation of torch.load to learn more about types accepted by default with weights_only "
    "https://pytorch.org/docs/stable/generated/torch.load.html."
)

SPAWN_BROKEN_PIPE = (
    "Traceback (most recent call last):\n"
    '  File "train.py", line 91, in train\n'
    "    for i, data in enumerate(train_loader):\n"
    '  File "C:\\Python39\\lib\\site-packages\\torch\\utils\\data\\dataloader.py", line 1043, in __init__\n'
    "    w.start()\n"
    '  File "C:\\Python39\\lib\\multiprocessing\\process.py", line 121, in start\n'
    "    self._popen = self._Popen(self)\n"
    '  File "C:\\Python39\\lib\\multiprocessing\\popen_spawn_win32.py", line 93, in __init__\n'
    "    reduction.dump(process_obj, to_child)\n"
    '  File "C:\\Python39\\lib\\multiprocessing\\reduction.py", line 60, in dump\n'
    "    ForkingPickler(file, protocol).dump(obj)\n"
    "BrokenPipeError: [Errno 32] Broken pipe"
)

# (message built from the producer's text, row id, category of the top match)
CASES = [
    (WEIGHTS_ONLY, "torch-load-weights-only-default", "user-code"),
    (
        "WeightsUnpickler error: Unsupported global: GLOBAL numpy.core.multiarray._reconstruct was not an allowed "
        "global by default.",
        "torch-load-weights-only-default",
        "user-code",
    ),
    (
        "RuntimeError: Can not safely load weights when explicit pickle_module is specified",
        "torch-load-weights-only-pickle-module",
        "user-code",
    ),
    (
        "    @torch.compiler.disable\nAttributeError: module 'torch' has no attribute 'compiler'",
        "torch-compiler-namespace-missing",
        "companion-mismatch",
    ),
    (
        "ImportError: cannot import name 'is_compiling' from 'torch.compiler' "
        "(/usr/local/lib/python3.10/dist-packages/torch/compiler/__init__.py)",
        "torch-compiler-is-compiling-missing",
        "companion-mismatch",
    ),
    (
        "AttributeError: module 'torch.compiler' has no attribute 'is_compiling'",
        "torch-compiler-is-compiling-missing",
        "companion-mismatch",
    ),
    (
        "    class WanFusedRMSNorm(nn.RMSNorm):\nAttributeError: module 'torch.nn' has no attribute 'RMSNorm'",
        "torch-nn-rmsnorm-missing",
        "companion-mismatch",
    ),
    (
        '  File "/opt/conda/envs/ultraman/lib/python3.9/site-packages/diffusers/quantizers/torchao/'
        'torchao_quantizer.py", line 57, in <module>\n    torch.float8_e4m3fn,\n'
        "AttributeError: module 'torch' has no attribute 'float8_e4m3fn'",
        "torch-float8-dtype-missing",
        "companion-mismatch",
    ),
    (
        "    _torch_pytree.register_pytree_node(\n"
        "AttributeError: module 'torch.utils._pytree' has no attribute 'register_pytree_node'",
        "torch-pytree-register-missing",
        "companion-mismatch",
    ),
    (
        "    from torch._six import inf\nModuleNotFoundError: No module named 'torch._six'",
        "torch-six-removed",
        "user-code",
    ),
    (
        "ImportError: cannot import name 'container_abcs' from 'torch._six' "
        "(/opt/conda/lib/python3.7/site-packages/torch/_six.py)",
        "torch-six-container-abcs",
        "user-code",
    ),
    (
        '  File "C:\\Python310\\lib\\site-packages\\torch\\cuda\\__init__.py", line 247, in _lazy_init\n'
        "    torch._C._cuda_init()\nRuntimeError: Unrecognized CachingAllocator option: expandable_segments",
        "cuda-alloc-conf-unrecognized-option",
        "user-code",
    ),
    (
        "AttributeError: Can't pickle local object 'get_dataset.<locals>.Dataset'",
        "windows-dataloader-cant-pickle-local",
        "data-loading",
    ),
    (SPAWN_BROKEN_PIPE, "windows-dataloader-broken-pipe", "data-loading"),
    (
        "    from torchtnt.utils.precision import convert_precision_str_to_dtype\n"
        "AttributeError: module 'torch.amp' has no attribute 'GradScaler'",
        "torch-amp-api-missing",
        "companion-mismatch",
    ),
    (
        "AttributeError: module 'torch' has no attribute 'amp'",
        "torch-amp-api-missing",
        "companion-mismatch",
    ),
    (
        "/usr/local/lib/python3.10/dist-packages/pypots/nn/modules/reformer/local_attention.py:31: FutureWarning: "
        "`torch.cuda.amp.autocast(args...)` is deprecated. Please use `torch.amp.autocast('cuda', args...)` instead.",
        "torch-cuda-amp-deprecated",
        "other",
    ),
    (
        "[W1001 01:18:06.108184462 CUDAAllocatorConfig.h:28] Warning: expandable_segments not supported on this "
        "platform (function operator())",
        "expandable-segments-unsupported-platform",
        "other",
    ),
    (
        "UserWarning: expandable_segments not supported on this platform (Triggered internally at "
        "/pytorch/c10/hip/HIPAllocatorConfig.h:29.)",
        "expandable-segments-unsupported-platform",
        "other",
    ),
]


def test_amp_warning_yields_to_a_real_error(knowledge):
    from torchenv.checks.explain import explain

    message = (
        "FutureWarning: `torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
        "`torch.amp.GradScaler('cuda', args...)` instead.\n"
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB."
    )
    matches = explain(message, None, knowledge)
    assert matches and matches[0].id != "torch-cuda-amp-deprecated", [(m.id, m.category) for m in matches]


@pytest.mark.parametrize(("message", "row", "category"), CASES, ids=[f"{r}-{i}" for i, (_, r, _) in enumerate(CASES)])
def test_catalog_message_matches_its_row(message, row, category, knowledge):
    assert_top_match(message, row, category, knowledge)


def test_bare_broken_pipe_is_not_claimed(knowledge):
    from torchenv.checks.explain import explain

    matches = explain("BrokenPipeError: [Errno 32] Broken pipe", None, knowledge)
    assert not matches or matches[0].id != "windows-dataloader-broken-pipe", [(m.id, m.category) for m in matches]


def test_every_round9_row_is_exercised_and_sourced():
    new_rows = {row.id for row in parse_error_files([FAMILY_FILE]).patterns}
    assert_rows_exercised_and_sourced(new_rows, CASES, RETRIEVED, minimum=12)
