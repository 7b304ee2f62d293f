#!/usr/bin/env bash
# Issue 19 investigation (call A): bench vs a bare script, and where the compile rung's bimodality comes
# from. Each compile process gets a fresh inductor cache (a fresh process as a user would see it).
set -u
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,power.limit,clocks.max.sm --format=csv > "$OUT/gpu.csv" 2>&1
timeout 150 python3 benchmarks/device/perf_truth.py matmul > "$OUT/matmul.jsonl" 2> "$OUT/matmul.err"
for i in 1 2 3; do
  for w in resnet50 gpt; do
    TORCHINDUCTOR_CACHE_DIR=$(mktemp -d) timeout 150 python3 benchmarks/device/perf_truth.py compile $w \
      > "$OUT/compile-$w-$i.jsonl" 2> "$OUT/compile-$w-$i.err"
    echo "compile $w $i: exit $?"
  done
done
