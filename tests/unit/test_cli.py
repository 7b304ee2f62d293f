import json
import subprocess
import sys

from testsupport import cli_env, run_cli


def test_help_lists_doctor_and_never_imports_torch():
    code = (
        "import sys; from torchenv.cli.main import main; rc = main(['doctor', '--help'])\n"
        "assert 'torch' not in sys.modules, 'torch imported'; assert 'rich' not in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    assert "--no-torch" in done.stdout


def test_no_command_is_a_usage_error():
    assert run_cli().returncode == 2


def test_missing_interpreter_is_one_line_and_exit_2():
    done = run_cli("doctor", "--python", "/nonexistent/python")
    assert done.returncode == 2
    assert done.stderr.strip() == "torchenv: --python /nonexistent/python: no such interpreter"
    assert "Traceback" not in done.stderr


def test_bad_timeout_is_a_usage_error():
    done = run_cli("doctor", "--timeout", "0")
    assert done.returncode == 2
    assert "--timeout" in done.stderr


def test_json_contract_on_this_machine_without_torch():
    done = run_cli("doctor", "--json", "--no-torch")
    report = json.loads(done.stdout)
    assert report["schema_version"] == 1
    assert report["kind"] == "torchenv.doctor"
    assert report["verdict"] in ("healthy", "degraded", "broken")
    assert report["cuda_usable"] in (True, False, None)
    assert done.returncode == (0 if report["verdict"] == "healthy" else 1)
    for finding in report["findings"]:
        assert set(finding) >= {"id", "category", "severity", "title", "evidence", "fix"}
    assert report["facts"]["torch"] == {"unknown": "skipped (--no-torch)"}


def test_terminal_report_renders_without_a_tty():
    done = run_cli("doctor", "--no-torch")
    assert done.returncode in (0, 1)
    assert done.stdout.splitlines()[0].startswith("╭─ ")
    assert "Traceback" not in done.stderr
