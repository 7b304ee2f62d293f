#!/usr/bin/env bash
# Issue 19/20 device run, part 1: bench vs the bare script (3 interleaved rounds), then torchenv profile on
# the planted workload and its fixed twin.
set -u
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
timeout 330 python3 benchmarks/bench_truth.py --rounds 3 --out "$OUT/bench-truth.json" > "$OUT/bench-truth.txt" 2>&1
echo "truth: exit $?"
for twin in planted fixed; do
  timeout 100 python3 -m torchenv profile tests/fixtures/profile/planted.py:$twin --device cuda --steps 5 \
    --keep-trace "$OUT/profile-$twin.pt.trace.json.gz" > "$OUT/profile-$twin.txt" 2>&1
  echo "profile $twin: exit $?"
  timeout 60 python3 -m torchenv profile --trace "$OUT/profile-$twin.pt.trace.json.gz" --json > "$OUT/profile-$twin-trace.json" 2>&1
done
