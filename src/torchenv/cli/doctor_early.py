"""`torchenv doctor`'s first milliseconds: start the torch probe, then show a first verdict from files.

Called by cli/main.py before the argument parser is built (building it imports every subcommand,
~50 ms) and before anything heavier than the standard library: the child's `import torch` is the
long pole of the doctor, so it starts first. Only a plain doctor invocation that this module fully
understands is started early; anything else (`--from`, `--explain`, `--help`, an unknown option, a
`--python` that does not resolve) returns None and the doctor starts its probe as before. The real
parser still validates everything: a started probe nobody asks for is killed at exit
(`Prestarted.discard`, and the runner's `interrupts()` kills every child left).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass

FLAGS = {"--no-torch", "--no-smoke", "--deep", "--json", "--require-cuda", "-v", "--verbose"}
VALUED = {"--python", "--timeout", "--format"}


@dataclass
class Early:
    runner: object  # probes.runner.Prestarted
    progress: object | None  # render.first_verdict.ProgressLines, on a terminal's stderr


def parse_simple(argv: list[str]) -> dict | None:
    """The doctor options that shape the probe, or None for anything this module does not understand."""
    options: dict = {"flags": set(), "python": None}
    items = iter(argv)
    for item in items:
        name, has_value, value = item.partition("=")
        if name in VALUED:
            if not has_value:
                value = next(items, None)
                if value is None:
                    return None
            bad_format = name == "--format" and value not in ("terminal", "json", "markdown")
            if bad_format or (name == "--timeout" and not _number(value)):
                return None  # argparse's own error, from the parser
            if name == "--python":
                options["python"] = value
        elif item in FLAGS:
            options["flags"].add(item)
        else:
            return None
    return options


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def resolve(path: str) -> str | None:
    """As cli/common.resolve_python does, without its error: None when it would fail."""
    found = path if os.sep in path else shutil.which(path)
    if not found or not os.path.isfile(found) or not os.access(found, os.X_OK):
        return None
    return os.path.abspath(found)


def start_early(argv: list[str]) -> Early | None:
    if not argv or argv[0] != "doctor":
        return None
    options = parse_simple(argv[1:])
    if options is None:
        return None
    python = resolve(options["python"]) if options["python"] else sys.executable
    if python is None:
        return None
    from ..probes.runner import Prestarted, Runner
    from ..probes.target_launch import MARK, probe_bytecode_folder, probe_environment, target_argv, target_cwd

    flags = options["flags"]
    argv_probe = target_argv(
        python,
        with_torch="--no-torch" not in flags,
        smoke="--no-smoke" not in flags,
        import_companions="--deep" in flags,
        bytecode_folder=probe_bytecode_folder(),
    )
    started = Runner().start(argv_probe, env=probe_environment(None), cwd=target_cwd(), records=(MARK,))
    first_stage = "reading the Python environment" if "--no-torch" in flags else "importing torch"
    return Early(Prestarted(started), show_first_verdict(python, "--require-cuda" in flags, first_stage))


def show_first_verdict(python: str, require_cuda: bool, first_stage: str):
    """The provisional verdict on a terminal's stderr (nothing on a pipe); the progress lines or None."""
    try:
        if not sys.stderr.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    from ..checks.provisional import first_verdict
    from ..probes.first_look import read_first_look
    from ..render.first_verdict import ProgressLines

    progress = ProgressLines(sys.stderr, width=shutil.get_terminal_size((100, 24)).columns)
    progress.show(first_verdict(read_first_look(python), require_cuda=require_cuda), first_stage)
    return progress
