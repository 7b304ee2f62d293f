#!/usr/bin/env bash
# Issue 6/7 on a GPU machine (the `run` tool), from the repo root: where bench --quick's seconds go
# (a build profile, the quick worker's timeline, two whole --quick runs), then the DataLoader tuner
# against the full grid on 16 cores (2 s self-ending epochs, head to head). Bundled into $OUT.
set -u
source benchmarks/device/common.sh
OUT=${OUT:-/tmp/torchenv-loader2}; mkdir -p "$OUT"
timeout 60 $py benchmarks/device/build_profile.py > "$R/build-profile.txt" 2>&1
timeout 60 $py src/torchenv/perf/_worker/bench_worker.py --quick > "$R/quick-worker.jsonl" 2>> "$log"
for i in 1 2; do
  start=$(now)
  timeout 60 $py -m torchenv bench --quick --json > "$R/bench-quick-$i.json" 2>> "$log"
  echo "bench --quick run $i exit $? wall $(since $start) s" | tee -a "$log"
done
if [ "${SKIP_LOADER:-0}" != 1 ]; then
  start=$(now)
  timeout 450 $py benchmarks/tune_loader.py --epoch-s "${EPOCH_S:-2}" --final-rounds 3 --out "$R/tune-loader-16core.json" > "$R/tune-loader-16core.txt" 2>> "$log"
  echo "loader exit $? wall $(since $start) s" | tee -a "$log"
fi
tar -czf "$OUT/loader2.tar.gz" -C "$R" .
cat "$R/build-profile.txt" "$log"; tail -6 "$R/tune-loader-16core.txt" 2>/dev/null
