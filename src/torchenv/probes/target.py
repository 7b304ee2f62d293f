"""The target-interpreter probe: runs `_scripts/target_probe.py` inside `--python` with a timeout.

The script streams JSON records; `parse_target_records` (pure) turns whatever arrived into facts,
so an import error, a segfault or a hang mid-way becomes `TorchFacts(status=...)` naming the stage
that was running, never a crash of torchenv.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..model import (
    Companion,
    CondaPackage,
    Distribution,
    JupyterKernel,
    LoadedLibrary,
    PythonEnv,
    SmokeResult,
    TorchDevice,
    TorchFacts,
    Unknown,
)
from .runner import Runner, RunResult
from .target_launch import (
    MARK,
    OWN_IMPORT_ROOT,
    SCRIPT,
    probe_bytecode_folder,
    probe_environment,
    target_argv,
    target_cwd,
)

__all__ = ["MARK", "OWN_IMPORT_ROOT", "SCRIPT", "TargetFacts", "parse_target_records", "read_target"]


@dataclass(frozen=True, slots=True)
class TargetFacts:
    python: PythonEnv | Unknown
    torch: TorchFacts | Unknown


def read_target(
    runner: Runner,
    python: str,
    *,
    timeout: float,
    with_torch: bool = True,
    smoke: bool = True,
    import_companions: bool = False,
    on_stage: Callable[[str], None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> TargetFacts:
    argv = target_argv(
        python,
        with_torch=with_torch,
        smoke=smoke,
        import_companions=import_companions,
        bytecode_folder=probe_bytecode_folder(environ),
    )

    def on_line(line: str) -> None:
        if on_stage and line.startswith(MARK):
            record = _load(line[len(MARK) :])
            if record and record.get("event") == "begin":
                on_stage(str(record.get("stage")))

    # A neutral working directory: a stray torch.py in the user's cwd must not shadow torch here.
    # Records are parsed as they stream and kept in full; only what else the interpreter prints (a torch
    # that prints megabytes on import) is capped, and counted (TorchFacts.output_bytes).
    result = runner.run(
        argv,
        timeout,
        cwd=target_cwd(),
        env=probe_environment(environ),
        on_line=on_line,
        records=(MARK,),
    )
    return parse_target_records(result, with_torch=with_torch)


_probe_environment = probe_environment  # the name the tests know


def _load(text: str) -> dict | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def records_of(stdout: str) -> list[dict]:
    return [r for line in stdout.splitlines() if line.startswith(MARK) and (r := _load(line[len(MARK) :]))]


def parse_target_records(result: RunResult, *, with_torch: bool) -> TargetFacts:
    records = records_of(result.stdout)
    ended = {r["stage"]: r.get("data") for r in records if r.get("event") == "end"}
    begun = [r["stage"] for r in records if r.get("event") == "begin"]
    running = begun[-1] if begun and begun[-1] not in ended else None

    python: PythonEnv | Unknown
    if isinstance(ended.get("env"), dict):
        python = _python_env(ended["env"])
    else:
        python = Unknown(f"the interpreter could not be probed: {_unprobed(result)}")

    if not with_torch:
        return TargetFacts(python, Unknown("skipped (--no-torch)"))
    if "env" not in ended:
        return TargetFacts(python, Unknown(f"the interpreter could not be probed: {_unprobed(result)}"))
    return TargetFacts(python, _torch_facts(result, ended, running))


def _unprobed(result: RunResult) -> str:
    """Why no environment record came back: the runner's words, or, for a program that exits 0
    without a word (/bin/true), that it is no Python 3 interpreter."""
    if result.ok:
        name = os.path.basename(result.argv[0]) if result.argv else "the interpreter"
        return f"{name} exited with 0 but printed no probe records: it is not a Python 3 interpreter"
    return result.describe_failure()


def _python_env(data: dict) -> PythonEnv:
    dists = tuple(
        Distribution(
            name=str(d.get("name")),
            version=str(d.get("version")),
            location=str(d.get("location")),
            installer=d["installer"] if d.get("installer") else Unknown("no INSTALLER file"),
            requires=tuple(str(r) for r in d["requires"])
            if isinstance(d.get("requires"), list)
            else Unknown("not read"),
            direct_url=str(d["direct_url"]) if d.get("direct_url") else None,
        )
        for d in data.get("distributions") or ()
    )
    conda = data.get("conda_packages")
    kernels = tuple(
        JupyterKernel(
            name=str(k.get("name")),
            spec=str(k.get("spec")),
            display_name=str(k.get("display_name") or ""),
            python=k.get("python"),
        )
        for k in data.get("jupyter_kernels") or ()
        if isinstance(k, dict)
    )
    return PythonEnv(
        executable=str(data.get("executable")),
        version=str(data.get("version")),
        implementation=str(data.get("implementation")),
        prefix=str(data.get("prefix")),
        base_prefix=str(data.get("base_prefix")),
        is_venv=bool(data.get("is_venv")),
        conda_prefix=data.get("conda_prefix"),
        user_site=data.get("user_site") or Unknown("site.getusersitepackages() failed"),
        user_site_enabled=bool(data.get("user_site_enabled")),
        sys_path=tuple(str(p) for p in data.get("sys_path") or ()),
        distributions=dists,
        conda_packages=Unknown("not a conda environment")
        if conda is None
        else tuple(
            CondaPackage(
                name=str(p["name"]),
                version=str(p["version"]),
                build=str(p["build"]),
                channel=p["channel"] if p.get("channel") else Unknown("not read"),
            )
            for p in conda
        ),
        jupyter_kernels=kernels,
    )


def _stage_seconds(records: list[dict]) -> dict[str, float]:
    began = {r["stage"]: r.get("t", 0.0) for r in records if r.get("event") == "begin"}
    return {
        r["stage"]: round(float(r.get("t", 0.0)) - float(began[r["stage"]]), 4)
        for r in records
        if r.get("event") == "end" and r["stage"] in began
    }


def _failure_status(result: RunResult) -> tuple[str, str | None]:
    if result.timed_out:
        return "hung", f"no answer within {result.seconds:.1f} s; the process was killed"
    if result.signal:
        return "crashed", f"the process died of {result.signal}"
    if result.error:
        return "probe-error", result.describe_failure()
    return "probe-error", result.describe_failure()


def _torch_facts(result: RunResult, ended: dict, running: str | None) -> TorchFacts:
    tail = result.stderr.strip()[-2000:]
    imported = ended.get("import")
    not_reached = Unknown("the torch probe did not get this far")
    base = dict(
        version=not_reached,
        cuda=not_reached,
        hip=not_reached,
        git_version=not_reached,
        debug=not_reached,
        cuda_available=not_reached,
        cuda_unavailable_reason=None,
        device_count=not_reached,
        devices=(),
        arch_list=not_reached,
        cudnn_enabled=not_reached,
        cudnn_version=not_reached,
        nccl_version=not_reached,
        loaded_libraries=not_reached,
        smoke=not_reached,
        cuda_init_seconds=not_reached,
        location=not_reached,
        companions=not_reached,
        wall_seconds=round(result.seconds, 3),
        signal=result.signal,
        output_bytes=int(getattr(result, "output_bytes", 0) or 0),
        stderr_tail=tail,
        stage_seconds=_stage_seconds(records_of(result.stdout)),
    )
    if not isinstance(imported, dict):
        status, error = _failure_status(result)
        return TorchFacts(status=status, stage=running or "import", error=error, **base)
    if imported.get("status") != "ok":
        return TorchFacts(status=str(imported.get("status")), stage="import", error=imported.get("error"), **base)

    base["location"] = str(imported.get("location"))
    bytecode = imported.get("bytecode")
    if isinstance(bytecode, dict) and isinstance(bytecode.get("cached"), bool):
        folder = bytecode.get("probe_folder")
        base.update(
            bytecode_cached=bytecode["cached"],
            bytecode_writes_off=bool(bytecode.get("dont_write")),
            bytecode_probe_folder=folder if isinstance(folder, str) and folder else None,
        )
    build = ended.get("build")
    if isinstance(build, dict):
        base.update(
            version=str(build.get("version")),
            cuda=build.get("cuda"),
            hip=build.get("hip"),
            git_version=str(build.get("git_version")) if build.get("git_version") else Unknown("not reported"),
            debug=bool(build.get("debug")),
            arch_list=tuple(build.get("arch_list") or ()),
            cudnn_enabled=bool(build["cudnn_enabled"])
            if "cudnn_enabled" in build
            else Unknown("reading torch.backends.cudnn failed"),
            nccl_version=build.get("nccl_version"),
        )
    cudnn = ended.get("cudnn")
    if isinstance(cudnn, dict):
        base.update(cudnn_version=cudnn.get("cudnn_version"), cudnn_error=cudnn.get("cudnn_error"))
    settings = ended.get("settings")
    if isinstance(settings, dict):
        base["settings"] = {str(k): v for k, v in settings.items() if v is None or isinstance(v, (str, bool, int))}
    init = ended.get("cuda-init")
    if isinstance(init, dict):
        base.update(
            cuda_available=bool(init.get("available")),
            cuda_unavailable_reason=init.get("reason"),
            device_count=int(init.get("device_count") or 0),
            cuda_init_seconds=init["init_seconds"]
            if init.get("init_seconds") is not None
            else Unknown("CUDA was not initialised"),
        )
        if not init.get("available"):
            base["smoke"] = Unknown("CUDA is not available to torch")
    devices = ended.get("devices")
    if isinstance(devices, list):
        base["devices"] = tuple(
            TorchDevice(
                index=int(d["index"]),
                name=str(d["name"]),
                cc=(int(d["cc"][0]), int(d["cc"][1])),
                total_memory_mib=int(d["total_memory_mib"]),
                multi_processor_count=int(d["multi_processor_count"]),
            )
            for d in devices
        )
    smoke = ended.get("smoke")
    if isinstance(smoke, list):
        base["smoke"] = tuple(
            SmokeResult(
                device=int(s["device"]),
                op=str(s["op"]),
                ok=bool(s["ok"]),
                rel_error=s["rel_error"] if s.get("rel_error") is not None else Unknown("not computed"),
                milliseconds=s["milliseconds"] if s.get("milliseconds") is not None else Unknown("not timed"),
                error=s.get("error"),
            )
            for s in smoke
        )
    elif isinstance(init, dict) and init.get("available") and "smoke" not in (running or ""):
        base["smoke"] = Unknown("smoke test not run")
    libraries = ended.get("libraries")
    if isinstance(libraries, list):
        base["loaded_libraries"] = tuple(
            LoadedLibrary(
                name=str(lib["name"]),
                path=str(lib["path"]),
                owner=str(lib["owner"]),
                version=str(lib["version"]) if lib.get("version") else Unknown("no version in the file name"),
            )
            for lib in libraries
        )
    elif "libraries" in ended:
        base["loaded_libraries"] = Unknown("/proc/self/maps is not readable (not Linux?)")
    companions = ended.get("companions")
    if isinstance(companions, list):
        base["companions"] = tuple(
            Companion(
                name=str(c["name"]),
                version=c.get("version"),
                import_error=c.get("import_error"),
                requires_torch=c.get("requires_torch"),
            )
            for c in companions
        )

    if "done" in ended:
        return TorchFacts(status="ok", stage="done", error=None, **base)
    status, error = _failure_status(result)
    return TorchFacts(status=status, stage=running or "done", error=error, **base)
