#!/usr/bin/env bash
# Does the waiting cudnn.benchmark process slow the first process's torch.compile rung? The ResNet-50
# ladder alone in the first process's phase, then through the CLI (with the early second process),
# alternately, twice each; per-step samples of the compile rung printed.
set -u
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
W=src/torchenv/perf/_worker/bench_worker.py
for i in 1 2; do
  export TORCHINDUCTOR_CACHE_DIR=$(mktemp -d)
  timeout 150 python3 $W --sections ladder-resnet50 --phase heuristics > /tmp/h$i.jsonl 2>/dev/null
  python3 -c "
import json,sys
for line in open(sys.argv[1]):
  if line.startswith('@@') and 'torch-compile' in line and '\"result\"' in line:
    r=json.loads(line.split(' ',1)[1]); s=sorted(r['samples_s']); print(sys.argv[2], 'median ms', round(s[len(s)//2]*1000,1), 'min', round(s[0]*1000,1))
" /tmp/h$i.jsonl "worker alone $i"
  export TORCHINDUCTOR_CACHE_DIR=$(mktemp -d)
  timeout 200 python3 -m torchenv bench --sections ladder-resnet50 --json > /tmp/c$i.json 2>/dev/null
  python3 -c "
import json,sys
d=json.load(open(sys.argv[1]))
for m in d['measurements']:
  if m['id'].endswith('torch-compile') or m['id'].endswith('cudnn-benchmark'): print(sys.argv[2], m['id'], round(m['value']), 'median ms', round(m['time']['median']*1000,1), 'min', round(m['time']['minimum']*1000,1))
" /tmp/c$i.json "CLI with search process $i"
done
