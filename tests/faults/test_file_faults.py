"""Inputs that are not files torchenv should read: FIFOs, devices, folders, deep JSON, huge and binary
files. One line, exit 2, at once: never a hang, a MemoryError or a RecursionError."""

from __future__ import annotations

import os

import pytest

from .harness import check_clean, torchenv

pytestmark = pytest.mark.slow


@pytest.fixture
def fifo(home):
    path = home.path / "pipe"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ("diff", "{fifo}", "snap.json"),
        ("verify", "{fifo}"),
        ("export", "{fifo}", "--format", "requirements"),
        ("doctor", "--from", "{fifo}"),
        ("explain", "--file", "{fifo}"),
    ],
)
def test_a_fifo_is_refused_not_read(argv, fifo, home):
    run = torchenv(*(a.format(fifo=fifo) for a in argv), cwd=home.path, limit=15)
    check_clean(run, bound=5)
    assert run.returncode == 2
    assert "is a FIFO (named pipe)" in run.one_line()
    home.unchanged(created=("pipe",))


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/full", "/dev/urandom"])
@pytest.mark.parametrize("command", ["diff", "doctor-from"])
def test_a_device_is_refused_not_read(device, command, home):
    argv = ("diff", device, "snap.json") if command == "diff" else ("doctor", "--from", device)
    run = torchenv(*argv, cwd=home.path, limit=15)
    check_clean(run, bound=5)
    assert run.returncode == 2 and "is a character device" in run.one_line()
    home.unchanged()


def test_a_folder_is_refused(home):
    run = torchenv("verify", "project", cwd=home.path)
    check_clean(run, bound=5)
    assert run.returncode == 2 and "is a directory" in run.one_line()


@pytest.mark.parametrize("text", ["[" * 200_000, '{"a":' * 5000 + "1" + "}" * 5000])
def test_deeply_nested_json_is_one_line(text, home):
    (home.path / "deep.json").write_text(text)
    for argv in (("diff", "deep.json", "snap.json"), ("export", "deep.json", "--format", "requirements")):
        run = torchenv(*argv, cwd=home.path)
        check_clean(run, bound=5)
        assert run.returncode == 2 and "nested" in run.one_line()
    run = torchenv("doctor", "--from", "deep.json", cwd=home.path)
    check_clean(run, bound=5)
    assert run.returncode == 2
    home.unchanged(created=("deep.json",))


def test_a_huge_file_is_refused_without_reading_it(home):
    huge = home.path / "huge.json"
    with open(huge, "wb") as handle:  # sparse: 3 GB that take no disk
        handle.truncate(3 << 30)
    run = torchenv("diff", "huge.json", "snap.json", cwd=home.path)
    check_clean(run, bound=5)
    assert run.returncode == 2 and "too large" in run.one_line()
    huge.unlink()  # (hashing 3 GB of zeros to prove it unchanged would take longer than the test)
    home.unchanged()


def test_binary_garbage_is_one_line(home):
    (home.path / "bin.json").write_bytes(os.urandom(4096))
    run = torchenv("verify", "bin.json", cwd=home.path)
    check_clean(run, bound=5)
    assert run.returncode == 2 and "binary data" in run.one_line()
