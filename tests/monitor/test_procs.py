"""The job's process tree from a fake /proc: names with spaces, children files and the scan fallback,
CPU time, the NVIDIA device files a process holds."""

from __future__ import annotations

import shutil

import pytest

from torchenv.monitor.procs import ProcReader, parse_stat

from .helpers import write_proc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42 (python) S 1 42 42 0 -1 0 0 0 0 0 150 50 0 0 20 0 1 0", (1, "python", 200)),
        ("43 (pt data (worker) 1) R 42 42 42 0 -1 0 0 0 0 0 7 3 0 0", (42, "pt data (worker) 1", 10)),
        ("44 (x) S", None),
        ("garbage", None),
    ],
)
def test_parse_stat(text, expected):
    got = parse_stat(int(text.split()[0]) if text[0].isdigit() else 0, text)
    assert (None if got is None else (got.ppid, got.name, got.cpu_ticks)) == expected


def tree(tmp_path):
    write_proc(
        tmp_path, 10, children=(11, 12), cpu_ticks=300, devices=("/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia-uvm")
    )
    write_proc(tmp_path, 11, ppid=10, children=(13,), cpu_ticks=100, devices=("/dev/nvidia1", "/dev/null"))
    write_proc(tmp_path, 12, ppid=10, cpu_ticks=100)
    write_proc(tmp_path, 13, ppid=11, cpu_ticks=0)
    write_proc(tmp_path, 99, ppid=1, cpu_ticks=999)  # not ours
    return ProcReader(tmp_path)


def test_tree_through_children_files(tmp_path):
    procs = tree(tmp_path)
    assert procs.tree(10) == {10, 11, 12, 13}
    assert procs.tree(11) == {11, 13}
    assert procs.tree(12345) == frozenset()
    assert procs.children_files


def test_tree_by_scanning_stat_when_the_kernel_has_no_children_files(tmp_path):
    procs = tree(tmp_path)
    for pid in (10, 11, 12, 13, 99):
        for task in (tmp_path / "proc" / str(pid) / "task").iterdir():
            (task / "children").unlink()
    assert procs.tree(10) == {10, 11, 12, 13}
    assert not procs.children_files


def test_cpu_seconds_names_and_devices(tmp_path):
    procs = tree(tmp_path)
    procs.ticks_per_s = 100
    assert procs.cpu_seconds({10, 11, 12, 13, 4242}) == pytest.approx(5.0)
    assert procs.name(11) == "python"
    assert procs.nvidia_minors(10) == {0}
    assert procs.nvidia_minors(11) == {1}
    assert procs.nvidia_minors(12) == frozenset()
    shutil.rmtree(tmp_path / "proc" / "12")
    (tmp_path / "proc" / "10" / "task" / "10" / "children").write_text("11 ")  # the kernel's view once 12 is reaped
    assert not procs.exists(12) and procs.name(12) is None and procs.stat(12) is None and not procs.alive(12)
    assert procs.alive(10)
    (tmp_path / "proc" / "13" / "stat").write_text("13 (python) Z 11 0 0 0 0 0 0 0 0 0 0 0 0 0")
    assert procs.exists(13) and not procs.alive(13)
    assert procs.tree(10) == {10, 11, 13}


def test_the_real_proc_finds_this_process():
    import os

    procs = ProcReader("/")
    assert os.getpid() in procs.tree(os.getpid())
    assert procs.stat(os.getpid()).name
