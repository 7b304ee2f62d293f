#!/usr/bin/env bash
# One batched device run: the doctor capture and benchmark (capture.sh), the snapshot capture
# (snapshot.sh) and `torchenv bench` full + --quick timings. Each part writes into its own folder;
# everything comes back as $OUT/final.tar.gz plus a few key files.
set -u
root=$PWD; FINAL=${OUT:-/tmp/torchenv-final}; mkdir -p "$FINAL"
export PYTHONPATH=$root/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
work=$(mktemp -d)
OUT=$work/doctor RUNS=${RUNS:-5} bash benchmarks/device/capture.sh > "$work/doctor.log" 2>&1; tail -12 "$work/doctor.log"
OUT=$work/snapshot bash benchmarks/device/snapshot.sh > "$work/snapshot.log" 2>&1; tail -5 "$work/snapshot.log"
mkdir -p "$work/bench"
s=$(date +%s.%N); timeout 90 $py -m torchenv bench --quick --json > "$work/bench/quick.json" 2> "$work/bench/quick.err"
echo "bench --quick exit $? wall $($py -c "import sys;print(round($(date +%s.%N)-$s,2))") s" | tee "$work/bench/quick-wall.txt"
s=$(date +%s.%N); timeout 400 $py -m torchenv bench --json --html "$work/bench/full.html" > "$work/bench/full.json" 2> "$work/bench/full.err"
echo "bench full exit $? wall $($py -c "import sys;print(round($(date +%s.%N)-$s,2))") s" | tee "$work/bench/full-wall.txt"
$py -c "
import json; d=json.load(open('$work/bench/full.json')); print('suite_s', d.get('suite_s'));
[print(m['id'], round(m['value'],1) if isinstance(m.get('value'),(int,float)) else m.get('value'), m.get('unit')) for m in d['measurements'] if m['id'].startswith(('ladder-resnet50','matmul.bf16','memory'))]" 2>&1 | head -20
# issue 7: the DataLoader tuner against the full grid on the 16-core host (epochs long enough for 16 workers to start)
mkdir -p "$work/tune"
timeout 240 $py benchmarks/tune_loader.py --epoch-s "${EPOCH_S:-2.5}" --out "$work/tune/tune-loader-16core.json" > "$work/tune/tune-loader-16core.txt" 2>&1
echo "loader exit $?"; tail -8 "$work/tune/tune-loader-16core.txt"
cp "$work/doctor/doctor.txt" "$work/doctor/doctor-vs-collect-env.json" "$work/snapshot/h100-snapshot.json" "$FINAL/" 2>/dev/null
tar -C "$work" -czf "$FINAL/final.tar.gz" .
ls -l "$FINAL"
