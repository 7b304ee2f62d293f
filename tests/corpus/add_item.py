#!/usr/bin/env python3
"""Add one real item to the generalisation corpus (tests/corpus/pastes, tests/corpus/messages).

The text comes on stdin, verbatim as the user pasted it. The half (tuning/validation) is fixed by
the thread with ../shared/tools/corpus_half.py's rule and recorded in the index.

    python tests/corpus/add_item.py paste --slug rtx3060-cpu-wheel --thread pytorch/pytorch#123 \
        --category cpu-only-build --cause "..." --basis thread --format collect_env < text
    python tests/corpus/add_item.py message --thread vllm-project/vllm#45 --category driver-too-old \
        --cause "..." < text
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
_REF = re.compile(r"^([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)#(\d+)$")


def half(thread: str) -> str:
    """The same rule as ../shared/tools/corpus_half.py (a test checks they agree)."""
    m = _REF.match(thread)
    if not m:
        raise SystemExit(f"not a thread reference (owner/repo#N): {thread!r}")
    key = f"{m.group(1).lower()}/{m.group(2).lower()}#{m.group(3)}"
    return "validation" if hashlib.sha256(key.encode()).digest()[0] & 1 else "tuning"


def toml_string(value: str) -> str:
    if "\n" not in value and "'" not in value and not re.search(r"[\x00-\x1f\x7f]", value):
        return f"'{value}'"
    if "'''" not in value and not value.endswith("'") and not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", value):
        return "'''\n" + value + "'''"
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    out = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", out)
    return '"""\n' + out + '"""'


def append(index: Path, table: str, row: dict) -> None:
    lines = [f"\n[[{table}]]"]
    for key, value in row.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int):
            lines.append(f"{key} = {value}")
        else:
            lines.append(f"{key} = {toml_string(value)}")
    chunk = "\n".join(lines) + "\n"
    old = index.read_text() if index.exists() else ""
    new = old + chunk
    parsed = tomllib.loads(new)[table][-1]  # round-trip before writing
    assert all(parsed[k] == v for k, v in row.items()), "round-trip failed"
    index.write_text(new)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=("paste", "message"))
    parser.add_argument("--thread", required=True)
    parser.add_argument("--url")
    parser.add_argument("--category", required=True)
    parser.add_argument("--cause", required=True)
    parser.add_argument("--basis", default="thread", choices=("thread", "report", "thread+report"))
    parser.add_argument("--slug")
    parser.add_argument("--format", dest="fmt", default="")
    parser.add_argument("--notes", default="")
    parser.add_argument("--sweep", type=int, default=2, help="the collection sweep (1: before any rule was written)")
    args = parser.parse_args(argv)
    text = sys.stdin.read()
    if not text.strip():
        raise SystemExit("empty text")
    owner_repo, number = args.thread.split("#")
    url = args.url or f"https://github.com/{owner_repo}/issues/{number}"
    legacy = (HERE / "collect_env" / "index.toml").read_text() + (HERE / "errors.toml").read_text()
    if re.search(rf"github\.com/{re.escape(owner_repo)}/(?:issues|pull|discussions)/{number}\b", legacy, re.I):
        raise SystemExit(f"{args.thread} is in the legacy corpus, which the rules were tuned on: not independent")
    h = half(args.thread)
    if args.kind == "paste":
        index = HERE / "pastes" / "index.toml"
        n = len(tomllib.loads(index.read_text()).get("paste", [])) + 1 if index.exists() else 1
        name = f"p{n:03d}-{args.slug}.txt"
        (HERE / "pastes" / name).write_text(text)
        row = {
            "file": name,
            "thread": args.thread,
            "source": url,
            "half": h,
            "category": args.category,
            "healthy": args.category == "healthy",
            "established_cause": args.cause,
            "basis": args.basis,
            "format": args.fmt,
            "sweep": args.sweep,
        }
        if args.notes:
            row["notes"] = args.notes
        append(index, "paste", row)
    else:
        index = HERE / "messages" / "index.toml"
        n = len(tomllib.loads(index.read_text()).get("message", [])) + 1 if index.exists() else 1
        name = f"m{n:03d}"
        row = {
            "id": name,
            "thread": args.thread,
            "source": url,
            "half": h,
            "category": args.category,
            "established_cause": args.cause,
            "basis": args.basis,
            "sweep": args.sweep,
            "message": text.rstrip("\n"),
        }
        if args.notes:
            row["notes"] = args.notes
        append(index, "message", row)
    print(f"{name} {h}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
