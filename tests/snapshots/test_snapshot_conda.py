"""Conda envs from real conda-meta records and environment.yml files (tests/fixtures/snapshots)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import yaml

from snapshot_helpers import FIXTURES, WHEN, load_h100_facts
from torchenv.model import Distribution, Unknown
from torchenv.probes.conda_meta import read_conda_meta
from torchenv.reports.conda_meta import (
    channel_name,
    parse_conda_history,
    parse_conda_meta_record,
    parse_environment_yml,
    pypi_name,
)
from torchenv.snapshots.build import double_installs, installed_by, snapshot_from_facts
from torchenv.snapshots.export import export_environment_yml, export_pixi_toml, export_requirements

CONDA_ENV = FIXTURES / "conda-env"


def test_real_pixi_record():
    record = json.loads((CONDA_ENV / "conda-meta" / "pytorch-gpu-2.7.1-cuda129_mkl_h43a4b0b_304.json").read_text())
    package = parse_conda_meta_record(record)
    assert (package.name, package.version, package.build) == ("pytorch-gpu", "2.7.1", "cuda129_mkl_h43a4b0b_304")
    assert package.channel == "conda-forge" and package.subdir == "linux-64"


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("https://conda.anaconda.org/conda-forge/", "conda-forge"),
        ("https://conda.anaconda.org/conda-forge/linux-64", "conda-forge"),
        ("https://conda.anaconda.org/pytorch/linux-64", "pytorch"),
        ("https://repo.anaconda.com/pkgs/main/linux-64", "defaults"),
        ("pkgs/main", "defaults"),
        ("nvidia", "nvidia"),
        ("https://my.mirror.example/conda/team", "https://my.mirror.example/conda/team"),
    ],
)
def test_channel_names(raw, name):
    assert channel_name(raw) == name


def test_record_without_fields_falls_back_to_the_file_name():
    package = parse_conda_meta_record(
        {"url": "https://conda.anaconda.org/nvidia/linux-64/x.conda"}, "cudnn-9.1.0-h1_0.json"
    )
    assert (package.name, package.version, package.build, package.channel) == ("cudnn", "9.1.0", "h1_0", "nvidia")


def test_history_applies_updates_and_removals():
    history = (CONDA_ENV / "conda-meta" / "history").read_text()
    assert parse_conda_history(history) == ("python=3.13", "pytorch-gpu", "cuda-version=12.9")
    old = "# install specs: param >=1.5.1,<2.0, numpy\n# update specs: [\"param[version='>=1.5.1,<2.0']\"]\n"
    assert parse_conda_history(old) == ("numpy", "param[version='>=1.5.1,<2.0']")


def test_pypi_names():
    assert pypi_name("pytorch") == "torch"
    assert pypi_name("torchtriton") == "triton"
    assert pypi_name("typing_extensions") == "typing-extensions"
    assert (
        pypi_name("cuda-runtime") is None
        and pypi_name("libtorch") is None
        and pypi_name("pytorch-gpu") is None
        and pypi_name("python") is None
    )


def conda_snapshot(*, torch_installer: str):
    """The lesson's conda env, with a torch dist-info whose INSTALLER says who wrote it last."""
    facts = load_h100_facts()
    dists = (
        Distribution("torch", "2.7.1", "/opt/conda/envs/cuda-example/lib/python3.13/site-packages", torch_installer),
        Distribution(
            "typing-extensions", "4.14.1", "/opt/conda/envs/cuda-example/lib/python3.13/site-packages", "conda"
        ),
        Distribution(
            "rich",
            "14.0.0",
            "/opt/conda/envs/cuda-example/lib/python3.13/site-packages",
            "pip",
            requires=("pygments<3",),
        ),
        Distribution("pygments", "2.19.2", "/opt/conda/envs/cuda-example/lib/python3.13/site-packages", "pip"),
    )
    python = replace(
        facts.python,
        conda_prefix="/opt/conda/envs/cuda-example",
        prefix="/opt/conda/envs/cuda-example",
        version="3.13.5",
        distributions=dists,
    )
    conda = read_conda_meta(CONDA_ENV)
    assert conda is not None and not conda.errors
    return snapshot_from_facts(replace(facts, python=python), conda=conda, created=WHEN)


def test_conda_and_pip_installs_told_apart():
    snapshot = conda_snapshot(torch_installer="conda")
    installers = {p.name: installed_by(snapshot, p) for p in snapshot.packages}
    assert installers == {"torch": "conda", "typing-extensions": "conda", "rich": "pip", "pygments": "pip"}
    assert {p.name for p in snapshot.conda_packages} >= {"pytorch", "pytorch-gpu", "cuda-version", "python"}
    assert snapshot.conda_requested == ("python=3.13", "pytorch-gpu", "cuda-version=12.9")
    assert double_installs(snapshot) == []


def test_torch_installed_by_conda_and_pip_is_flagged():
    snapshot = conda_snapshot(torch_installer="pip")
    [double] = double_installs(snapshot)
    assert double.name == "torch"
    assert "conda pytorch 2.7.1 (conda-forge)" in double.how and "pip torch 2.7.1" in double.how


def test_environment_yml_export_of_a_conda_env_round_trips_through_yaml():
    snapshot = conda_snapshot(torch_installer="conda")
    full = parse_environment_yml(yaml.safe_load(export_environment_yml(snapshot)))
    assert full.channels == ("conda-forge",)
    assert "pytorch=2.7.1=cuda129_mkl_py313_h1e53aa0_304" in full.conda
    assert "python=3.13.5=h31de7b5_100_cp313" in full.conda
    assert full.pip == ("pygments==2.19.2", "rich==14.0.0")  # conda's torch is not repeated under pip
    minimal = parse_environment_yml(yaml.safe_load(export_environment_yml(snapshot, minimal=True)))
    assert minimal.conda == ("python=3.13", "pytorch-gpu", "cuda-version=12.9", "pip")
    assert minimal.pip == ("rich==14.0.0",)  # pygments is required by rich


def test_pixi_toml_export_of_a_conda_env():
    import tomllib

    snapshot = conda_snapshot(torch_installer="conda")
    minimal = tomllib.loads(export_pixi_toml(snapshot, minimal=True))
    assert minimal["workspace"]["platforms"] == ["linux-64"]
    assert minimal["dependencies"] == {"python": "3.13.*", "pytorch-gpu": "*", "cuda-version": "12.9.*"}
    assert minimal["system-requirements"] == {"cuda": "13.0"}  # the probed torch (H100 facts) is cu130
    full = tomllib.loads(export_pixi_toml(snapshot))
    assert full["dependencies"]["pytorch"] == {"version": "==2.7.1", "build": "cuda129_mkl_py313_h1e53aa0_304"}
    assert full["pypi-dependencies"] == {"pygments": "==2.19.2", "rich": "==14.0.0"}


def test_requirements_of_a_conda_env_leave_conda_packages_out():
    text = export_requirements(conda_snapshot(torch_installer="conda"))
    assert "torch==" not in text and "rich==14.0.0" in text and "environment.yml" in text


def test_real_conda_env_export_with_torch_from_both():
    """A real `conda env export`: pytorch from the pytorch channel and torch again from pip."""
    env = parse_environment_yml(yaml.safe_load((FIXTURES / "conda-export-pytorch-pip-torch.yml").read_text()))
    assert env.channels[0] == "pytorch"
    conda_torch = [s for s in env.conda if s.startswith("pytorch=")]
    pip_torch = [s for s in env.pip if s.startswith("torch==")]
    assert conda_torch == ["pytorch=2.0.1=py3.10_cuda11.7_cudnn8.5.0_0"] and pip_torch == ["torch==2.0.1"]
    # The same file as a snapshot's package lists: the double install is flagged.
    from torchenv.model.snapshot import SnapshotCondaPackage, SnapshotPackage
    from torchenv.reports.conda_meta import conda_spec_parts

    conda = tuple(
        SnapshotCondaPackage(name, version or "", build or "", env.channels[0])
        for name, version, build in map(conda_spec_parts, env.conda)
    )
    pip = tuple(
        SnapshotPackage(line.split("==")[0], line.split("==")[1], "pip", Unknown("not in the file")) for line in env.pip
    )
    snapshot = replace(conda_snapshot(torch_installer="conda"), conda_packages=conda, packages=pip)
    flagged = {d.name for d in double_installs(snapshot)}
    assert {"torch", "torchvision"} <= flagged
