"""Parse `ldconfig -p` into the CUDA-family libraries the dynamic loader would find."""

from __future__ import annotations

import re

# libcudnn.so.9 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudnn.so.9
_LINE = re.compile(r"^\s*(lib[\w.+-]+?\.so[.\d]*)\s+\(([^)]*)\)\s+=>\s+(\S+)\s*$")
WATCHED = ("libcuda", "libcudart", "libcublas", "libcublasLt", "libcudnn", "libnccl", "libnvidia-ml")
_STEM = re.compile(r"^(lib[\w+-]+?)(?:\.so|_)")


def library_stem(file_name: str) -> str | None:
    """`libcudnn.so.9.14.0` -> `libcudnn`; `libcudnn_ops.so.9` -> None (a sub-library)."""
    match = re.match(r"^(lib[\w+-]+?)\.so", file_name)
    if not match:
        return None
    return match.group(1) if match.group(1) in WATCHED else None


def parse_ldconfig(text: str) -> list[tuple[str, str]]:
    """Return (stem, path) for each watched library, in ldconfig's order (its first wins)."""
    found = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        stem = library_stem(match.group(1))
        if stem:
            found.append((stem, match.group(3)))
    return found


def version_from_file_name(path: str) -> str | None:
    """`/usr/lib/libcudnn.so.9.14.0` -> `9.14.0`; a bare `.so.9` is a major only."""
    match = re.search(r"\.so\.(\d+(?:\.\d+)*)$", path)
    return match.group(1) if match else None
