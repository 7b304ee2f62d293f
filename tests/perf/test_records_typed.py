"""The worker's records, typed (model/perf_records.py): every `emit(...)` in the worker package has a
record class declaring each field it sends (read from the worker's source with ast, so a field
added on the worker side without the parent's type fails here), decoding round-trips on the
recorded fixtures, and a record that does not decode is Malformed: named in the report, which is
then never `ok`. No torch."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import pytest

from perf.gpu_records import h100_records
from perf.test_report import CPU_QUICK, FakeRunner, build
from torchenv.model import perf_records as R
from torchenv.perf.records import outcome
from torchenv.perf.run import MARK, WORKER_DIR, WorkerRun, merge_search, records_of, run_worker
from torchenv.tune.report import build_report as build_tune

TUNE_CPU = Path(__file__).parents[1] / "tune" / "fixtures" / "tune-cpu.jsonl"
H100_RECORDINGS = sorted((Path(__file__).parents[2] / "benchmarks" / "results").glob("*.jsonl"))
EMITTERS = {"emit", "emit_"}  # the protocol's emit and the name the plans receive it under


def _fields(kind: type) -> set[str]:
    return {f.name for f in dataclasses.fields(kind)}


def _kinds(event: str) -> list[type]:
    return list(R.BY_EVENT.get(event, ()))


def _modules() -> dict[str, ast.Module]:
    return {p.name: ast.parse(p.read_text(), str(p)) for p in sorted(WORKER_DIR.glob("*.py"))}


def _functions(tree: ast.Module):
    """(qualified name, node) of every function, methods as Class.method."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield f"{node.name}.{item.name}", item


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _emits(tree: ast.Module):
    """(kind, keyword names, spread expressions, enclosing function) of each literal emit call."""
    for _name, function in _functions(tree):
        for node in ast.walk(function):
            if not (isinstance(node, ast.Call) and _called_name(node) in EMITTERS and node.args):
                continue
            kind = node.args[0]
            if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
                names = {k.arg for k in node.keywords if k.arg}
                spreads = [k.value for k in node.keywords if k.arg is None]
                yield kind.value, names, spreads, function


def _forwarders(modules: dict[str, ast.Module]) -> dict[str, tuple[str, set[str], str]]:
    """Functions whose **kwargs flow into an emit (or into another forwarder): name -> (kind, named
    parameters, module). Bench.result/skipped/failed/_train_result today."""
    found: dict[str, tuple[str, set[str], str]] = {}
    changed = True
    while changed:
        changed = False
        for module, tree in modules.items():
            for qualname, function in _functions(tree):
                name = qualname.rsplit(".", 1)[-1]
                kwarg = function.args.kwarg.arg if function.args.kwarg else None
                if kwarg is None or name in found:
                    continue
                params = {a.arg for a in function.args.args + function.args.kwonlyargs}
                for node in ast.walk(function):
                    if not isinstance(node, ast.Call):
                        continue
                    spread = any(
                        k.arg is None and isinstance(k.value, ast.Name) and k.value.id == kwarg for k in node.keywords
                    )
                    called = _called_name(node)
                    if spread and called in EMITTERS and node.args and isinstance(node.args[0], ast.Constant):
                        found[name] = (node.args[0].value, params, module)
                    elif spread and called in found:
                        found[name] = (found[called][0], params, module)
                    else:
                        continue
                    changed = True
                    break
    return found


def _defines(tree: ast.Module, name: str) -> bool:
    return any(q.rsplit(".", 1)[-1] == name for q, _ in _functions(tree))


def _dict_keys(node: ast.AST) -> set[str]:
    """String keys of a dict literal, or keywords of a dict(...) call."""
    if isinstance(node, ast.Dict):
        return {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    if isinstance(node, ast.Call) and _called_name(node) == "dict":
        return {k.arg for k in node.keywords if k.arg}
    return set()


def _built_keys(function: ast.AST, names: set[str] | None) -> tuple[set[str], set[str]]:
    """Keys a function puts into the dicts held by `names` (assigned literals, X["k"] = ..., X.update(k=),
    X.setdefault("k"), dict(X, k=)), or, names None, into the dicts it returns; and the keys it pops."""
    keys: set[str] = set()
    popped: set[str] = set()

    def held(node: ast.AST) -> bool:
        return isinstance(node, ast.Name) and names is not None and node.id in names

    for node in ast.walk(function):
        if names is None and isinstance(node, ast.Return) and node.value is not None:
            keys |= _dict_keys(node.value)
        if isinstance(node, ast.Assign):
            targets = [
                t for target in node.targets for t in (target.elts if isinstance(target, ast.Tuple) else [target])
            ]
            for target in targets:
                if held(target):
                    keys |= _dict_keys(node.value)
                key = target.slice if isinstance(target, ast.Subscript) and held(target.value) else None
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    keys.add(key.value)
        if isinstance(node, ast.Call):
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
            if receiver is not None and held(receiver):
                if node.func.attr == "update":
                    keys |= {k.arg for k in node.keywords if k.arg}
                    keys |= set().union(*(_dict_keys(a) for a in node.args)) if node.args else set()
                elif node.func.attr in ("setdefault", "pop") and node.args and isinstance(node.args[0], ast.Constant):
                    (keys if node.func.attr == "setdefault" else popped).add(node.args[0].value)
            if _called_name(node) == "dict" and node.args and held(node.args[0]):
                keys |= {k.arg for k in node.keywords if k.arg}
    return keys, popped


# Where the dicts spread into `emit(kind, **d)` are built: (module, functions, the names holding them).
# A spread the test cannot resolve in its own function must be listed here.
BUILDERS: dict[str, list[tuple[str, tuple[str, ...], set[str] | None]]] = {
    "trial": [
        (
            "search.py",
            (
                "Search._trial",
                "Search._run",
                "Search._numerics",
                "Search._skip",
                "Search._reference",
                "Search._stage",
                "Search._candidate",
                "Search._determinism",
            ),
            {"trial", "ref"},
        ),
        ("engine.py", ("Engine.measure",), {"out"}),  # the trial takes the measurement's fields
        ("plan_tune.py", ("watchdog",), {"trial"}),
    ],
    "stage": [("stages.py", ("Stage.as_record",), None), ("search.py", ("Search.run", "Search._stage"), {"record"})],
    "max_batch": [("engine.py", ("Engine.max_batch",), None)],
    "loader_trial": [
        ("loader_search.py", ("LoaderSearch.trial",), {"trial"}),
        ("engine.py", ("Engine.measure_loader",), {"out"}),
        ("plan_tune.py", ("loader_measure",), {"out"}),
    ],
}
NOT_SENT = {"proc_stat"}  # plan_tune._public drops it before the record goes out


def _sent_fields() -> dict[str, set[str]]:
    """Every field name the worker sends, per record kind, read from its source."""
    modules = _modules()
    sent: dict[str, set[str]] = {}
    unresolved: set[str] = set()
    for tree in modules.values():
        for kind, names, spreads, function in _emits(tree):
            sent.setdefault(kind, set()).update(names)
            for spread in spreads:
                if isinstance(spread, ast.Name) and function.args.kwarg and spread.id == function.args.kwarg.arg:
                    continue  # a forwarder's **kwargs: its callers' keywords are read below
                local = _built_keys(function, {spread.id})[0] if isinstance(spread, ast.Name) else set()
                sent[kind] |= local  # a dict built in the same function (remeasure's `record`)
                if not local:
                    unresolved.add(kind)  # built elsewhere: BUILDERS says where
    forwarders = _forwarders(modules)
    for tree in modules.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (name := _called_name(node)) in forwarders:
                kind, params, home = forwarders[name]
                if _defines(tree, name) and tree is not modules[home]:
                    continue  # another function of that name (Search.result)
                sent.setdefault(kind, set()).update(k.arg for k in node.keywords if k.arg and k.arg not in params)
    assert unresolved <= set(BUILDERS), f"emit(kind, **dict) with no known builder: {unresolved - set(BUILDERS)}"
    for kind, builders in BUILDERS.items():
        popped: set[str] = set()
        for module, functions, names in builders:
            by_name = dict(_functions(modules[module]))
            for qualname in functions:
                keys, pops = _built_keys(by_name[qualname], names)
                sent.setdefault(kind, set()).update(keys)
                popped |= pops
        sent[kind] -= popped | NOT_SENT
    return sent


def test_every_record_the_worker_emits_has_a_record_class_with_its_fields():
    sent = _sent_fields()
    assert {"begin", "end", "env", "result", "error", "fatal", "done", "note", "trial", "stage"} <= set(sent)
    assert {"max_batch", "loader_trial", "loader_result", "workload", "plan", "capture", "remeasure"} <= set(sent)
    for kind, names in sorted(sent.items()):
        classes = _kinds(kind)
        assert classes, f"the worker emits {kind!r} but model/perf_records.py has no record class for it"
        declared = set().union(*(_fields(c) for c in classes))
        assert names <= declared, f"{kind}: the worker sends {sorted(names - declared)}, not declared by {classes}"
    assert set(R.BY_EVENT) <= set(sent), f"record classes for kinds nobody emits: {set(R.BY_EVENT) - set(sent)}"


def test_the_source_reading_sees_the_fields_that_travel_through_forwarders_and_builders():
    sent = _sent_fields()
    assert {"previous", "rung", "one_time_kind", "report", "memory_bytes", "baseline"} <= sent["result"]
    assert {"losses", "memory_bytes", "break_even_steps", "update", "numerics_delta", "config_id"} <= sent["trial"]
    assert {"outcome", "adopted", "candidates"} <= sent["stage"] and {"peak_bytes", "probes"} <= sent["max_batch"]
    assert {"steady_items_per_s", "cpu_busy", "restart_saving_s", "startup_s"} <= sent["loader_trial"]
    assert "windows" not in sent["loader_trial"] and "proc_stat" not in sent["loader_trial"]


def _recordings():
    yield "h100_records", h100_records()
    yield CPU_QUICK.name, list(records_of(CPU_QUICK.read_text()))
    yield TUNE_CPU.name, list(records_of(TUNE_CPU.read_text()))
    for path in H100_RECORDINGS:  # real H100 worker output from earlier runs (older workers' fields too)
        if MARK in path.read_text()[:2000]:
            yield path.name, list(records_of(path.read_text()))


@pytest.mark.parametrize("name,records", list(_recordings()), ids=lambda v: v if isinstance(v, str) else "")
def test_recorded_runs_decode_without_a_malformed_record_and_round_trip(name, records):
    typed = R.decode_all(records)
    assert not [r for r in typed if isinstance(r, R.Malformed)], name
    assert all(R.decode(R.encode(r)) == r for r in typed)
    assert R.decode_all(typed) == typed  # decoding a typed record keeps it
    if name in (CPU_QUICK.name, TUNE_CPU.name):  # today's worker: every field it sent is declared
        assert not [(r["event"], R.undeclared(r)) for r in records if R.undeclared(r)]


def test_the_two_kinds_of_result_are_told_apart_by_shape():
    bench = R.decode({"event": "result", "section": "matmul", "id": "matmul.bf16", "label": "bf16", "status": "ok"})
    tune = R.decode({"event": "result", "best": "t2", "best_config": {"compile": "default"}, "provisional": False})
    assert isinstance(bench, R.BenchResult) and isinstance(tune, R.SearchResult) and tune.best == "t2"


def test_the_typed_reports_equal_the_reports_built_from_wire_dicts():
    typed = R.decode_all(h100_records())
    assert build(typed) == build(h100_records())
    records = list(records_of(TUNE_CPU.read_text()))
    report = build_tune(R.decode_all(records), budget_s=40, tolerance=0.05, wall_s=20.0)
    assert report == build_tune(records, budget_s=40, tolerance=0.05, wall_s=20.0)
    assert report.status == "ok" and report.recommended and report.loader and report.loader.best
    assert report.max_batch and report.max_batch.status == "skipped"


@pytest.mark.parametrize(
    "bad,reason",
    [
        ({"event": "warp"}, "unknown record kind 'warp'"),
        ({"event": "end", "section": "matmul", "seconds": "soon"}, "end.seconds: expected float"),
        ({"event": "result", "section": "matmul", "id": "matmul.bf16", "status": "ok"}, "missing field 'label'"),
        ({"section": "memory"}, "without an event name"),
    ],
)
def test_a_malformed_record_is_named_and_the_bench_report_is_partial(bad, reason):
    records = [*h100_records(), bad, {"event": "done"}]
    typed = R.decode(bad)
    assert isinstance(typed, R.Malformed) and reason in typed.reason and typed.raw == bad
    report = build(records)
    assert report.status == "partial" and reason in (report.error or "")
    assert report.measurements == build(h100_records()).measurements  # what did decode still counts


def test_an_unreadable_fatal_record_fails_the_run_and_an_unreadable_trial_makes_tune_partial():
    assert outcome([{"event": "fatal", "stage": "import"}, {"event": "done"}], None).status == "failed"
    records = list(records_of(TUNE_CPU.read_text()))
    broken = [dict(r, samples_s="fast") if r.get("event") == "trial" and r.get("id") == "t1" else r for r in records]
    report = build_tune(broken, budget_s=40, tolerance=0.05, wall_s=20.0)
    assert report.status == "partial" and "unreadable trial record" in (report.error or "")
    assert "t1" not in {t.id for t in report.trials}


def test_a_cut_short_line_from_the_worker_is_malformed_not_dropped():
    text = CPU_QUICK.read_text()
    lines = text.splitlines()
    cut = "\n".join(lines[:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2] + "\n"  # the done record, cut short
    seen = []
    run = run_worker(FakeRunner(cut), ["py"], timeout=10, on_typed=seen.append)
    assert len(run.records) == len(lines) - 1  # the wire view (profile's) skips what is not JSON
    assert len(run.typed) == len(lines) and run.typed == tuple(seen)
    assert isinstance(run.typed[-1], R.Malformed) and "not a JSON object" in run.typed[-1].reason
    report = build(run.typed, mode="quick")
    assert report.status == "partial" and "not a JSON object" in (report.error or "")
    assert "the worker stopped before the end" in report.error


def test_a_malformed_record_of_the_search_process_stays_an_error_of_the_suite():
    first = WorkerRun((*h100_records(), {"event": "done"}), 1.0, None, "")
    second = WorkerRun(({"event": "end", "section": "conv", "seconds": []}, {"event": "done"}), 1.0, None, "")
    merged = merge_search(first, second)
    bad = [r for r in merged.typed if isinstance(r, R.Malformed)]
    assert [r.section for r in bad] == ["search:conv"]
    assert build(merged.typed).status == "partial"


def test_progress_says_an_unreadable_record_instead_of_failing():
    from io import StringIO

    from torchenv.render.perf_progress import WorkerProgress

    out = StringIO()
    progress = WorkerProgress(out, rich=False)
    progress.update({"event": "trial", "id": 7})
    progress.update(R.Note(t=3.0, text="hello"))
    assert "unreadable trial record" in out.getvalue() and "hello" in out.getvalue()


def test_the_in_process_api_records_are_the_wire_records_decoded():
    """tune.api decodes what it would have sent (JSON, default=str): tuples become lists first."""
    wire = {"event": "trial", "id": "t0", "stage": "reference", "label": "FP32", "losses": (1.0, None)}
    record = R.decode(json.loads(json.dumps(wire, default=str)))
    assert isinstance(record, R.Trial) and record.losses == (1.0, None)
