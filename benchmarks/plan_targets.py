"""`torchenv plan` for a table of realistic targets, printed as markdown (issue 11's "must show").

    python benchmarks/plan_targets.py > benchmarks/results/plan-targets.md

Each row is what a user would type (loose GPU names, old drivers, WSL, Windows, aarch64/Jetson,
free-threaded Python, pins) and what the plan answers: the build, the driver support it relies on,
or why it cannot be met. Input errors (an ambiguous or unknown GPU, a cc no GPU has) are rows too.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from torchenv.knowledge import load_knowledge
from torchenv.model.plan import PlanRequest
from torchenv.planners import PlanInputError, describe_target, plan_for

TARGETS = [
    # (what the user typed, describe_target kwargs, PlanRequest kwargs)
    ("--gpu H100", {"gpus": ["H100"]}, {}),
    ("--gpu H100 --driver 535.104.05", {"gpus": ["H100"], "driver": "535.104.05"}, {}),
    ("--gpu H100 --driver 550.54.14", {"gpus": ["H100"], "driver": "550.54.14"}, {}),
    ("--gpu h200 --driver 580.159.04", {"gpus": ["h200"], "driver": "580.159.04"}, {}),
    ("--gpu A100 --driver 525.60.13", {"gpus": ["A100"], "driver": "525.60.13"}, {}),
    ("--gpu A100 --driver 470.82.01", {"gpus": ["A100"], "driver": "470.82.01"}, {}),
    ("--gpu V100 --driver 580.95.05", {"gpus": ["V100"], "driver": "580.95.05"}, {}),
    ("--gpu V100 --driver 580.95.05 --torch 2.11", {"gpus": ["V100"], "driver": "580.95.05"}, {"torch": "2.11"}),
    ("--gpu V100 --driver 590.44.01", {"gpus": ["V100"], "driver": "590.44.01"}, {}),
    ("--gpu 4090", {"gpus": ["4090"]}, {}),
    ("--gpu 'RTX 4090' --driver 470", {"gpus": ["RTX 4090"], "driver": "470"}, {}),
    ("--gpu 'rtx4090' --driver 525.60.13", {"gpus": ["rtx4090"], "driver": "525.60.13"}, {}),
    ("--gpu 'RTX 5090' --driver 570.86.10", {"gpus": ["RTX 5090"], "driver": "570.86.10"}, {}),
    ("--gpu 'RTX 5090' --driver 535.104.05", {"gpus": ["RTX 5090"], "driver": "535.104.05"}, {}),
    ("--gpu 'RTX 5090' --torch 2.6", {"gpus": ["RTX 5090"]}, {"torch": "2.6"}),
    ("--gpu 3060 --python 3.9", {"gpus": ["3060"], "python": "3.9"}, {}),
    ("--gpu 'GTX 1080 Ti' --driver 535.104.05", {"gpus": ["GTX 1080 Ti"], "driver": "535.104.05"}, {}),
    ("--gpu 'GTX 1080 Ti' --driver 580.95.05", {"gpus": ["GTX 1080 Ti"], "driver": "580.95.05"}, {}),
    ("--gpu K80 --driver 470.82.01", {"gpus": ["K80"], "driver": "470.82.01"}, {}),
    ("--gpu K80 --driver 535.104.05", {"gpus": ["K80"], "driver": "535.104.05"}, {}),
    ("--gpu T4 --driver 450.80.02", {"gpus": ["T4"], "driver": "450.80.02"}, {}),
    ("--gpu B200 --driver 570.124.06", {"gpus": ["B200"], "driver": "570.124.06"}, {}),
    ("--gpu 'RTX 6000'", {"gpus": ["RTX 6000"]}, {}),
    ("--gpu 'RTX 6000 Ada'", {"gpus": ["RTX 6000 Ada"]}, {}),
    ("--gpu 'Titan X Pascal'", {"gpus": ["Titan X Pascal"]}, {}),
    ("--cc 8.6 --driver 560.28.03", {"cc": ["8.6"], "driver": "560.28.03"}, {}),
    ("--cc 99.9", {"cc": ["99.9"]}, {}),
    ("--cc none", {"cc": ["none"]}, {}),
    ("--no-gpu --python 3.8", {"no_gpu": True, "python": "3.8"}, {}),
    ("--os wsl --gpu 4090 --driver 580.70", {"os": "wsl", "gpus": ["4090"], "driver": "580.70"}, {}),
    ("--os wsl --gpu 4090 --driver 566.36", {"os": "wsl", "gpus": ["4090"], "driver": "566.36"}, {}),
    ("--os wsl --gpu 3060 --driver 531.14", {"os": "wsl", "gpus": ["3060"], "driver": "531.14"}, {}),
    ("--os windows --gpu 4090 --driver 581.42", {"os": "windows", "gpus": ["4090"], "driver": "581.42"}, {}),
    ("--os windows --gpu 4090 --driver 572.16", {"os": "windows", "gpus": ["4090"], "driver": "572.16"}, {}),
    ("--os windows --no-gpu", {"os": "windows", "no_gpu": True}, {}),
    ("--os macos", {"os": "macos"}, {}),
    ("--os macos --arch x86_64 --python 3.11", {"os": "macos", "arch": "x86_64", "python": "3.11"}, {}),
    (
        "--arch aarch64 --gpu GH200 --driver 580.65.06",
        {"arch": "aarch64", "gpus": ["GH200"], "driver": "580.65.06"},
        {},
    ),
    ("--gpu 'Jetson AGX Orin'", {"gpus": ["Jetson AGX Orin"]}, {}),
    ("--gpu 'Jetson Orin'", {"gpus": ["Jetson Orin"]}, {}),
    ("--gpu 'Jetson AGX Xavier' --python 3.8", {"gpus": ["Jetson AGX Xavier"], "python": "3.8"}, {}),
    ("--gpu 'Jetson Orin Nano' --python 3.12", {"gpus": ["Jetson Orin Nano"], "python": "3.12"}, {}),
    ("--gpu H100 --python 3.13t", {"gpus": ["H100"], "python": "3.13t"}, {}),
    ("--gpu H100 --python 3.14t", {"gpus": ["H100"], "python": "3.14t"}, {}),
    ("--gpu H100 --python 3.15", {"gpus": ["H100"], "python": "3.15"}, {}),
    ("--gpu A100 --torch 2.5 --python 3.13", {"gpus": ["A100"], "python": "3.13"}, {"torch": "2.5"}),
    (
        "--gpu A100 --torch '>=2.4,<2.6' --driver 535.104.05",
        {"gpus": ["A100"], "driver": "535.104.05"},
        {"torch": ">=2.4,<2.6"},
    ),
    ("--gpu L4 --variant cu126", {"gpus": ["L4"]}, {"variant": "cu126"}),
    ("--gpu 'Quadro K6000'", {"gpus": ["Quadro K6000"]}, {}),
]


def main() -> int:
    k = load_knowledge()
    print(f"# `torchenv plan` on {len(TARGETS)} targets (knowledge {k.version})\n")
    print("Generated by `python benchmarks/plan_targets.py`. `driver` is the support the plan relies on.\n")
    print("| target | plan | driver | why / what cannot be met |")
    print("|---|---|---|---|")
    for typed, target_args, request_args in TARGETS:
        try:
            plan = plan_for(describe_target(k, **target_args), k, PlanRequest(**request_args))
        except PlanInputError as exc:
            print(f"| `{typed}` | refused (usage) | | {str(exc).replace('|', '/')} |")
            continue
        if plan.ok:
            build = f"{plan.torch}+{plan.variant}" + (f", py{plan.python}" if plan.python else "")
            support = plan.driver_support or ("JetPack" if plan.variant.startswith("jp") else "none")
            why = next((r for r in plan.reasons if plan.variant in r or "Jetson" in r), plan.reasons[-1])
            print(f"| `{typed}` | {build} | {support} | {why.replace('|', '/')} |")
        else:
            print(f"| `{typed}` | cannot be met | | {'; '.join(plan.unmet).replace('|', '/')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
