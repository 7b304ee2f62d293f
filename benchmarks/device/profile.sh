#!/usr/bin/env bash
# Issue 20 device run: torchenv profile on the planted workload and its fixed twin (the raw traces kept),
# the same traces through `profile --trace` as JSON, then an unmodified CUDA script (`profile -- python`).
set -u
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
for twin in planted fixed; do
  timeout 110 python3 -m torchenv profile tests/fixtures/profile/planted.py:$twin --device cuda --steps 5 \
    --keep-trace "$OUT/profile-$twin.pt.trace.json.gz" > "$OUT/profile-$twin.txt" 2>&1
  echo "profile $twin: exit $?"
  timeout 60 python3 -m torchenv profile --trace "$OUT/profile-$twin.pt.trace.json.gz" --json > "$OUT/profile-$twin-trace.json" 2>&1
done
timeout 60 python3 -m torchenv profile --trace "$OUT/profile-planted.pt.trace.json.gz" --format markdown > "$OUT/profile-planted.md" 2>&1
timeout 150 python3 -m torchenv profile --steps 5 --keep-trace "$OUT/profile-script.pt.trace.json.gz" \
  -- python3 tests/fixtures/profile/scripts/train_cuda.py > "$OUT/profile-script.txt" 2>&1
echo "profile script: exit $?"
timeout 60 python3 -m torchenv profile --trace "$OUT/profile-script.pt.trace.json.gz" --json > "$OUT/profile-script-trace.json" 2>&1
