#!/usr/bin/env bash
# Issue 19 device run: tune's compile trial over fresh processes (WORKLOADS, default transformer).
set -u
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
export TORCHINDUCTOR_CACHE_DIR=${TORCHINDUCTOR_CACHE_DIR:-$(mktemp -d)}
for w in ${WORKLOADS:-transformer}; do
  python3 benchmarks/tune_compile_runs.py $w --processes ${PROCESSES:-5} --budget ${BUDGET:-90} \
    --out "$OUT/tune-compile-$w.json" > "$OUT/tune-compile-$w.txt" 2>&1
  echo "tune compile $w: exit $?"
done
