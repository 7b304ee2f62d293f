"""Pure: what each rank is bound to (one GPU per rank, the GPU's NUMA node) and the environment
that breaks or slows NCCL (NCCL_SOCKET_IFNAME, disabled transports, /dev/shm, threads)."""

from __future__ import annotations

from collections.abc import Sequence

from ..model import Finding, Severity, known
from ..model.preflight import (
    RankData,
    parse_cpulist,
)
from .bandwidth import nodes_of
from .findings import finding, is_true, rank_word

SHM_MIN_BYTES = 512 << 20  # NCCL's SHM transport and DataLoader workers need more than Docker's 64 MB
THREADS_PER_RANK_IDLE = 4  # OMP_NUM_THREADS=1 wastes cores when each rank has this many or more


# --- binding ---------------------------------------------------------------------------------------------------


def check_shared_gpus(ranks: Sequence[RankData]) -> list[Finding]:
    by_gpu: dict[tuple[str, str], list[RankData]] = {}
    for data in ranks:
        if data.binding.gpu_uuid:
            by_gpu.setdefault((data.place.host, data.binding.gpu_uuid), []).append(data)
    findings = []
    for (host, uuid), members in sorted(by_gpu.items()):
        if len(members) < 2:
            continue
        findings.append(
            finding(
                "gpu-shared-by-ranks",
                Severity.ERROR,
                f"{rank_word([d.place.rank for d in members])} compute on the same GPU ({host})",
                [
                    f"rank {d.place.rank}: {d.binding.device} = {uuid}, CUDA_VISIBLE_DEVICES="
                    f"{d.environment.get('CUDA_VISIBLE_DEVICES', 'unset')}"
                    for d in members
                ],
                "Two ranks on one GPU: NCCL fails with 'Duplicate GPU detected', or both run at half speed and share its memory.",
                "give each rank its own GPU: torch.cuda.set_device(LOCAL_RANK), and a CUDA_VISIBLE_DEVICES (if any) "
                "that lists a different GPU for each rank",
                layer="hardware",
            )
        )
    return findings


def _gpu_of(data: RankData, ranks_on_node: Sequence[RankData]):
    topology = next((d.topology for d in ranks_on_node if d.topology is not None), None)
    if topology is None or not data.binding.gpu_uuid:
        return None, topology
    return next((g for g in topology.gpus if g.uuid == data.binding.gpu_uuid), None), topology


def check_numa(ranks: Sequence[RankData]) -> list[Finding]:
    crossed: list[str] = []
    crossed_ranks: list[int] = []
    unbound: list[RankData] = []
    for members in nodes_of(ranks).values():
        for data in members:
            gpu, topology = _gpu_of(data, members)
            if gpu is None or topology is None or not topology.numa_nodes or topology.numa_nodes < 2:
                continue
            if gpu.numa_node is None or not gpu.numa_cpus:
                continue
            try:
                affinity = parse_cpulist(data.binding.cpu_affinity)
                near = parse_cpulist(gpu.numa_cpus)
            except ValueError:
                continue
            if affinity <= near:
                continue
            if len(affinity) >= data.binding.cpu_count:
                unbound.append(data)
            else:
                part = "none" if not affinity & near else "only some"
                crossed.append(
                    f"rank {data.place.rank} ({data.place.host}): GPU {gpu.index} is on NUMA node {gpu.numa_node} "
                    f"(CPUs {gpu.numa_cpus}); the rank may run on CPUs {data.binding.cpu_affinity}, {part} of them near it"
                )
                crossed_ranks.append(data.place.rank)
    findings = []
    if crossed:
        findings.append(
            finding(
                "rank-cross-numa",
                Severity.WARNING,
                f"{rank_word(crossed_ranks)} run on CPUs of another NUMA node than their GPU",
                crossed,
                "Host↔device copies, pinned memory and NCCL's proxy thread then cross the CPU interconnect: slower "
                "data loading and collectives.",
                "bind each rank to its GPU's NUMA node: torchrun --numa-binding=node (recent torch), or numactl "
                "--cpunodebind=N --membind=N in a per-rank wrapper; check the scheduler's CPU binding",
                layer="hardware",
            )
        )
    if unbound:
        findings.append(
            finding(
                "ranks-not-bound",
                Severity.INFO,
                f"{rank_word([d.place.rank for d in unbound])} may run on every CPU of a multi-NUMA host",
                [f"rank {d.place.rank} ({d.place.host}): affinity {d.binding.cpu_affinity}" for d in unbound][:8],
                "Unbound ranks are placed by the kernel and may end up far from their GPU.",
                "torchrun --numa-binding=node (recent torch) binds each rank near its GPU",
                layer="hardware",
            )
        )
    return findings


# --- environment ------------------------------------------------------------------------------------------


def match_ifname(spec: str, names: Sequence[str]) -> list[str]:
    """The interfaces NCCL_SOCKET_IFNAME selects: a comma-separated list of prefixes; `^` excludes
    them instead, `=` asks for exact names (`^=docker0` excludes exactly docker0)."""
    spec = spec.strip()
    exclude = spec.startswith("^")
    if exclude:
        spec = spec[1:]
    exact = spec.startswith("=")
    if exact:
        spec = spec[1:]
    wanted = [p.strip() for p in spec.split(",") if p.strip()]

    def hit(name: str) -> bool:
        return any(name == p if exact else name.startswith(p) for p in wanted)

    if exclude:
        return [n for n in names if not hit(n) and n != "lo"]
    return [n for n in names if hit(n)]


def check_socket_ifname(ranks: Sequence[RankData]) -> list[Finding]:
    problems: dict[tuple[str, str, str], list[int]] = {}
    details: dict[tuple[str, str, str], str] = {}
    for data in ranks:
        if not isinstance(data.interfaces, tuple):
            continue
        for variable, exact in (("NCCL_SOCKET_IFNAME", False), ("GLOO_SOCKET_IFNAME", True)):
            spec = data.environment.get(variable)
            if not spec:
                continue
            names = [i.name for i in data.interfaces]
            selected = match_ifname(("=" + spec.lstrip("=")) if exact and not spec.startswith("^") else spec, names)
            up = [i.name for i in data.interfaces if i.name in selected and i.state in ("up", "unknown")]
            if up:
                continue
            listing = ", ".join(f"{i.name} ({i.state})" for i in data.interfaces) or "none"
            if selected:
                detail = f"{variable}={spec} on {data.place.host} selects {', '.join(selected)}, which is down; interfaces: {listing}"
            else:
                detail = f"{variable}={spec} matches no interface on {data.place.host}; interfaces: {listing}"
            key = (variable, spec, data.place.host)
            problems.setdefault(key, []).append(data.place.rank)
            details[key] = detail
    return [
        finding(
            "socket-ifname-missing",
            Severity.ERROR,
            f"{variable} names no usable interface on {host} ({rank_word(members)})",
            [details[(variable, spec, host)]],
            "NCCL (or gloo) bootstraps over this interface: with none usable, init fails with 'no socket interface "
            "found' or, worse, waits until its timeout.",
            f"set {variable} to an interface that is up on every node (ip -br link), or unset it to let NCCL choose",
        )
        for (variable, spec, host), members in sorted(problems.items())
    ]


TRANSPORTS = {
    "NCCL_P2P_DISABLE": "GPU peer-to-peer (NVLink / PCIe P2P) is off: traffic inside a node goes through host memory",
    "NCCL_SHM_DISABLE": "the shared-memory transport is off: without P2P, traffic inside a node goes through the network stack",
    "NCCL_IB_DISABLE": "InfiniBand/RoCE is off: across nodes NCCL falls back to TCP sockets",
}
SETTINGS = {
    "NCCL_ALGO": "forces NCCL's algorithm",
    "NCCL_PROTO": "forces NCCL's protocol",
    "NCCL_MIN_NCHANNELS": "changes NCCL's channel count",
    "NCCL_MAX_NCHANNELS": "caps NCCL's channel count",
    "NCCL_BUFFSIZE": "changes NCCL's buffer size",
    "NCCL_NET_GDR_LEVEL": "changes when GPUDirect RDMA is used",
}


def check_transports(ranks: Sequence[RankData], *, backend: str) -> list[Finding]:
    if backend != "nccl" or not ranks:
        return []
    multi_node = len(nodes_of(ranks)) > 1
    findings = []
    off: dict[str, list[int]] = {}
    settings: dict[str, set[str]] = {}
    for data in ranks:
        env = data.environment
        for variable in TRANSPORTS:
            if is_true(env.get(variable)) and (variable != "NCCL_IB_DISABLE" or multi_node):
                off.setdefault(variable, []).append(data.place.rank)
        for variable, words in SETTINGS.items():
            if env.get(variable):
                settings.setdefault(f"{variable}={env[variable]} ({words})", set()).add(str(data.place.rank))
        if env.get("NCCL_NVLS_ENABLE", "").strip() == "0":
            settings.setdefault("NCCL_NVLS_ENABLE=0 (NVLink SHARP off: ~370 instead of ~480 GB/s busbw on 8 H100/H200)", set()).add(str(data.place.rank))
        if env.get("NCCL_DEBUG", "").strip().upper() in ("INFO", "TRACE"):
            settings.setdefault(f"NCCL_DEBUG={env['NCCL_DEBUG']} (logging slows start-up and small collectives)", set()).add(str(data.place.rank))
    if off:
        findings.append(
            finding(
                "nccl-transport-disabled",
                Severity.WARNING,
                f"NCCL transports are switched off: {', '.join(sorted(off))}",
                [f"{v}=1 on {rank_word(r)}: {TRANSPORTS[v]}" for v, r in sorted(off.items())],
                "These variables are debugging switches; left set, collectives run several times slower.",
                "unset " + " ".join(sorted(off)) + " unless they work around a known problem on this machine",
            )
        )
    if settings:
        findings.append(
            finding(
                "nccl-settings",
                Severity.INFO,
                "NCCL tuning variables are set",
                [f"{text} on {rank_word([int(r) for r in rs])}" for text, rs in sorted(settings.items())],
                "NCCL chooses algorithms, protocols and channels by topology; forced values help one system and hurt another.",
                None,
            )
        )
    return findings


def check_shm(ranks: Sequence[RankData], *, backend: str) -> list[Finding]:
    findings = []
    for node, members in nodes_of(ranks).items():
        data = members[0]
        if not known(data.shm_bytes):
            continue
        if data.shm_bytes >= SHM_MIN_BYTES:
            continue
        several = len(members) > 1 or data.place.local_world_size > 1
        severity = Severity.ERROR if backend == "nccl" and several else Severity.WARNING
        mib = data.shm_bytes / (1 << 20)
        findings.append(
            finding(
                "shm-too-small",
                severity,
                f"/dev/shm on {data.place.host} is {mib:.0f} MiB (under 512 MiB)",
                [f"node {node} ({data.place.host}): /dev/shm {data.shm_bytes} bytes, {len(members)} rank(s) on it"],
                "NCCL keeps its intra-node shared-memory buffers in /dev/shm ('Error while creating shared memory "
                "segment'), and DataLoader workers pass batches through it ('Bus error'); Docker gives 64 MB by default.",
                "docker run --shm-size=16g (or --ipc=host); on Kubernetes mount an emptyDir with medium: Memory at /dev/shm",
            )
        )
    return findings


def check_threads(ranks: Sequence[RankData]) -> list[Finding]:
    findings = []
    for members in nodes_of(ranks).values():
        data = members[0]
        local = max(len(members), data.place.local_world_size)
        cpus = data.binding.cpu_count
        threads = []
        for d in members:
            settings = d.snapshot.settings if known(d.snapshot) and known(d.snapshot.settings) else {}
            value = settings.get("num_threads")
            if isinstance(value, int):
                threads.append(value)
        omp = data.environment.get("OMP_NUM_THREADS")
        total = sum(threads) * local // len(members) if threads and len(threads) == len(members) else 0
        if total > cpus:
            several = max(threads) > 1
            findings.append(
                finding(
                    "cpu-oversubscribed",
                    Severity.WARNING if several else Severity.INFO,
                    f"{local} ranks × {max(threads)} thread{'s' if several else ''} on {cpus} CPUs ({data.place.host})",
                    [f"OMP_NUM_THREADS={omp or 'unset'}; torch.get_num_threads() per rank: {', '.join(str(t) for t in sorted(set(threads)))}"],
                    "More compute threads than CPUs: ranks preempt each other, and the slowest rank paces every collective."
                    if several
                    else "More ranks than CPUs: each rank's CPU side (kernel launches, the data pipeline) competes for a core.",
                    f"export OMP_NUM_THREADS={max(1, cpus // local)} (CPUs per rank)" if several else None,
                )
            )
        elif omp is not None and omp.strip() == "1" and cpus // max(local, 1) >= THREADS_PER_RANK_IDLE:
            findings.append(
                finding(
                    "omp-threads-one",
                    Severity.INFO,
                    f"OMP_NUM_THREADS=1 with {cpus // local} CPUs per rank ({data.place.host})",
                    [f"{local} ranks, {cpus} CPUs; torchrun sets OMP_NUM_THREADS=1 when it is unset"],
                    "CPU-side work in the training process (transforms, CPU optimizer steps, loss on CPU) uses one core per rank.",
                    f"export OMP_NUM_THREADS={cpus // local} if the ranks do CPU work",
                )
            )
    return findings
