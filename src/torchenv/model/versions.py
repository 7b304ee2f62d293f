"""One version value type for the GPU stack: driver, CUDA, torch, cuDNN, NCCL (pure, stdlib).

Every comparison of two of these versions goes through :class:`StackVersion`, so "580.65.06" vs
"580.159.04", "12.8" vs "12.8.1" and cuDNN's integer ``91900`` are decoded in one place, the same
way for every command. Facts keep the text a person reads (JSON stays strings); the parse happens
here, once per value, at the moment a judgement needs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NUMBERS = re.compile(r"\d+")
_LEADING = re.compile(r"^\s*v?(\d+(?:\.\d+)*)")
_VARIANT = re.compile(r"^cu(\d+)(\d)$")


@dataclass(frozen=True, slots=True, order=True)
class StackVersion:
    """A dotted numeric version. Ordered by its numbers only: ``580 < 580.65.06 < 580.159.04``."""

    parts: tuple[int, ...]
    text: str = field(compare=False)

    @classmethod
    def parse(cls, raw: object) -> StackVersion | None:
        """ "580.159.04", "12.8", "2.11.0+cu130" (local part dropped), "9.19.0.56"; None if no number leads."""
        if isinstance(raw, StackVersion):
            return raw
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            return None
        match = _LEADING.match(str(raw))
        if match is None:
            return None
        text = match.group(1)
        return cls(tuple(int(p) for p in text.split(".")), text)

    @property
    def major(self) -> int:
        return self.parts[0]

    @property
    def minor(self) -> int:
        return self.parts[1] if len(self.parts) > 1 else 0

    @property
    def major_minor(self) -> str:
        return f"{self.major}.{self.minor}"

    def at_least(self, other: StackVersion | str | None) -> bool:
        """True when this version meets the floor ``other`` (a branch floor "580" is met by 580.x)."""
        floor = StackVersion.parse(other) if other is not None else None
        return floor is not None and self.parts >= floor.parts

    def __str__(self) -> str:
        return self.text


def parse_version(raw: object) -> StackVersion | None:
    return StackVersion.parse(raw)


def version_numbers(raw: object) -> tuple[int, ...]:
    """The numbers of a version for sorting; () when it has none. Never raises."""
    parsed = StackVersion.parse(raw)
    if parsed is not None:
        return parsed.parts
    return tuple(int(n) for n in _NUMBERS.findall(raw)) if isinstance(raw, str) else ()


def cudnn_text(raw: object) -> str | None:
    """cuDNN as people write it: ``91900`` -> ``9.19.0``, ``8902`` -> ``8.9.2``, ``7605`` -> ``7.6.5``.

    torch.backends.cudnn.version() encodes major*10000 + minor*100 + patch from cuDNN 9 on, and
    major*1000 + minor*100 + patch before (cudnn.h's CUDNN_VERSION). Text input is returned as its
    first three numbers ("9.19.0.56" -> "9.19.0").
    """
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int) or (isinstance(raw, str) and raw.strip().isdigit()):
        value = int(raw)
        if value <= 0:
            return None
        if value >= 90000:
            major, rest = divmod(value, 10000)
        else:
            major, rest = divmod(value, 1000)
        minor, patch = divmod(rest, 100)
        return f"{major}.{minor}.{patch}"
    parsed = StackVersion.parse(raw)
    return ".".join(str(p) for p in parsed.parts[:3]) if parsed else None


def cuda_of_variant(variant: object) -> str | None:
    """`cu130` -> `13.0`, `cu118` -> `11.8`, `cu92` -> `9.2`; None for cpu/rocm/anything else."""
    if not isinstance(variant, str):
        return None
    match = _VARIANT.match(variant.strip().lower().lstrip("+"))
    return f"{match.group(1)}.{match.group(2)}" if match else None


def variant_of_cuda(cuda: object) -> str | None:
    """`13.0` -> `cu130`, `12.8.1` -> `cu128`."""
    parsed = StackVersion.parse(cuda)
    return f"cu{parsed.major}{parsed.minor}" if parsed is not None and len(parsed.parts) >= 2 else None


__all__ = [
    "StackVersion",
    "cuda_of_variant",
    "cudnn_text",
    "parse_version",
    "variant_of_cuda",
    "version_numbers",
]
