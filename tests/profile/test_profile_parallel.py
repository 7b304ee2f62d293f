"""The TensorBoard plugin's two distributed rules on synthetic traces shaped like Kineto's output:
nn.DataParallel over several GPUs (its `DataParallel.forward` range, replicate/scatter/gather frames,
the Broadcast / ReduceAddCoalesced autograd functions, kernels on two devices) and DDP over gloo with
CUDA tensors (`DistributedDataParallel.forward`, `gloo:all_reduce` on the reducer's thread,
distributedInfo.backend), each beside the twin that must stay quiet."""

from __future__ import annotations

import pytest
from profile_synth import DEVICE, PID, gpu_trace

from torchenv.profile.analysis import analyse_traces
from torchenv.profile.trace import TraceSet, parse_trace

REDUCER_TID = 4250  # the DDP reducer's / ProcessGroupGloo's worker thread


def _steps(b):
    return [e for e in b.events if e["name"].startswith("ProfilerStep#")]


def _report(b, backend=None):
    doc = b.doc()
    if backend is not None:
        doc["distributedInfo"] = {"backend": backend, "rank": 0, "world_size": 2}
    return analyse_traces(TraceSet("synthetic", (parse_trace(doc),)))


def _found(report, rule):
    return [f for f in report.findings if f.finding.id == rule]


def _second_gpu_kernel(b, ts):
    b.correlation += 1
    b.runtime("cudaLaunchKernel", ts, 6, b.correlation)
    b.events.append(
        {
            "ph": "X", "cat": "kernel", "name": "sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n", "pid": DEVICE + 1,
            "tid": 7, "ts": ts + 10, "dur": 2000, "args": {"device": DEVICE + 1, "stream": 7, "correlation": b.correlation},
        }
    )  # fmt: skip


def data_parallel_trace(*, gpus=2):
    b = gpu_trace(set())
    for step in _steps(b):
        at = step["ts"] + 6  # inside the step's root frame (train.py:5), so that this one is innermost
        user = b.frame("train.py(80): train_step_dp", at, 900)
        b.annotation("DataParallel.forward", at + 5, 800)
        rep = b.frame("torch/nn/parallel/replicate.py(78): replicate", at + 10, 300, user)
        b.frame("torch/nn/parallel/_functions.py(13): forward", at + 20, 250, rep)
        b.op("Broadcast", at + 20, 250)
        b.frame("torch/nn/parallel/scatter_gather.py(70): scatter_kwargs", at + 320, 100, user)
        b.op("Gather", at + 700, 90)
        b.op("autograd::engine::evaluate_function: BroadcastBackward", at + 800, 60)
        b.op("ReduceAddCoalesced", at + 805, 50)
        if gpus > 1:
            _second_gpu_kernel(b, at + 450)
    return b


def ddp_trace(*, comm="gloo", gpu=True):
    b = gpu_trace(set()) if gpu else _cpu_only(gpu_trace(set()))
    if comm != "nccl":  # the healthy trace's all-reduce kernels are NCCL's
        b.events = [e for e in b.events if not e["name"].lower().startswith("nccl")]
    for step in _steps(b):
        at = step["ts"] + 6
        b.frame("train.py(90): train_step_ddp", at, 900)
        b.annotation("DistributedDataParallel.forward", at + 5, 300)
        b.events.append(
            {
                "ph": "X", "cat": "cpu_op", "name": f"{comm}:all_reduce", "pid": PID, "tid": REDUCER_TID,
                "ts": at + 400, "dur": 1500, "args": {"External id": len(b.events)},
            }
        )  # fmt: skip
    return b


def _cpu_only(b):
    b.events = [e for e in b.events if e.get("cat") not in ("kernel", "gpu_memcpy", "gpu_memset", "cuda_runtime")]
    return b


def test_data_parallel_over_two_gpus_is_named_with_its_cost_and_source():
    [found] = _found(_report(data_parallel_trace()), "profile-data-parallel")
    assert found.source == "train_step_dp() at train.py:80"
    assert found.ms_per_step == pytest.approx(0.3 + 0.1 + 0.09 + 0.06, abs=0.01)  # replicate, scatter, gather, reduce
    assert "DistributedDataParallel" in found.finding.fix and "torchrun" in found.finding.fix
    assert found.finding.category == "distributed"


def test_data_parallel_on_one_gpu_and_plain_steps_are_quiet():
    assert _found(_report(data_parallel_trace(gpus=1)), "profile-data-parallel") == []
    assert _found(_report(gpu_trace(set())), "profile-data-parallel") == []
    assert _found(_report(ddp_trace(comm="nccl"), backend="nccl"), "profile-data-parallel") == []


@pytest.mark.parametrize("backend", ["gloo", None])  # from distributedInfo, or from the gloo: ops alone
def test_ddp_over_gloo_with_cuda_tensors_is_named(backend):
    [found] = _found(_report(ddp_trace(), backend=backend), "profile-ddp-without-nccl")
    assert found.ms_per_step == pytest.approx(1.5, abs=0.01)
    assert found.source == "train_step_ddp() at train.py:90"
    assert "backend='nccl'" in found.finding.fix
    assert any("gloo:all_reduce: 1/step" in e for e in found.finding.evidence)


def test_ddp_over_nccl_and_gloo_on_cpu_are_quiet():
    assert _found(_report(ddp_trace(comm="nccl"), backend="nccl"), "profile-ddp-without-nccl") == []
    assert _found(_report(ddp_trace(comm="gloo", gpu=False), backend="gloo"), "profile-ddp-without-nccl") == []
    old = ddp_trace()
    old.cc = (3, 0)  # Kepler GK10x: below the plugin's 3.5
    assert _found(_report(old, backend="gloo"), "profile-ddp-without-nccl") == []
