"""Outputs that cannot be written, or must not be replaced; flags that would disable a bound.
Refused before any work where it can be known, one line; a device is written to, never replaced."""

from __future__ import annotations

import os
import stat

import pytest

from .harness import check_clean, torchenv

pytestmark = pytest.mark.slow


def test_snapshot_to_dev_full_is_one_line_and_no_file(home):
    run = torchenv("snapshot", "-o", "/dev/full", "--timeout", "20", cwd=home.path)
    check_clean(run, bound=25)
    assert run.returncode == 2
    assert run.one_line() == "torchenv: /dev/full: cannot write it (No space left on device)"
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # still the device, never replaced
    home.unchanged()


def test_snapshot_to_dev_null_writes_to_the_device_and_keeps_it(home):
    run = torchenv("snapshot", "-o", "/dev/null", "--force", "--timeout", "20", cwd=home.path)
    check_clean(run, bound=25)
    assert run.returncode == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    home.unchanged()


def test_snapshot_to_a_fifo_nobody_reads_is_refused_not_blocked(home):
    os.mkfifo(home.path / "out.pipe")
    run = torchenv("snapshot", "-o", "out.pipe", "--timeout", "20", cwd=home.path)
    check_clean(run, bound=25)
    assert run.returncode == 2 and "no process is reading" in run.one_line()
    assert stat.S_ISFIFO(os.stat(home.path / "out.pipe").st_mode)


def test_snapshot_over_a_foreign_file_is_refused_before_the_probe(home):
    run = torchenv("snapshot", "-o", "settings.json", cwd=home.path)
    check_clean(run, bound=4)
    assert run.returncode == 2 and "refusing to overwrite it" in run.one_line()
    assert not run.seen  # refused before any probe started
    home.unchanged()


def test_export_over_an_existing_file_is_refused(home):
    run = torchenv("export", "snap.json", "--format", "requirements", "-o", "notes.txt", cwd=home.path)
    check_clean(run, bound=5)
    assert run.returncode == 2 and "refusing to overwrite it" in run.one_line()
    home.unchanged()


@pytest.mark.parametrize("target", ["missing/dir/req.txt", "project", "/proc/torchenv-req.txt"])
def test_export_to_an_unwritable_place_is_one_line(target, home):
    run = torchenv("export", "snap.json", "--format", "requirements", "-o", target, cwd=home.path)
    check_clean(run, bound=5)
    assert run.returncode == 2 and target in run.one_line()
    home.unchanged()


def test_bench_html_in_an_unwritable_place_is_refused_before_the_worker(home):
    run = torchenv("bench", "--quick", "--device", "cpu", "--html", "/proc/torchenv-bench.html", cwd=home.path)
    check_clean(run, bound=4)
    assert run.returncode == 2 and "--html /proc/torchenv-bench.html" in run.one_line()
    assert not run.seen  # no worker was started
    home.unchanged()


def test_tune_add_to_html_refuses_a_file_that_is_not_a_torchenv_report(home):
    run = torchenv("tune", "transformer", "--device", "cpu", "--add-to-html", "notes.txt", cwd=home.path)
    check_clean(run, bound=4)
    assert run.returncode == 2 and "not a torchenv HTML report" in run.one_line()
    assert not run.seen
    home.unchanged()


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--min-gain", "nan"), ("--min-gain", "inf"), ("--min-gain", "-1"), ("--budget", "nan"), ("--tolerance", "inf")],
)
def test_tune_numbers_that_would_disable_a_bound_are_refused(flag, value, home):
    run = torchenv("tune", "transformer", "--device", "cpu", flag, value, cwd=home.path)
    check_clean(run, bound=4)
    assert run.returncode == 2 and flag in run.one_line()
    assert not run.seen


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_bench_timeouts_that_would_disable_the_bound_are_refused(value, home):
    run = torchenv("bench", "--quick", "--timeout", value, cwd=home.path)
    check_clean(run, bound=4)
    assert run.returncode == 2 and "--timeout" in run.one_line()


def test_create_where_no_folder_can_be_made_says_the_truth(home):
    run = torchenv("create", "/proc/torchenv-env", "--installer", "pip", "--torch", "2.13.0", cwd=home.path)
    check_clean(run, bound=10)
    assert run.returncode == 2
    assert "/proc does not take new folders" in run.one_line()
    assert "kept" not in run.stdout + run.stderr
