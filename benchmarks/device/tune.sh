#!/usr/bin/env bash
# issue 7 on a GPU machine (the `run` tool), from the repo root, one batched run:
#   1. `torchenv tune resnet50` (batch 128, --budget 300), cold torch.compile caches, timed;
#   2. bench's hand-ordered ResNet-50 ladder (its own worker), cold caches, same machine;
#   3. the DataLoader tuner against the full grid on the CPU-heavy dataset (16 cores);
#   4. the comparison. Everything lands in $OUT (8 files at most come back).
set -u
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/torchenv-tune}; mkdir -p "$OUT"
py=${PYTHON:-python3}
now() { date +%s.%N; }
since() { $py -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))" "$1" "$(now)"; }
began=$(now)
log="$OUT/tune-h100.log"
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.limit,temperature.gpu --format=csv; nproc; } > "$log" 2>&1

if [ "${SKIP_TUNE:-0}" != 1 ]; then
  export TORCHINDUCTOR_CACHE_DIR=$(mktemp -d)
  start=$(now)
  timeout 360 $py -m torchenv tune resnet50 --budget 300 --json --html "$OUT/tune-h100.html" > "$OUT/tune-h100.json" 2>> "$log"
  echo "tune exit $? in $(since $start) s" | tee -a "$log"
  tune_wall=$(since $start)
  $py - "$OUT/tune-h100.json" > "$OUT/tune-h100.txt" 2>&1 <<'PY'
import sys
from rich.console import Console
from torchenv.render.tune_terminal import render_tune_terminal as render_terminal
from torchenv.tune.report import report_from_json
render_terminal(report_from_json(open(sys.argv[1]).read()), Console(width=150, highlight=False))
PY
  export TORCHINDUCTOR_CACHE_DIR=$(mktemp -d)
  start=$(now)
  timeout 200 $py src/torchenv/perf/_worker/bench_worker.py --sections ladder-resnet50 > "$OUT/ladder-h100.jsonl" 2>> "$log"
  echo "ladder exit $? in $(since $start) s" | tee -a "$log"
  $py benchmarks/tune_h100_compare.py --tune "$OUT/tune-h100.json" --ladder "$OUT/ladder-h100.jsonl" \
    --tune-wall "$tune_wall" --out "$OUT/compare-h100.json" | tee -a "$OUT/tune-h100.txt"
fi
elapsed=$(since $began)
if [ "${SKIP_LOADER:-0}" != 1 ] && $py -c "import sys; sys.exit(0 if float(sys.argv[1]) < ${LOADER_DEADLINE:-380} else 1)" "$elapsed"; then
  timeout 150 $py benchmarks/tune_loader.py --epoch-s "${EPOCH_S:-0.4}" --out "$OUT/tune-loader-16core.json" > "$OUT/tune-loader-16core.txt" 2>> "$log"
  echo "loader exit $?" | tee -a "$log"
else
  echo "loader benchmark skipped (elapsed $elapsed s)" | tee -a "$log"
fi
echo "total $(since $began) s" | tee -a "$log"
cat "$OUT/tune-h100.txt" "$OUT/tune-loader-16core.txt" 2>/dev/null | tail -60
