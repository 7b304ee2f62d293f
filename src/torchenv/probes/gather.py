"""`gather_facts`: every probe once, side by side, into one `Facts`."""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..model import Facts
from .container import host_container_label, read_container_facts
from .gpu import NO_KERNEL_INTERFACE, NvmlAnswer, nvidia_interface_present, read_driver_and_gpus, read_nvml
from .runner import Runner
from .system import read_cuda_toolkits, read_environment, read_host, read_shell_tools, read_system_libraries
from .target import TargetFacts, read_target

# Short probes (NVML, nvidia-smi, ldconfig) get this long; the torch probe gets the user's --timeout.
QUICK_TIMEOUT = 10.0


def gather_facts(
    *,
    python: str | None = None,
    with_torch: bool = True,
    smoke: bool = True,
    import_companions: bool = False,
    timeout: float = 60.0,
    root: Path = Path("/"),
    environ: Mapping[str, str] | None = None,
    runner: Runner | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> Facts:
    explicit_python = python is not None
    environ = os.environ if environ is None else environ
    runner = runner or Runner()
    python = python or sys.executable
    quick = min(QUICK_TIMEOUT, timeout)
    timings: dict[str, float] = {}

    def timed(name: str, fn: Callable, *args, **kwargs):
        began = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            timings[name] = round(time.perf_counter() - began, 4)

    # The probes are independent and mostly wait on child processes: run them side by side. The NVML
    # child only where an NVIDIA kernel interface exists (without one NVML can only fail, and its
    # interpreter start costs ~0.1 s of a 2-core machine); nvidia-smi is still asked, since its
    # words are the evidence of a driver installed but not loaded.
    with ThreadPoolExecutor(max_workers=4) as pool:
        if nvidia_interface_present(root):
            nvml = pool.submit(timed, "nvml", read_nvml, runner, quick, env=environ)
        else:
            nvml = _done(NvmlAnswer(None, None, None, NO_KERNEL_INTERFACE))
        target = pool.submit(
            timed,
            "target",
            read_target,
            runner,
            python,
            timeout=timeout,
            with_torch=with_torch,
            smoke=smoke,
            import_companions=import_companions,
            on_stage=on_stage,
            environ=environ,
        )
        libraries = pool.submit(timed, "system-libraries", read_system_libraries, root, environ, runner, quick)
        host = timed("host", read_host, root, environ)
        container = timed("container", read_container_facts, root, environ)
        # One answer to "which container?": the container probe's, which reads more of the evidence.
        host = dataclasses.replace(host, container=host_container_label(container))
        toolkits = timed("cuda-toolkits", read_cuda_toolkits, root, environ)
        shell = timed("shell", read_shell_tools, root, environ)
        driver, gpus = timed(
            "driver", read_driver_and_gpus, root, runner, timeout=quick, nvml=nvml.result(), env=environ
        )
        target_facts: TargetFacts = target.result()
        system_libraries = libraries.result()

    return Facts(
        host=host,
        driver=driver,
        gpus=gpus,
        environment=read_environment(environ),
        system_libraries=system_libraries,
        cuda_toolkits=toolkits,
        python=target_facts.python,
        shell=shell,
        torch=target_facts.torch,
        origin="this machine",
        explicit_python=explicit_python,
        probe_seconds=timings,
        container=container,
    )




def _done(value) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future
