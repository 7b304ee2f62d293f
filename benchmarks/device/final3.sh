#!/usr/bin/env bash
# Final check of this session's code on a GPU machine (the `run` tool), from the repo root:
# bench --quick three times and the full suite, then tune on a tiny workload with its DataLoader
# (the CLI path of the loader measurement and the skipped cudnn.benchmark knob). Bundled into $OUT.
set -u
source benchmarks/device/common.sh
STEAL=$(mktemp); python3 benchmarks/device/steal.py save "$STEAL"
OUT=${OUT:-/tmp/torchenv-final3}; mkdir -p "$OUT"
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv; nproc; uptime; } > "$log" 2>&1
for i in 1 2 3; do
  start=$(now)
  timeout 60 $py -m torchenv bench --quick --json > "$R/bench-quick-$i.json" 2>> "$log"
  echo "bench --quick run $i exit $? wall $(since $start) s" | tee -a "$log"
done
export TORCHINDUCTOR_CACHE_DIR=$(mktemp -d)
start=$(now)
timeout 300 $py -m torchenv bench --json --html "$R/bench-full.html" > "$R/bench-full.json" 2>> "$log"
echo "bench full exit $? wall $(since $start) s" | tee -a "$log"
$py benchmarks/render_bench_json.py "$R/bench-full.json" > "$R/bench-full.txt" 2>&1
$py benchmarks/render_bench_json.py "$R/bench-quick-3.json" > "$R/bench-quick-3.txt" 2>&1
start=$(now)
timeout 150 $py -m torchenv tune tests/tune/fixtures/tiny_workload.py:make_workload --loader --loader-epoch-s 1 --budget 90 > "$R/tune-tiny-loader.txt" 2>> "$log"
echo "tune tiny --loader exit $? wall $(since $start) s" | tee -a "$log"
python3 benchmarks/device/steal.py since "$STEAL" >> "$log"
tar -czf "$OUT/final3.tar.gz" -C "$R" .
cat "$log"; grep -A10 "Training ladder: ResNet" "$R/bench-full.txt"; tail -2 "$R/bench-full.txt"; grep -i "benchmark\|DataLoader\|num_workers" "$R/tune-tiny-loader.txt" | head -8
