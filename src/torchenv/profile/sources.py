"""The exact source line of what a trace saw, from the user's own source file.

Kineto's python frames are `file(line): function`, where `line` is the frame's line *when the event
was recorded*: the `def` line (the first line of the code object) for a frame entered while the
profiler ran, the line then running for a frame that was already running when it started. Neither
is the line of the call that did the work. The op's direct caller in the trace is a python event
below the user's frame: `<built-in method item of Tensor object at 0x…>` names the call (`item`), a
library frame names the library function (`backward`), a record_function range names the method
(`Optimizer.step#AdamW.step` → `step`). This module finds those calls in the user's function body
(`ast`) and returns their lines; where the file cannot be found, read or parsed, or no call
matches, the caller falls back to the function's def line. Never raises for a bad file.

Pure but for reading the user's `.py` files (bounded, cached, read-only).
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field

MAX_SOURCE_BYTES = 4 * 1024 * 1024  # a source file larger than this is not read
# Python's dunder methods that the user writes as a builtin or an operator: the names to look for.
ALIASES = {
    "__float__": ("float",),
    "__int__": ("int",),
    "__index__": ("int",),
    "__bool__": ("bool",),
    "__len__": ("len",),
    "__next__": ("next",),
    "__iter__": ("iter",),
    "__getitem__": ("[]",),
    "__call__": (),
}


@dataclass(frozen=True, slots=True)
class FunctionSource:
    """One function (or a module's top level) of a user's file: where it starts and the lines of
    each call in its own body (nested functions and classes are frames of their own)."""

    path: str
    name: str
    def_line: int  # the `def` line (for `<module>`: 1)
    first_line: int  # the code object's first line (the first decorator's line when decorated)
    last_line: int
    calls: dict[str, tuple[int, ...]] = field(default_factory=dict)  # call name -> lines, sorted
    straight: frozenset[int] = frozenset()  # lines of calls that run once per call of the function


class SourceFiles:
    """The user's source files, looked up under `roots` (the folders Kineto's file names are
    relative to: the script's folder, the working directory, a trace's folder). Parsed once."""

    def __init__(self, roots=(), *, limit: int = MAX_SOURCE_BYTES):
        seen: list[str] = []
        for root in roots:
            if root and os.path.abspath(root) not in seen:
                seen.append(os.path.abspath(root))
        self.roots = tuple(seen)
        self.limit = limit
        self._paths: dict[str, str | None] = {}
        self._trees: dict[str, ast.Module | None] = {}
        self._functions: dict[tuple, FunctionSource | None] = {}

    # ------------------------------------------------------------------ files
    def resolve(self, file: str | None) -> str | None:
        """The path of a trace's file name on this machine, or None."""
        if not file or file.startswith("<"):
            return None
        if file in self._paths:
            return self._paths[file]
        found = None
        candidates = [file] if os.path.isabs(file) else [os.path.join(root, file) for root in self.roots]
        for path in candidates:
            try:
                if os.path.isfile(path):
                    found = os.path.abspath(path)
                    break
            except (OSError, ValueError):
                continue
        self._paths[file] = found
        return found

    def _tree(self, path: str) -> ast.Module | None:
        if path in self._trees:
            return self._trees[path]
        tree = None
        try:
            if os.path.getsize(path) <= self.limit:
                with open(path, "rb") as handle:
                    data = handle.read(self.limit + 1)
                tree = ast.parse(data, filename=path)
        except (OSError, ValueError, SyntaxError, RecursionError, MemoryError, UnicodeDecodeError):
            tree = None
        self._trees[path] = tree
        return tree

    # ------------------------------------------------------------------ functions
    def function(self, file: str | None, name: str | None, line: int | None) -> FunctionSource | None:
        """The function `name` of `file` whose def line is `line` (a frame entered in the trace) or
        whose body holds `line` (a frame already running when the profiler started); None when the
        file is not found or nothing there matches (the file changed since the trace)."""
        if not name or line is None:
            return None
        key = (file, name, line)
        if key in self._functions:
            return self._functions[key]
        found = None
        path = self.resolve(file)
        tree = self._tree(path) if path else None
        if tree is not None:
            try:
                found = _find(path, tree, name, line)
            except (RecursionError, ValueError, AttributeError, TypeError):
                found = None
        self._functions[key] = found
        return found


def call_names(event_name: str | None, function: str | None = None) -> tuple[str, ...]:
    """The names a call in the source would have, from the python event right below the user's
    frame: `<built-in method item of Tensor object at 0x…>` → item, `<built-in function linear>` →
    linear, a library frame's function (`backward`) → backward; dunders also as their builtin."""
    name = None
    if event_name:
        if event_name.startswith("<built-in method "):
            name = event_name[len("<built-in method ") :].split(" ", 1)[0]
        elif event_name.startswith("<built-in function "):
            name = event_name[len("<built-in function ") :].rstrip(">").split(" ", 1)[0]
    if name is None:
        name = function
    if not name or name.startswith("<"):
        return ()
    return (name, *ALIASES.get(name, ()))


def _find(path: str, tree: ast.Module, name: str, line: int) -> FunctionSource | None:
    if name == "<module>":
        last = max((getattr(n, "end_lineno", 0) or 0 for n in tree.body), default=1)
        return _collect(path, name, 1, 1, last, tree.body)
    best = None
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.name != name:
            continue
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        last = node.end_lineno or node.lineno
        # the innermost match wins (a nested function of the same name inside another)
        if (line in (node.lineno, first) or first <= line <= last) and (best is None or first >= best[1]):
            best = (node, first, last)
    if best is None:
        return None
    node, first, last = best
    return _collect(path, name, node.lineno, first, last, node.body)


NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
BRANCHES = (ast.For, ast.AsyncFor, ast.While, ast.If, ast.Try, ast.IfExp, ast.BoolOp, ast.comprehension)
if hasattr(ast, "TryStar"):
    BRANCHES = (*BRANCHES, ast.TryStar)
if hasattr(ast, "Match"):
    BRANCHES = (*BRANCHES, ast.Match)


def _collect(path: str, name: str, def_line: int, first: int, last: int, body: list) -> FunctionSource:
    calls: dict[str, set[int]] = {}
    straight: set[int] = set()

    def visit(node: ast.AST, once: bool) -> None:
        if isinstance(node, NESTED):
            return  # a frame of its own
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            once = False
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                at = getattr(func, "end_lineno", None) or func.lineno
                calls.setdefault(func.attr, set()).add(at)
                if once:
                    straight.add(at)
            elif isinstance(func, ast.Name):
                calls.setdefault(func.id, set()).add(func.lineno)
                if once:
                    straight.add(func.lineno)
        elif isinstance(node, ast.Subscript) and isinstance(getattr(node, "ctx", None), ast.Load):
            calls.setdefault("[]", set()).add(node.lineno)
        branch = once and not isinstance(node, BRANCHES)
        for child in ast.iter_child_nodes(node):
            visit(child, branch)

    for statement in body:
        visit(statement, True)
    return FunctionSource(
        path,
        name,
        def_line,
        first,
        last,
        {k: tuple(sorted(v)) for k, v in calls.items()},
        frozenset(straight),
    )
