"""Pure judgement, table-driven: skew across ranks, GPUs per node, binding, the environment that breaks
NCCL, /dev/shm, threads, GEMM health and GPU health, launch failures, the verdict and exit codes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from preflight_helpers import H100, cluster, gemm_ok, rank_data, snapshot_with_gpus, topology

from torchenv.knowledge import load_knowledge
from torchenv.knowledge.fabrics import load_fabrics
from torchenv.model import Finding, Severity, Unknown
from torchenv.model.preflight import EXIT_CODES, SECTION_OF, MissingRank, NetInterface
from torchenv.preflight import binding, health, inventory
from torchenv.preflight.findings import check_missing, failure_finding, finding, ranks_text
from torchenv.preflight.judge import build_report, summary_of, verdict_of
from torchenv.snapshots.diff import difference

KNOWLEDGE = load_knowledge()
FABRICS = load_fabrics()


def ids(findings):
    return [(f.id, f.severity) for f in findings]


@pytest.mark.parametrize(
    ("ranks", "text"),
    [([0], "0"), ([3, 1, 2], "1-3"), ([0, 1, 2, 5, 7, 8], "0-2, 5, 7-8"), ([], "")],
)
def test_ranks_text(ranks, text):
    assert ranks_text(ranks) == text


def test_an_undocumented_finding_id_is_refused():
    with pytest.raises(ValueError):
        finding("made-up", Severity.INFO, "t", (), "e", None)


# --- skew ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("id", "level", "subject", "severity"),
    [
        ("nccl-version-differs", "speed", "NCCL in torch", Severity.ERROR),  # hangs across versions (nccl#1267)
        ("loaded-library-differs", "speed", "libnccl loaded", Severity.ERROR),
        ("package-version-differs", "speed", "package nvidia-nccl-cu13", Severity.ERROR),
        ("torch-version-differs", "cuda", "torch version", Severity.ERROR),
        ("loaded-library-differs", "numerics", "libcublas loaded", Severity.WARNING),
        ("env-var-differs", "speed", "env NCCL_ALGO", Severity.WARNING),
        ("package-version-differs", "other", "package numpy", Severity.INFO),
        ("kernel-differs", "other", "kernel", Severity.INFO),
    ],
)
def test_skew_severity(id, level, subject, severity):
    assert inventory.skew_severity(difference(id, level, "env", subject, "a", "b", "impact")) is severity


def _with_env(snapshot, **env):
    return replace(snapshot, environment={**snapshot.environment, **env})


def test_identical_ranks_have_no_skew():
    assert inventory.check_skew(cluster(1, 4)) == []


def test_one_rank_with_another_nccl_is_an_error_naming_it():
    ranks = cluster(1, 4)
    odd = ranks[2].snapshot
    ranks[2] = replace(ranks[2], snapshot=replace(odd, torch=replace(odd.torch, nccl_version="2.99.9")))
    [f] = inventory.check_skew(ranks)
    assert (f.id, f.severity) == ("rank-skew", Severity.ERROR)
    assert f.title.startswith("rank 2 (node0) differs from ranks 0-1, 3: NCCL in torch")
    assert "2.99.9 on rank 2" in f.evidence[0]


def test_the_majority_is_the_reference_even_when_rank_0_is_the_odd_one():
    ranks = cluster(1, 4)
    ranks[0] = replace(ranks[0], snapshot=_with_env(ranks[0].snapshot, NCCL_ALGO="Tree"))
    [f] = inventory.check_skew(ranks)
    assert f.severity is Severity.WARNING and f.title.startswith("rank 0 (node0) differs from ranks 1-3: env NCCL_ALGO")


def test_per_rank_cuda_visible_devices_is_not_skew():
    ranks = [replace(r, snapshot=_with_env(r.snapshot, CUDA_VISIBLE_DEVICES=str(i))) for i, r in enumerate(cluster(1, 4))]
    assert inventory.check_skew(ranks) == []


def test_two_odd_groups_give_two_findings():
    ranks = cluster(1, 6)
    ranks[1] = replace(ranks[1], snapshot=_with_env(ranks[1].snapshot, NCCL_IB_HCA="mlx5_0"))
    ranks[4] = replace(ranks[4], snapshot=_with_env(ranks[4].snapshot, NCCL_IB_HCA="mlx5_1"))
    findings = inventory.check_skew(ranks)
    assert [f.title.split(" (")[0] for f in findings] == ["rank 1", "rank 4"]


def test_an_unreadable_rank_is_never_assumed_equal():
    ranks = cluster(1, 2)
    ranks[1] = replace(ranks[1], snapshot=Unknown("reading this rank failed: OSError"))
    assert ids(inventory.check_skew(ranks)) == [("rank-facts-unreadable", Severity.WARNING)]


@pytest.mark.parametrize(
    ("per_node", "nvml_gpus", "expected"),
    [(8, 8, []), (4, 8, [("gpus-left-idle", Severity.INFO)]), (8, 4, [("more-ranks-than-gpus", Severity.ERROR)])],
)
def test_ranks_per_node_against_gpus(per_node, nvml_gpus, expected):
    assert ids(inventory.check_gpu_count(cluster(1, per_node, snapshot=snapshot_with_gpus(nvml_gpus)))) == expected


# --- binding ---------------------------------------------------------------------------------------------


def test_two_ranks_on_one_gpu():
    ranks = cluster(1, 4)
    ranks[3] = replace(ranks[3], binding=replace(ranks[3].binding, gpu_uuid=ranks[2].binding.gpu_uuid), environment={"CUDA_VISIBLE_DEVICES": "2"})
    [f] = binding.check_shared_gpus(ranks)
    assert (f.id, f.severity) == ("gpu-shared-by-ranks", Severity.ERROR) and "ranks 2-3" in f.title
    assert "CUDA_VISIBLE_DEVICES=2" in f.evidence[1]


def test_the_same_uuid_on_two_hosts_is_not_shared():
    ranks = [replace(r, binding=replace(r.binding, gpu_uuid="GPU-same")) for r in cluster(2, 1)]
    assert binding.check_shared_gpus(ranks) == []


@pytest.mark.parametrize(
    ("affinity", "expected"),
    [
        ("0-47", []),  # rank 0's GPU is on NUMA node 0 (CPUs 0-47)
        ("0-11", []),
        ("48-95", [("rank-cross-numa", Severity.WARNING)]),
        ("40-55", [("rank-cross-numa", Severity.WARNING)]),
        ("0-95", [("ranks-not-bound", Severity.INFO)]),
    ],
)
def test_numa_binding(affinity, expected):
    ranks = cluster(1, 8)
    ranks[0] = replace(ranks[0], binding=replace(ranks[0].binding, cpu_affinity=affinity))
    assert ids(binding.check_numa(ranks)) == expected


def test_numa_is_not_judged_on_a_single_numa_host():
    ranks = cluster(1, 8, topo=topology(8, numa_nodes=1), affinity="48-95")
    assert binding.check_numa(ranks) == []


# --- the environment -----------------------------------------------------------------------------------

NAMES = ["lo", "docker0", "ens5", "ens6", "ib0"]


@pytest.mark.parametrize(
    ("spec", "selected"),
    [
        ("ens", ["ens5", "ens6"]),
        ("ens5", ["ens5"]),
        ("=ens", []),
        ("=ens5", ["ens5"]),
        ("eth", []),
        ("ib,ens6", ["ens6", "ib0"]),
        ("^docker,lo", ["ens5", "ens6", "ib0"]),
        ("^=docker0", ["ens5", "ens6", "ib0"]),
    ],
)
def test_match_ifname_follows_nccl(spec, selected):
    assert binding.match_ifname(spec, NAMES) == selected


@pytest.mark.parametrize(
    ("variable", "spec", "interfaces", "severity"),
    [
        ("NCCL_SOCKET_IFNAME", "ens5", None, None),
        ("NCCL_SOCKET_IFNAME", "eth0", None, Severity.ERROR),
        ("NCCL_SOCKET_IFNAME", "ens6", (NetInterface("ens6", "down", None, False),), Severity.ERROR),
        ("NCCL_SOCKET_IFNAME", "lo", None, None),  # loopback reports "unknown", which is up enough
        ("GLOO_SOCKET_IFNAME", "ens", None, Severity.ERROR),  # gloo wants exact names
        ("GLOO_SOCKET_IFNAME", "ens5", None, None),
    ],
)
def test_socket_ifname(variable, spec, interfaces, severity):
    kwargs = {"interfaces": interfaces} if interfaces is not None else {}
    ranks = cluster(1, 2, environment={variable: spec}, **kwargs)
    found = binding.check_socket_ifname(ranks)
    assert ids(found) == ([("socket-ifname-missing", severity)] if severity else [])
    if found:
        assert variable in found[0].title and "interfaces:" in found[0].evidence[0]


@pytest.mark.parametrize(
    ("env", "nodes", "expected"),
    [
        ({}, 1, []),
        ({"NCCL_P2P_DISABLE": "1"}, 1, [("nccl-transport-disabled", Severity.WARNING)]),
        ({"NCCL_P2P_DISABLE": "0"}, 1, []),
        ({"NCCL_IB_DISABLE": "1"}, 1, []),  # no IB traffic inside one node
        ({"NCCL_IB_DISABLE": "1"}, 2, [("nccl-transport-disabled", Severity.WARNING)]),
        ({"NCCL_SHM_DISABLE": "true"}, 1, [("nccl-transport-disabled", Severity.WARNING)]),
        ({"NCCL_NVLS_ENABLE": "0"}, 1, [("nccl-settings", Severity.INFO)]),
        ({"NCCL_ALGO": "Ring", "NCCL_DEBUG": "INFO"}, 1, [("nccl-settings", Severity.INFO)]),
    ],
)
def test_nccl_transports_and_settings(env, nodes, expected):
    ranks = cluster(nodes, 2, environment=env)
    assert ids(binding.check_transports(ranks, backend="nccl")) == expected
    assert binding.check_transports(ranks, backend="gloo") == []


@pytest.mark.parametrize(
    ("shm", "per_node", "backend", "expected"),
    [
        (16 << 30, 8, "nccl", []),
        (512 << 20, 8, "nccl", []),
        (64 << 20, 8, "nccl", [("shm-too-small", Severity.ERROR)]),  # Docker's default, NCCL's SHM segments
        (64 << 20, 1, "nccl", [("shm-too-small", Severity.WARNING)]),  # one rank: DataLoader workers only
        (64 << 20, 2, "gloo", [("shm-too-small", Severity.WARNING)]),
        (Unknown("/dev/shm is missing"), 8, "nccl", []),
    ],
)
def test_shm(shm, per_node, backend, expected):
    found = binding.check_shm(cluster(1, per_node, shm=shm), backend=backend)
    assert ids(found) == expected
    if found:
        assert "64 MiB" in found[0].title and "--shm-size" in found[0].fix


def _threads(snapshot, n):
    return replace(snapshot, settings={**snapshot.settings, "num_threads": n})


@pytest.mark.parametrize(
    ("threads", "omp", "cpus", "per_node", "expected"),
    [
        (1, "1", 96, 8, [("omp-threads-one", Severity.INFO)]),
        (12, "12", 96, 8, []),
        (48, None, 96, 8, [("cpu-oversubscribed", Severity.WARNING)]),
        (1, "1", 2, 4, [("cpu-oversubscribed", Severity.INFO)]),  # more ranks than CPUs, one thread each
        (1, "1", 8, 8, []),
    ],
)
def test_threads(threads, omp, cpus, per_node, expected):
    env = {"OMP_NUM_THREADS": omp} if omp else {}
    ranks = cluster(1, per_node, snapshot=_threads(snapshot_with_gpus(per_node), threads), environment=env, cpu_count=cpus)
    found = binding.check_threads(ranks)
    assert ids(found) == expected
    if expected and expected[0][1] is Severity.WARNING:
        assert found[0].fix == f"export OMP_NUM_THREADS={cpus // per_node} (CPUs per rank)"


# --- GEMM ---------------------------------------------------------------------------------------------------


def _gemm_cluster(per_rank, gpu_name="NVIDIA H200"):
    return [rank_data(i, per_node=len(per_rank), gpu_name=gpu_name, gemm=g) for i, g in enumerate(per_rank)]


def test_healthy_gemm_is_one_info_per_dtype_against_the_datasheet():
    ranks = _gemm_cluster([(gemm_ok("bf16", 720.0), gemm_ok("fp32", 51.0))] * 2)
    found = health.check_gemm(ranks, KNOWLEDGE)
    assert ids(found) == [("gemm-health", Severity.INFO)] * 2
    assert "73%–73% of H200 SXM's datasheet 989.4 TFLOP/s" in found[0].evidence[1]
    assert "bitwise equal across the ranks" in found[0].evidence[2]


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (dict(rel_error=0.5), ("gemm-wrong-result", Severity.ERROR)),
        (dict(rel_error=float("nan")), ("gemm-wrong-result", Severity.ERROR)),
        (dict(repeat_equal=False), ("gemm-wrong-result", Severity.ERROR)),
        (dict(checksum="0000000000000bad"), ("gemm-result-differs", Severity.WARNING)),
        (dict(tflops=400.0), ("gemm-slow", Severity.WARNING)),  # 40% of 989.4 < torchenv bench's 60%
        (dict(tflops=600.0), ("gemm-straggler", Severity.WARNING)),  # 61% of the datasheet, 83% of the others
        (dict(status="failed", tflops=None, reason="RuntimeError: CUDA error: an illegal memory access"), ("gemm-failed", Severity.ERROR)),
        (
            dict(observed={"sm_clock_mhz": 1200, "max_sm_clock_mhz": 1980, "clock_reasons": 0x40}),
            ("gpu-throttled", Severity.WARNING),
        ),
    ],
)
def test_a_bad_gemm_on_one_rank(bad, expected):
    per_rank = [(gemm_ok("bf16", 720.0),)] * 3 + [(gemm_ok("bf16", **{"tflops": 720.0, **bad}),)]
    found = health.check_gemm(_gemm_cluster(per_rank), KNOWLEDGE)
    problems = [f for f in found if f.severity is not Severity.INFO]
    assert ids(problems)[0] == expected
    assert "rank 3" in problems[0].evidence[0]


def test_slow_gemm_evidence_names_the_clocks_and_throttle_reasons():
    observed = {"sm_clock_mhz": 1100, "max_sm_clock_mhz": 1980, "clock_reasons": 0x4, "power_w": 699.0, "power_limit_w": 700.0}
    ranks = _gemm_cluster([(gemm_ok("bf16", 400.0, observed=observed),)])
    [slow] = [f for f in health.check_gemm(ranks, KNOWLEDGE) if f.id == "gemm-slow"]
    assert "SM clock 1100 of 1980 MHz; clock reasons: software power cap; 699 W of 700.0 W" in slow.evidence[0]


def test_cpu_ranks_are_reported_not_judged():
    ranks = [rank_data(i, per_node=4, device="cpu", gemm=(gemm_ok("fp32", 0.1 * (i + 1), checksum="aa"),)) for i in range(4)]
    found = health.check_gemm(ranks, KNOWLEDGE)
    assert ids(found) == [("gemm-health", Severity.INFO)]
    assert "not judged" in found[0].evidence[1]


def test_a_gpu_without_a_datasheet_peak_is_not_judged_against_one():
    ranks = _gemm_cluster([(gemm_ok("bf16", 5.0),)], gpu_name="NVIDIA Mystery GPU")
    [f] = health.check_gemm(ranks, KNOWLEDGE)
    assert "no datasheet peak" in f.evidence[1]


# --- GPU health ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, []),
        ({"ecc_uncorrected_volatile": 3}, [("gpu-memory-errors", Severity.ERROR)]),
        ({"remapped_rows_failure": True}, [("gpu-memory-errors", Severity.ERROR)]),
        ({"remapped_rows_pending": True}, [("gpu-reset-pending", Severity.WARNING)]),
        ({"retired_pages_pending": True}, [("gpu-reset-pending", Severity.WARNING)]),
        ({"pcie_width_current": 8}, [("pcie-link-degraded", Severity.WARNING)]),
        ({"nvlink_active": 16}, [("nvlink-down", Severity.WARNING)]),
    ],
)
def test_gpu_health_of_one_gpu(fields, expected):
    topo = topology(8)
    topo = replace(topo, gpus=(replace(topo.gpus[0], **fields), *topo.gpus[1:]))
    found = health.check_gpu_health(cluster(1, 8, topo=topo), backend="nccl")
    assert ids(found) == expected
    if found:
        assert "node0 GPU 0" in found[0].evidence[0]


def test_an_unused_gpu_is_not_judged():
    topo = topology(8)
    topo = replace(topo, gpus=(*topo.gpus[:7], replace(topo.gpus[7], ecc_uncorrected_volatile=5)))
    assert health.check_gpu_health(cluster(1, 8, topo=topo)[:4], backend="nccl") == []


def test_pcie_gen_below_max_counts_under_load_only():
    at_rest = topology(2, pcie_gen_current=1)  # idle GPUs lower their link speed
    assert health.check_gpu_health(cluster(1, 2, topo=at_rest), backend="nccl") == []
    loaded = cluster(1, 2, topo=at_rest, gemm=(gemm_ok(observed={"pcie_gen": 3, "pcie_gen_max": 5}),))
    assert ids(health.check_gpu_health(loaded, backend="nccl")) == [("pcie-link-degraded", Severity.WARNING)]


@pytest.mark.parametrize(
    ("p2p", "env", "expected"),
    [
        ("ok", {}, []),
        ("chipset not supported", {}, [("p2p-unavailable", Severity.WARNING)]),
        ("chipset not supported", {"NCCL_P2P_DISABLE": "1"}, []),  # told by nccl-transport-disabled
    ],
)
def test_p2p(p2p, env, expected):
    ranks = cluster(1, 2, topo=topology(2, p2p=p2p), environment=env)
    assert ids(health.check_gpu_health(ranks, backend="nccl")) == expected


# --- launch, verdict, report ----------------------------------------------------------------------------


def test_missing_ranks_are_named_with_their_node_and_host():
    missing = [MissingRank(3, 0, "node0", "join"), MissingRank(9, 1, None, "join"), MissingRank(5, 0, "node0", "sweep", "sweep")]
    found = check_missing(missing, timeout=5.0)
    assert ids(found) == [("rank-missing", Severity.ERROR), ("rank-no-answer", Severity.ERROR)]
    assert found[0].title == "ranks 3, 9 did not join within 5 s"
    assert found[0].evidence == ("rank 3: node 0 (host node0)", "rank 9: node 1 (no rank of that node arrived)")
    assert "last reported phase 'sweep'" in found[1].evidence[0]
    assert "NCCL_DEBUG=INFO" in found[0].fix


@pytest.mark.parametrize("kind", ["process-group", "collective", "timeout", "interrupted", "launch"])
def test_failures_are_errors_with_nccl_debug_advice(kind):
    f = failure_finding(kind, "detail", ["evidence"])
    assert f.severity is Severity.ERROR and "NCCL_DEBUG=INFO" in f.fix and f.id in SECTION_OF


def _f(severity):
    return Finding("bus-bandwidth", "performance", severity, "hardware", "t", (), "e", None)


@pytest.mark.parametrize(
    ("severities", "verdict", "code"),
    [
        ([], "ready", 0),
        ([Severity.INFO], "ready", 0),
        ([Severity.INFO, Severity.WARNING], "degraded", 1),
        ([Severity.WARNING, Severity.ERROR], "not-ready", 2),
    ],
)
def test_verdict_and_exit_code(severities, verdict, code):
    assert verdict_of([_f(s) for s in severities]) == verdict
    assert EXIT_CODES[verdict] == code


def test_summary_names_the_first_problem_and_counts_the_rest():
    findings = [replace(_f(Severity.ERROR), title="rank 3 did not join within 5 s"), replace(_f(Severity.ERROR), title="x")]
    assert summary_of("not-ready", findings, world_size=8, nodes=1, backend="nccl") == (
        "Not ready: 8 ranks on 1 node (nccl): rank 3 did not join within 5 s; 1 more problem"
    )


def test_build_report_orders_findings_by_severity_then_section():
    ranks = cluster(1, 4, shm=64 << 20)
    odd = ranks[1].snapshot
    ranks[1] = replace(ranks[1], snapshot=replace(odd, torch=replace(odd.torch, nccl_version="2.99.9")))
    report = build_report(ranks, world_size=4, backend="nccl", knowledge=KNOWLEDGE, fabrics=FABRICS, torchenv_version="0.1.0")
    assert report.verdict == "not-ready" and report.exit_code == 2
    assert [f.id for f in report.findings][:2] == ["rank-skew", "shm-too-small"]
    assert report.fabric is not None and report.fabric.row == "nvlink4-ring"
    assert report.knowledge_version == max(KNOWLEDGE.version, FABRICS.version)


def test_every_section_entry_is_a_known_section():
    from torchenv.model.preflight import SECTIONS

    assert set(SECTION_OF.values()) <= set(SECTIONS)
    assert H100 in repr(rank_data(0))
