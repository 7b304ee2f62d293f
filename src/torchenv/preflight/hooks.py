"""Pure: where a rank is (torchrun's environment variables) and the test-only hooks.

The hooks exist so that CI on one CPU machine can show what the preflight does on a bad cluster:
a rank that never joins, a rank with another NCCL version or another environment variable, a
small /dev/shm, a GPU that computes wrong bits. They are read from one variable,
TORCHENV_PREFLIGHT_TEST (JSON), are ignored when it is unset, and a report made with any of them
says so (`test_hooks: true`), so it can never pass for a real result.

    TORCHENV_PREFLIGHT_TEST='{"absent": [1], "env": {"1": {"NCCL_ALGO": "Tree"}},
                              "nccl_version": {"1": "2.99.9"}, "shm_bytes": {"0": 67108864},
                              "gemm_corrupt": [1]}'
"""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..model.preflight import RankPlace

HOOKS_VARIABLE = "TORCHENV_PREFLIGHT_TEST"


@dataclass(frozen=True, slots=True)
class TestHooks:
    __test__ = False  # not a pytest class

    active: bool = False
    absent: frozenset[int] = frozenset()  # these ranks never join (they sleep, then leave)
    absent_seconds: float = 120.0
    env: dict[int, dict[str, str]] = field(default_factory=dict)  # variables set in a rank before it reads itself
    nccl_version: dict[int, str] = field(default_factory=dict)  # what a rank's snapshot says torch's NCCL is
    shm_bytes: dict[int, int] = field(default_factory=dict)  # what a rank read of /dev/shm
    gemm_corrupt: frozenset[int] = frozenset()  # these ranks flip a bit of their GEMM check product


def _rank_map(value, convert) -> dict[int, object]:
    if not isinstance(value, dict):
        raise ValueError("expected an object keyed by rank")
    return {int(k): convert(v) for k, v in value.items()}


def parse_hooks(environ: Mapping[str, str]) -> TestHooks:
    """The hooks in TORCHENV_PREFLIGHT_TEST; raises ValueError on a malformed value (never guessed)."""
    text = environ.get(HOOKS_VARIABLE)
    if not text:
        return TestHooks()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{HOOKS_VARIABLE} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{HOOKS_VARIABLE} must be a JSON object")
    known = {"absent", "absent_seconds", "env", "nccl_version", "shm_bytes", "gemm_corrupt"}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"{HOOKS_VARIABLE}: unknown hook(s) {', '.join(sorted(unknown))}")
    return TestHooks(
        active=True,
        absent=frozenset(int(r) for r in data.get("absent", ())),
        absent_seconds=float(data.get("absent_seconds", 120.0)),
        env=_rank_map(data.get("env", {}), lambda v: {str(k): str(x) for k, x in dict(v).items()}),  # type: ignore[arg-type]
        nccl_version=_rank_map(data.get("nccl_version", {}), str),  # type: ignore[arg-type]
        shm_bytes=_rank_map(data.get("shm_bytes", {}), int),  # type: ignore[arg-type]
        gemm_corrupt=frozenset(int(r) for r in data.get("gemm_corrupt", ())),
    )


@dataclass(frozen=True, slots=True)
class Launch:
    """What the launcher said about this process (torchrun, or a plain `python -m torchenv.preflight`)."""

    place: RankPlace
    world_size: int
    master_addr: str | None  # None: no launcher; world of one with an in-process store
    master_port: int | None
    agent_store: bool  # torchrun hosts the store (TORCHELASTIC_USE_AGENT_STORE)
    run_id: str
    restart: int


def read_launch(environ: Mapping[str, str], *, pid: int, host: str | None = None) -> Launch:
    """RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR/PORT; without them a
    world of one. Raises ValueError when they are present but malformed or inconsistent."""
    host = host or socket.gethostname()
    if "RANK" not in environ and "WORLD_SIZE" not in environ:
        return Launch(RankPlace(0, 0, 0, host, pid, 1), 1, None, None, False, "local", 0)
    try:
        rank = int(environ["RANK"])
        world = int(environ["WORLD_SIZE"])
        local_rank = int(environ.get("LOCAL_RANK", rank))
        local_world = int(environ.get("LOCAL_WORLD_SIZE", world))
        node = int(environ.get("GROUP_RANK", rank // max(local_world, 1)))
        port = int(environ["MASTER_PORT"]) if environ.get("MASTER_PORT") else None
        restart = int(environ.get("TORCHELASTIC_RESTART_COUNT", "0") or 0)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"malformed launcher variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_PORT): {exc}") from None
    if world < 1 or not 0 <= rank < world or not 0 <= local_rank < max(local_world, 1):
        raise ValueError(f"inconsistent launcher variables: RANK={rank} WORLD_SIZE={world} LOCAL_RANK={local_rank}")
    addr = environ.get("MASTER_ADDR")
    if world > 1 and (not addr or port is None):
        raise ValueError("WORLD_SIZE > 1 but MASTER_ADDR/MASTER_PORT are not set: run under torchrun")
    return Launch(
        place=RankPlace(rank, local_rank, node, host, pid, local_world),
        world_size=world,
        master_addr=addr,
        master_port=port,
        agent_store=environ.get("TORCHELASTIC_USE_AGENT_STORE", "").lower() == "true",
        run_id=environ.get("TORCHELASTIC_RUN_ID", "none"),
        restart=restart,
    )


def choose_gpu(local_rank: int, visible: int) -> tuple[int | None, str | None]:
    """The GPU index a rank uses among those it sees: its only one, else its local rank. (index,
    problem): a local rank beyond the visible count wraps around, and the problem says so."""
    if visible <= 0:
        return None, None
    if visible == 1:
        return 0, None
    if local_rank < visible:
        return local_rank, None
    return local_rank % visible, f"local rank {local_rank} but only {visible} GPUs visible: shares cuda:{local_rank % visible}"


def node_of(rank: int, local_world_size: int) -> int | None:
    """The node a rank belongs to when every node runs `local_world_size` ranks (torchrun's layout)."""
    return rank // local_world_size if local_world_size > 0 else None


__all__ = ["HOOKS_VARIABLE", "Launch", "TestHooks", "choose_gpu", "node_of", "parse_hooks", "read_launch"]
