#!/usr/bin/env bash
# Issue 7 on a GPU machine (the `run` tool), from the repo root: the DataLoader tuner against the
# full grid on 16 cores (2 s self-ending epochs, steady rates, head to head). Bundled into $OUT.
set -u
source benchmarks/device/common.sh
STEAL=$(mktemp); python3 benchmarks/device/steal.py save "$STEAL"
OUT=${OUT:-/tmp/torchenv-loader3}; mkdir -p "$OUT"
{ nproc; uptime; } > "$log"
timeout 560 $py benchmarks/tune_loader.py --epoch-s "${EPOCH_S:-2}" --final-rounds 5 --out "$R/tune-loader-16core.json" > "$R/tune-loader-16core.txt" 2>> "$log"
echo "loader exit $?" >> "$log"
python3 benchmarks/device/steal.py since "$STEAL" >> "$log"
tar -czf "$OUT/loader3.tar.gz" -C "$R" .
cat "$log"; head -20 "$R/tune-loader-16core.txt"; tail -4 "$R/tune-loader-16core.txt"
