"""Runs in a child process (a wedged driver can hang NVML calls; the parent kills this at its
deadline). Reads what `torchenv preflight` needs of a node's GPUs through NVML: UUIDs, PCI bus ids,
NVLink state, the P2P and link matrices (nvidia-smi topo -m), PCIe links, ECC, row remapping,
pending page retirement, power limits and maximum clocks.

Prints one JSON object: {"gpus": [...], "p2p": [[...]], "link": [[...]], "error": null}.
Usage: python -S -E topology_probe.py [PYNVML_DIR]
"""

import json
import sys

P2P_WORDS = {
    0: "ok",
    1: "chipset not supported",
    2: "gpu not supported",
    3: "topology not supported",
    4: "disabled by regkey",
    5: "not supported",
    6: "unknown",
}
ANCESTOR_WORDS = {0: "X", 10: "PIX", 20: "PXB", 30: "PHB", 40: "NODE", 50: "SYS"}


def safe(call, *args):
    try:
        return call(*args)
    except Exception:
        return None


def text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def constant(nvml, name, default):
    value = getattr(nvml, name, default)
    if isinstance(value, tuple):  # some nvidia-ml-py releases define NVML_P2P_CAPS_INDEX_READ as (0,)
        value = value[0]
    return value


def nvlinks(nvml, handle):
    active = 0
    answered = 0
    version = None
    for link in range(int(getattr(nvml, "NVML_NVLINK_MAX_LINKS", 18))):
        try:
            state = nvml.nvmlDeviceGetNvLinkState(handle, link)
        except Exception:
            continue
        answered += 1
        if state:
            active += 1
            if version is None:
                version = safe(nvml.nvmlDeviceGetNvLinkVersion, handle, link)
    return active if answered else None, answered or None, version


def gpu(nvml, index):
    handle = nvml.nvmlDeviceGetHandleByIndex(index)
    pci = safe(nvml.nvmlDeviceGetPciInfo, handle)
    active, answered, version = nvlinks(nvml, handle)
    remap = safe(nvml.nvmlDeviceGetRemappedRows, handle)
    uncorrected = constant(nvml, "NVML_MEMORY_ERROR_TYPE_UNCORRECTED", 1)
    volatile = safe(nvml.nvmlDeviceGetTotalEccErrors, handle, uncorrected, constant(nvml, "NVML_VOLATILE_ECC", 0))
    aggregate = safe(nvml.nvmlDeviceGetTotalEccErrors, handle, uncorrected, constant(nvml, "NVML_AGGREGATE_ECC", 1))
    pending = safe(nvml.nvmlDeviceGetRetiredPagesPendingStatus, handle)
    limit = safe(nvml.nvmlDeviceGetEnforcedPowerLimit, handle)
    default_limit = safe(nvml.nvmlDeviceGetPowerManagementDefaultLimit, handle)
    return handle, {
        "index": index,
        "name": text(safe(nvml.nvmlDeviceGetName, handle)) or "unknown GPU",
        "uuid": text(safe(nvml.nvmlDeviceGetUUID, handle)),
        "pci_bus_id": text(getattr(pci, "busId", None)) if pci is not None else None,
        "nvlink_active": active,
        "nvlink_links": answered,
        "nvlink_version": version,
        "pcie_gen_current": safe(nvml.nvmlDeviceGetCurrPcieLinkGeneration, handle),
        "pcie_gen_max": safe(nvml.nvmlDeviceGetMaxPcieLinkGeneration, handle),
        "pcie_width_current": safe(nvml.nvmlDeviceGetCurrPcieLinkWidth, handle),
        "pcie_width_max": safe(nvml.nvmlDeviceGetMaxPcieLinkWidth, handle),
        "ecc_uncorrected_volatile": volatile,
        "ecc_uncorrected_aggregate": aggregate,
        "remapped_rows_uncorrectable": remap[1] if remap else None,
        "remapped_rows_pending": bool(remap[2]) if remap else None,
        "remapped_rows_failure": bool(remap[3]) if remap else None,
        "retired_pages_pending": bool(pending) if pending is not None else None,
        "power_limit_w": limit / 1000.0 if limit is not None else None,
        "default_power_limit_w": default_limit / 1000.0 if default_limit is not None else None,
        "max_sm_clock_mhz": safe(nvml.nvmlDeviceGetMaxClockInfo, handle, constant(nvml, "NVML_CLOCK_SM", 1)),
    }


def matrices(nvml, handles):
    read = constant(nvml, "NVML_P2P_CAPS_INDEX_READ", 0)
    over_nvlink = constant(nvml, "NVML_P2P_CAPS_INDEX_NVLINK", 2)
    p2p, link = [], []
    for i, a in enumerate(handles):
        p2p_row, link_row = [], []
        for j, b in enumerate(handles):
            if i == j:
                p2p_row.append("self")
                link_row.append("X")
                continue
            status = safe(nvml.nvmlDeviceGetP2PStatus, a, b, read)
            p2p_row.append(P2P_WORDS.get(status, "unknown") if status is not None else "unknown")
            if safe(nvml.nvmlDeviceGetP2PStatus, a, b, over_nvlink) == 0:
                link_row.append("NV")
            else:
                ancestor = safe(nvml.nvmlDeviceGetTopologyCommonAncestor, a, b)
                link_row.append(ANCESTOR_WORDS.get(ancestor, "?") if ancestor is not None else "?")
        p2p.append(p2p_row)
        link.append(link_row)
    return p2p, link


def main():
    sys.path[:0] = sys.argv[1:]
    try:
        import pynvml as nvml
    except ImportError as exc:
        print(json.dumps({"gpus": [], "p2p": [], "link": [], "error": "nvidia-ml-py is not installed (%s)" % exc}))
        return
    try:
        nvml.nvmlInit()
    except Exception as exc:
        print(json.dumps({"gpus": [], "p2p": [], "link": [], "error": str(exc) or type(exc).__name__}))
        return
    try:
        handles, gpus = [], []
        for index in range(nvml.nvmlDeviceGetCount()):
            handle, row = gpu(nvml, index)
            handles.append(handle)
            gpus.append(row)
        p2p, link = matrices(nvml, handles)
        print(json.dumps({"gpus": gpus, "p2p": p2p, "link": link, "error": None}))
    except Exception as exc:
        print(json.dumps({"gpus": [], "p2p": [], "link": [], "error": "%s: %s" % (type(exc).__name__, exc)}))
    finally:
        safe(nvml.nvmlShutdown)


if __name__ == "__main__":
    sys.exit(main())
