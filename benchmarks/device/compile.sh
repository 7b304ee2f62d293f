#!/usr/bin/env bash
# Issue 19 device run: the compile rung over 5 fresh processes (WORKLOADS, default gpt; a shared inductor
# cache after the first process: what a user's second run sees), then (TUNE=1) tune on the GPT block.
set -u
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
export TORCHINDUCTOR_CACHE_DIR=${TORCHINDUCTOR_CACHE_DIR:-$(mktemp -d)}
for w in ${WORKLOADS:-gpt}; do
  timeout 300 python3 benchmarks/compile_rung.py $w --processes ${PROCESSES:-5} --out "$OUT/compile-$w.json" > "$OUT/compile-$w.txt" 2>&1
  echo "compile $w: exit $?"
done
if [ "${TUNE:-0}" = 1 ]; then
  timeout 160 python3 -m torchenv tune transformer --budget 100 --json > "$OUT/tune-transformer.json" 2> "$OUT/tune-transformer.err"
  echo "tune: exit $?"
fi
