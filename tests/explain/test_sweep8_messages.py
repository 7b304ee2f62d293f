"""Error rows written from sweep-8 tuning-half messages (tests/corpus/messages/index.toml m293, m307, m310, m317,
m322, m326, m330; rows in knowledge/data/errors.d/sweep8_messages.toml and one widened row of errors.toml)."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib

from testsupport import assert_tuning_item_finds_row
from torchenv.checks.explain import explain
from torchenv.knowledge.errors import ERRORS_FAMILIES, parse_error_files

MESSAGES = {
    m["id"]: m
    for m in tomllib.loads((Path(__file__).parent.parent / "corpus" / "messages" / "index.toml").read_text())["message"]
}
FAMILY = ERRORS_FAMILIES / "sweep8_messages.toml"


@pytest.mark.parametrize(
    ("item", "row"),
    [
        ("m293", "cuda-library-undefined-symbol"),  # microsoft/onnxruntime#8594: glibc's symbol-version wording
        ("m307", "tensorrt-engine-version-mismatch"),  # NVIDIA/TensorRT#2195
        ("m310", "torchaudio-backend-not-available"),  # pytorch/audio#837
        ("m317", "tensorrt-dependency-library-missing"),  # DDTRobot/tita_rl#2
        ("m322", "cublas-invalid-value"),  # Fictionarry/TalkingGaussian#14
        ("m326", "torch-split-cuda-library-missing"),  # OpenGVLab/InternVL#174
        ("m330", "cudnn-nvrtc-missing-torch20"),  # facefusion/facefusion-docker#9
    ],
)
def test_tuning_item_finds_its_row(item, row, knowledge):
    assert_tuning_item_finds_row(MESSAGES[item], row, 8, knowledge)


def test_every_row_of_the_family_file_is_tested():
    ids = {row.id for row in parse_error_files([FAMILY]).patterns}
    tested = {
        "tensorrt-engine-version-mismatch",
        "tensorrt-dependency-library-missing",
        "torchaudio-backend-not-available",
        "cublas-invalid-value",
        "torch-split-cuda-library-missing",
        "cudnn-nvrtc-missing-torch20",
    }
    assert ids == tested


def _top(text, knowledge):
    matches = explain(text, None, knowledge)
    assert matches, text
    return matches[0]


def test_tensorrt_row_covers_the_other_archive_readers(knowledge):
    # the std (not safe) archive reader of TensorRT 8.x, and TensorRT 7's header check
    std = (
        "[TRT] [E] 1: [stdArchiveReader.cpp::StdArchiveReader::40] Error Code 1: Serialization (Serialization "
        "assertion stdVersionRead == serializationVersion failed.Version tag does not match. Note: Current Version: "
        "213, Serialized Engine Version: 205)\n[TRT] [E] 4: [runtime.cpp::deserializeCudaEngine::50] Error Code 4: "
        "Internal Error (Engine deserialization failed.)"
    )
    old = (
        "[TensorRT] ERROR: coreReadArchive.cpp (31) - Serialization Error in verifyHeader: 0 (Magic tag does not match)"
    )
    for text in (std, old):
        top = _top(text, knowledge)
        assert (top.id, top.category) == ("tensorrt-engine-version-mismatch", "companion-mismatch")


def test_tensorrt_dependency_names_cudnn_8_from_the_message(knowledge):
    top = _top(MESSAGES["m317"]["message"], knowledge)
    assert "cuDNN 8" in top.cause and top.cause_basis == "the message"


def test_torchaudio_backend_on_windows(knowledge):
    text = (
        '  File "c:\\users\\vita\\anaconda3\\lib\\site-packages\\torchaudio\\backend\\utils.py", line 44, in '
        "set_audio_backend\nRuntimeError: Backend \"sox_io\" is not one of available backends: ['soundfile']."
    )
    top = _top(text, knowledge)
    assert top.id == "torchaudio-backend-not-available" and "Windows" in top.cause


def test_cublas_invalid_value_outranks_the_generic_cublas_row_only_for_its_status(knowledge):
    invalid = (
        "RuntimeError: CUDA error: CUBLAS_STATUS_INVALID_VALUE when calling `cublasGemmEx( handle, opa, opb, m, n, k)`"
    )
    assert _top(invalid, knowledge).id == "cublas-invalid-value"
    failed = "RuntimeError: CUDA error: CUBLAS_STATUS_EXECUTION_FAILED when calling `cublasSgemm( handle, opa, opb, m, n, k)`"
    top = _top(failed, knowledge)
    assert (top.id, top.category) == ("cublas-execution-failed", "compute-failure")


def test_glibc_symbol_version_wording_for_other_cuda_libraries(knowledge):
    text = (
        "ImportError: /opt/env/lib/python3.10/site-packages/torch/lib/libtorch_cuda.so: symbol cublasSetWorkspace_v2, "
        "version libcublas.so.11 not defined in file libcublas.so.11 with link time reference"
    )
    top = _top(text, knowledge)
    assert (top.id, top.category) == ("cuda-library-undefined-symbol", "library-conflict")
    # glibc's wording for libraries outside CUDA is not this row's
    other = "libssl.so.0.9.8: symbol BIO_test_flags, version OPENSSL_0.9.8 not defined in file libcrypto.so.0.9.8 with link time reference"
    assert all(m.id != "cuda-library-undefined-symbol" for m in explain(other, None, knowledge))


def test_split_cuda_library_outranks_the_generic_torch_library_row(knowledge):
    text = "ImportError: libtorch_cuda_cpp.so: cannot open shared object file: No such file or directory"
    matches = explain(text, None, knowledge)
    assert [m.id for m in matches][:2] == ["torch-split-cuda-library-missing", "torch-library-missing"]
    # libtorch_cuda.so itself missing is still a broken torch
    assert _top("OSError: libtorch_cuda.so: cannot open shared object file", knowledge).id == "torch-library-missing"


def test_nvrtc_row_only_for_cudnn_8_looking_for_libnvrtc(knowledge):
    for other in (
        "Could not load library libcudnn_cnn_infer.so.8. Error: libcuda.so: cannot open shared object file: No such file",
        "Could not load library libcudnn_ops_infer.so.8. Error: libcudnn_ops_infer.so.8: cannot open shared object file",
    ):
        assert all(m.id != "cudnn-nvrtc-missing-torch20" for m in explain(other, None, knowledge)), other
