#!/usr/bin/env bash
set -u
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1 TORCHINDUCTOR_CACHE_DIR=$(mktemp -d)
for mode in A B C; do timeout 70 python3 benchmarks/device/compile_after.py $mode >> "$OUT/compile-after.txt" 2>&1; done
