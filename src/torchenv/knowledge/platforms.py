"""platform_wheels.toml: which builds exist per OS/arch and the JetPack builds (read once, cached)."""

from __future__ import annotations

from functools import lru_cache

from ._store import DATA_DIR, tomllib


@lru_cache(maxsize=1)
def platform_data() -> dict:
    return tomllib.loads((DATA_DIR / "platform_wheels.toml").read_text(encoding="utf-8"))


__all__ = ["platform_data"]
