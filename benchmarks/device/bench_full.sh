#!/usr/bin/env bash
# Issue 19 device run: the full bench suite after the one-runtime rewrite (conv, transfer, AMP, the
# ResNet-50 ladder with channels_last and the cudnn.benchmark search process, the GPT ladder), as JSON,
# HTML and the terminal view.
set -u
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.limit,temperature.gpu --format=csv > "$OUT/gpu.txt"
start=$(date +%s)
timeout 280 python3 -m torchenv bench --json --html "$OUT/bench-full.html" > "$OUT/bench-full.json" 2> "$OUT/bench-full.err"
echo "bench full: exit $? in $(( $(date +%s) - start )) s" | tee "$OUT/wall.txt"
COLUMNS=140 python3 benchmarks/render_bench_json.py "$OUT/bench-full.json" > "$OUT/bench-full.txt" 2>&1 || true
