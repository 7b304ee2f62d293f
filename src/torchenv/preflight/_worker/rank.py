"""The rank worker: `python -m torchenv.preflight`, one process per GPU under torchrun
(`torchrun --nproc-per-node N [--nnodes … --rdzv-…] -m torchenv.preflight`), or alone as a world of
one. The only module of torchenv that imports torch in its own process, and only inside `main`.

Phases, each bounded in time:
  join        every rank registers with the rendezvous store; after --join-timeout the lowest
              rank that arrived names the ranks (and their nodes/hosts) that did not, and stops
  inventory   each rank reads itself (snapshot facts, binding, /dev/shm, environment, interfaces;
              the node's topology on local rank 0) and posts it to the store
  gemm        a few seconds of bf16 and fp32 GEMM, checked against a float64 reference
  process-group  init_process_group with a short timeout; every rank posts whether it worked
  sweep       all-reduce / all-gather / reduce-scatter over the sizes, then (3+ ranks) round-robin pairs
  report      rank 0 gathers every post, judges (torchenv.preflight.judge) and writes the report

Everything small travels through the store, not through NCCL: a skewed or broken NCCL cannot hide
the inventory that explains it. A watchdog thread ends the run at --timeout and a signal thread
turns torchrun's SIGTERM (another rank died) into a report of what was learned; rank 0's exit code
is the verdict (0 ready, 1 degraded, 2 not ready).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import importlib.util
import io
import json
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

from ... import __version__
from ...model import Facts, Unknown, known
from ...model.codec import from_json, to_json
from ...model.preflight import (
    Binding,
    GemmResult,
    MissingRank,
    PairResult,
    RankData,
    SweepPoint,
    size_text,
)
from .. import bandwidth
from ..hooks import Launch, TestHooks, choose_gpu, node_of, parse_hooks, read_launch

STORE_PREFIX = "torchenv-preflight"
ENVIRONMENT_PREFIXES = ("NCCL_", "TORCH_NCCL_", "GLOO_", "TORCH_DISTRIBUTED_", "CUDA_", "OMP_", "MKL_", "UCX_")
SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGINT", None), getattr(signal, "SIGHUP", None)) if s)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m torchenv.preflight",
        description="torchenv preflight's rank worker: run it under torchrun, one process per GPU.",
    )
    parser.add_argument("--join-timeout", type=float, default=60.0, metavar="S", help="wait this long for every rank to arrive (default 60)")
    parser.add_argument("--collective-timeout", type=float, default=60.0, metavar="S", help="bound on each collective and each exchange (default 60)")
    parser.add_argument("--timeout", type=float, default=600.0, metavar="S", help="bound on the whole run after the join (default 600)")
    parser.add_argument("--backend", choices=("auto", "nccl", "gloo"), default="auto", help="default: nccl when CUDA is usable")
    parser.add_argument("--sizes", metavar="LIST", help="sweep sizes, e.g. 1M,64M,1G,4G (default: 1M..4G ×4 on GPUs)")
    parser.add_argument("--collectives", default=",".join(bandwidth.COLLECTIVES), metavar="LIST")
    parser.add_argument("--quick", action="store_true", help="fewer sizes, shorter GEMM burn")
    parser.add_argument("--no-bandwidth", action="store_true", help="no collective sweep")
    parser.add_argument("--no-pairwise", action="store_true", help="no round-robin pair test")
    parser.add_argument("--no-gemm", action="store_true", help="no GEMM health check")
    parser.add_argument("--burn-seconds", type=float, metavar="S", help="GEMM burn per dtype (default 2 on GPUs, 0.25 on CPUs)")
    parser.add_argument("--gemm-size", type=int, metavar="N", help="GEMM burn size N (default 8192 on GPUs, 256 on CPUs)")
    parser.add_argument("--json", action="store_true", help="rank 0 prints the report as JSON")
    parser.add_argument("--output", metavar="FILE", help="rank 0 writes the JSON report here")
    parser.add_argument("--quiet", action="store_true", help="rank 0 prints nothing (with --output)")
    args = parser.parse_args(argv)
    for name in ("join_timeout", "collective_timeout", "timeout"):
        value = getattr(args, name)
        if not (value == value and 0 < value < 1e7):
            parser.error(f"--{name.replace('_', '-')} must be a positive number of seconds")
    try:
        args.size_list = bandwidth.parse_sizes(args.sizes) if args.sizes else None
    except ValueError as exc:
        parser.error(f"--sizes: {exc}")
    args.collective_list = [c.strip() for c in args.collectives.split(",") if c.strip()]
    unknown = [c for c in args.collective_list if c not in bandwidth.COLLECTIVES]
    if unknown:
        parser.error(f"--collectives: unknown {', '.join(unknown)} (choose from {', '.join(bandwidth.COLLECTIVES)})")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        hooks = parse_hooks(os.environ)
        launch = read_launch(os.environ, pid=os.getpid())
    except ValueError as exc:
        print(f"torchenv preflight: {exc}", file=sys.stderr)
        return 2
    rank = launch.place.rank
    if rank in hooks.absent:  # test hook: this rank never joins
        time.sleep(hooks.absent_seconds)
        return 0
    for key, value in hooks.env.get(rank, {}).items():  # test hook: this rank's environment differs
        os.environ[key] = value
    run = Run(args, launch, hooks)
    run.watch_signals()
    began = time.monotonic()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's "Failed to initialize NumPy" and deprecations
            import torch
            import torch.distributed as dist
    except BaseException as exc:  # a broken torch raises anything
        print(f"torchenv preflight: rank {rank}: import torch failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    run.torch, run.dist = torch, dist
    run.phases["import"] = round(time.monotonic() - began, 3)
    try:
        return run.go()
    except Exception as exc:  # a bug in the worker: rank 0 still reports what it has, others say why they left
        where = f"phase '{run.phase}'" + (f" ({run.step})" if run.step else "")
        if run.store is not None:
            with contextlib.suppress(Exception):
                run.store.set(f"phase/{rank}", f"{run.phase}: {type(exc).__name__}: {exc}"[:300])
        if not run.reporter or run.reported:
            print(f"torchenv preflight: rank {rank} stopped in {where}: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        run.failures.append(run._failure("collective", f"rank 0 stopped in {where}: {type(exc).__name__}: {str(exc)[:300]}"))
        return run.finish(final=False)


class Run:
    """One rank's run: its phases, what it learned, and (rank 0) the report."""

    def __init__(self, args: argparse.Namespace, launch: Launch, hooks: TestHooks):
        self.args = args
        self.launch = launch
        self.hooks = hooks
        self.rank = launch.place.rank
        self.world = launch.world_size
        self.torch = None
        self.dist = None
        self.store = None
        self.reporter = self.rank == 0
        self.phase = "start"
        self.step = ""
        self.phases: dict[str, float] = {}
        self._phase_began = time.monotonic()
        self.deadline: float | None = None
        self.lock = threading.Lock()
        self.reported = False
        self.backend = "gloo"
        self.device = None
        self.missing: list[MissingRank] = []
        self.failures: list = []
        self.failure_line: str | None = None
        self.pg = False
        self.joined = False
        self.problem: str | None = None

    # --- phases and the store ---------------------------------------------------------------------

    def enter(self, phase: str) -> None:
        now = time.monotonic()
        if self.phase != "start":  # before the join: the torch import, timed apart
            self.phases[self.phase] = round(self.phases.get(self.phase, 0.0) + now - self._phase_began, 3)
        self.phase, self._phase_began, self.step = phase, now, ""
        if self.store is not None:
            with contextlib.suppress(Exception):
                self.store.set(f"phase/{self.rank}", phase)

    def put(self, key: str, value) -> None:
        self.store.set(key, json.dumps(value))

    def get(self, key: str):
        return json.loads(self.store.get(key).decode("utf-8"))

    def has(self, key: str) -> bool:
        try:
            return bool(self.store.check([key]))
        except Exception:
            return False

    def wait(self, keys: list[str], seconds: float) -> list[str]:
        """Wait (bounded) for keys; returns those still missing."""
        try:
            self.store.wait(keys, datetime.timedelta(seconds=max(seconds, 0.01)))
            return []
        except Exception:
            return [k for k in keys if not self.has(k)]

    def left(self, bound: float) -> float:
        """`bound` seconds, or what is left of the run if less."""
        if self.deadline is None:
            return bound
        return max(0.5, min(bound, self.deadline - time.monotonic()))

    def last_seen(self, rank: int) -> str | None:
        try:
            return self.store.get(f"phase/{rank}").decode("utf-8") if self.has(f"phase/{rank}") else None
        except Exception:
            return None

    def missing_ranks(self, ranks, phase: str, hosts: dict[int, str] | None = None) -> list[MissingRank]:
        hosts = hosts or {}
        local = self.launch.place.local_world_size
        return [
            MissingRank(
                rank=r,
                node=node_of(r, local),
                host=hosts.get(node_of(r, local)) if node_of(r, local) is not None else None,
                phase=phase,
                last_seen=self.last_seen(r) if phase != "join" else None,
            )
            for r in sorted(ranks)
        ]

    def exchange(self, name: str, value) -> dict[int, object] | None:
        """Every rank posts `value` under `name` and reads everyone's (a bounded all-gather through the
        store). None when some rank did not post in time (recorded as missing)."""
        self.put(f"{name}/{self.rank}", value)
        keys = [f"{name}/{r}" for r in range(self.world)]
        missing = self.wait(keys, self.left(self.args.collective_timeout))
        if missing:
            if self.reporter:
                ranks = [int(k.rsplit("/", 1)[1]) for k in missing]
                self.missing += self.missing_ranks(ranks, self.phase, self.hosts())
            return None
        return {r: self.get(f"{name}/{r}") for r in range(self.world)}

    def hosts(self) -> dict[int, str]:
        """node -> host name, from the ranks that arrived."""
        found: dict[int, str] = {}
        for r in range(self.world):
            if self.has(f"arrive/{r}"):
                with contextlib.suppress(Exception):
                    place = self.get(f"arrive/{r}")
                    found.setdefault(int(place["node"]), str(place["host"]))
        return found

    # --- the run ----------------------------------------------------------------------------------

    def go(self) -> int:
        self.enter("join")
        try:
            self.store = self.connect()
        except Exception as exc:
            if not self.reporter:
                return 0
            self.failures.append(self._failure("process-group", f"the rendezvous store at {self.launch.master_addr}:{self.launch.master_port} did not answer ({type(exc).__name__}: {str(exc)[:300]})"))
            return self.finish()
        outcome = self.join()
        if outcome != "ok":
            return self.finish() if outcome == "report" else 0
        self.deadline = time.monotonic() + self.args.timeout
        self.watch_deadline()
        self.joined = True
        self.choose_device()
        self.enter("inventory")
        data = self.inventory()
        self.put(f"rank/{self.rank}", to_json(data))
        free = self.exchange("free", self.free_bytes())
        if free is None:
            return self.end()
        if not self.args.no_gemm:
            self.enter("gemm")
            self.put(f"gemm/{self.rank}", to_json(self.gemm()))
        self.enter("process-group")
        pg = self.exchange("pg", self.init_process_group())
        if pg is None:
            return self.end()
        errors = {r: v for r, v in pg.items() if v != "ok"}
        if errors:
            if self.reporter:
                self.failures.append(
                    self._failure("process-group", f"on {self._ranks(errors)}", [f"rank {r}: {v}" for r, v in sorted(errors.items())][:10])
                )
            return self.end()
        if not self.args.no_bandwidth:
            self.enter("sweep")
            sizes = self.plan_sizes(min(int(v) for v in free.values() if v is not None) if any(v is not None for v in free.values()) else None)
            self.put(f"sweep/{self.rank}", self.sweep(sizes))
            if self.world >= 3 and not self.args.no_pairwise:
                self.enter("pairs")
                self.put(f"pairs/{self.rank}", self.pair_test(sizes))
        return self.end()

    def end(self) -> int:
        self.enter("report")
        code = self.finish() if self.reporter else 0
        self.destroy()
        return code

    def connect(self):
        dist = self.dist
        timeout = datetime.timedelta(seconds=self.args.join_timeout)
        if self.launch.master_addr is None:
            base = dist.HashStore()
        else:
            base = dist.TCPStore(
                self.launch.master_addr,
                self.launch.master_port,
                self.world,
                is_master=self.rank == 0 and not self.launch.agent_store,
                timeout=timeout,
                wait_for_workers=False,
            )
        prefix = f"{STORE_PREFIX}/{self.launch.run_id}/{self.launch.restart}"
        return dist.PrefixStore(prefix, base)

    def join(self) -> str:
        """'ok' (everyone arrived), 'report' (this rank names the missing ones) or 'leave'."""
        place = self.launch.place
        self.put(f"arrive/{self.rank}", dataclasses.asdict(place))
        self.store.add("arrived", 1)
        self.store.set(f"phase/{self.rank}", "join")
        deadline = time.monotonic() + self.args.join_timeout
        pause = 0.02
        while True:
            if self.store.add("arrived", 0) >= self.world:
                return "ok"
            if self.has("abort"):
                return "leave"
            if time.monotonic() >= deadline:
                break
            time.sleep(pause)
            pause = min(pause * 1.5, 0.25)
        arrived = [r for r in range(self.world) if self.has(f"arrive/{r}")]
        if not arrived or min(arrived) != self.rank:
            return "leave"
        self.store.set("abort", "missing ranks")
        arrived = [r for r in range(self.world) if self.has(f"arrive/{r}")]  # after the abort: final
        self.reporter = True
        self.missing = self.missing_ranks(sorted(set(range(self.world)) - set(arrived)), "join", self.hosts())
        return "report"

    # --- device and inventory -----------------------------------------------------------------------

    def choose_device(self) -> None:
        torch, dist = self.torch, self.dist
        cuda = False
        with contextlib.suppress(Exception):
            cuda = bool(torch.cuda.is_available())
        wanted = self.args.backend
        if wanted == "auto":
            wanted = "nccl" if cuda and dist.is_nccl_available() else "gloo"
        self.backend = wanted
        if cuda:
            index, self.problem = choose_gpu(self.launch.place.local_rank, torch.cuda.device_count())
            self.device = torch.device("cuda", index)
            torch.cuda.set_device(self.device)
        else:
            self.device = torch.device("cpu")

    def inventory(self) -> RankData:
        from ...probes.runner import Runner
        from ...probes.system import read_shm_bytes
        from ...probes.topology import read_ib_ports, read_interfaces, read_topology

        began = time.monotonic()
        errors = []
        seconds = {}
        runner = Runner()
        nccl_library = None
        try:
            facts, snapshot = collect_snapshot(runner)
            torch_facts = facts.torch
            if known(torch_facts) and known(torch_facts.loaded_libraries):
                nccl_library = next((lib.path for lib in torch_facts.loaded_libraries if lib.name == "libnccl"), None)
        except Exception as exc:
            snapshot = Unknown(f"reading this rank failed: {type(exc).__name__}: {exc}")
            errors.append(f"snapshot: {type(exc).__name__}: {exc}")
        if self.rank in self.hooks.nccl_version and known(snapshot) and known(snapshot.torch):
            snapshot = dataclasses.replace(snapshot, torch=dataclasses.replace(snapshot.torch, nccl_version=self.hooks.nccl_version[self.rank]))
        seconds["snapshot"] = round(time.monotonic() - began, 3)
        binding = self.binding()
        shm = self.hooks.shm_bytes.get(self.rank, read_shm_bytes(Path("/")))
        interfaces = read_interfaces()
        topology = None
        if self.launch.place.local_rank == 0:
            began = time.monotonic()
            try:
                topology = read_topology(runner, 15.0)
            except Exception as exc:
                errors.append(f"topology: {type(exc).__name__}: {exc}")
            seconds["topology"] = round(time.monotonic() - began, 3)
        if self.problem:
            errors.append(self.problem)
        return RankData(
            place=self.launch.place,
            snapshot=snapshot,
            binding=binding,
            shm_bytes=shm,
            environment={k: v for k, v in sorted(os.environ.items()) if k.startswith(ENVIRONMENT_PREFIXES)},
            interfaces=interfaces if interfaces is not None else Unknown("/sys/class/net is not readable"),
            ib_ports=read_ib_ports(),
            topology=topology,
            nccl_library=nccl_library,
            errors=tuple(errors),
            seconds=seconds,
        )

    def binding(self) -> Binding:
        from ...probes.topology import read_cpu_affinity

        torch, device = self.torch, self.device
        uuid = name = count = None
        if device.type == "cuda":
            props = torch.cuda.get_device_properties(device)
            name = props.name
            raw = getattr(props, "uuid", None)
            if raw is not None:
                text = str(raw)
                uuid = text if text.startswith(("GPU-", "MIG-")) else f"GPU-{text}"
            count = torch.cuda.device_count()
        return Binding(
            device=str(device) if device.type == "cpu" else f"cuda:{device.index}",
            gpu_index=device.index if device.type == "cuda" else None,
            gpu_uuid=uuid,
            gpu_name=name,
            gpu_count=count,
            cpu_affinity=read_cpu_affinity(),
            cpu_count=os.cpu_count() or 1,
        )

    def free_bytes(self) -> int | None:
        if self.device.type != "cuda":
            return None
        with contextlib.suppress(Exception):
            return int(self.torch.cuda.mem_get_info(self.device)[0])
        return None

    # --- GEMM ------------------------------------------------------------------------------------------

    def gemm(self) -> tuple[GemmResult, ...]:
        cuda = self.device.type == "cuda"
        quick = self.args.quick
        n = self.args.gemm_size or (8192 if cuda else 256)
        burn = self.args.burn_seconds or ((0.5 if quick else 2.0) if cuda else (0.1 if quick else 0.25))
        return tuple(self._gemm(dtype, n, 1024 if cuda else 128, burn) for dtype in ("bf16", "fp32"))

    def _gemm(self, dtype_name: str, n: int, check_n: int, burn: float) -> GemmResult:
        torch, device = self.torch, self.device
        from ...perf._worker.timing import Clock, measure
        from ...perf.stats import summarize

        self.step = f"{dtype_name} GEMM {n}³"
        dtype = {"bf16": torch.bfloat16, "fp32": torch.float32}[dtype_name]
        tolerance = 2e-2 if dtype_name == "bf16" else 1e-4
        try:
            torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32: the datasheet's fp32 peak
            generator = torch.Generator().manual_seed(1234)
            a = torch.randn(check_n, check_n, generator=generator).to(dtype)
            b = torch.randn(check_n, check_n, generator=generator).to(dtype)
            reference = a.double() @ b.double()
            ad, bd = a.to(device), b.to(device)
            corrupt = self.rank in self.hooks.gemm_corrupt

            def product():
                c = ad @ bd
                if corrupt:  # test hook: a GPU that computes a wrong element, the same way every time
                    c = c.clone()
                    c.view(-1)[7] = c.view(-1)[7].abs() * 1024 + 1000
                return c

            first = product()
            x = torch.randn(n, n, device=device, dtype=dtype)
            y = torch.randn(n, n, device=device, dtype=dtype)
            observe = self._nvml().snapshot if device.type == "cuda" and self._nvml() is not None else None
            began = time.monotonic()
            samples, info = measure(
                Clock(torch, device), lambda x=x, y=y: x @ y, warmup_s=min(0.3, burn / 4), sample_s=burn, min_samples=3, during=observe
            )
            spent = time.monotonic() - began
            second = product()
            del x, y
            repeat_equal = bool(torch.equal(first, second))
            error = ((second.double().cpu() - reference).norm() / reference.norm()).item()
            summary = summarize(samples)
            observed = info.get("observed")
            return GemmResult(
                dtype=dtype_name,
                n=n,
                status="ok",
                tflops=round(2.0 * n**3 / summary.median / 1e12, 3),
                samples=summary.n,
                seconds=round(spent, 3),
                check_n=check_n,
                rel_error=float(error),
                tolerance=tolerance,
                checksum=checksum(torch, second),
                repeat_equal=repeat_equal,
                observed=observed if isinstance(observed, dict) else None,
            )
        except Exception as exc:
            return GemmResult(dtype=dtype_name, n=n, status="failed", reason=f"{type(exc).__name__}: {str(exc).strip()[:400]}")
        finally:
            if device.type == "cuda":
                with contextlib.suppress(Exception):
                    torch.cuda.empty_cache()

    def _nvml(self):
        if not hasattr(self, "_nvml_reader"):
            self._nvml_reader = None
            with contextlib.suppress(Exception):
                from ...perf._worker.device import Nvml  # the perf runtime's reader of clocks under load

                reader = Nvml(self.torch, self.device.index or 0)
                self._nvml_reader = reader if reader.nvml is not None and reader.handle is not None else None
        return self._nvml_reader

    # --- the process group and the sweep ----------------------------------------------------------------

    def init_process_group(self) -> str:
        dist = self.dist
        kwargs = {}
        if self.backend == "nccl" and self.device.type == "cuda":
            kwargs["device_id"] = self.device  # eager NCCL init: a broken communicator fails here, bounded
        try:
            dist.init_process_group(
                self.backend,
                store=self.dist.PrefixStore("pg", self.store),
                rank=self.rank,
                world_size=self.world,
                timeout=datetime.timedelta(seconds=self.args.collective_timeout),
                **kwargs,
            )
            self.pg = True
            return "ok"
        except Exception as exc:
            return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:400] if str(exc).strip() else ''}"

    def plan_sizes(self, free: int | None) -> tuple[int, ...]:
        """The same sizes on every rank: from the arguments and the least free memory of any rank."""
        device_type = self.device.type if self.backend == "nccl" else "cpu"
        sizes = self.args.size_list or bandwidth.default_sizes(device_type, quick=self.args.quick)
        return bandwidth.fit_sizes(sizes, free_bytes=free if device_type == "cuda" else None)

    def _tensor_device(self):
        return self.device if self.backend == "nccl" else self.torch.device("cpu")

    def _sync(self) -> None:
        if self._tensor_device().type == "cuda":
            self.torch.cuda.synchronize(self.device)

    def _align(self) -> None:
        tiny = self.torch.zeros(1, device=self._tensor_device())
        self.dist.all_reduce(tiny)
        self._sync()

    def sweep(self, sizes) -> dict:
        torch = self.torch
        device = self._tensor_device()
        points = []
        try:
            for collective in self.args.collective_list:
                for size in sizes:
                    count = size // 4
                    count -= count % self.world
                    if count <= 0:
                        continue
                    self.step = f"{collective} {size_text(count * 4)}"
                    op = self._collective(collective, count, device)
                    warm, iterations = bandwidth.iterations_for(size, device.type)
                    for _ in range(warm):
                        op()
                    self._align()
                    began = time.perf_counter()
                    for _ in range(iterations):
                        op()
                    self._sync()
                    points.append([collective, count * 4, iterations, (time.perf_counter() - began) / iterations])
                    del op
            return {"points": points, "error": None}
        except Exception as exc:
            return {"points": points, "error": f"{self.step}: {type(exc).__name__}: {str(exc).strip()[:400]}"}
        finally:
            if device.type == "cuda":
                with contextlib.suppress(Exception):
                    torch.cuda.empty_cache()

    def _collective(self, collective: str, count: int, device):
        torch, dist = self.torch, self.dist
        part = count // self.world
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gather = getattr(dist, "all_gather_into_tensor", None) or dist._all_gather_base
            scatter = getattr(dist, "reduce_scatter_tensor", None) or dist._reduce_scatter_base
        if collective == "all_reduce":
            buffer = torch.zeros(count, device=device)
            return lambda: dist.all_reduce(buffer)
        if collective == "all_gather":
            out, inp = torch.empty(count, device=device), torch.ones(part, device=device)
        else:
            out, inp = torch.empty(part, device=device), torch.ones(count, device=device)
        call = gather if collective == "all_gather" else scatter

        def op():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                call(out, inp)

        return op

    def pair_test(self, sizes) -> dict:
        torch, dist = self.torch, self.dist
        device = self._tensor_device()
        cap = 256 << 20 if device.type == "cuda" else 4 << 20
        fitting = [s for s in sizes if s <= cap]
        size = max(fitting) if fitting else cap
        count = max(size // 4, 1)
        send, receive = torch.ones(count, device=device), torch.empty(count, device=device)
        warm, iterations = (2, 5) if device.type == "cuda" else (1, 2)
        results = []
        try:
            for pairs in bandwidth.round_robin(self.world):
                self._align()
                partner = next((b if a == self.rank else a for a, b in pairs if self.rank in (a, b)), None)
                if partner is None:
                    continue
                self.step = f"pair {self.rank}↔{partner}"
                ops = [dist.P2POp(dist.isend, send, partner), dist.P2POp(dist.irecv, receive, partner)]

                def exchange(ops=ops):
                    for request in dist.batch_isend_irecv(ops):
                        request.wait()

                for _ in range(warm):
                    exchange()
                self._sync()
                began = time.perf_counter()
                for _ in range(iterations):
                    exchange()
                self._sync()
                results.append([min(self.rank, partner), max(self.rank, partner), count * 4, (time.perf_counter() - began) / iterations])
            self._align()
            return {"pairs": results, "error": None}
        except Exception as exc:
            return {"pairs": results, "error": f"{self.step}: {type(exc).__name__}: {str(exc).strip()[:400]}"}

    def destroy(self) -> None:
        if not self.pg:
            return
        closer = threading.Thread(target=_destroy, args=(self.dist,), daemon=True)
        closer.start()
        closer.join(timeout=10.0)

    # --- the report (rank 0) ------------------------------------------------------------------------------

    def _failure(self, kind: str, detail: str, evidence=()):
        from ..judge import failure_finding

        self.failure_line = self.failure_line or f"{kind}: {detail}"
        return failure_finding(kind, detail, evidence)

    @staticmethod
    def _ranks(ranks) -> str:
        from ..judge import ranks_text

        ranks = sorted(ranks)
        return f"rank{'s' if len(ranks) != 1 else ''} {ranks_text(ranks)}"

    def gather(self, final: bool) -> tuple[list[RankData], list[SweepPoint], list[PairResult]]:
        """What every rank posted. `final`: wait (bounded) for the ranks still working; else take what is there."""
        wanted = ["rank"]
        if not self.args.no_gemm:
            wanted.append("gemm")
        ran_sweep = self.pg and not self.args.no_bandwidth and not self.failures and not self.missing
        if ran_sweep:
            wanted.append("sweep")
            if self.world >= 3 and not self.args.no_pairwise:
                wanted.append("pairs")
        posted: dict[str, dict[int, object]] = {}
        late: dict[str, list[int]] = {}
        for name in wanted:
            keys = [f"{name}/{r}" for r in range(self.world)]
            absent = self.wait(keys, self.left(self.args.collective_timeout)) if final else [k for k in keys if not self.has(k)]
            late[name] = sorted(int(k.rsplit("/", 1)[1]) for k in absent)
            posted[name] = {}
            for r in range(self.world):
                if r not in late[name]:
                    with contextlib.suppress(Exception):
                        posted[name][r] = self.get(f"{name}/{r}")
        if final:
            seen = {m.rank for m in self.missing}
            for name in wanted:
                new = [r for r in late[name] if r not in seen]
                if new:
                    self.missing += self.missing_ranks(new, {"rank": "inventory"}.get(name, name), self.hosts())
                    seen |= set(new)
        ranks = []
        for r, value in sorted(posted.get("rank", {}).items()):
            try:
                data = from_json(RankData, value)
            except Exception as exc:
                self.failures.append(self._failure("collective", f"rank {r}'s report could not be read ({exc})"))
                continue
            gemm = posted.get("gemm", {}).get(r)
            if gemm is not None:
                with contextlib.suppress(Exception):
                    data = dataclasses.replace(data, gemm=from_json(tuple[GemmResult, ...], gemm))
            ranks.append(data)
        sweep = self._combine_sweep(posted.get("sweep", {})) if "sweep" in posted else []
        pairs = self._combine_pairs(posted.get("pairs", {}), ranks) if "pairs" in posted else []
        return ranks, sweep, pairs

    def _combine_sweep(self, posted: dict[int, object]) -> list[SweepPoint]:
        errors = {r: v.get("error") for r, v in posted.items() if isinstance(v, dict) and v.get("error")}
        if errors:
            self.failures.append(
                self._failure("collective", f"on {self._ranks(errors)}", [f"rank {r}: {e}" for r, e in sorted(errors.items())][:10])
            )
        if len(posted) < self.world:
            return []
        lists = [posted[r].get("points") or [] for r in range(self.world)]
        points = []
        for rows in zip(*lists, strict=False):
            collective, size, iterations = rows[0][0], int(rows[0][1]), int(rows[0][2])
            if any((row[0], int(row[1])) != (collective, size) for row in rows):
                break
            with contextlib.suppress(ValueError):
                points.append(bandwidth.sweep_point(collective, size, iterations, [float(row[3]) for row in rows]))
        return points

    def _combine_pairs(self, posted: dict[int, object], ranks: list[RankData]) -> list[PairResult]:
        nodes = {d.place.rank: d.place.node for d in ranks}
        times: dict[tuple[int, int, int], float] = {}
        for value in posted.values():
            if not isinstance(value, dict):
                continue
            for a, b, size, seconds in value.get("pairs") or ():
                key = (int(a), int(b), int(size))
                times[key] = max(times.get(key, 0.0), float(seconds))
        return [
            PairResult(a, b, size, seconds, bandwidth.algbw_gbs(size, seconds), nodes.get(a) != nodes.get(b))
            for (a, b, size), seconds in sorted(times.items())
            if seconds > 0
        ]

    def finish(self, *, final: bool = True) -> int:
        """Rank 0 (or the lowest rank that arrived): gather, judge, write. Once."""
        with self.lock:
            if self.reported:
                return 2
            self.reported = True
        from ...knowledge import load_knowledge
        from ...knowledge.fabrics import load_fabrics
        from ..judge import build_report

        ranks, sweep, pairs = ([], [], [])
        if self.store is not None and self.joined:
            try:
                ranks, sweep, pairs = self.gather(final)
            except Exception as exc:
                self.failures.append(self._failure("collective", f"the ranks' reports could not be gathered ({type(exc).__name__}: {exc})"))
        self.enter(self.phase)  # close the phase's clock
        report = build_report(
            ranks,
            world_size=self.world,
            backend=self.backend,
            sweep=sweep,
            pairs=pairs,
            missing=self.missing,
            failures=self.failures,
            missing_timeout=self.args.join_timeout if any(m.phase == "join" for m in self.missing) else self.args.collective_timeout,
            knowledge=load_knowledge(),
            fabrics=load_fabrics(),
            phases=self.phases,
            failure=self.failure_line,
            test_hooks=self.hooks.active,
            torchenv_version=__version__,
        )
        self.write(report)
        if self.store is not None:
            with contextlib.suppress(Exception):
                self.store.set("reported", report.verdict)
        return report.exit_code

    def write(self, report) -> None:
        from ...render.json_preflight import render_preflight_json

        text = render_preflight_json(report)
        if self.args.output:
            from ...userfiles import UserFileError, write_output

            try:
                write_output(self.args.output, text + "\n", "--output")
            except UserFileError as exc:
                print(f"torchenv preflight: {exc}", file=sys.stderr)
        if self.args.json:
            sys.stdout.write(text + "\n")
        elif not self.args.quiet:
            from ...render.terminal import make_console
            from ...render.terminal_preflight import render_preflight_terminal

            render_preflight_terminal(report, make_console(sys.stdout))
        sys.stdout.flush()

    # --- watchdog and signals ----------------------------------------------------------------------------

    def watch_deadline(self) -> None:
        def watch():
            while True:
                time.sleep(0.2)
                if self.reported or self.deadline is None:
                    continue
                if time.monotonic() < self.deadline:
                    continue
                where = f"'{self.phase}'" + (f" ({self.step})" if self.step else "")
                if self.reporter:
                    self._shorten_store_timeout()
                    kind = "collective" if self.phase in ("sweep", "pairs", "process-group") else "timeout"
                    self.failures.append(self._failure(kind, f"phase {where} still running after --timeout {self.args.timeout:g} s"))
                    code = self.finish(final=False)
                    _leave(code)
                _leave(1)

        threading.Thread(target=watch, name="preflight-deadline", daemon=True).start()

    def watch_signals(self) -> None:
        """SIGTERM/SIGINT/SIGHUP go to a thread (blocked everywhere else), so they are seen even while the
        main thread waits inside a collective: the reporter writes what it has, then the rank leaves."""
        if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
            return
        signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)

        def wait():
            signum = signal.sigwait(SIGNALS)
            if self.reporter and self.store is not None and not self.reported:
                self._shorten_store_timeout()
                name = signal.Signals(signum).name
                where = f"'{self.phase}'" + (f" ({self.step})" if self.step else "")
                self.failures.append(
                    self._failure("interrupted", f"{name} during phase {where} (torchrun stops every rank when one fails)")
                )
                _leave(self.finish(final=False))
            _leave(128 + signum)

        threading.Thread(target=wait, name="preflight-signals", daemon=True).start()

    def _shorten_store_timeout(self) -> None:
        with contextlib.suppress(Exception):
            self.store.set_timeout(datetime.timedelta(seconds=2))


def _destroy(dist) -> None:
    with contextlib.suppress(Exception):
        dist.destroy_process_group()


def _leave(code: int) -> None:
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


# --- what a rank reads about itself ------------------------------------------------------------------


def _target_probe_module():
    from ...probes.target import SCRIPT

    spec = importlib.util.spec_from_file_location("_torchenv_target_probe", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def collect_snapshot(runner):
    """This rank's facts and snapshot: the doctor's own probe script run in this process (torch is
    already imported here, and the libraries it reports are the ones this rank mapped), decoded by the
    same parser, plus the host, driver and GPU probes; then snapshot_from_facts."""
    from ...probes.gpu import read_driver_and_gpus
    from ...probes.runner import RunResult
    from ...probes.system import read_environment, read_host
    from ...probes.target import parse_target_records
    from ...snapshots.build import snapshot_from_facts

    probe = _target_probe_module()
    buffer = io.StringIO()
    began = time.monotonic()
    with contextlib.redirect_stdout(buffer), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probe.emit("env", "begin")
        probe.emit("env", "end", probe.probe_env())
        probe.probe_torch(False, False)
        probe.emit("done", "end")
    result = RunResult((sys.executable,), 0, buffer.getvalue(), "", time.monotonic() - began)
    target = parse_target_records(result, with_torch=True)
    root = Path("/")
    driver, gpus = read_driver_and_gpus(root, runner, timeout=10.0, env=dict(os.environ))
    facts = Facts(
        host=read_host(root, os.environ),
        driver=driver,
        gpus=gpus,
        environment=read_environment(os.environ),
        system_libraries=Unknown("not read by preflight"),
        cuda_toolkits=Unknown("not read by preflight"),
        python=target.python,
        shell=Unknown("not read by preflight"),
        torch=target.torch,
        origin="this machine",
    )
    return facts, snapshot_from_facts(facts, torchenv_version=__version__)


def checksum(torch, tensor) -> str:
    """A checksum of a tensor's bits (any bit flip changes it): a position-weighted sum of its words."""
    words = tensor.detach().contiguous().cpu()
    words = words.view(torch.int16 if words.element_size() == 2 else torch.int32).to(torch.int64).flatten()
    weights = torch.arange(1, words.numel() + 1, dtype=torch.int64) % 1000003
    return f"{int((words * weights).sum().item()) & ((1 << 64) - 1):016x}"
