#!/usr/bin/env bash
# One device call for several parts, each `name:seconds` in PARTS (its own timeout); each part writes into
# its own folder, all bundled into $OUT/bundle.tar.gz (the device tool brings back at most 8 files). A part
# that would start after DEADLINE seconds (default 560) is skipped and says so.
set -u
final=$OUT
work=$(mktemp -d)
began=$(date +%s)
for item in ${PARTS:?}; do
  part=${item%%:*}; limit=${item#*:}
  script=benchmarks/device/$part.sh
  [ -f "$script" ] || { echo "$part: no script" >> "$work/parts.txt"; continue; }
  left=$(( ${DEADLINE:-560} - ($(date +%s) - began) ))
  [ "$left" -gt 30 ] || { echo "$part: skipped, deadline" >> "$work/parts.txt"; continue; }
  [ "$limit" -le "$left" ] || limit=$left
  mkdir -p "$work/$part"
  start=$(date +%s)
  OUT="$work/$part" timeout "$limit" bash "$script" > "$work/$part/stdout.txt" 2>&1
  echo "$part: exit $? in $(( $(date +%s) - start )) s (limit $limit)" >> "$work/parts.txt"
done
cp "$work/parts.txt" "$final/parts.txt"
tar -C "$work" -czf "$final/bundle.tar.gz" .
cat "$final/parts.txt"
