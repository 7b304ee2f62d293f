#!/usr/bin/env bash
# One device call for several issues: each part writes into its own folder, then everything is bundled into
# $OUT/bundle.tar.gz (the device tool brings back at most 8 files). Parts run only when their script exists.
set -u
final=$OUT
work=$(mktemp -d)
for part in ${PARTS:-compat faults monitor preflight container}; do
  script=benchmarks/device/$part.sh
  [ -f "$script" ] || { echo "$part: no script" >> "$work/parts.txt"; continue; }
  mkdir -p "$work/$part"
  start=$(date +%s)
  OUT="$work/$part" timeout ${PART_TIMEOUT:-240} bash "$script" > "$work/$part/stdout.txt" 2>&1
  echo "$part: exit $? in $(( $(date +%s) - start )) s" >> "$work/parts.txt"
done
cp "$work/parts.txt" "$final/parts.txt"
[ -f "$work/faults/summary.txt" ] && cp "$work/faults/summary.txt" "$final/faults-summary.txt"
[ -f "$work/compat/one-answer.txt" ] && cp "$work/compat/one-answer.txt" "$final/compat-one-answer.txt"
tar -C "$work" -czf "$final/bundle.tar.gz" .
ls -la "$final"
