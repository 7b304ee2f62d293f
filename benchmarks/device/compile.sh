#!/usr/bin/env bash
# Issue 19 device run: bench's compile rung over fresh processes (WORKLOADS, default resnet50; PROCESSES, 5;
# an inductor cache shared after the first process: what a user's second run sees), then BEFORE_RUNS
# processes (default 0) with the conv test measured first in the same process, as in the full suite.
set -u
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
export TORCHINDUCTOR_CACHE_DIR=${TORCHINDUCTOR_CACHE_DIR:-$(mktemp -d)}
for w in ${WORKLOADS:-resnet50}; do
  python3 benchmarks/compile_rung.py $w --processes ${PROCESSES:-5} --out "$OUT/compile-$w.json" > "$OUT/compile-$w.txt" 2>&1
  echo "compile $w: exit $?"
  if [ "${BEFORE_RUNS:-0}" -gt 0 ]; then
    python3 benchmarks/compile_rung.py $w --processes $BEFORE_RUNS --before conv --out "$OUT/compile-$w-after-conv.json" > "$OUT/compile-$w-after-conv.txt" 2>&1
    echo "compile $w after conv: exit $?"
  fi
done
