#!/usr/bin/env bash
# Issue 7 on a GPU machine (the `run` tool), from the repo root: the DataLoader tuner against the
# full grid on 16 cores (2 s self-ending epochs, steady rates, head to head). Bundled into $OUT.
set -u
STEAL=$(mktemp); python3 benchmarks/device/steal.py save "$STEAL"
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/torchenv-loader3}; mkdir -p "$OUT"; R=$(mktemp -d)
py=${PYTHON:-python3}
{ nproc; uptime; } > "$R/log.txt"
timeout 560 $py benchmarks/tune_loader.py --epoch-s "${EPOCH_S:-2}" --final-rounds 5 --out "$R/tune-loader-16core.json" > "$R/tune-loader-16core.txt" 2>> "$R/log.txt"
echo "loader exit $?" >> "$R/log.txt"
python3 benchmarks/device/steal.py since "$STEAL" >> "$R/log.txt"
tar -czf "$OUT/loader3.tar.gz" -C "$R" .
cat "$R/log.txt"; head -20 "$R/tune-loader-16core.txt"; tail -4 "$R/tune-loader-16core.txt"
