#!/usr/bin/env bash
# Issue 6 on a GPU machine (the `run` tool), from the repo root: bench --quick twice and the full
# suite (cudnn.benchmark in its own process, started early), each timed whole. Bundled into $OUT.
set -u
source benchmarks/device/common.sh
STEAL=$(mktemp); python3 benchmarks/device/steal.py save "$STEAL"
OUT=${OUT:-/tmp/torchenv-bench3}; mkdir -p "$OUT"
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.limit,temperature.gpu --format=csv; nproc; uptime; } > "$log" 2>&1
for i in 1 2; do
  start=$(now)
  timeout 60 $py -m torchenv bench --quick --json > "$R/bench-quick-$i.json" 2>> "$log"
  echo "bench --quick run $i exit $? wall $(since $start) s" | tee -a "$log"
done
export TORCHINDUCTOR_CACHE_DIR=$(mktemp -d)
start=$(now)
timeout 300 $py -m torchenv bench --json --html "$R/bench-full.html" > "$R/bench-full.json" 2>> "$log"
echo "bench full exit $? wall $(since $start) s" | tee -a "$log"
$py benchmarks/render_bench_json.py "$R/bench-full.json" > "$R/bench-full.txt" 2>&1
$py benchmarks/render_bench_json.py "$R/bench-quick-2.json" > "$R/bench-quick-2.txt" 2>&1
python3 benchmarks/device/steal.py since "$STEAL" >> "$R/log.txt"
tar -czf "$OUT/bench3.tar.gz" -C "$R" .
cat "$log"; grep -A12 "Training ladder: ResNet" "$R/bench-full.txt"; tail -3 "$R/bench-full.txt"
