#!/usr/bin/env bash
# Run on a GPU machine from the repo root: captures torchenv's probes and doctor output, the
# doctor-vs-collect_env benchmark, and a few reproduced faults. Writes everything under $OUT.
set -u
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/torchenv-capture}; mkdir -p "$OUT"
py=${PYTHON:-python3}
$py -c 'import sys, pynvml, rich; print(sys.version); print("pynvml", pynvml.__file__)' 2>&1 | tee "$OUT/env.txt"
nvidia-smi -L | tee -a "$OUT/env.txt"
$py src/torchenv/probes/_scripts/target_probe.py --smoke > "$OUT/target-probe.jsonl" 2> "$OUT/target-probe.stderr"
$py src/torchenv/probes/_scripts/nvml_probe.py > "$OUT/nvml-probe.json"
ldconfig -p > "$OUT/ldconfig-p.txt"
$py -m torchenv doctor -v > "$OUT/doctor.txt" 2>&1; echo "exit $?" >> "$OUT/doctor.txt"
$py -m torchenv doctor --json > "$OUT/doctor.json"; echo "doctor --json exit $?"
cat "$OUT/doctor.txt"
# Reproduced faults on a real GPU: each prints its verdict line and finding ids.
summary() { $py -c 'import json,sys; d=json.load(sys.stdin); print(d["verdict"], d["cuda_usable"], [f["id"] for f in d["findings"]])'; }
{
  echo "== CUDA_VISIBLE_DEVICES=''";   CUDA_VISIBLE_DEVICES= $py -m torchenv doctor --json | summary
  echo "== CUDA_VISIBLE_DEVICES=5";    CUDA_VISIBLE_DEVICES=5 $py -m torchenv doctor --json | summary
  echo "== CUDA_VISIBLE_DEVICES=0,x";  CUDA_VISIBLE_DEVICES=0,x $py -m torchenv doctor --json | summary
  echo "== LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu"; LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu $py -m torchenv doctor --json | summary
  echo "== --timeout 1 (torch import cannot finish)"; /usr/bin/time -f "%e s" $py -m torchenv doctor --json --timeout 1 | summary
} 2>&1 | tee "$OUT/faults.txt"
$py benchmarks/doctor_vs_collect_env.py --runs ${RUNS:-5} --out "$OUT/doctor-vs-collect-env.json" 2>&1 | tee "$OUT/bench.txt"
