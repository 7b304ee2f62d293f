"""One answer per question: doctor, plan, verify --host-only and explain on the same facts, side by side.

    python benchmarks/one_answer.py DOCTOR.json [SNAPSHOT.json]

Reads a `torchenv doctor --json` report (this machine's facts), then asks every consumer of the
compatibility engine the same question — does this driver run the installed torch's CUDA? — on the
real facts and on the same facts with older drivers and under WSL, and prints one row per case. A row
whose answers disagree is marked DISAGREE and the script exits 1. `answers()` is also what the
property test in tests/unit/test_one_answer.py checks on generated targets.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from torchenv.checks import diagnose
from torchenv.checks.explain import condition, facts_details
from torchenv.checks.fixes import doctor_plan, plan_command
from torchenv.checks.torch_build import installed_driver_support
from torchenv.compat.driver import FULL, MINOR_COMPAT, TOO_OLD
from torchenv.knowledge import load_knowledge
from torchenv.snapshots.build import snapshot_from_facts
from torchenv.snapshots.verify import verify_host

DOCTOR_LEVEL = {"driver-too-old": TOO_OLD, "driver-minor-version-compat": MINOR_COMPAT}
VERIFY_LEVEL = {"ok": FULL, "warn": MINOR_COMPAT, "fail": TOO_OLD}


@dataclass(frozen=True)
class Answers:
    compat: str | None  # the engine's level for the installed torch on this driver
    doctor: str | None  # the level the doctor's findings imply
    verify: str | None  # verify --host-only's driver-floor status, as a level
    explain: bool | None  # explain's driver-older-than-torch-cuda condition
    doctor_commands: tuple[str, ...]  # every install command in the doctor's fixes
    plan_command: str | None  # `torchenv plan` for the same facts, as the doctor would print it

    @property
    def disagreements(self) -> list[str]:
        out = []
        if self.compat is None:
            return out
        if self.doctor != self.compat:
            out.append(f"doctor says {self.doctor}, compat {self.compat}")
        if self.verify not in (None, self.compat):
            out.append(f"verify says {self.verify}, compat {self.compat}")
        if self.explain is not None and self.explain != (self.compat == TOO_OLD):
            out.append(f"explain's condition is {self.explain}, compat {self.compat}")
        for command in self.doctor_commands:
            if command != self.plan_command:
                out.append(f"doctor fix `{command}` is not the plan `{self.plan_command}`")
        return out


def _installs_torch(command: str) -> bool:
    return any(t.startswith("torch==") or "/torch-" in t for t in command.split())


def _commands(fix: str | None) -> list[str]:
    """Commands in a fix that install torch itself (a companion-only fix answers another question)."""
    if not fix or "pip install" not in fix:
        return []
    parts = fix.split("`")
    quoted = [p for i, p in enumerate(parts) if i % 2 == 1 and "pip install" in p] or [fix.strip()]
    return [c for c in quoted if _installs_torch(c)]


def answers(facts, knowledge) -> Answers:
    support = installed_driver_support(facts, knowledge)
    level = support.level if support is not None and support.level in (FULL, MINOR_COMPAT, TOO_OLD) else None
    report = diagnose(facts, knowledge, torchenv_version="one-answer")
    doctor = FULL
    commands: list[str] = []
    for finding in report.findings:
        doctor = DOCTOR_LEVEL.get(finding.id, doctor) if doctor == FULL else doctor
        commands += [c for c in _commands(finding.fix) if "--force-reinstall" in c]
    snap = snapshot_from_facts(facts)
    checks = [c for c in verify_host(snap, snap, knowledge) if c.check == "driver-floor"]
    verify = VERIFY_LEVEL.get(checks[0].status) if checks and checks[0].status != "skip" else None
    details = facts_details(facts, knowledge, {})
    explain = condition("driver-older-than-torch-cuda", details, facts, "") if level else None
    return Answers(
        compat=level,
        doctor=doctor if level else None,
        verify=verify,
        explain=explain,
        doctor_commands=tuple(commands),
        plan_command=plan_command(doctor_plan(facts, knowledge), facts),
    )


def _facts_from_doctor_json(path: str):
    from torchenv.reports.detect import read_report

    return read_report(Path(path).read_text()).facts


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    knowledge = load_knowledge()
    facts = _facts_from_doctor_json(argv[0])
    cases = [("this machine", facts)]
    for version in ("550.54.14", "535.104.05", "525.60.13", "470.82.01"):
        cases.append((f"driver {version}", replace(facts, driver=replace(facts.driver, version=version))))
    for version in ("580.70", "572.16"):
        wsl = replace(facts, host=replace(facts.host, wsl=True))
        cases.append((f"WSL, driver {version}", replace(wsl, driver=replace(wsl.driver, version=version))))
    bad = 0
    rows = []
    for name, case in cases:
        a = answers(case, knowledge)
        problems = a.disagreements
        bad += bool(problems)
        rows.append(
            {
                "case": name,
                "compat": a.compat,
                "doctor": a.doctor,
                "verify": a.verify,
                "explain_driver_older": a.explain,
                "plan": a.plan_command,
                "doctor_fixes": list(a.doctor_commands),
                "verdict": "DISAGREE: " + "; ".join(problems) if problems else "agree",
            }
        )
    for row in rows:
        print(json.dumps(row))
    print(f"{len(rows) - bad}/{len(rows)} cases agree")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
