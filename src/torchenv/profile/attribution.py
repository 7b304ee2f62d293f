"""Where an op came from in the user's code: the innermost user frame around it (outside torch and the
standard library), the library call it ran inside (torch's optimizer, autograd, a module's forward), and,
where the source file can be read, the exact line of the call (profile/sources.py). A mixin of the per-rank
analysis (`self` has frames, frame_by_id, children, annotations, sources and a cache). Pure."""

from __future__ import annotations

from dataclasses import dataclass

from .intervals import Containment
from .shared import _user_path
from .sources import call_names
from .trace import PythonFrame


@dataclass(frozen=True, slots=True)
class Where:
    """Where an op came from in the user's code: the user's frame, the source text a finding shows
    (`train_step() at train.py:28`: the exact call's line when the source file could be read, else
    the function's def line), and, for an op that ran inside a library call the user made (torch's
    optimizer, autograd, a module's forward), that call's name (`AdamW.step`)."""

    frame: PythonFrame
    text: str
    inside: str | None = None
    exact: bool = False


class SourceAttribution:
    """Source lookups of the per-rank analysis."""

    def _parent(self, frames: Containment, frame: PythonFrame) -> PythonFrame | None:
        if frame.parent is not None:
            return self.frame_by_id.get(frame.parent)
        return frames.innermost(frame.ts - 1e-6, frame.end + 1e-6)

    def _chain(self, tid, t: float, end: float | None) -> tuple[PythonFrame | None, list[PythonFrame]]:
        """The innermost user frame around [t, end] and the frames below it, innermost first."""
        frames = self.frames.get(tid)
        if frames is None:
            return None, []
        frame = frames.innermost(t, end)
        below: list[PythonFrame] = []
        while frame is not None and len(below) < 512:
            if _user_path(frame.file):
                return frame, below
            below.append(frame)
            frame = self._parent(frames, frame)
        return None, below

    def user_frame(self, tid, t: float, end: float | None = None) -> PythonFrame | None:
        return self._chain(tid, t, end)[0]

    def source(self, tid, t: float, end: float | None = None) -> str | None:
        where = self.where(tid, t, end)
        return where.text if where is not None else None

    def where(self, tid, t: float, end: float | None = None) -> Where | None:
        """The user's source site of what runs at [t, end] on thread `tid` (see Where)."""
        frame, below = self._chain(tid, t, end)
        if frame is None:
            return None
        child = below[-1] if below else None
        hint = self._library_range(tid, t, t if end is None else end, frame)
        key = (frame.id if frame.id is not None else (frame.name, frame.ts), child.name if child else None,
               child.ts if child else None, hint)  # fmt: skip
        if key not in self._where_cache:
            self._where_cache[key] = self._resolve(frame, below, child, hint)
        return self._where_cache[key]

    def _library_range(self, tid, t: float, end: float, frame: PythonFrame) -> str | None:
        """The outermost record_function range a library opened inside the user's frame around
        [t, end]: `Optimizer.step#AdamW.step` (the user called optimizer.step())."""
        best = None
        for a in self.annotations.get(tid, ()):
            if a.ts > t:
                break
            # (a range cut short by the trace's end may outlast the frame: no check of a.end there)
            if a.ts >= frame.ts and end <= a.end and "#" in a.name and (best is None or a.ts < best.ts):
                best = a
        return best.name if best is not None else None

    def _resolve(self, frame: PythonFrame, below: list, child: PythonFrame | None, hint: str | None) -> Where:
        library = [f for f in below if f.file is not None or f.name.startswith("nn.Module:")]
        inside = None
        if library:
            if hint:
                inside = hint.split("#", 1)[1]
            elif child is not None and child.name.startswith("nn.Module:"):
                inside = child.name.split(":", 1)[1].strip().rsplit("_", 1)[0] + ".forward"
            elif child is not None and child.function:
                inside = f"{child.function}() in {child.file}"
        fs = self.sources.function(frame.file, frame.function, frame.line)
        if fs is None:
            return Where(frame, frame.where, inside)
        builtin = child is not None and child.file is None and child.name.startswith("<built-in")
        tries: list[tuple[str, ...]] = []
        if builtin:
            tries.append(call_names(child.name))
        if hint:
            tries.append(call_names(None, hint.rsplit(".", 1)[-1]))
        if child is not None and child.file is not None:
            tries.append(call_names(None, child.function))
        for names in tries:
            lines = sorted({line for n in names for line in fs.calls.get(n, ())})
            if not lines:
                continue
            if len(lines) > 1 and builtin:
                lines = self._by_order(frame, child, fs, names, lines)
            text = f"{fs.name}() at {frame.file}:{', '.join(map(str, lines))}"
            return Where(frame, text, inside, exact=True)
        return Where(frame, f"{fs.name}() at {frame.file}:{fs.def_line}", inside)

    def _by_order(self, frame: PythonFrame, child: PythonFrame, fs, names, lines: list[int]) -> list[int]:
        """Several calls of that name in the function: when each runs once per call of the function
        (no loop or branch around it) and the frame was entered inside the trace, the k-th such call
        in the frame is the k-th line."""
        if frame.id is None or frame.line not in (fs.def_line, fs.first_line) or not set(lines) <= fs.straight:
            return lines
        wanted = set(names)
        siblings = [
            f
            for f in sorted(self.children.get(frame.id, ()), key=lambda f: f.ts)
            if f.file is None and set(call_names(f.name)) & wanted
        ]
        if len(siblings) != len(lines) or child not in siblings:
            return lines
        return [lines[siblings.index(child)]]
