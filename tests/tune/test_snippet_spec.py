"""Snippets are valid Python for every configuration; workload specs parse."""

from __future__ import annotations

import itertools

import pytest

from torchenv.tune.snippet import render_determinism_snippet, render_snippet
from torchenv.tune.spec import SpecError, parse_workload


@pytest.mark.parametrize(
    "tf32,amp,cl,bench,opt,comp",
    list(
        itertools.product(
            (False, True),
            (None, "bf16", "fp16"),
            (False, True),
            (False, True),
            ("default", "fused"),
            (None, "default", "max-autotune"),
        )
    )[::7],
)
def test_snippets_compile(tf32, amp, cl, bench, opt, comp):
    config = {"tf32": tf32, "amp": amp, "channels_last": cl, "benchmark": bench, "optimizer": opt, "compile": comp}
    text = render_snippet(
        config,
        optimizer="AdamW",
        optimizer_args={"lr": 3e-4, "betas": (0.9, 0.95)},
        loader={"num_workers": 8, "pin_memory": True, "prefetch_factor": 4, "persistent_workers": True},
        break_even_steps=900,
        compile_s=40.0,
    )
    compile(text, "snippet", "exec")
    assert ("allow_tf32 = True" in text) == tf32
    assert ("GradScaler" in text) == (amp == "fp16")
    assert ("fused=True" in text) == (opt == "fused")


def test_plain_step_and_determinism_snippets():
    compile(render_snippet({"amp": "bf16"}, plain_step=True, unchecked=True), "s", "exec")
    assert "not checked" in render_snippet({"amp": "bf16"}, plain_step=True, unchecked=True)
    assert "CUBLAS_WORKSPACE_CONFIG" in render_determinism_snippet("cuda")
    compile(render_determinism_snippet("cpu"), "s", "exec")


def test_parse_workload(tmp_path):
    assert parse_workload("resnet50").builtin == "resnet50"
    f = tmp_path / "w.py"
    f.write_text("def make(): pass\n")
    spec = parse_workload(f"{f}:make")
    assert spec.path == str(f) and spec.factory == "make" and spec.argument == f"{f}:make"
    for bad in ("vgg", f"{f}:not-a-name", "file.txt:make", str(tmp_path / "missing.py") + ":make"):
        with pytest.raises(SpecError):
            parse_workload(bad)
