"""Reader defects found on the tuning half of corpus sweep 8 (tests/corpus/README.md), each tested on the real paste.

The top cause of these pastes was already right; the facts under it were not:

- a key/value fact (`- **PyTorch:** 2.9.1+cpu`) loses to a version the reporter names in running text (p141);
- detectron2's table is skipped when the paste is cut above its opening rule (p153): GPU, Python, torch path lost;
- CPython's Windows banner (`[MSC v.1932 64 bit (AMD64)]`, p085) and SD.Next's `Python 3.10.11 on Windows`
  (p114) name the OS (and SD.Next's line the Python) but were not read;
- `CUDA build: None` (a script printing torch.version.cuda, p157) is a CPU build;
- a torch wheel URL on a line saying it failed (`*Failed URL:*` returning 404, p105) names no installed torch;
- Ultralytics' `Invalid CUDA 'device=0' requested` shows a GPU is meant to be used (p151);
- a line that is only a GeForce model (`Nvidia GeForce RTX 3050 laptop GPU`, p102) names the GPU;
- a wheel URL keeps its `%2B` local part (`torch-2.0.1%2Brocm5.4.2`, p052) instead of reading as `torch-2.0.1`.
"""

from __future__ import annotations

from pathlib import Path

import tomllib

from torchenv.checks.explain import diagnose_report, gpu_expected
from torchenv.model import Severity, known
from torchenv.reports.detect import read_report
from torchenv.reports.lines import classify_text

CORPUS = Path(__file__).parent.parent / "corpus"
PASTES = {row["file"]: row for row in tomllib.loads((CORPUS / "pastes" / "index.toml").read_text())["paste"]}


def _paste(prefix: str) -> str:
    (name,) = [n for n in PASTES if n.startswith(prefix)]
    assert PASTES[name]["half"] == "tuning", "rules are tested on the tuning half only"
    return (CORPUS / "pastes" / name).read_text(encoding="utf-8")


def _details(parsed) -> dict[str, str]:
    return {line.text.strip(): line.detail for line in parsed.lines}


def test_a_stated_key_beats_a_version_named_in_running_text(knowledge):
    # p141 (edenaion/EZ-CorridorKey#29): "I have Pytorch Version 2.10.0+cu128 ..." then "- **PyTorch:** 2.9.1+cpu"
    parsed = read_report(_paste("p141-"))
    assert parsed.facts.torch.version == "2.9.1+cpu"
    assert parsed.facts.torch.cuda is None  # the CPU build (no CUDA), not the 12.8 the reporter believes installed
    report = diagnose_report(parsed, knowledge, torchenv_version="test")
    problems = [f for f in report.findings if f.severity is not Severity.INFO]
    assert problems[0].category == "cpu-only-build"
    assert "2.9.1+cpu" in problems[0].title, problems[0].title


def test_running_text_may_only_complete_a_stated_version_with_its_local_part():
    reading = classify_text("torch: 2.1.0\nSuccessfully installed torch-2.1.0+cu121\n")
    assert reading.facts.torch_version == "2.1.0+cu121"
    reading = classify_text("torch: 2.1.0+cpu\nI also tried torch==2.3.1+cu121 before\n")
    assert reading.facts.torch_version == "2.1.0+cpu"


def test_detectron2_table_cut_above_its_opening_rule_is_still_read():
    # p153 (facebookresearch/detectron2#3620): the paste starts at the sys.platform row
    parsed = read_report(_paste("p153-"))
    assert parsed.format == "detectron2 collect_env"
    gpus = parsed.facts.gpus.gpus
    assert known(gpus) and [g.name for g in gpus] == ["NVIDIA A100-SXM4-40GB"]
    assert gpus[0].cc == (8, 0)
    assert parsed.facts.python.version == "3.6.10"
    assert parsed.facts.torch.location == "/opt/conda/lib/python3.6/site-packages/torch"


def test_python_banners_name_the_os():
    # p085 (AUTOMATIC1111/stable-diffusion-webui, 5090 console log): CPython's MSC banner is Windows-only
    assert read_report(_paste("p085-")).facts.host.os == "windows"
    # p114 (SD.Next log): "Python 3.10.11 on Windows"; p018 (SD.Next log): "Python 3.10.11 on Linux"
    sdnext = read_report(_paste("p114-")).facts
    assert sdnext.host.os == "windows" and sdnext.python.version == "3.10.11"
    assert read_report(_paste("p018-")).facts.host.os == "linux"
    repl = classify_text("Python 3.11.14 (main, Oct 10 2025, 08:54:03) [GCC 11.4.0] on linux\n")
    assert repl.facts.os == "linux"


def test_cuda_build_none_is_a_cpu_build():
    # p157 (docker/model-runner#1018): print('CUDA build:', torch.version.cuda) -> "CUDA build: None"
    parsed = read_report(_paste("p157-"))
    assert parsed.evidence.cpu_build is True
    assert _details(parsed)["CUDA build: None"] == "cuda_build: none"


def test_a_failed_wheel_url_names_no_installed_torch():
    # p105 (pinokiocomputer/pinokio#1027): "*Failed URL:* `https://.../torch-2.1.0a0+41361538.nv23.06-...whl`" (404)
    parsed = read_report(_paste("p105-"))
    assert parsed.evidence.torch_version is None
    assert not known(parsed.facts.torch) or not known(parsed.facts.torch.version)
    failed = [line for line in parsed.lines if "Failed URL" in line.text]
    assert failed and "torch wheel not installed" in failed[0].detail
    # a wheel that did download still names the torch
    ok = classify_text("Downloading https://download.pytorch.org/whl/torch-2.0.1-cp310-cp310-linux_x86_64.whl (619 MB)")
    assert ok.facts.torch_version == "2.0.1"


def test_a_requested_cuda_device_shows_a_gpu_is_expected():
    # p151 (SunOner/sunone_aimbot#47): Ultralytics' select_device with torch-2.1.0+cpu
    parsed = read_report(_paste("p151-"))
    assert any("Invalid CUDA 'device=0' requested" in line for line in gpu_expected(parsed))


def test_a_line_naming_only_a_geforce_is_the_gpu():
    # p102 (lllyasviel/Fooocus, driver 470): "Nvidia GeForce RTX 3050 laptop GPU" under "Ubuntu 21.04"
    gpus = read_report(_paste("p102-")).facts.gpus.gpus
    assert known(gpus) and [g.name for g in gpus] == ["Nvidia GeForce RTX 3050 laptop GPU"]
    # running text is not a line that is only a GPU's name (a setup sentence, "my GPU is ...", is prose_facts')
    assert classify_text("They say the RTX 3050 works in games\n").facts.gpus == []


def test_a_wheel_url_keeps_its_local_part():
    # p052 (SD webui on an iGPU machine): pip's "Using cached https://.../torch-2.0.1%2Brocm5.4.2-cp311-...whl"
    (line,) = [t for t in _paste("p052-").splitlines() if "%2B" in t]
    assert classify_text(line + "\n").facts.torch_version == "2.0.1+rocm5.4.2"
