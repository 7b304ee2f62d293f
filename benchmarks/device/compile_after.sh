#!/usr/bin/env bash
# MODES (default A B C): one fresh process each, a fresh inductor cache per process.
set -u
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
for mode in ${MODES:-A B C}; do
  TORCHINDUCTOR_CACHE_DIR=$(mktemp -d) timeout 80 python3 benchmarks/device/compile_after.py $mode >> "$OUT/compile-after.txt" 2>&1
done
grep -v -i warn "$OUT/compile-after.txt"
