"""Runs INSIDE the interpreter being diagnosed. Standard library only, Python 3.6+ syntax.

Prints one JSON record per line, each prefixed with MARK, as it goes: a "begin" record before
every stage and a data record after it. If torch hangs or kills this process, the parent still
knows everything learned so far and which stage was running.

Usage: python target_probe.py [--no-torch] [--smoke] [--import-companions] [--bytecode-folder DIR]
"""

import glob
import json
import os
import re
import sys
import time
import warnings

MARK = "@@torchenv@@ "
START = time.time()

# Names of conda packages whose channel is worth the read of their JSON record.
CONDA_CHANNEL_OF = re.compile(r"^(pytorch|torch|torchvision|torchaudio|python|cuda|cudnn|nccl|libcu|libnv|nvidia)")
# cuDNN 9 is split into sub-libraries (libcudnn_graph, libcudnn_ops, ...) loaded by name at run time:
# with LD_LIBRARY_PATH they can come from the system while libcudnn itself comes from the wheel.
LIBRARY = re.compile(
    r"/(lib(cuda|cudart|cublas|cublasLt|cudnn(?:_[a-z_]+)?|nccl|nvrtc|nvidia-ml)(\.so[.0-9]*|-[^/]*\.so[.0-9]*))$"
)


def emit(stage, event, data=None):
    record = {"stage": stage, "event": event, "t": round(time.time() - START, 4)}
    if data is not None:
        record["data"] = data
    sys.stdout.write(MARK + json.dumps(record, default=str) + "\n")
    sys.stdout.flush()


def read_text(path, limit=65536):
    try:
        with open(path, "rb") as handle:
            return handle.read(limit).decode("utf-8", "replace")
    except OSError:
        return None


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def metadata_field(text, field):
    for line in text.splitlines():
        if not line.strip():
            break  # headers end at the first blank line
        if line.lower().startswith(field.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return None


def distributions():
    found = []
    seen = set()
    for entry in sys.path:
        if not entry or not os.path.isdir(entry):
            continue
        real = os.path.realpath(entry)
        if real in seen:
            continue
        seen.add(real)
        for meta_dir in glob.glob(os.path.join(entry, "*.dist-info")) + glob.glob(os.path.join(entry, "*.egg-info")):
            meta_file = "METADATA" if meta_dir.endswith(".dist-info") else "PKG-INFO"
            path = os.path.join(meta_dir, meta_file) if os.path.isdir(meta_dir) else meta_dir
            text = read_text(path, 65536) or ""
            name = metadata_field(text, "Name")
            version = metadata_field(text, "Version")
            if not name or not version:
                continue
            installer = read_text(os.path.join(meta_dir, "INSTALLER"), 256)
            found.append(
                {
                    "name": canonical(name),
                    "version": version,
                    "location": entry,
                    "installer": installer.strip() if installer and installer.strip() else None,
                    "requires": metadata_fields(text, "Requires-Dist"),
                    "direct_url": direct_url(meta_dir),
                }
            )
    return found


def metadata_fields(text, field):
    """Every value of a repeated header (Requires-Dist), in order."""
    values = []
    for line in text.splitlines():
        if not line.strip():
            break
        if line.lower().startswith(field.lower() + ":"):
            values.append(line.split(":", 1)[1].strip())
    return values


def direct_url(meta_dir):
    """Where pip/uv got it when it was not an index (PEP 610 direct_url.json), as one string."""
    text = read_text(os.path.join(meta_dir, "direct_url.json"), 65536)
    if not text:
        return None
    try:
        record = json.loads(text)
        url = record["url"]
    except (ValueError, KeyError, TypeError):
        return None
    vcs = record.get("vcs_info") or {}
    if vcs.get("vcs"):
        return "%s+%s@%s" % (vcs["vcs"], url, vcs.get("commit_id") or vcs.get("requested_revision") or "")
    if (record.get("dir_info") or {}).get("editable"):
        return "editable:" + url
    return url


def conda_packages(prefix):
    meta = os.path.join(prefix, "conda-meta")
    if not os.path.isdir(meta):
        return None
    packages = []
    for path in sorted(glob.glob(os.path.join(meta, "*.json"))):
        stem = os.path.basename(path)[:-5]
        parts = stem.rsplit("-", 2)
        if len(parts) != 3:
            continue
        name, version, build = parts
        channel = None
        if CONDA_CHANNEL_OF.match(name):
            try:
                with open(path) as handle:
                    record = json.load(handle)
                channel = record.get("channel") or record.get("schannel") or record.get("url")
            except (OSError, ValueError):
                channel = None
        packages.append({"name": name, "version": version, "build": build, "channel": channel})
    return packages


def installed_version(name):
    """The version in the first dist-info of `name` on sys.path (no import: torchvision's takes seconds)."""
    for entry in sys.path:
        if entry and os.path.isdir(entry):
            for meta_dir in glob.glob(os.path.join(entry, name + "-*.dist-info")):
                text = read_text(os.path.join(meta_dir, "METADATA"), 8192) or ""
                version = metadata_field(text, "Version")
                if version:
                    return version
    return None


def companion_pins():
    """The exact torch each companion wheel was built for, from its Requires-Dist (`torch==2.11.0`)."""
    pins = {}
    for entry in sys.path:
        for name in ("torchvision", "torchaudio"):
            if name in pins or not entry or not os.path.isdir(entry):
                continue
            for meta_dir in glob.glob(os.path.join(entry, name + "-*.dist-info")):
                text = read_text(os.path.join(meta_dir, "METADATA"), 65536) or ""
                match = re.search(r"^Requires-Dist:\s*torch\s*\(?\s*(==\s*[^\s,;)]+)", text, re.M)
                pins[name] = match.group(1).replace(" ", "") if match else None
    return pins


def probe_env():
    import site

    prefix = sys.prefix
    base = getattr(sys, "real_prefix", None) or getattr(sys, "base_prefix", prefix)
    try:
        user_site = site.getusersitepackages()
    except Exception:
        user_site = None
    is_conda = os.path.isdir(os.path.join(prefix, "conda-meta"))
    return {
        "executable": sys.executable,
        "version": "%d.%d.%d" % sys.version_info[:3],
        "implementation": sys.implementation.name,
        "prefix": prefix,
        "base_prefix": base,
        "is_venv": base != prefix,
        "conda_prefix": prefix if is_conda else None,
        "user_site": user_site,
        "user_site_enabled": bool(getattr(site, "ENABLE_USER_SITE", False)),
        "sys_path": [p for p in sys.path if p],
        "distributions": distributions(),
        "conda_packages": conda_packages(prefix),
        "jupyter_kernels": jupyter_kernels(prefix),
    }


def jupyter_kernels(prefix):
    """Kernel specs Jupyter would offer, with the interpreter each one runs (argv[0])."""
    folders = [
        os.path.join(prefix, "share", "jupyter", "kernels"),
        os.path.expanduser("~/.local/share/jupyter/kernels"),
        "/usr/local/share/jupyter/kernels",
        "/usr/share/jupyter/kernels",
    ]
    folders += [os.path.join(p, "kernels") for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    kernels = []
    for folder in folders:
        for spec in sorted(glob.glob(os.path.join(folder, "*", "kernel.json"))):
            try:
                with open(spec) as handle:
                    data = json.load(handle)
                argv = data.get("argv") or []
                kernels.append(
                    {
                        "name": os.path.basename(os.path.dirname(spec)),
                        "spec": spec,
                        "display_name": str(data.get("display_name", "")),
                        "python": str(argv[0]) if argv else None,
                    }
                )
            except (OSError, ValueError, AttributeError):
                continue
    return kernels


def library_owner(path, torch_dir):
    if torch_dir and path.startswith(torch_dir + os.sep):
        return "torch", None
    match = re.search(r"^(.*?/(?:site|dist)-packages)/(.*)$", path)
    if not match:
        return "system", None
    site_dir, relative = match.group(1), match.group(2)
    for record in glob.glob(os.path.join(site_dir, "nvidia*.dist-info", "RECORD")):
        text = read_text(record, 4 * 1024 * 1024) or ""
        if relative in text:
            meta = read_text(os.path.join(os.path.dirname(record), "METADATA"), 8192) or ""
            return canonical(metadata_field(meta, "Name") or "unknown"), metadata_field(meta, "Version")
    return "site-packages", None


def loaded_libraries(torch_dir):
    maps = read_text("/proc/self/maps", 64 * 1024 * 1024)
    if maps is None:
        return None
    libraries = []
    seen = set()
    for line in maps.splitlines():
        match = LIBRARY.search(line)
        if not match:
            continue
        path = line[line.index("/") :]
        if path in seen:
            continue
        seen.add(path)
        owner, version = library_owner(path, torch_dir)
        if version is None:
            suffix = re.search(r"\.so\.(\d+(?:\.\d+)+)$", os.path.realpath(path))
            version = suffix.group(1) if suffix else None
        libraries.append(
            {"name": match.group(2) and "lib" + match.group(2), "path": path, "owner": owner, "version": version}
        )
    return libraries


def relative_error(result, reference):
    difference = (result.double() - reference).norm().item()
    scale = reference.norm().item() or 1.0
    return difference / scale


def smoke_cases(torch):
    """The smoke test's operations and their CPU inputs (seeded: the same on every device)."""
    import torch.nn.functional as F

    generator = torch.Generator().manual_seed(0)
    a = torch.randn(512, 512, generator=generator)
    b = torch.randn(512, 512, generator=generator)
    x = torch.randn(8, 3, 32, 32, generator=generator)
    w = torch.randn(16, 3, 3, 3, generator=generator)
    return [
        ("matmul", lambda t: t[0] @ t[1], (a, b)),
        ("conv2d", lambda t: F.conv2d(t[0], t[1], padding=1), (x, w)),
    ]


def smoke_references(torch):
    """(op, fn, inputs, float64 reference or the error computing it) for every case, computed once for all
    devices. (Computing them on a thread while CUDA initialises gained nothing on the H200 and cost up to
    0.1 s of probe time in one of two runs: benchmarks/results/h200-round7/.)"""
    prepared = []
    for op, fn, inputs in smoke_cases(torch):
        try:
            prepared.append((op, fn, inputs, fn(tuple(t.double() for t in inputs)), None))
        except Exception as exc:
            prepared.append((op, fn, inputs, None, "%s: %s" % (type(exc).__name__, str(exc).strip()[:2000])))
    return prepared


def smoke(torch, index, prepared=None):
    results = []
    device = torch.device("cuda", index)
    # Exact fp32 on both sides: TF32 would make a correct GPU look wrong.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    for op, fn, inputs, reference, failed in prepared or smoke_references(torch):
        entry = {"device": index, "op": op, "ok": False, "rel_error": None, "milliseconds": None, "error": failed}
        if failed:
            results.append(entry)
            continue
        try:
            on_gpu = tuple(t.to(device) for t in inputs)
            fn(on_gpu)
            torch.cuda.synchronize(device)
            began = time.perf_counter()
            result = fn(on_gpu)
            torch.cuda.synchronize(device)
            entry["milliseconds"] = round((time.perf_counter() - began) * 1000, 3)
            error = relative_error(result.cpu(), reference)
            entry["rel_error"] = error
            entry["ok"] = error == error and error < 1e-3  # NaN fails too
        except Exception as exc:
            entry["error"] = "%s: %s" % (type(exc).__name__, str(exc).strip()[:2000])
        results.append(entry)
    return results


def read_settings(torch):
    """The defaults that change numerics or speed, as this interpreter starts them (each read alone)."""
    readers = (
        ("cuda.matmul.allow_tf32", lambda: bool(torch.backends.cuda.matmul.allow_tf32)),
        ("cudnn.allow_tf32", lambda: bool(torch.backends.cudnn.allow_tf32)),
        ("cudnn.benchmark", lambda: bool(torch.backends.cudnn.benchmark)),
        ("cudnn.deterministic", lambda: bool(torch.backends.cudnn.deterministic)),
        ("float32_matmul_precision", lambda: str(torch.get_float32_matmul_precision())),
        ("deterministic_algorithms", lambda: bool(torch.are_deterministic_algorithms_enabled())),
        ("num_threads", lambda: int(torch.get_num_threads())),
    )
    settings = {}
    for name, read in readers:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a deprecation notice must not end up on stderr
                settings[name] = read()
        except Exception:
            settings[name] = None
    return settings


def borrow_bytecode_folder(folder):
    """The user's own bytecode state before `import torch`, and the folder this probe reads torch through.

    When torch has no __pycache__ and this interpreter will not write one (PYTHONDONTWRITEBYTECODE, -B, a
    folder this user cannot write), the probe keeps torch's bytecode in torchenv's own folder, so only
    the doctor's first run compiles torch. The user's files and their own processes are left as they are.
    """
    user = {"dont_write": bool(sys.dont_write_bytecode), "prefix": getattr(sys, "pycache_prefix", None)}
    if not folder or not hasattr(sys, "pycache_prefix") or user["prefix"]:
        return user, None  # before Python 3.8, or the user already chose where bytecode goes
    try:
        import importlib.util

        spec = importlib.util.find_spec("torch")  # finds, never imports
        origin = spec.origin if spec is not None else None
        if not origin or not origin.endswith(".py"):
            return user, None
        user["cached"] = os.path.exists(importlib.util.cache_from_source(origin))
        if user["cached"] or (not user["dont_write"] and os.access(os.path.dirname(origin), os.W_OK)):
            return user, None  # Python reads or writes the user's own cache
    except Exception:
        return user, None
    sys.pycache_prefix = folder
    sys.dont_write_bytecode = False
    return user, folder


def bytecode_state(module_file, user=None, borrowed=None):
    """Whether torch's own bytecode is cached after the import: without it every `import torch` compiles
    torch's Python files again (PYTHONDONTWRITEBYTECODE, -B, or a site-packages this user cannot write).
    With a borrowed folder the answer is the user's own cache (beside torch's files), not the probe's."""
    if user is None:
        user = {"dont_write": bool(sys.flags.dont_write_bytecode), "prefix": getattr(sys, "pycache_prefix", None)}
    state = dict(user)
    try:
        import importlib.util

        if borrowed:
            state["probe_folder"] = borrowed
            state["probe_cached"] = os.path.exists(importlib.util.cache_from_source(module_file))
            sys.pycache_prefix = None  # the user's path, beside the file
            try:
                state["cached"] = os.path.exists(importlib.util.cache_from_source(module_file))
            finally:
                sys.pycache_prefix = borrowed
        else:
            state["cached"] = os.path.exists(importlib.util.cache_from_source(module_file))
    except Exception as exc:  # no cache path for this file (e.g. an optimisation level without one)
        state["error"] = "%s: %s" % (type(exc).__name__, exc)
    return state


def probe_torch(run_smoke, import_companions, bytecode_folder=None):
    emit("import", "begin")
    user_bytecode, borrowed = borrow_bytecode_folder(bytecode_folder)
    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import torch
    except ImportError as exc:
        missing = getattr(exc, "name", None) == "torch" and "No module named" in str(exc)
        emit(
            "import",
            "end",
            {"status": "missing" if missing else "import-error", "error": "%s: %s" % (type(exc).__name__, exc)},
        )
        return
    except BaseException as exc:  # a broken install raises anything, even SystemExit
        emit("import", "end", {"status": "import-error", "error": "%s: %s" % (type(exc).__name__, exc)})
        return
    torch_dir = os.path.dirname(os.path.abspath(torch.__file__))
    emit(
        "import",
        "end",
        {
            "status": "ok",
            "location": torch_dir,
            "warnings": [str(w.message) for w in caught],
            "bytecode": bytecode_state(torch.__file__, user_bytecode, borrowed),
        },
    )

    emit("build", "begin")
    build = {
        "version": str(torch.__version__),
        "cuda": getattr(torch.version, "cuda", None),
        "hip": getattr(torch.version, "hip", None),
        "git_version": getattr(torch.version, "git_version", None),
        "debug": bool(getattr(torch.version, "debug", False)),
    }
    try:
        build["arch_list"] = list(torch.cuda.get_arch_list())
    except Exception:
        build["arch_list"] = []
    try:
        build["cudnn_enabled"] = bool(torch.backends.cudnn.enabled)
    except Exception:
        pass
    try:
        nccl = torch.cuda.nccl.version() if build["cuda"] else None
        build["nccl_version"] = ".".join(str(p) for p in nccl) if isinstance(nccl, tuple) else nccl
    except Exception:
        build["nccl_version"] = None
    emit("build", "end", build)

    emit("settings", "begin")
    emit("settings", "end", read_settings(torch))

    emit("cuda-init", "begin")
    init = {"available": False, "reason": None, "init_seconds": None, "device_count": 0}
    began = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            init["available"] = bool(torch.cuda.is_available())
            if init["available"]:
                torch.zeros(1, device="cuda")
                torch.cuda.synchronize()
                init["init_seconds"] = round(time.perf_counter() - began, 4)
            init["device_count"] = torch.cuda.device_count()
        except Exception as exc:
            init["available"] = False
            init["error"] = "%s: %s" % (type(exc).__name__, str(exc).strip()[:4000])
    messages = [str(w.message).strip() for w in caught]
    if not init["available"]:
        init["reason"] = init.get("error") or (messages[0] if messages else None)
    init["warnings"] = messages
    emit("cuda-init", "end", init)

    if init["available"]:
        emit("devices", "begin")
        devices = []
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            devices.append(
                {
                    "index": index,
                    "name": props.name,
                    "cc": [props.major, props.minor],
                    "total_memory_mib": int(props.total_memory // (1024 * 1024)),
                    "multi_processor_count": props.multi_processor_count,
                }
            )
        emit("devices", "end", devices)
        if run_smoke:
            emit("smoke", "begin")
            results = []
            prepared = smoke_references(torch)
            for index in range(len(devices)):
                results.extend(smoke(torch, index, prepared))
            emit("smoke", "end", results)

    # After the smoke test: its convolution already loaded cuDNN, so asking for the version is free.
    emit("cudnn", "begin")
    cudnn = {"cudnn_version": None, "cudnn_error": None}
    try:
        cudnn["cudnn_version"] = torch.backends.cudnn.version() if build["cuda"] else None
    except Exception as exc:
        cudnn["cudnn_error"] = "%s: %s" % (type(exc).__name__, str(exc).strip()[:2000])
    emit("cudnn", "end", cudnn)

    emit("libraries", "begin")
    emit("libraries", "end", loaded_libraries(torch_dir))

    emit("companions", "begin")
    companions = []
    pins = companion_pins()
    for name in ("torchvision", "torchaudio"):
        entry = {"name": name, "version": None, "import_error": None, "requires_torch": pins.get(name)}
        entry["version"] = installed_version(name)
        if not import_companions:
            companions.append(entry)
            continue
        try:
            module = __import__(name)
            entry["version"] = str(getattr(module, "__version__", "unknown"))
        except ImportError as exc:
            if not (getattr(exc, "name", None) == name and "No module named" in str(exc)):
                entry["import_error"] = "%s: %s" % (type(exc).__name__, exc)
        except BaseException as exc:  # e.g. RuntimeError: operator torchvision::nms does not exist
            entry["import_error"] = "%s: %s" % (type(exc).__name__, str(exc).strip()[:2000])
        companions.append(entry)
    emit("companions", "end", companions)


def main(argv):
    # Running a script puts its folder first on sys.path; the user's interpreter would not have it.
    if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
        sys.path.pop(0)
    emit("env", "begin")
    emit("env", "end", probe_env())
    if "--no-torch" not in argv:
        folder = argv[argv.index("--bytecode-folder") + 1] if "--bytecode-folder" in argv[:-1] else None
        probe_torch("--smoke" in argv, "--import-companions" in argv, folder)
    emit("done", "end")


if __name__ == "__main__":
    main(sys.argv[1:])
    # Everything is reported: skip interpreter teardown, which with CUDA initialised (context
    # destruction, module finalisers) takes about half a second on an H100 machine.
    sys.stdout.flush()
    os._exit(0)
