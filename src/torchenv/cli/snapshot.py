"""Wiring of `torchenv snapshot`, `diff`, `export` and `verify` (one module, four subcommands)."""

from __future__ import annotations

import argparse
import os
import sys

from .errors import GateFailure, UsageError, could_not_read
from .exit_codes import ExitCode

LEVEL_NAMES = ("cuda", "numerics", "speed", "other")
EXPORT_FORMATS = ("requirements", "environment.yml", "pixi.toml", "dockerfile")


def register(commands) -> None:
    snap = commands.add_parser(
        "snapshot",
        help="write a versioned fingerprint of this PyTorch environment",
        description="Record GPUs, driver, OS, Python, every installed distribution (installer, source), "
        "the torch build (CUDA, cuDNN/NCCL actually loaded, arch list) and the settings that change "
        "numerics or speed.",
    )
    snap.add_argument("-o", "--output", metavar="FILE", help="write here (atomically) instead of to stdout")
    snap.add_argument("--python", metavar="PATH", help="snapshot this interpreter's environment (default: this one)")
    snap.add_argument("--format", choices=("json", "toml"), help="json (default) or toml (default for a .toml FILE)")
    snap.add_argument("--force", action="store_true", help="overwrite FILE even when it is not a torchenv snapshot")
    snap.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS", help="bound on the torch probe")
    snap.set_defaults(run=run_snapshot)

    diff = commands.add_parser(
        "diff",
        help="the differences between two snapshots that matter, ranked by impact",
        description="Rank the differences between snapshot A and B (or this machine, --here): those that "
        "decide whether CUDA works first, then numerics, then speed, then the rest; noise is left out.",
    )
    diff.add_argument("a", metavar="A", help="a snapshot file (JSON or TOML) or a `doctor --json` report")
    diff.add_argument("b", metavar="B", nargs="?", help="the other snapshot file")
    diff.add_argument("--here", action="store_true", help="compare A with a snapshot of this machine, taken now")
    diff.add_argument("--python", metavar="PATH", help="with --here: the interpreter to snapshot")
    diff.add_argument("--json", action="store_true", help="print the differences as JSON")
    diff.add_argument(
        "--fail-on",
        choices=LEVEL_NAMES,
        metavar="LEVEL",
        help="exit 1 when a difference at LEVEL or above exists (cuda > numerics > speed > other)",
    )
    diff.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS", help=argparse.SUPPRESS)
    diff.set_defaults(run=run_diff)

    export = commands.add_parser(
        "export",
        help="rebuild a snapshot's environment: requirements, environment.yml, pixi.toml or a Dockerfile",
        description="Write the files that rebuild the environment elsewhere, full and pinned or --minimal "
        "(what the user asked for). Without SNAPSHOT, exports this machine's environment.",
    )
    export.add_argument(
        "snapshot", metavar="SNAPSHOT", nargs="?", help="a snapshot file (default: snapshot this machine)"
    )
    export.add_argument("--format", required=True, choices=EXPORT_FORMATS, help="what to write")
    export.add_argument("--minimal", action="store_true", help="only what was asked for, not every dependency")
    export.add_argument("-o", "--output", metavar="FILE", help="write here (atomically) instead of to stdout")
    export.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    export.add_argument(
        "--torch-index",
        metavar="URL",
        default="https://download.pytorch.org/whl/",
        help="where torch's local-tagged wheels (+cu130, +cpu) come from; 'none' writes no index line",
    )
    export.add_argument("--name", help="the environment's name (environment.yml, pixi.toml)")
    export.add_argument("--python", metavar="PATH", help="without SNAPSHOT: the interpreter to snapshot")
    export.set_defaults(run=run_export)

    verify = commands.add_parser(
        "verify",
        help="can this host run a snapshot's environment, and does the installed one match it",
        description="Before installing (--host-only): platform, Python, driver floor for the snapshot's CUDA, "
        "each GPU's architecture in the snapshot's wheel. After installing (default): also every installed "
        "distribution and the torch build. Exit 1 on a failure.",
    )
    verify.add_argument("snapshot", metavar="SNAPSHOT", help="a snapshot file")
    verify.add_argument("--python", metavar="PATH", help="the interpreter to check (default: this one)")
    verify.add_argument(
        "--host-only", action="store_true", help="only the host checks (no torch import; before installing)"
    )
    verify.add_argument("--json", action="store_true", help="print the checks as JSON")
    verify.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS", help="bound on the torch probe")
    verify.set_defaults(run=run_verify)


# --- helpers -----------------------------------------------------------------------------------------


def _json(kind: str, payload: dict, knowledge_version: str | None, *, schema_version: int) -> str:
    """diff and verify JSON through the one envelope (render/json_commands.py)."""
    from .. import __version__
    from ..render.json_commands import render_command_json

    return render_command_json(
        kind, payload, torchenv_version=__version__, knowledge_version=knowledge_version, schema_version=schema_version
    )


def _load(path: str):
    from ..snapshots.files import SnapshotFileError, load_snapshot

    try:
        return load_snapshot(path)
    except SnapshotFileError as exc:
        raise UsageError(str(exc)) from None


def _take(python: str | None, timeout: float, *, with_torch: bool = True):
    from ..snapshots.collect import take_snapshot
    from .common import require_seconds, resolve_python

    require_seconds(timeout, "--timeout")
    return take_snapshot(python=resolve_python(python), timeout=timeout, with_torch=with_torch)


def _readable(snapshot, python: str | None):
    """Fail closed: a snapshot of an interpreter that could not be probed (not Python 3, /bin/true,
    hung, crashed) is no environment at all; every command that needs one stops here, exit 1."""
    from ..model import known

    if not known(snapshot.python):
        reason = snapshot.python.reason.removeprefix("the interpreter could not be probed: ")
        raise could_not_read(f"{python or 'this interpreter'}: {reason}")
    if not known(snapshot.packages):
        raise could_not_read(f"{python or 'this interpreter'}: {snapshot.packages.reason}")
    return snapshot


def _write(path: str, text: str, force: bool) -> None:
    from ..snapshots.files import SnapshotFileError, write_atomically

    try:
        write_atomically(path, text, force=force)
    except SnapshotFileError as exc:
        raise UsageError(str(exc)) from None


# --- snapshot ------------------------------------------------------------------------------------------


def run_snapshot(args: argparse.Namespace) -> int:
    from ..snapshots.build import double_installs
    from ..snapshots.files import SnapshotFileError, check_snapshot_output, format_for, render_snapshot

    out = args.output if args.output not in (None, "-") else None
    if out:  # refuse early, before spending seconds on the probe
        try:
            check_snapshot_output(out, force=args.force)
        except SnapshotFileError as exc:
            raise UsageError(str(exc)) from None
    snapshot = _readable(_take(args.python, args.timeout), args.python)
    text = render_snapshot(snapshot, format_for(out, args.format))
    if out:
        try:
            _write(out, text, args.force)
        except SnapshotFileError as exc:  # pragma: no cover - _write converts already
            raise UsageError(str(exc)) from None
        print(f"torchenv: wrote {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    for double in double_installs(snapshot):
        print(f"torchenv: warning: {double.name} is installed twice: {double.how}", file=sys.stderr)
    return ExitCode.OK


# --- diff ------------------------------------------------------------------------------------------------


def run_diff(args: argparse.Namespace) -> int:
    from ..snapshots.build import describe
    from ..snapshots.diff import diff_snapshots

    if args.here == (args.b is not None):
        raise UsageError("diff needs two snapshots: A B, or A --here")
    a = _load(args.a)
    if args.here:
        b, b_name = _readable(_take(args.python, args.timeout), args.python), "this machine"
    else:
        b, b_name = _load(args.b), args.b
    result = diff_snapshots(a, b)
    failing = result.at_or_above(args.fail_on) if args.fail_on else []
    if args.json:
        from ..render.json_commands import DIFF_KIND, DIFF_SCHEMA_VERSION, diff_payload

        payload = diff_payload(
            result,
            {"name": args.a, "describe": describe(a)},
            {"name": b_name, "describe": describe(b)},
            fail_on=args.fail_on,
            failed=bool(failing),
        )
        sys.stdout.write(_json(DIFF_KIND, payload, None, schema_version=DIFF_SCHEMA_VERSION))
    else:
        from ..render.snapshot_text import render_diff

        sys.stdout.write(render_diff(result, args.a, describe(a), b_name, describe(b)))
    return ExitCode.PROBLEMS if failing else ExitCode.OK


# --- export ----------------------------------------------------------------------------------------------


def run_export(args: argparse.Namespace) -> int:
    from ..snapshots.export import ExportError, export_snapshot
    from ..userfiles import UserFileError, check_output_path, is_regular_or_absent

    out = args.output if args.output not in (None, "-") else None
    if out:  # refuse early, before reading or taking a snapshot
        try:
            check_output_path(out, "-o")
        except UserFileError as exc:
            raise UsageError(str(exc)) from None
        if os.path.lexists(out) and is_regular_or_absent(out) and not args.force:
            raise UsageError(f"{out}: exists; refusing to overwrite it (use --force)")
    snapshot = _load(args.snapshot) if args.snapshot else _readable(_take(args.python, 120.0), args.python)
    index = None if args.torch_index.lower() == "none" else args.torch_index.rstrip("/") + "/"
    try:
        from ..knowledge import load_knowledge

        text = export_snapshot(
            snapshot, args.format, minimal=args.minimal, torch_index=index, name=args.name, knowledge=load_knowledge()
        )
    except ExportError as exc:
        raise UsageError(f"cannot export {args.format}: {exc}") from None
    if out:
        _write(out, text, True)
        print(f"torchenv: wrote {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return ExitCode.OK


# --- verify ----------------------------------------------------------------------------------------------


def run_verify(args: argparse.Namespace) -> int:
    from ..knowledge import load_knowledge
    from ..snapshots.verify import verify_env, verify_failed, verify_host

    snapshot = _load(args.snapshot)
    stages = ["host"] if args.host_only else ["host", "env"]
    here = _take(args.python, args.timeout, with_torch=not args.host_only)
    try:
        _readable(here, args.python)
    except GateFailure as exc:
        if args.json:
            from ..render.json_commands import VERIFY_KIND, VERIFY_SCHEMA_VERSION, verify_payload

            payload = verify_payload([], snapshot=args.snapshot, stages=stages, ok=False, error=str(exc))
            sys.stdout.write(_json(VERIFY_KIND, payload, None, schema_version=VERIFY_SCHEMA_VERSION))
        raise
    knowledge = load_knowledge()
    checks = verify_host(snapshot, here, knowledge)
    if not args.host_only:
        checks += verify_env(snapshot, here)
    failed = verify_failed(checks)
    if args.json:
        from ..render.json_commands import VERIFY_KIND, VERIFY_SCHEMA_VERSION, verify_payload

        payload = verify_payload(checks, snapshot=args.snapshot, stages=stages, ok=not failed)
        sys.stdout.write(_json(VERIFY_KIND, payload, knowledge.version, schema_version=VERIFY_SCHEMA_VERSION))
    else:
        from ..render.snapshot_text import render_verify

        sys.stdout.write(render_verify(checks, args.snapshot, host_only=args.host_only))
    return ExitCode.PROBLEMS if failed else ExitCode.OK
