#!/usr/bin/env bash
# Run on a GPU machine from the repo root: captures torchenv's probes and doctor output, the
# doctor-vs-collect_env benchmark, and faults reproduced on a real GPU. Everything lands in
# $OUT/capture.tar.gz (the device tool returns few files), plus the key files beside it.
set -u
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/torchenv-capture}; work=$(mktemp -d); mkdir -p "$OUT"
py=${PYTHON:-python3}
{ $py -c 'import sys; print(sys.version)'; nvidia-smi -L; } > "$work/env.txt" 2>&1
$py src/torchenv/probes/_scripts/target_probe.py --smoke > "$work/target-probe.jsonl" 2> "$work/target-probe.stderr"
$py -S -E src/torchenv/probes/_scripts/nvml_probe.py "$($py -c 'import os, pynvml; print(os.path.dirname(pynvml.__file__))')" > "$work/nvml-probe.json"
ldconfig -p > "$work/ldconfig-p.txt"
$py -m torchenv doctor -v > "$work/doctor.txt" 2>&1; echo "exit $?" >> "$work/doctor.txt"
$py -m torchenv doctor --json > "$work/doctor.json"; echo "doctor --json exit $?"
$py -m torchenv doctor --json --deep > "$work/doctor-deep.json"; echo "doctor --deep exit $?"
cat "$work/doctor.txt"
summary() { $py -c 'import json,sys; d=json.load(sys.stdin); print(d["verdict"], d["cuda_usable"], [(f["id"], f["severity"]) for f in d["findings"]])'; }
{
  echo "== CUDA_VISIBLE_DEVICES=''";   CUDA_VISIBLE_DEVICES= $py -m torchenv doctor --json | summary
  echo "== CUDA_VISIBLE_DEVICES=5";    CUDA_VISIBLE_DEVICES=5 $py -m torchenv doctor --json | summary
  echo "== CUDA_VISIBLE_DEVICES=0,x";  CUDA_VISIBLE_DEVICES=0,x $py -m torchenv doctor --json | summary
  echo "== LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu (system cuDNN 9.14 first)"
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu $py -m torchenv doctor --json > "$work/doctor-ld-library-path.json"; summary < "$work/doctor-ld-library-path.json"
  $py -c 'import json; t=json.load(open("'"$work"'/doctor-ld-library-path.json"))["facts"]["torch"]; print("cudnn:", t["cudnn_version"], t["cudnn_error"]); print([ (l["name"], l["path"], l["owner"]) for l in t["loaded_libraries"] if l["name"]=="libcudnn"]); print("smoke:", t["smoke"])'
  echo "== --timeout 1 (torch import cannot finish)"; /usr/bin/time -f "wall %e s" $py -m torchenv doctor --json --timeout 1 | summary
} > "$work/faults.txt" 2>&1
cat "$work/faults.txt"
$py benchmarks/doctor_vs_collect_env.py --runs ${RUNS:-5} --out "$work/doctor-vs-collect-env.json" > "$work/bench.txt" 2>&1
cat "$work/bench.txt"
for f in doctor.txt doctor.json faults.txt bench.txt doctor-vs-collect-env.json; do cp "$work/$f" "$OUT/"; done
tar -C "$work" -czf "$OUT/capture.tar.gz" .
