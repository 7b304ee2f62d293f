#!/usr/bin/env bash
# Issue 18 on the GPU host, which is itself a container with a GPU: the container facts as read there.
# Run from the repo root through the device tool: bash benchmarks/device/container.sh ; three files land in $OUT:
#   container-doctor.json  the container part of `torchenv doctor --json` (facts.container, the host facts the
#                          container checks read, the driver, and every container finding and skip)
#   container-raw.json     the probe's raw readings (each file and variable as read) and its parsed facts
#   container.txt          doctor -v, `torchenv kernels --no-torch`, plan's Dockerfile run lines, exit codes, timings
set -u
source benchmarks/device/common.sh
out=${OUT:-/tmp/container}; mkdir -p "$out"
txt="$out/container.txt"; : > "$txt"

t0=$(now)
$py -m torchenv doctor --json > "$R/doctor.json" 2> "$R/doctor.stderr"; code=$?
echo "doctor --json exit $code in $(since $t0) s" >> "$txt"
$py - "$R/doctor.json" > "$out/container-doctor.json" 2>> "$txt" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
facts = report["facts"]
mine = ("container-", "cdi-spec", "shm-too-small", "no-nvidia-gpu", "wsl-")
keep = {k: facts["host"].get(k) for k in ("container", "dev_nodes", "shm_bytes", "cpu_count", "pci_gpus", "wsl", "kernel")}
print(json.dumps({
    "verdict": report["verdict"], "cuda_usable": report["cuda_usable"], "summary": report["summary"],
    "container": facts.get("container"), "host": keep, "driver": facts["driver"],
    "environment": {k: v for k, v in facts["environment"].items() if k.startswith(("NVIDIA_", "CUDA_VERSION"))},
    "findings": [f for f in report["findings"] if f["id"].startswith(mine)],
    "skipped": [s for s in report["skipped"] if s["check"].startswith(("container-", "cdi-spec", "shm"))],
    "probe_seconds": facts.get("probe_seconds"),
}, indent=2))
PY
echo "container part exit $?" >> "$txt"

$py - > "$out/container-raw.json" 2>> "$txt" <<'PY'
import json, os, time
from pathlib import Path
from torchenv.model.codec import to_json
from torchenv.probes.container import raw_readings, read_container_facts
began = time.perf_counter()
facts = read_container_facts(Path("/"), os.environ)
seconds = round(time.perf_counter() - began, 4)
print(json.dumps({"read_seconds": seconds, "facts": to_json(facts), "raw": raw_readings(Path("/"), os.environ)}, indent=2))
PY
echo "raw readings exit $?" >> "$txt"

{
  echo; echo "== torchenv doctor -v"; $py -m torchenv doctor -v 2>&1; echo "doctor exit $?"
  echo; echo "== torchenv kernels --no-torch"; t1=$(now); $py -m torchenv kernels --no-torch 2>&1; echo "kernels exit $? in $(since $t1) s"
  echo; echo "== torchenv plan --format dockerfile (this host's driver)"; $py -m torchenv plan --format dockerfile 2>&1; echo "plan exit $?"
  echo; echo "== torchenv plan (text)"; $py -m torchenv plan 2>&1 | tail -6
  echo; echo "== nvidia-smi -L"; nvidia-smi -L 2>&1
  echo; echo "== ls -la /dev/nvidia* /dev/dxg"; ls -la /dev/nvidia* /dev/dxg 2>&1
} >> "$txt"
ls -l "$out" >> "$txt"
ls -l "$out"
