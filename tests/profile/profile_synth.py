"""Synthetic Kineto traces for the CUDA-only rules, built from real event shapes: `cpu_op` with
"Input type", `cuda_runtime` cudaLaunchKernel/cudaMemcpyAsync/cudaStreamSynchronize with a
"correlation", `kernel` / `gpu_memcpy` on pid=device, tid=stream with device/stream/correlation args,
`python_function` frames "file(line): function" with Python id / parent id, `[memory]` instant
events, deviceProperties and distributedInfo as torch.profiler writes them.

`gpu_trace(planted)` builds three steps of a healthy bf16 training step and adds the problems named
in `planted`; with an empty set it is the fixed twin of every rule."""

from __future__ import annotations

import gzip
import json

PID, TID, DEVICE, STREAM, COMM_STREAM = 4242, 4242, 0, 7, 20
PROBLEMS = ("stall", "dataloader", "pageable", "launch", "fp32", "optimizer", "allocator", "nccl", "sync", "peak")
TOTAL_MEM = 80 * 2**30

# the source function each planted problem must be reported in
SOURCES = {
    "profile-host-stall": "fetch_batch() at train.py:12",
    "profile-dataloader-wait": "next_batch() at train.py:15",
    "profile-pageable-copy": "to_device() at train.py:20",
    "profile-fp32-no-tensor-cores": "project() at train.py:30",
    "profile-launch-bound": "activation() at train.py:40",
    "profile-host-sync": "log_loss() at train.py:50",
    "profile-unfused-optimizer": "train_step() at train.py:5",
    "profile-allocator-churn": "regrow() at train.py:60",
    "profile-communication-share": None,
    "profile-peak-memory": None,
}
RULE_OF = {
    "stall": "profile-host-stall",
    "dataloader": "profile-dataloader-wait",
    "pageable": "profile-pageable-copy",
    "fp32": "profile-fp32-no-tensor-cores",
    "launch": "profile-launch-bound",
    "sync": "profile-host-sync",
    "optimizer": "profile-unfused-optimizer",
    "allocator": "profile-allocator-churn",
    "nccl": "profile-communication-share",
    "peak": "profile-peak-memory",
}


class TraceBuilder:
    def __init__(self, *, cc=(9, 0), total_mem=TOTAL_MEM, rank=None, world_size=None):
        self.events: list[dict] = []
        self.correlation = 1000
        self.python_id = 0
        self.cc = cc
        self.total_mem = total_mem
        self.rank = rank
        self.world_size = world_size
        self.gpu_free = 0.0  # when the compute stream is free
        self.allocated = 0

    # ---------------------------------------------------------------- host side
    def frame(self, name, ts, dur, parent=None):
        self.python_id += 1
        self.events.append(
            {
                "ph": "X",
                "cat": "python_function",
                "name": name,
                "pid": PID,
                "tid": TID,
                "ts": ts,
                "dur": dur,
                "args": {"Python parent id": parent, "Python id": self.python_id},
            }
        )
        return self.python_id

    def op(self, name, ts, dur, types=("float", "float")):
        self.events.append(
            {
                "ph": "X",
                "cat": "cpu_op",
                "name": name,
                "pid": PID,
                "tid": TID,
                "ts": ts,
                "dur": dur,
                "args": {
                    "External id": len(self.events),
                    "Input type": list(types),
                    "Input Dims": [[64, 64]] * len(types),
                },
            }
        )

    def annotation(self, name, ts, dur):
        self.events.append(
            {
                "ph": "X",
                "cat": "user_annotation",
                "name": name,
                "pid": PID,
                "tid": TID,
                "ts": ts,
                "dur": dur,
                "args": {},
            }
        )

    def runtime(self, name, ts, dur, correlation=None):
        args = {"cbid": 211}
        if correlation is not None:
            args["correlation"] = correlation
        self.events.append(
            {"ph": "X", "cat": "cuda_runtime", "name": name, "pid": PID, "tid": TID, "ts": ts, "dur": dur, "args": args}
        )

    # ---------------------------------------------------------------- device side
    def launch(
        self,
        kernel,
        ts,
        launch_dur,
        kernel_dur,
        *,
        call="cudaLaunchKernel",
        cat="kernel",
        stream=STREAM,
        at=None,
        nbytes=None,
    ):
        """A runtime call at `ts` and the GPU event it starts (queued behind the stream's work)."""
        self.correlation += 1
        self.runtime(call, ts, launch_dur, self.correlation)
        start = at if at is not None else max(self.gpu_free if stream == STREAM else 0.0, ts + launch_dur * 0.5)
        args = {"device": DEVICE, "stream": stream, "correlation": self.correlation}
        if nbytes is not None:
            args["bytes"] = nbytes
        self.events.append(
            {
                "ph": "X",
                "cat": cat,
                "name": kernel,
                "pid": DEVICE,
                "tid": stream,
                "ts": start,
                "dur": kernel_dur,
                "args": args,
            }
        )
        if stream == STREAM:
            self.gpu_free = start + kernel_dur
        return start + kernel_dur

    def memory(self, ts, delta):
        self.allocated += delta
        self.events.append(
            {
                "ph": "i",
                "cat": "cpu_instant_event",
                "s": "t",
                "name": "[memory]",
                "pid": PID,
                "tid": TID,
                "ts": ts,
                "args": {
                    "Total Reserved": max(self.allocated, 0),
                    "Total Allocated": max(self.allocated, 0),
                    "Bytes": delta,
                    "Device Id": DEVICE,
                    "Device Type": 1,
                    "Addr": 1 << 40,
                },
            }
        )

    def doc(self):
        doc = {
            "schemaVersion": 1,
            "deviceProperties": [
                {
                    "id": DEVICE,
                    "name": "NVIDIA H100 80GB HBM3",
                    "totalGlobalMem": self.total_mem,
                    "computeMajor": self.cc[0],
                    "computeMinor": self.cc[1],
                    "numSms": 132,
                }
            ],
            "with_stack": 1,
            "traceEvents": self.events,
        }
        if self.rank is not None:
            doc["distributedInfo"] = {"backend": "nccl", "rank": self.rank, "world_size": self.world_size or 1}
        return doc

    def write(self, path, *, gz=False):
        data = json.dumps(self.doc())
        if gz:
            with gzip.open(path, "wt") as f:
                f.write(data)
        else:
            path.write_text(data)
        return path


def gpu_trace(planted=frozenset(), *, steps=3, cc=(9, 0), rank=None, world_size=None) -> TraceBuilder:
    b = TraceBuilder(cc=cc, rank=rank, world_size=world_size)
    t = 1_000_000.0
    b.memory(t - 10, 10 * 2**30)
    for n in range(1, steps + 1):
        start = t
        h = start + 20  # host cursor
        root = b.frame("train.py(5): train_step", start + 5, 1)  # duration fixed below
        root_index = len(b.events) - 1
        if "stall" in planted:
            f = b.frame("train.py(12): fetch_batch", h, 3000, root)
            b.frame("<built-in function sleep>", h + 5, 2990, f)
            h += 3010
        f = b.frame("train.py(15): next_batch", h, 2020 if "dataloader" in planted else 60, root)
        lib = b.frame(
            "torch/utils/data/dataloader.py(730): __next__", h + 5, 2000 if "dataloader" in planted else 50, f
        )
        b.annotation(
            "enumerate(DataLoader)#_MultiProcessingDataLoaderIter.__next__",
            h + 8,
            1990 if "dataloader" in planted else 40,
        )
        del lib
        h += 2030 if "dataloader" in planted else 70
        f = b.frame("train.py(20): to_device", h, 620, root)
        b.op("aten::to", h + 5, 600)
        b.op("aten::_to_copy", h + 10, 590)
        b.op("aten::copy_", h + 15, 580)
        if "pageable" in planted:
            b.launch(
                "Memcpy HtoD (Pageable -> Device)",
                h + 20,
                550,
                400,
                call="cudaMemcpyAsync",
                cat="gpu_memcpy",
                nbytes=16 << 20,
            )
        else:
            b.launch(
                "Memcpy HtoD (Pinned -> Device)",
                h + 20,
                8,
                250,
                call="cudaMemcpyAsync",
                cat="gpu_memcpy",
                nbytes=16 << 20,
            )
        h += 630
        f = b.frame("train.py(40): activation", h, 1, root)
        frame_index = len(b.events) - 1
        if "launch" in planted:
            for _ in range(40):
                b.op("aten::mul", h, 12)
                b.launch(
                    "void at::native::vectorized_elementwise_kernel<4, at::native::BinaryFunctor<float>>", h + 2, 8, 2
                )
                h += 14
        else:
            b.op("aten::mul", h, 12)
            b.launch("triton_poi_fused_mul_add_tanh_0", h + 2, 8, 150)
            h += 14
        b.events[frame_index]["dur"] = h - b.events[frame_index]["ts"] + 1
        h += 5
        # the healthy bulk of the step: bf16 matmuls on tensor cores
        f = b.frame("train.py(25): forward", h, 40, root)
        b.frame("torch/nn/modules/module.py(1750): _call_impl", h + 2, 36, f)
        b.op("aten::linear", h + 4, 30, ("c10::BFloat16", "c10::BFloat16"))
        b.op("aten::addmm", h + 6, 26, ("c10::BFloat16", "c10::BFloat16", "c10::BFloat16"))
        big_end = b.launch(
            "sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64_warpgroupsize1x1x1", h + 8, 6, 6000
        )
        big_start = big_end - 6000
        h += 45
        f = b.frame("train.py(30): project", h, 40, root)
        b.frame("torch/nn/modules/module.py(1750): _call_impl", h + 2, 36, f)
        b.op("aten::mm", h + 4, 30, ("float", "float"))
        if "fp32" in planted:
            b.launch("volta_sgemm_128x64_nn", h + 8, 6, 3000)
        else:
            b.launch(
                "sm80_xmma_gemm_f32f32_tf32f32_f32_nn_n_tilesize128x128x32_stage3_warpsize2x2x1_tensor16x8x8",
                h + 8,
                6,
                1500,
            )
        h += 45
        if "nccl" in planted:
            comm_end = b.launch(
                "ncclDevKernel_AllReduce_Sum_bf16_RING_LL(ncclDevKernelArgsStorage<4096ul>)",
                h,
                10,
                4000,
                stream=COMM_STREAM,
                at=b.gpu_free + 5,
            )
        else:
            comm_end = b.launch(
                "ncclDevKernel_AllReduce_Sum_bf16_RING_LL(ncclDevKernelArgsStorage<4096ul>)",
                h,
                10,
                2000,
                stream=COMM_STREAM,
                at=big_start + 100,
            )
        h += 15
        b.annotation("Optimizer.step#AdamW.step", h, 700 if "optimizer" in planted else 60)
        if "optimizer" in planted:
            for i in range(60):
                b.op(("aten::mul_", "aten::add_", "aten::addcmul_")[i % 3], h + 5 + i * 11, 10)
                b.launch("void at::native::vectorized_elementwise_kernel<4>", h + 6 + i * 11, 5, 3)
            h += 710
        else:
            for i, name in enumerate(("aten::_foreach_mul_", "aten::_foreach_add_", "aten::_fused_adamw_")):
                b.op(name, h + 5 + i * 15, 14)
                b.launch("void at::native::multi_tensor_apply_kernel<TensorListMetadata<4>>", h + 6 + i * 15, 6, 30)
            h += 70
        if "allocator" in planted:
            f = b.frame("train.py(60): regrow", h, 20 * 70 + 10, root)
            for _ in range(10):
                b.runtime("cudaFree", h, 40)
                b.runtime("cudaMalloc", h + 45, 20)
                h += 70
            h += 10
        if "peak" in planted and n == 1:
            b.memory(h, int(0.95 * TOTAL_MEM) - b.allocated)
        f = b.frame("train.py(50): log_loss", h, 1, root)
        frame_index = len(b.events) - 1
        if "sync" in planted:
            b.op("aten::item", h + 2, max(50.0, b.gpu_free - h) + 30, ("float",))
            b.op("aten::_local_scalar_dense", h + 4, max(50.0, b.gpu_free - h) + 20, ("float",))
            b.launch(
                "Memcpy DtoH (Device -> Pageable)", h + 6, 5, 2, call="cudaMemcpyAsync", cat="gpu_memcpy", nbytes=4
            )
            sync = max(40.0, b.gpu_free - (h + 12))
            b.runtime("cudaStreamSynchronize", h + 12, sync)
            h = max(h + 60, b.gpu_free + 30)
        else:
            h += 5
        b.events[frame_index]["dur"] = h - b.events[frame_index]["ts"] + 1
        end = max(h, b.gpu_free, comm_end) + 200
        b.events[root_index]["dur"] = end - 10 - b.events[root_index]["ts"]
        b.annotation(f"ProfilerStep#{n}", start, end - start)
        t = end + 1
    return b
