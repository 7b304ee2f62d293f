from pathlib import Path

ROOT = Path(__file__).parent.parent.parent


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = next(line for line in readme.splitlines() if "pytest" in line and line.startswith("python"))
    assert command in ci


def test_readme_opens_with_the_doctor_command():
    head = (ROOT / "README.md").read_text()[:600]
    assert "torchenv doctor" in head
