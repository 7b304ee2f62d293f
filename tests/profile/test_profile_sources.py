"""Finding the exact call in the user's source (torchenv.profile.sources): the function a Kineto frame
names (by its def line, or a line of its body when it was already running), the calls of a name in
its own body, and never an exception for a file that is missing, changed or unparsable."""

from __future__ import annotations

import textwrap

from torchenv.profile.sources import SourceFiles, call_names

SOURCE = textwrap.dedent(
    """\
    import functools


    def train_step(model, x, opt):
        x = x.to("cuda")
        y = x.to("cuda")
        loss = model(x).mean()
        opt.step()
        if loss > 0:
            print(loss.item())
        return loss.item()


    @functools.lru_cache
    def cached():
        def inner(t):
            return t.item()
        return inner


    for i in range(3):
        train_step(None, None, None)
    """
)


def _files(tmp_path):
    (tmp_path / "train.py").write_text(SOURCE)
    return SourceFiles([str(tmp_path / "nowhere"), str(tmp_path)])


def test_a_frame_entered_in_the_trace_is_found_by_its_def_line(tmp_path):
    fs = _files(tmp_path).function("train.py", "train_step", 4)
    assert (fs.def_line, fs.first_line, fs.last_line) == (4, 4, 11)
    assert fs.calls["item"] == (10, 11) and fs.calls["to"] == (5, 6) and fs.calls["step"] == (8,)
    assert {5, 6, 8, 11} <= fs.straight and 10 not in fs.straight  # line 10 runs under an `if`


def test_a_frame_already_running_is_found_by_a_line_of_its_body(tmp_path):
    assert _files(tmp_path).function("train.py", "train_step", 8).def_line == 4


def test_decorated_and_nested_functions(tmp_path):
    files = _files(tmp_path)
    assert files.function("train.py", "cached", 14).def_line == 15  # co_firstlineno: the decorator
    assert "item" not in files.function("train.py", "cached", 15).calls  # inner's call is inner's
    assert files.function("train.py", "inner", 16).calls["item"] == (17,)


def test_the_module_level(tmp_path):
    fs = _files(tmp_path).function("train.py", "<module>", 22)
    assert fs.calls["train_step"] == (22,) and 22 not in fs.straight  # inside a for loop


def test_missing_changed_or_broken_files_give_none(tmp_path):
    files = _files(tmp_path)
    assert files.function("other.py", "train_step", 4) is None
    assert files.function("train.py", "renamed", 4) is None  # the file changed since the trace
    assert files.function("train.py", "train_step", 40) is None
    assert files.function("<string>", "f", 1) is None
    (tmp_path / "bad.py").write_text("def f(:\n")
    assert files.function("bad.py", "f", 1) is None
    (tmp_path / "bin.py").write_bytes(b"\xff\xfe\x00def")
    assert files.function("bin.py", "f", 1) is None
    assert SourceFiles([str(tmp_path)], limit=10).function("train.py", "train_step", 4) is None


def test_call_names_from_the_trace_events():
    assert call_names("<built-in method item of Tensor object at 0x7f93673b37f0>") == ("item",)
    assert call_names("<built-in method items of dict object at 0x7f>") == ("items",)
    assert call_names("<built-in function linear>") == ("linear",)
    assert call_names("<built-in method __float__ of Tensor object at 0x1>") == ("__float__", "float")
    assert call_names(None, "backward") == ("backward",)
    assert call_names(None, "<genexpr>") == ()
