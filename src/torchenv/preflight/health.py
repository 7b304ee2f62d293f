"""Pure: GPU health per rank: the GEMM burn against a float64 reference, across ranks (bits and
speed) and against the datasheet (knowledge gpus.toml, torchenv bench's shortfall threshold);
ECC, row remapping, PCIe and NVLink links, P2P."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from ..model import Finding, Severity, known
from ..model.preflight import (
    GemmResult,
    RankData,
)
from ..perf.causes import SHORT_OF, THROTTLING, decode_reasons
from .bandwidth import nodes_of
from .findings import finding, is_true, rank_word

STRAGGLER = 0.9  # a rank below 90 % of the median GEMM rate of ranks with the same GPU


# --- health ----------------------------------------------------------------------------------------------------

GEMM_PEAK_KEY = {"bf16": "bf16", "fp32": "fp32", "fp16": "fp16", "tf32": "tf32"}


def datasheet_peak(knowledge, gpu_name: str | None, dtype: str) -> tuple[float, str] | None:
    """(peak TFLOP/s, model name) of a GPU's datasheet for a dtype, when the name resolves to models
    that agree on it."""
    if knowledge is None or not gpu_name or dtype not in GEMM_PEAK_KEY:
        return None
    resolution = knowledge.resolve_gpu(gpu_name)
    peaks = {m.peak_tflops.get(GEMM_PEAK_KEY[dtype]) for m in resolution.models}
    if len(peaks) != 1 or None in peaks:
        return None
    return float(next(iter(peaks))), resolution.models[0].name


def _clock_text(observed: dict | None) -> str:
    if not isinstance(observed, dict) or "error" in observed:
        return "no NVML readings under load"
    parts = []
    if isinstance(observed.get("sm_clock_mhz"), int):
        parts.append(f"SM clock {observed['sm_clock_mhz']} of {observed.get('max_sm_clock_mhz')} MHz")
    reasons = decode_reasons(observed.get("clock_reasons"))
    if reasons:
        parts.append("clock reasons: " + ", ".join(reasons))
    if observed.get("power_w") is not None:
        parts.append(f"{observed['power_w']:.0f} W of {observed.get('power_limit_w')} W")
    if observed.get("temperature_c") is not None:
        parts.append(f"{observed['temperature_c']} °C")
    return "; ".join(parts) or "no NVML readings under load"


def _wrong(g: GemmResult) -> str | None:
    if g.rel_error is not None and (math.isnan(g.rel_error) or (g.tolerance is not None and g.rel_error > g.tolerance)):
        return f"relative error {g.rel_error:.2e} against the float64 reference (tolerance {g.tolerance:.0e})"
    if g.repeat_equal is False:
        return "the same product gave different bits before and after the burn"
    return None


def check_gemm(ranks: Sequence[RankData], knowledge) -> list[Finding]:
    findings = []
    by_dtype: dict[str, list[tuple[RankData, GemmResult]]] = {}
    for data in ranks:
        for g in data.gemm:
            by_dtype.setdefault(g.dtype, []).append((data, g))
    for dtype, rows in by_dtype.items():
        failed = [(d, g) for d, g in rows if g.status == "failed"]
        if failed:
            findings.append(
                finding(
                    "gemm-failed",
                    Severity.ERROR,
                    f"the {dtype} GEMM failed on {rank_word([d.place.rank for d, _ in failed])}",
                    [f"rank {d.place.rank} ({d.binding.device}): {g.reason}" for d, g in failed][:10],
                    "A plain matrix multiply raised: that GPU (or its driver/library) cannot run the training step.",
                    "run `torchenv doctor` on that node; check nvidia-smi -q for XID errors and ECC",
                    category="compute-failure",
                    layer="compute",
                )
            )
        ok = [(d, g) for d, g in rows if g.status == "ok"]
        wrong = [(d, g, why) for d, g in ok if (why := _wrong(g))]
        if wrong:
            findings.append(
                finding(
                    "gemm-wrong-result",
                    Severity.ERROR,
                    f"the {dtype} GEMM gave wrong results on {rank_word([d.place.rank for d, _, _ in wrong])}",
                    [f"rank {d.place.rank} ({d.place.host}, {d.binding.device}{', ' + d.binding.gpu_name if d.binding.gpu_name else ''}): {why}" for d, _, why in wrong][:10],
                    "A GPU that computes wrong numbers silently corrupts training (a loss spike, NaN, or worse, nothing "
                    "visible). Drain it.",
                    "take the node out of the pool; run dcgmi diag -r 3 (or the vendor's field diagnostics) on that GPU",
                    category="compute-failure",
                    layer="compute",
                )
            )
        bad = {d.place.rank for d, _, _ in wrong}
        # Bitwise agreement: the same product on the same GPU model and libraries gives the same bits.
        groups: dict[tuple, list[tuple[RankData, GemmResult]]] = {}
        for d, g in ok:
            if g.checksum and d.place.rank not in bad:
                torch_version = d.snapshot.torch.version if known(d.snapshot) and known(d.snapshot.torch) else None
                groups.setdefault((d.binding.gpu_name or d.binding.device, str(torch_version), g.check_n), []).append((d, g))
        for members in groups.values():
            counts: dict[str, int] = {}
            for _, g in members:
                counts[g.checksum or ""] = counts.get(g.checksum or "", 0) + 1
            if len(counts) < 2:
                continue
            majority, size = max(counts.items(), key=lambda kv: kv[1])
            odd = [(d, g) for d, g in members if g.checksum != majority]
            if size * 2 <= len(members):  # no majority: cannot tell which is odd
                odd = [(d, g) for d, g in members]
            findings.append(
                finding(
                    "gemm-result-differs",
                    Severity.WARNING,
                    f"the {dtype} GEMM gives other bits on {rank_word([d.place.rank for d, _ in odd])} than on the other ranks with that GPU",
                    [f"rank {d.place.rank}: checksum {g.checksum} (majority {majority}, {size} of {len(members)} ranks)" for d, g in odd][:10],
                    "cuBLAS gives bitwise-identical results for the same shapes on GPUs of one architecture and SM count; "
                    "a rank that differs has another library, another GPU configuration (MIG, clocks do not matter) or a "
                    "GPU that computes wrongly within tolerance.",
                    "compare the ranks' snapshots (rank-skew above); rerun the preflight; if it persists, run dcgmi diag on that GPU",
                    category="compute-failure",
                    layer="compute",
                )
            )
        if not ok:
            continue
        # Against the datasheet (GPUs only) and across ranks (stragglers).
        peaks = {}
        short = []
        for d, g in ok:
            if d.binding.device == "cpu" or g.tflops is None:
                continue
            found = datasheet_peak(knowledge, d.binding.gpu_name, dtype)
            if found is None:
                continue
            peaks[d.place.rank] = found
            if g.tflops < SHORT_OF["matmul"] * found[0]:
                short.append((d, g, found))
        if short:
            findings.append(
                finding(
                    "gemm-slow",
                    Severity.WARNING,
                    f"the {dtype} GEMM runs below {SHORT_OF['matmul']:.0%} of the datasheet on {rank_word([d.place.rank for d, _, _ in short])}",
                    [
                        f"rank {d.place.rank} ({d.binding.gpu_name}): {g.tflops:.1f} TFLOP/s, {g.tflops / peak:.0%} of {model}'s "
                        f"{peak:g}; {_clock_text(g.observed)}"
                        for d, g, (peak, model) in short
                    ][:10],
                    "Dense GEMMs reach 70-85 % of the datasheet peak on a healthy GPU (torchenv bench's matmul shortfall "
                    "threshold); below it the GPU throttles, shares its SMs or runs at reduced clocks.",
                    "torchenv bench --sections matmul on that node says why; nvidia-smi -q -d PERFORMANCE,POWER,TEMPERATURE",
                    category="performance",
                    layer="compute",
                )
            )
        stragglers = []
        by_gpu: dict[str, list[tuple[RankData, GemmResult]]] = {}
        for d, g in ok:
            if d.binding.device != "cpu" and g.tflops:
                by_gpu.setdefault(d.binding.gpu_name or "?", []).append((d, g))
        for members in by_gpu.values():
            if len(members) < 2:
                continue
            median = statistics.median(g.tflops or 0.0 for _, g in members)
            stragglers += [(d, g, median) for d, g in members if (g.tflops or 0.0) < STRAGGLER * median]
        if stragglers:
            findings.append(
                finding(
                    "gemm-straggler",
                    Severity.WARNING,
                    f"{rank_word([d.place.rank for d, _, _ in stragglers])} compute{'s' if len(stragglers) == 1 else ''} slower than the other ranks ({dtype} GEMM)",
                    [
                        f"rank {d.place.rank} ({d.place.host}, {d.binding.device}): {g.tflops:.1f} TFLOP/s vs median {median:.1f}; {_clock_text(g.observed)}"
                        for d, g, median in stragglers
                    ][:10],
                    "Synchronous data parallelism runs at the pace of its slowest rank: one slow GPU slows every step of every rank.",
                    "check that GPU's cooling, power cap (nvidia-smi -q -d POWER) and clocks; drain it if it stays slow",
                    category="performance",
                    layer="compute",
                )
            )
        rates = [g.tflops for _, g in ok if g.tflops]
        if rates:
            devices = {d.binding.gpu_name or d.binding.device for d, _ in ok}
            n = ok[0][1].n
            low, high = f"{min(rates):.1f}", f"{max(rates):.1f}"
            text = low if low == high else f"{low}–{high}"
            evidence = [f"{len(ok)} rank(s) on {', '.join(sorted(devices))}; {n}³ for {sum(g.seconds for _, g in ok) / len(ok):.1f} s each"]
            if peaks:
                ratios = [g.tflops / peaks[d.place.rank][0] for d, g in ok if d.place.rank in peaks and g.tflops]
                model = next(iter(peaks.values()))
                evidence.append(
                    f"{min(ratios):.0%}–{max(ratios):.0%} of {model[1]}'s datasheet {model[0]:g} TFLOP/s "
                    f"(dense, knowledge gpus.toml)"
                )
            elif all(d.binding.device == "cpu" for d, _ in ok):
                evidence.append("CPU ranks: no datasheet to compare with, and ranks share cores (not judged)")
            else:
                evidence.append("no datasheet peak recorded for this GPU (not judged against it)")
            checked = [g for _, g in ok if g.rel_error is not None]
            if checked and not wrong:
                evidence.append(
                    f"results within {max(g.tolerance or 0 for g in checked):.0e} of a float64 reference on every rank"
                    + ("; bitwise equal across the ranks" if len(ok) > 1 and not any(f.id == "gemm-result-differs" for f in findings) else "")
                )
            findings.append(
                finding(
                    "gemm-health",
                    Severity.INFO,
                    f"{dtype} GEMM: {text} TFLOP/s per rank",
                    evidence,
                    "A few seconds of dense GEMM per rank, checked against a reference and across ranks.",
                    None,
                    category="performance",
                    layer="compute",
                )
            )
    throttled = []
    for data in ranks:
        for g in data.gemm:
            observed = g.observed if isinstance(g.observed, dict) else {}
            reasons = observed.get("clock_reasons")
            if isinstance(reasons, int) and reasons & THROTTLING:
                throttled.append(f"rank {data.place.rank} ({data.binding.device}, {g.dtype}): {_clock_text(observed)}")
    if throttled:
        findings.append(
            finding(
                "gpu-throttled",
                Severity.WARNING,
                "a GPU throttled its clocks under the GEMM load",
                throttled[:10],
                "Hardware slowdown, thermal slowdown or a power brake hold the clocks down: that rank straggles.",
                "check cooling and power delivery (nvidia-smi -q -d PERFORMANCE,TEMPERATURE,POWER)",
                category="performance",
                layer="hardware",
            )
        )
    return findings


def check_gpu_health(ranks: Sequence[RankData], *, backend: str) -> list[Finding]:
    memory, pending, pcie, nvlink, p2p = [], [], [], [], []
    for members in nodes_of(ranks).values():
        topology = next((d.topology for d in members if d.topology is not None), None)
        if topology is None or not topology.gpus:
            continue
        host = members[0].place.host
        uuids = {d.binding.gpu_uuid for d in members if d.binding.gpu_uuid}
        used = [g for g in topology.gpus if g.uuid in uuids] or ([] if uuids else list(topology.gpus))
        for g in used:
            where = f"{host} GPU {g.index} ({g.pci_bus_id or g.uuid})"
            if g.ecc_uncorrected_volatile:
                memory.append(f"{where}: {g.ecc_uncorrected_volatile} uncorrected ECC error(s) since the driver loaded")
            if g.remapped_rows_failure:
                memory.append(f"{where}: a row remapping failed (the GPU needs service)")
            if g.remapped_rows_pending:
                pending.append(f"{where}: a row remapping is pending")
            if g.retired_pages_pending:
                pending.append(f"{where}: a page retirement is pending")
            if g.pcie_width_current and g.pcie_width_max and g.pcie_width_current < g.pcie_width_max:
                pcie.append(f"{where}: PCIe x{g.pcie_width_current} of x{g.pcie_width_max} (at rest)")
        for data in members:
            for result in data.gemm:
                observed = result.observed if isinstance(result.observed, dict) else {}
                gen, gen_max = observed.get("pcie_gen"), observed.get("pcie_gen_max")
                if isinstance(gen, int) and isinstance(gen_max, int) and gen < gen_max:
                    pcie.append(f"rank {data.place.rank} ({host}, {data.binding.device}): PCIe gen {gen} of {gen_max} under the GEMM load")
                    break
        linked = [g for g in used if g.nvlink_links]
        best = max((g.nvlink_active or 0 for g in linked), default=0)
        for g in linked:
            if best and (g.nvlink_active or 0) < best:
                nvlink.append(f"{host} GPU {g.index}: {g.nvlink_active} of {g.nvlink_links} NVLinks up (its peers: {best})")
        index = {g.index: i for i, g in enumerate(topology.gpus)}
        p2p_off = any(is_true(d.environment.get("NCCL_P2P_DISABLE")) for d in members)
        if topology.p2p and not p2p_off and backend == "nccl":
            for i, a in enumerate(used):
                for b in used[i + 1 :]:
                    try:
                        word = topology.p2p[index[a.index]][index[b.index]]
                    except (IndexError, KeyError):
                        continue
                    if word not in ("ok", "self"):
                        p2p.append(f"{host} GPU {a.index} ↔ GPU {b.index}: peer-to-peer {word}")
    findings = []
    if memory:
        findings.append(
            finding(
                "gpu-memory-errors",
                Severity.ERROR,
                "a GPU reports uncorrected memory errors",
                memory[:10],
                "Uncorrected ECC errors corrupt data and usually end in an XID and a crashed job.",
                "drain the GPU: reset it (nvidia-smi -r) or reboot; if errors return, it needs service (nvidia-smi -q -d ECC,ROW_REMAPPER)",
                category="compute-failure",
                layer="hardware",
            )
        )
    if pending:
        findings.append(
            finding(
                "gpu-reset-pending",
                Severity.WARNING,
                "a GPU needs a reset to retire failing memory",
                pending[:10],
                "The driver found failing memory and will retire or remap it at the next GPU reset; until then the row stays in use.",
                "reset the GPU when idle (nvidia-smi -r -i INDEX) or reboot the node",
                layer="hardware",
            )
        )
    if pcie:
        findings.append(
            finding(
                "pcie-link-degraded",
                Severity.WARNING,
                "a GPU's PCIe link runs below its maximum",
                pcie[:10],
                "A narrower or slower link cuts host↔device copies (data loading) and, on PCIe systems, collectives.",
                "reseat the card or move it to a full x16 slot; check BIOS PCIe settings and risers",
                category="performance",
                layer="hardware",
            )
        )
    if nvlink:
        findings.append(
            finding(
                "nvlink-down",
                Severity.WARNING,
                "NVLinks are down on a GPU",
                nvlink[:10],
                "Fewer active NVLinks lower that GPU's bandwidth, and every ring through it.",
                "nvidia-smi nvlink -s shows each link; a reset or reboot may bring it back, else the board needs service",
                category="performance",
                layer="hardware",
            )
        )
    if p2p:
        findings.append(
            finding(
                "p2p-unavailable",
                Severity.WARNING,
                "some GPU pairs cannot reach each other peer-to-peer",
                p2p[:12],
                "Without P2P, NCCL copies through host memory (SHM): far below NVLink or PCIe P2P bandwidth.",
                "check nvidia-smi topo -p2p r; IOMMU/ACS settings in the BIOS (ACS off) and, in VMs, the hypervisor's P2P support",
                category="performance",
                layer="hardware",
            )
        )
    return findings
