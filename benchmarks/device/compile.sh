#!/usr/bin/env bash
# Issue 19 device run, part 2: the compile rung over 5 fresh processes per workload (a shared inductor
# cache after the first: what a user's second run sees), then tune on the GPT block.
set -u
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
export TORCHINDUCTOR_CACHE_DIR=$(mktemp -d)
for w in gpt resnet50; do
  timeout 330 python3 benchmarks/compile_rung.py $w --processes 5 --out "$OUT/compile-$w.json" > "$OUT/compile-$w.txt" 2>&1
  echo "compile $w: exit $?"
done
timeout 170 python3 -m torchenv tune transformer --budget 140 --json > "$OUT/tune-transformer.json" 2> "$OUT/tune-transformer.err"
echo "tune: exit $?"
