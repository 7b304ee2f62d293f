"""The error-message knowledge behind `torchenv explain`: data/errors.toml as frozen records.

Pure: reads only the packaged TOML. Patterns are compiled once (case-insensitive); a row with an
invalid pattern or an unknown category is a bug in the data and fails the load loudly (the
data-consistency tests catch it before a release).

A row matches by `patterns` (regular expressions on the message with whitespace folded) or by
`signatures`: plain text compared on *normalised* text (`normalise`: lower case, quotes dropped,
paths -> `<path>`, every number or version -> `#`), so one signature covers the wordings of many
torch/CUDA versions, paths and sizes without a hand-written regex.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10 needs the tomli backport
    import tomli as tomllib  # type: ignore[no-redef]

from ..model.finding import CATEGORIES

try:  # the regular-expression parser: re._parser from Python 3.11, sre_parse before
    import re._constants as _re_constants
    import re._parser as _re_parser
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _re_constants  # type: ignore[no-redef]
    import sre_parse as _re_parser  # type: ignore[no-redef]

ERRORS_FILE = Path(__file__).resolve().parent / "data" / "errors.toml"
ERRORS_FAMILIES = ERRORS_FILE.parent / "errors.d"


@dataclass(frozen=True, slots=True)
class Cause:
    text: str
    when: str | None = None  # a condition named in checks/explain.py; None: applies in general
    category: str | None = None  # overrides the row's category when this cause is picked
    fix: str | None = None  # overrides the row's fix when this cause is picked


_NORMALISE = re.compile(
    # a quoted path may hold spaces ("C:\Program Files\...\cudnn64_8.dll"), not the : ; , after which a
    # message goes on; quotes of either style
    r"(?P<qpath>(?P<q>['\"`\u2018\u2019\u201c\u201d])(?:[A-Za-z]:[\\/]|~?/)[^'\"`\u2018\u2019\u201c\u201d\n:;,]{0,300}"
    r"['\"`\u2018\u2019\u201c\u201d])"
    r"|(?P<path>(?<![\w.<>])(?:[A-Za-z]:[\\/]|~?/|\.{1,2}/)[^\s:;,'\"`()\[\]]*[\\/][^\s:;,'\"`()\[\]]*)"
    r"|(?P<hex>\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]{0,63}[a-fA-F])(?=[0-9a-fA-F]{0,63}\d)[0-9a-fA-F]{8,64}\b)"
    # a memory size (20.00 MiB, 1.5 GiB, 4096 bytes): one token whatever its unit
    r"|(?P<size>\b\d+(?:[.,]\d+)*\s?(?:[KMGTP]i?B|bytes)\b)"
    # a number or a version with its pre-release and local parts (2.1.0a0+cu121, 1.13.1.post200, 2.5.0.dev20240901)
    r"|(?P<num>\d+(?:[.,]\d+)*(?:(?:a|b|rc|\.post|\.dev)\d+)*(?:\+(?:cu|rocm|cpu|git|nv|pt|\d)[\w.]*)?)"
    r"|(?P<quote>['\"`\u2018\u2019\u201c\u201d])"
    r"|(?P<space>\s+)"
)


class OffsetMap:
    """Maps a position in normalised text back to the input: unchanged runs shift by a constant,
    replaced tokens (a path, a number, a quote) map to where the token started."""

    __slots__ = ("_kinds", "_norm", "_orig")

    def __init__(self, norm: list[int], orig: list[int], kinds: list[bool]) -> None:
        self._norm, self._orig, self._kinds = norm, orig, kinds

    def __getitem__(self, index: int) -> int:
        i = bisect.bisect_right(self._norm, index) - 1
        if i < 0:
            return 0
        return self._orig[i] + (index - self._norm[i] if self._kinds[i] else 0)


def normalise_with_offsets(text: str) -> tuple[str, OffsetMap]:
    """`normalise(text)` (not stripped) and where each of its characters came from in `text`."""
    parts: list[str] = []
    norm: list[int] = []
    orig: list[int] = []
    kinds: list[bool] = []  # True: an unchanged run (lower-cased), False: a replaced token
    length = 0
    last = ""
    at = 0
    for match in _NORMALISE.finditer(text):
        if match.start() > at:
            chunk = text[at : match.start()].lower()
            norm.append(length), orig.append(at), kinds.append(True)
            parts.append(chunk)
            length += len(chunk)
            last = chunk[-1]
        kind = match.lastgroup
        piece = {
            "qpath": "<path>",
            "path": "<path>",
            "hex": "#",
            "size": "<size>",
            "num": "#",
            "quote": "",
            "space": " ",
        }[kind]
        if kind == "space" and last == " ":
            piece = ""
        if piece:
            norm.append(length), orig.append(match.start()), kinds.append(False)
            parts.append(piece)
            length += len(piece)
            last = piece[-1]
        at = match.end()
    if at < len(text):
        norm.append(length), orig.append(at), kinds.append(True)
        parts.append(text[at:].lower())
    return "".join(parts), OffsetMap(norm, orig, kinds)


def normalise(text: str) -> str:
    """Lower case; quotes dropped; paths (quoted ones with spaces too) -> <path>; memory sizes -> <size>; numbers,
    versions (with pre-release and local parts) and hex (0x..., long hex runs) -> #; whitespace folded."""
    return normalise_with_offsets(text)[0].strip()


# Regex pieces that stand for a number, a space or a quote; a pattern made only of these and literal text is a
# signature in disguise, and is matched on normalised text too (so a changed number, path or quote style
# cannot make it miss). Patterns with literal digits (error codes: "Error 804", "NCCL Error 2") stay regexes only.
_LITERAL_PIECES = (
    (re.compile(r"(?:\\d[+*]?|\[\\d.\]\+|\[0-9\]\+)(?:\\\.\\d[+*]?)*"), "1"),
    (re.compile(r"\\s[+*]?"), " "),
    (re.compile(r"\[(?:\\x22|\\x27|'|\"|\\x60|\\u2019)+\]\??"), ""),
    (re.compile(r"\\([.()\[\]{}:'\"/_-])"), r"\1"),
)
_META = re.compile(r"[\\\[\](){}|*+?^$]")


def derived_signature(pattern: str) -> str | None:
    """The normalised signature a literal-ish regex stands for, or None (a real regex, or literal digits)."""
    text = pattern
    for piece, replacement in _LITERAL_PIECES:
        text = piece.sub(replacement, text)
    literal_digits = re.search(r"\d", _LITERAL_PIECES[2][0].sub("", pattern).replace("\\d", ""))
    if _META.search(text.replace(".", "")) or literal_digits:
        return None
    if "." in text.replace("...", "") and re.search(r"(?<!\\)\.(?![\d])", pattern):
        return None  # an unescaped '.' is a wildcard, not a literal dot
    signature = normalise(text)
    return signature if len(signature) >= 16 else None


# A quote right after the regex's last word ('torch') ends the name there: its signature must not match a longer
# name ('torchvision', 'torch_scatter', 'torch.distributed'), though the quote itself is dropped by normalise.
_QUOTE_AFTER_WORD = re.compile(r"\w\[(?:\\x22|\\x27|'|\"|\\x60|\\u2019)+\]\??$")


def ends_at_name(pattern: str) -> bool:
    """Whether a pattern's derived signature must end at a name boundary (see _QUOTE_AFTER_WORD)."""
    return bool(_QUOTE_AFTER_WORD.search(pattern))


@dataclass(frozen=True, slots=True)
class ErrorPattern:
    id: str
    category: str
    rank: int
    title: str
    meaning: str
    patterns: tuple[re.Pattern[str], ...]
    causes: tuple[Cause, ...]
    fix: str
    source: str
    retrieved: str
    severity: str = "error"
    signatures: tuple[str, ...] = ()  # normalised plain text (see normalise)
    explains: tuple[str, ...] = ()  # ids of rows (and doctor findings) this error is the cause of
    symptom: bool = False  # says what failed, not why: never ranked above a cause
    bounded: frozenset[str] = frozenset()  # signatures that must end where a name ends (ends_at_name)
    # per pattern, a lower-case text every match must contain (None: none found): a cheap `in` test first,
    # because running 300+ regular expressions over a 256 KiB paste is most of explain's time
    needles: tuple[str | None, ...] = ()


@dataclass(frozen=True, slots=True)
class ErrorKnowledge:
    version: str
    patterns: tuple[ErrorPattern, ...]

    def by_id(self, id: str) -> ErrorPattern | None:
        return next((p for p in self.patterns if p.id == id), None)


_MIN_NEEDLE = 4


def required_text(pattern: str) -> str | None:
    """The longest run of literal ASCII text every match of `pattern` must contain, lower case (None when
    shorter than 4 or the pattern cannot be read). Read from the parsed pattern: a top-level sequence of
    literals, also inside plain groups and repeats of at least one; alternatives and optional parts end a run."""
    try:
        parsed = _re_parser.parse(pattern, re.I)
    except (re.error, RecursionError, OverflowError, ValueError):
        return None
    best = _longest_literal(parsed)
    return best.lower() if len(best) >= _MIN_NEEDLE else None


def _longest_literal(items) -> str:
    best, run = "", []
    for op, arg in items:
        if op is _re_constants.LITERAL and arg < 128:
            run.append(chr(arg))
            continue
        best = max(best, "".join(run), key=len)
        run = []
        if op is _re_constants.SUBPATTERN:
            best = max(best, _longest_literal(arg[-1]), key=len)
        elif op in _REPEATS and arg[0] >= 1:
            best = max(best, _longest_literal(arg[2]), key=len)
    return max(best, "".join(run), key=len)


_REPEATS = tuple(
    getattr(_re_constants, name)
    for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
    if hasattr(_re_constants, name)
)

# what re.IGNORECASE matches to an ASCII letter that str.lower() does not turn into it
CASE_FOLD_EXTRAS = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s"})


def parse_errors(doc: dict) -> ErrorKnowledge:
    rows = []
    seen: set[str] = set()
    for row in doc.get("error", []):
        if row["id"] in seen:
            raise ValueError(f"errors.toml: duplicate id {row['id']}")
        seen.add(row["id"])
        if row["category"] not in CATEGORIES:
            raise ValueError(f"errors.toml: {row['id']} has unknown category {row['category']!r}")
        causes = tuple(
            Cause(text=c["text"], when=c.get("when"), category=c.get("category"), fix=c.get("fix"))
            for c in row.get("causes", [])
        )
        for cause in causes:
            if cause.category is not None and cause.category not in CATEGORIES:
                raise ValueError(f"errors.toml: {row['id']} cause has unknown category {cause.category!r}")
        if not row.get("patterns") and not row.get("signatures"):
            raise ValueError(f"errors.toml: {row['id']} has neither patterns nor signatures")
        signatures = tuple(normalise(text) for text in row.get("signatures", []))
        if any(len(text) < 8 for text in signatures):
            raise ValueError(f"errors.toml: {row['id']} has a signature too short to be specific")
        derived = [(derived_signature(p), ends_at_name(p)) for p in row.get("patterns", [])]
        signatures += tuple(dict.fromkeys(d for d, _ in derived if d and d not in signatures))
        bounded = frozenset(d for d, at_name in derived if d and at_name)
        rows.append(
            ErrorPattern(
                id=row["id"],
                category=row["category"],
                rank=int(row.get("rank", 50)),
                title=row["title"],
                meaning=row["meaning"],
                patterns=tuple(re.compile(p, re.I) for p in row.get("patterns", [])),
                needles=tuple(required_text(p) for p in row.get("patterns", [])),
                causes=causes,
                fix=row["fix"],
                source=row["source"],
                retrieved=row["retrieved"],
                severity=row.get("severity", "error"),
                signatures=signatures,
                explains=tuple(row.get("explains", [])),
                symptom=bool(row.get("symptom", False)),
                bounded=bounded,
            )
        )
    return ErrorKnowledge(version=doc.get("meta", {}).get("knowledge_version", "unknown"), patterns=tuple(rows))


def parse_error_files(files: list[Path]) -> ErrorKnowledge:
    """Several errors files as one table: an id may appear once across all of them; the version is the first's."""
    doc: dict = {"error": []}
    for file in files:
        with open(file, "rb") as handle:
            part = tomllib.load(handle)
        doc["error"] += part.get("error", [])
        doc.setdefault("meta", part.get("meta", {}))
    return parse_errors(doc)


@lru_cache(maxsize=4)
def _load(path: str) -> ErrorKnowledge:
    # The packaged table is errors.toml followed by the family files of errors.d/ in name order: rows of
    # separate sweeps are written side by side in their own files and still read as one table.
    files = [Path(path)]
    if files[0] == ERRORS_FILE:
        files += sorted(ERRORS_FAMILIES.glob("*.toml"))
    return parse_error_files(files)


def load_errors(path: str | Path | None = None) -> ErrorKnowledge:
    """Load (and cache) the error patterns (default: the packaged data/errors.toml and data/errors.d/)."""
    return _load(str(Path(path).resolve()) if path is not None else str(ERRORS_FILE))


__all__ = [
    "CASE_FOLD_EXTRAS",
    "Cause",
    "ErrorKnowledge",
    "ErrorPattern",
    "derived_signature",
    "ends_at_name",
    "load_errors",
    "normalise",
    "normalise_with_offsets",
    "parse_error_files",
    "parse_errors",
    "required_text",
]
