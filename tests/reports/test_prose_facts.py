"""A setup in the reporter's own words, and a markdown table of it, are read as facts (issue 12: "no paste is
refused that carries evidence"). The sentences are written for this test, in the shapes people use."""

from __future__ import annotations

import pytest

from torchenv.reports.detect import read_report
from torchenv.reports.lines import classify_text


def facts_of(text: str):
    return classify_text(text).facts


@pytest.mark.parametrize(
    ("line", "gpu", "torch", "cuda", "python", "os"),
    [
        ("Ubuntu 20.04, GTX 1080 Ti, CUDA 11.3, pytorch 1.10 installed via conda", "GTX 1080 Ti", "1.10", "11.3",
         None, "linux"),
        ("My setup: 2x A100 80GB, torch nightly, cuda 12.4", "A100", None, "12.4", None, None),
        ("I have an RTX 3060 and installed pytorch with pip", "RTX 3060", None, None, None, None),
        ("I am running this on Google Colab with a T4 GPU", "T4", None, None, None, None),
        ("Windows 11, python 3.12, torch 2.2.1 and a GeForce RTX 4070 Laptop", "GeForce RTX 4070 Laptop", "2.2.1",
         None, "3.12", "windows"),
    ],
)  # fmt: skip
def test_a_setup_sentence_states_its_facts(line, gpu, torch, cuda, python, os):
    facts = facts_of(line)
    assert facts.gpus == [gpu]
    assert facts.torch_version == torch
    assert facts.stated_cuda == cuda
    assert facts.python_version == python
    assert facts.os == os


def test_two_gpus_in_one_sentence_expect_a_gpu_but_name_none():
    facts = facts_of("I upgraded from an RTX 3090 to an RTX 5090 and now it fails")
    assert facts.gpus == []
    assert any("RTX 3090" in e and "RTX 5090" in e for e in facts.cuda_expected)


@pytest.mark.parametrize(
    "line",
    [
        "See https://pytorch.org for CUDA",  # no setup phrase
        "the release notes of CUDA 12.1 say nothing about it",  # one phrase, no ownership cue, not a short item
        "the toolkit is in /usr/local/cuda-11.8/bin, see python3.10/ for the rest",  # paths, not versions
        "compare torch 2.1 with",  # one phrase, no cue
    ],
)
def test_a_sentence_that_describes_no_setup_gives_nothing(line):
    facts = facts_of(line)
    assert facts.gpus == [] and facts.stated_cuda is None and facts.python_version is None


def test_a_key_beats_the_prose_and_a_prose_gpu_is_not_read_twice():
    facts = facts_of("PyTorch version: 2.5.1+cu124\nI use torch 2.1 with an RTX 4090, RTX 4090 Ti no")
    assert facts.torch_version == "2.5.1+cu124"
    facts = facts_of("GPU 0: NVIDIA GeForce RTX 4090\nmy GPU is the RTX 4090")
    assert facts.gpus.count("NVIDIA GeForce RTX 4090") == 1 and len(facts.gpus) == 2


def test_a_markdown_table_of_the_setup_is_read_as_keys():
    text = (
        "| Package | Version |\n|---|---|\n| torch | 2.1.0 |\n| CUDA | 12.1 |\n| GPU | RTX 3090 |\n| Python | 3.10 |\n"
    )
    facts = facts_of(text)
    assert (facts.torch_version, facts.stated_cuda, facts.gpus, facts.python_version) == (
        "2.1.0",
        "12.1",
        ["RTX 3090"],
        "3.10",
    )


@pytest.mark.parametrize(
    "text",
    [
        "I have an RTX 3060 and installed pytorch with pip but training is slow.",
        "Ubuntu 20.04, GTX 1080 Ti, CUDA 11.3, pytorch 1.10 installed via conda",
        "| GPU | RTX 3090 |\n| torch | 2.1.0 |",
    ],
)
def test_such_a_paste_is_read_not_refused(text):
    parsed = read_report(text)
    assert parsed.facts is not None and parsed.error is None


def test_only_the_head_of_a_long_log_is_read_for_a_setup_sentence():
    from torchenv.reports.lines import PROSE_SETUP_LINES

    sentence = "Ubuntu 22.04, RTX 4090, CUDA 12.4"
    assert facts_of(sentence).gpus == ["RTX 4090"]
    filler = "".join(f"step {i} loss 0.{i}\n" for i in range(PROSE_SETUP_LINES))
    assert facts_of(filler + sentence).gpus == []  # a 10 MB log costs no more than its first lines


@pytest.mark.parametrize(
    ("line", "gpu"),
    [
        ("I'm on a 4090 with torch 2.3", "RTX 4090"),
        ("my 3090 Ti shows nothing", "RTX 3090 Ti"),
        ("running on my 1660 Super", "GTX 1660 Super"),
        ("we bought 2 3090", None),  # no determiner: a count
        ("in 2020 I had 1080 problems", None),
    ],
)
def test_a_geforce_number_said_without_its_family(line, gpu):
    assert facts_of(line).gpus == ([gpu] if gpu else [])


def test_a_bulleted_setup_list_is_read_item_by_item():
    facts = facts_of("### Other\n\n- NVIDIA GeForce GTX 1080 Ti\n- Windows 10\n- 2.8.0+cu128\n\nI need help")
    assert (facts.gpus, facts.os, facts.torch_version) == (["NVIDIA GeForce GTX 1080 Ti"], "windows", "2.8.0+cu128")
    assert facts_of("* PyTorch version: 1.5.0 (CPU toolkit)").cpu_build is True


def test_a_markdown_escaped_repl_question_is_answered():
    from torchenv.reports.collect_env import normalise_text

    facts = classify_text(normalise_text("print(torch.__version\\_\\_)\n\nreturns:\n\n1.3.1\n")).facts
    assert facts.torch_version == "1.3.1"
    # several questions in one code block, the outputs after it in order
    block = "import torch\nprint(torch.__version__)\ntorch.cuda.is_available()\n\nreturns:\n\n1.3.1\nFalse\n"
    facts = classify_text(block).facts
    assert (facts.torch_version, facts.cuda_available) == ("1.3.1", False)


def test_a_torch_version_assigned_in_code_is_read():
    assert facts_of("torch.__version__ = 2.1.0+cu121").torch_version == "2.1.0+cu121"
