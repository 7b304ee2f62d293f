#!/usr/bin/env bash
# Issue 6/7 follow-ups on a GPU machine (the `run` tool), from the repo root:
#   bench --quick three times (wall each; the first is cold), the quick worker's raw records (a
#   timeline of where the seconds go), the full suite with cudnn.benchmark in its own process,
#   tune's fp16 + GradScaler path and --max-batch. Everything is bundled into $OUT/bench2.tar.gz.
set -u
source benchmarks/device/common.sh
OUT=${OUT:-/tmp/torchenv-bench2}; mkdir -p "$OUT"
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.limit,temperature.gpu --format=csv; nproc; } > "$log" 2>&1
for i in 1 2 3; do
  start=$(now)
  timeout 60 $py -m torchenv bench --quick --json > "$R/bench-quick-$i.json" 2>> "$log"
  echo "bench --quick run $i exit $? wall $(since $start) s" | tee -a "$log"
done
timeout 60 $py src/torchenv/perf/_worker/bench_worker.py --quick > "$R/quick-worker.jsonl" 2>> "$log"
export TORCHINDUCTOR_CACHE_DIR=$(mktemp -d)
start=$(now)
timeout 240 $py -m torchenv bench --json --html "$R/bench-full.html" > "$R/bench-full.json" 2>> "$log"
echo "bench full exit $? wall $(since $start) s" | tee -a "$log"
$py - "$R/bench-full.json" > "$R/bench-full.txt" 2>&1 <<'PY'
import sys
from rich.console import Console
from torchenv.model.bench import BenchReport
from torchenv.model.codec import from_json
from torchenv.render.terminal_bench import render_bench_terminal
import json
body = json.load(open(sys.argv[1]))
for key in ("schema_version", "kind", "suite_s"):
    body.pop(key, None)
for m in body["measurements"]:
    (m.get("time") or {}).pop("spread", None)
render_bench_terminal(from_json(BenchReport, body), Console(width=150, highlight=False))
PY
start=$(now)
timeout 150 $py benchmarks/device/tune_fp16.py > "$R/tune-fp16.txt" 2>&1
echo "tune fp16 exit $? wall $(since $start) s" | tee -a "$log"
start=$(now)
timeout 200 $py -m torchenv tune resnet50 --max-batch --skip compile --budget 150 --json > "$R/tune-max-batch.json" 2>> "$log"
echo "tune --max-batch exit $? wall $(since $start) s" | tee -a "$log"
tar -czf "$OUT/bench2.tar.gz" -C "$R" .
cat "$R/bench-full.txt" | head -80; tail -15 "$R/tune-fp16.txt"; cat "$log"
