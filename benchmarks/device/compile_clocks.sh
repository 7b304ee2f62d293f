#!/usr/bin/env bash
set -u
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1 TORCHINDUCTOR_CACHE_DIR=$(mktemp -d)
for w in ${WORKLOADS:-resnet50 gpt}; do
  timeout 150 python3 benchmarks/device/compile_clocks.py $w --steps 100 --out "$OUT/clocks-$w.json" 2>&1 | grep -v -i warn | tee -a "$OUT/clocks.txt"
done
