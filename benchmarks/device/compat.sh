#!/usr/bin/env bash
# Issue 11 on a real GPU host: doctor, plan and verify on the same machine must give one answer.
# Run from the repo root through the device tool: bash benchmarks/device/compat.sh ; outputs land in $OUT.
set -u
source benchmarks/device/common.sh
out=${OUT:-/tmp/compat}; mkdir -p "$out"
{ nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv; } > "$out/gpu.txt" 2>&1
t0=$(now); $py -m torchenv doctor > "$out/doctor.txt" 2>&1; echo "doctor exit $? in $(since $t0) s" >> "$out/doctor.txt"
$py -m torchenv doctor --json > "$out/doctor.json" 2>"$out/doctor-json.stderr"; echo "doctor --json exit $?" >> "$out/doctor-json.stderr"
$py -m torchenv plan > "$out/plan.txt" 2>&1; echo "plan exit $?" >> "$out/plan.txt"
$py -m torchenv plan --json > "$out/plan.json" 2>&1
$py -m torchenv plan --format pip > "$out/plan-pip.txt" 2>&1
# The same machine with an older driver, as plan sees it (the doctor's view of that is tested on CPU from doctor.json).
for d in 535.104.05 550.54.14 470.82.01; do
  $py -m torchenv plan --driver $d > "$out/plan-driver-$d.txt" 2>&1; echo "exit $?" >> "$out/plan-driver-$d.txt"
done
$py -m torchenv snapshot -o "$out/snapshot.json" > "$out/snapshot.log" 2>&1; echo "snapshot exit $?" >> "$out/snapshot.log"
$py -m torchenv verify "$out/snapshot.json" --host-only > "$out/verify-host-only.txt" 2>&1; echo "verify --host-only exit $?" >> "$out/verify-host-only.txt"
$py -m torchenv verify "$out/snapshot.json" > "$out/verify.txt" 2>&1; echo "verify exit $?" >> "$out/verify.txt"
# One answer: doctor (from its own JSON), plan and verify judged by the compat engine in one process.
$py benchmarks/one_answer.py "$out/doctor.json" "$out/snapshot.json" > "$out/one-answer.txt" 2>&1; echo "one_answer exit $?" >> "$out/one-answer.txt"
ls -l "$out"
