#!/usr/bin/env bash
# Issue 15 on a real GPU host (the `run` tool), from the repo root: bash benchmarks/device/monitor.sh
# Four planted loads, each ~15 s under `torchenv monitor --json` (idle, launch-bound tiny kernels, a bf16
# 8192^3 GEMM loop, an input-bound training loop with a slow DataLoader), with nvidia-smi dmon and
# --query-gpu read alongside in the same seconds; then the sampler's own overhead at 1 Hz and 10 Hz
# (attached to a sleeping process). Five files land in $OUT (the transfer back keeps only a few):
#   monitor-device.log   everything, in order (environment, each run's stderr and exit code, timings)
#   comparison.txt       the side-by-side table: verdicts, torchenv's figures against nvidia-smi's, overhead
#   summaries.jsonl      one line per run: the --json summary with nvidia-smi's means of the same seconds
#   gemm.html            the self-contained HTML plot of the GEMM run
#   streams.tar.gz       every sample stream (--jsonl, --csv), the raw nvidia-smi captures, the other plots
set -u
source benchmarks/device/common.sh
OUT=${OUT:-/tmp/torchenv-monitor}; mkdir -p "$OUT"
SECONDS_PER_LOAD=${SECONDS_PER_LOAD:-15}
{
  date -Is; nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,power.limit,power.default_limit,clocks.max.sm --format=csv
  $py -c "import sys, torch, pynvml; print(sys.version.split()[0], 'torch', torch.__version__, torch.version.cuda, 'nvidia-ml-py', getattr(pynvml, '__version__', '?'))"
  nproc; uptime
} > "$log" 2>&1
QUERY=timestamp,utilization.gpu,power.draw,clocks.sm,temperature.gpu,memory.used
if nvidia-smi --query-gpu=clocks_event_reasons.active --format=csv,noheader > /dev/null 2>&1; then
  QUERY=$QUERY,clocks_event_reasons.active
fi
for load in idle launch gemm input; do
  count=$((SECONDS_PER_LOAD + 25))
  nvidia-smi dmon -s pucm -o DT -d 1 -c "$count" > "$R/$load.dmon.txt" 2>&1 &
  dmon=$!
  nvidia-smi --query-gpu=$QUERY --format=csv -lms 1000 > "$R/$load.smi.csv" 2>&1 &
  query=$!
  sleep 1
  start=$(now)
  echo "=== $load: torchenv monitor --json -- $py benchmarks/device/monitor_loads.py $load --seconds $SECONDS_PER_LOAD" >> "$log"
  timeout 120 $py -m torchenv monitor --json --no-live --jsonl "$R/$load.samples.jsonl" --csv "$R/$load.samples.csv" \
    --html "$R/$load.html" -- $py benchmarks/device/monitor_loads.py "$load" --seconds "$SECONDS_PER_LOAD" \
    > "$R/$load.json" 2>> "$log"
  echo "$load: monitor exit $? wall $(since $start) s" | tee -a "$log"
  sleep 1
  kill "$query" "$dmon" 2>/dev/null; wait "$query" "$dmon" 2>/dev/null
  # The terminal summary of the same run, rendered from its JSON (what a user sees without --json).
  $py -c "
import json, sys
from rich.console import Console
from torchenv.model.codec import from_json
from torchenv.monitor.model import MonitorReport
from torchenv.render.monitor_terminal import render_monitor_summary
data = json.load(open(sys.argv[1]))
report = from_json(MonitorReport, {k: v for k, v in data.items() if k not in ('schema_version', 'kind')})
render_monitor_summary(report, Console(file=sys.stdout, width=130, color_system=None), verbose=True)
" "$R/$load.json" >> "$log" 2>&1
done
# The sampler's own cost, nothing else running: attached to a sleeping process, 30 s at 1 Hz, 15 s at 10 Hz.
sleep 90 & sleeper=$!
for mode in 1hz fast; do
  if [ "$mode" = 1hz ]; then flags="--duration 30"; else flags="--fast --duration 15"; fi
  start=$(now)
  { time -p timeout 60 $py -m torchenv monitor --json --no-live --attach "$sleeper" $flags > "$R/overhead-$mode.json"; } 2>> "$log"
  echo "overhead $mode: exit $? wall $(since $start) s (time -p above: the whole process, start-up included)" | tee -a "$log"
done
kill "$sleeper" 2>/dev/null
echo "=== comparison" >> "$log"
$py benchmarks/device/monitor_loads.py compare "$R" >> "$log" 2>&1
echo "compare exit $?" >> "$log"
cp "$R/comparison.txt" "$R/summaries.jsonl" "$OUT/" 2>> "$log"
cp "$R/gemm.html" "$OUT/gemm.html" 2>> "$log"
cp "$log" "$OUT/monitor-device.log"
tar -czf "$OUT/streams.tar.gz" -C "$R" --exclude=log.txt --exclude=comparison.txt --exclude=summaries.jsonl .
ls -l "$OUT"
cat "$R/comparison.txt"
