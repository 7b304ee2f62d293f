#!/usr/bin/env bash
# Second batched device run: `torchenv bench --quick` after trimming it (twice, whole command timed),
# and the 16-core DataLoader tuner vs the full grid with epochs long enough for 16 workers to start.
set -u
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
FINAL=${OUT:-/tmp/torchenv-final2}; mkdir -p "$FINAL"; py=${PYTHON:-python3}
for i in 1 2; do
  s=$(date +%s.%N); timeout 90 $py -m torchenv bench --quick --json > "$FINAL/bench-quick-$i.json" 2> "$FINAL/bench-quick-$i.err"
  echo "bench --quick run $i exit $? wall $($py -c "print(round($(date +%s.%N)-$s,2))") s" | tee -a "$FINAL/bench-quick-wall.txt"
done
$py -c "import json; d=json.load(open('$FINAL/bench-quick-2.json')); print(d['section_s'], d['suite_s'])"
timeout 430 $py benchmarks/tune_loader.py --epoch-s "${EPOCH_S:-2.0}" --out "$FINAL/tune-loader-16core.json" > "$FINAL/tune-loader-16core.txt" 2>&1
echo "loader exit $?"; tail -4 "$FINAL/tune-loader-16core.txt"
