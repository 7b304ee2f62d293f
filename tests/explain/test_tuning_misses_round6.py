"""General fixes from the tuning half's explain misses, round 6 (issue 12; tests/corpus/README.md "Tuning misses,
round 6"). Each defect is tested on the real tuning item(s) of tests/corpus/messages/index.toml and on wordings of
the same producer the items do not show; each test fails on the code before the fix."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import tomllib

from torchenv.checks.explain import explain
from torchenv.knowledge.errors import derived_signature, ends_at_name, load_errors
from torchenv.reports.detect import read_report

MESSAGES = {
    m["id"]: m
    for m in tomllib.loads((Path(__file__).parent.parent / "corpus" / "messages" / "index.toml").read_text())["message"]
    if m["half"] == "tuning"
}


def _ids(text, knowledge, facts=None):
    return [m.id for m in explain(text, facts, knowledge)]


def _top(text, knowledge, facts=None):
    matches = explain(text, facts, knowledge)
    assert matches, text
    return matches[0]


# --- 1. a derived signature keeps the name boundary its regex's closing quote gave ----------------------------


@pytest.mark.parametrize(
    "text",
    [
        "ModuleNotFoundError: No module named 'torchvision'",
        "ModuleNotFoundError: No module named 'torch_scatter'",
        "ModuleNotFoundError: No module named 'torchaudio'",
        "ModuleNotFoundError: No module named 'torch.distributed.elastic'",  # an older torch, not a missing one
        "ImportError: No module named torchvision",  # Python 2 prints no quotes
    ],
)
def test_another_module_whose_name_starts_with_torch_is_not_torch_missing(text, knowledge):
    assert "torch-not-installed" not in _ids(text, knowledge)


@pytest.mark.parametrize(
    "text",
    [
        "ModuleNotFoundError: No module named 'torch'",  # Python 3.6+
        "ImportError: No module named 'torch'",  # Python 3.3-3.5
        "ImportError: No module named torch",  # Python 2
        "ModuleNotFoundError: No module named \u2018torch\u2019",  # curly quotes from a forum
        "No module named 'torch'.",
    ],
)
def test_every_cpython_wording_of_torch_missing_still_matches(text, knowledge):
    assert _ids(text, knowledge)[0] == "torch-not-installed"


def test_torch_c_missing_does_not_read_a_longer_name(knowledge):
    assert _ids("No module named 'torch._C'", knowledge)[0] == "torch-c-missing"
    assert "torch-c-missing" not in _ids("No module named 'torch._C._dynamo'", knowledge)


def test_the_boundary_is_recorded_only_for_a_quote_after_the_last_word():
    assert ends_at_name(r"No module named [\x22\x27]torch[\x22\x27]")
    assert not ends_at_name(r"undefined symbol: cuTensorMapEncodeTiled")
    row = load_errors().by_id("torch-not-installed")
    assert derived_signature(r"No module named [\x22\x27]torch[\x22\x27]") in row.bounded
    # a written prefix signature stays a prefix: cuDNN's sub-library names go on after 'libcudnn'
    assert not load_errors().by_id("cudnn-sublibrary-load-failed").bounded


# --- 2. "No module named 'torch'": the most common cause is another interpreter, and the message can say so ------


@pytest.mark.parametrize("item", ["m144", "m226"])  # pytorch/pytorch#16103, #15999
def test_tuning_items_read_as_the_wrong_interpreter(item, knowledge):
    entry = MESSAGES[item]
    top = _top(entry["message"], knowledge)
    assert top.id == "torch-not-installed" and top.category == entry["category"] == "wrong-interpreter"


def test_two_pythons_named_in_the_message_decide_it(knowledge):
    top = _top(MESSAGES["m226"]["message"], knowledge)
    assert top.cause_basis == "the message" and "two Pythons" in top.cause
    for text in (
        "I installed torch with pip3 but running my script gives ModuleNotFoundError: No module named 'torch'",
        "works in python3.8, but python2.7 says ImportError: No module named torch",
        "ModuleNotFoundError: No module named 'torch' (sys.executable is /usr/bin/python3, not my venv)",
    ):
        top = _top(text, knowledge)
        assert (top.id, top.category, top.cause_basis) == ("torch-not-installed", "wrong-interpreter", "the message")
    bare = _top("ModuleNotFoundError: No module named 'torch'", knowledge)
    assert bare.cause_basis == "most common cause" and bare.category == "wrong-interpreter"


def test_a_notebook_still_names_its_kernel(knowledge):
    top = _top(MESSAGES["m143"]["message"], knowledge)
    assert top.category == "wrong-interpreter" and "kernel" in top.cause


# --- 3. "Found no NVIDIA driver": the most common cause is a machine without an NVIDIA GPU --------------------------


@pytest.mark.parametrize("item", ["m088", "m195"])  # takuseno/d3rlpy#42, an A1111 fork's memory monitor
def test_tuning_items_read_as_no_gpu(item, knowledge):
    entry = MESSAGES[item]
    top = _top(entry["message"], knowledge)
    assert top.id == "no-nvidia-driver" and top.category == entry["category"] == "no-gpu"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # torch 0.3/0.4 raised it from torch/cuda/__init__.py's _check_driver, wrapped over three lines
        (
            "AssertionError: \nFound no NVIDIA driver on your system. Please check that you\nhave an NVIDIA GPU and "
            "installed a driver from\nhttp://www.nvidia.com/Download/index.aspx",
            "no-gpu",
        ),
        ("RuntimeError: Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU", "no-gpu"),
        # the message itself shows a container or names an NVIDIA GPU
        (
            "$ docker run -it myimage python train.py\nRuntimeError: Found no NVIDIA driver on your system.",
            "gpu-hidden",
        ),
        ("My RTX 3060 laptop: RuntimeError: Found no NVIDIA driver on your system.", "no-driver"),
        ("Tesla K80 here. AssertionError: Found no NVIDIA driver on your system.", "no-driver"),
    ],
)
def test_found_no_driver_wordings(text, category, knowledge):
    top = _top(text, knowledge)
    assert (top.id, top.category) == ("no-nvidia-driver", category)


REPORT = "PyTorch version: {torch}\nOS: Ubuntu 22.04 (x86_64)\nPython version: 3.10.12\nIs CUDA available: False\n"
WARNING = "UserWarning: CUDA initialization: Found no NVIDIA driver on your system."


def test_found_no_driver_with_facts(knowledge):
    listed = read_report(
        (REPORT + "GPU models and configuration: GPU 0: NVIDIA GeForce RTX 3090\n").format(torch="2.1.0").encode()
    ).facts
    top = _top(WARNING, knowledge, listed)
    assert (top.category, top.cause_basis) == ("no-driver", "this machine's facts")
    # torch installed as a CUDA variant (pytorch/pytorch#74733's collect_env: 1.7.0+cu110, nothing else shown)
    variant = read_report(REPORT.format(torch="1.7.0+cu110").encode()).facts
    assert _top(WARNING, knowledge, variant).category == "no-driver"
    plain = read_report(REPORT.format(torch="2.1.0").encode()).facts
    container = dataclasses.replace(plain, host=dataclasses.replace(plain.host, container="docker"))
    assert _top(WARNING, knowledge, container).category == "gpu-hidden"
    no_gpu = dataclasses.replace(variant, host=dataclasses.replace(variant.host, pci_gpus=()))
    assert _top(WARNING, knowledge, no_gpu).category == "no-gpu"


# --- 4. torch.cuda.is_available() False stated on its own is recognised (a symptom, the most generic one) ------------


def test_tuning_item_with_is_available_false_is_recognised(knowledge):
    # m239 (BayesWatch/nas-without-training#2): its established cause (an old driver) is not in the text; the row
    # gives the symptom's most common cause, and a match replaces "no match"
    top = _top(MESSAGES["m239"]["message"], knowledge)
    assert top.id == "cuda-is-available-false" and top.finding.severity.value == "error"


@pytest.mark.parametrize(
    "text",
    [
        ">>> import torch\n>>> torch.cuda.is_available()\nFalse",  # the REPL's answer on the next line
        "torch.cuda.is_available() returns False on my RTX 4090",
        "print(torch.cuda.is_available()) -> False",
        "torch.cuda.is_available() == False",
        "torch.cuda.is_available()返回False",
        "torch.cuda.is_available() is always False",
    ],
)
def test_is_available_false_wordings(text, knowledge):
    assert _ids(text, knowledge)[0] == "cuda-is-available-false"


@pytest.mark.parametrize(
    "text",
    [
        "torch.cuda.is_available() returns True",
        "torch.cuda.is_available() = True",
        "if torch.cuda.is_available():",
        "torch.backends.mps.is_available() returns False",  # Apple's MPS, not CUDA
        "torch.xpu.is_available() is False",
    ],
)
def test_is_available_true_is_not_a_symptom(text, knowledge):
    assert "cuda-is-available-false" not in _ids(text, knowledge)


def test_is_available_false_ranks_below_every_symptom_that_says_more(knowledge):
    text = "torch.cuda.is_available() returns False\nUserWarning: CUDA initialization: Unexpected error from cudaGetDeviceCount()"
    assert _ids(text, knowledge)[0] == "cuda-device-count-error"
    deserialize = MESSAGES["m171"]["message"]
    assert _ids(deserialize, knowledge)[0] == "deserialize-cuda-unavailable"
    fallback = MESSAGES["m115"]["message"]
    assert _ids(fallback, knowledge)[0] == "cuda-unavailable-fallback"
    cause = "RuntimeError: Found no NVIDIA driver on your system.\n>>> torch.cuda.is_available()\nFalse"
    assert _ids(cause, knowledge)[0] == "no-nvidia-driver"


def test_is_available_false_on_a_mac_is_no_gpu(knowledge):
    top = _top("macOS 14, torch.cuda.is_available() returns False", knowledge)
    assert top.category == "no-gpu"


# --- 5. a cause's category agrees with its text ---------------------------------------------------------------------


def test_every_cause_that_says_no_gpu_is_no_gpu():
    """A cause whose text is 'the machine has no NVIDIA GPU' is reported as no-gpu, not as its row's category."""
    for id in ("no-nvidia-driver", "deserialize-cuda-unavailable", "cuda-is-available-false"):
        row = load_errors().by_id(id)
        for cause in row.causes:
            if "no NVIDIA GPU" in cause.text or "without a usable GPU" in cause.text:
                assert (cause.category or row.category) == "no-gpu", (id, cause.text)


def test_deserialize_default_cause_is_its_category(knowledge):
    # m171 (cpu-only-build) and m257 (no-gpu) read the same; the threads mostly show a GPU beside a CPU-only torch
    top = _top(MESSAGES["m171"]["message"], knowledge)
    assert top.category == "cpu-only-build" and "CPU-only build" in top.cause
    assert _top("RuntimeError: " + MESSAGES["m171"]["message"] + " /Users/me/model.pt", knowledge).category == "no-gpu"
