#!/usr/bin/env bash
# Run on a GPU machine from the repo root (the `run` tool): the bare-script baseline, the full
# suite (JSON, terminal, HTML), --quick, the baseline again, and the comparison. Everything lands
# in $OUT; commit-ready copies go to benchmarks/results/ by hand.
set -u
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/torchenv-bench}; mkdir -p "$OUT"
py=${PYTHON:-python3}
now() { date +%s.%N; }
since() { $py -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))" "$1" "$(now)"; }
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.limit,temperature.gpu,pcie.link.gen.current --format=csv | tee "$OUT/gpu.txt"
timeout 120 $py benchmarks/bench_bare_baseline.py > "$OUT/bare-before.json" 2> "$OUT/bare-before.err"; cat "$OUT/bare-before.json"
start=$(now)
timeout 420 $py -m torchenv bench --json --html "$OUT/bench-h100.html" > "$OUT/bench-h100.json" 2> "$OUT/bench-h100.err"
echo "full exit $? in $(since $start) s" | tee "$OUT/full-wall.txt"
timeout 60 $py benchmarks/bench_bare_baseline.py > "$OUT/bare-after.json" 2>> "$OUT/bare-before.err"; cat "$OUT/bare-after.json"
render() {  # the terminal view of a saved report, rendered from its JSON (no second run)
$py - "$1" <<'PY'
import json, sys
from rich.console import Console
from torchenv.model.bench import BenchReport
from torchenv.model.codec import from_json
from torchenv.render.terminal_bench import render_bench_terminal
data = json.load(open(sys.argv[1]))
body = {k: v for k, v in data.items() if k not in ("schema_version", "kind", "suite_s")}
for m in body["measurements"]:
    if m.get("time"): m["time"].pop("spread", None)
render_bench_terminal(from_json(BenchReport, body), Console(width=140, highlight=False))
PY
}
render "$OUT/bench-h100.json" > "$OUT/bench-h100.txt" 2>&1
start=$(now)
timeout 60 $py -m torchenv bench --quick --json --html "$OUT/bench-h100-quick.html" > "$OUT/bench-h100-quick.json" 2> "$OUT/bench-h100-quick.err"
since $start > "$OUT/quick-wall.txt"; echo "quick (whole command) took $(cat "$OUT/quick-wall.txt") s"
render "$OUT/bench-h100-quick.json" > "$OUT/bench-h100-quick.txt" 2>&1
$py benchmarks/bench_compare.py --bench "$OUT/bench-h100.json" --quick "$OUT/bench-h100-quick.json" \
  --quick-wall "$OUT/quick-wall.txt" --bare "$OUT/bare-before.json" "$OUT/bare-after.json" \
  --capture tests/fixtures/h100-cu130/perf-baseline.json --out "$OUT/compare.json" | tee "$OUT/compare.txt"
cat "$OUT/bench-h100.txt"; tail -5 "$OUT/bench-h100.err"
