set -u
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
W=src/torchenv/perf/_worker/bench_worker.py
show() { python3 -c "
import json,sys
for line in open(sys.argv[1]):
  if not line.startswith('@@'): continue
  r=json.loads(line.split(' ',1)[1])
  if r.get('event')=='result' and r.get('status')=='ok' and 'ladder' in r.get('section',''):
    s=[round(x*1000,1) for x in r['samples_s']]
    print(sys.argv[2], r['id'], 'first', round(r.get('first_s') or 0,1), 'median', sorted(s)[len(s)//2], s[:12])
" "$1" "$2"; }
export TORCHINDUCTOR_CACHE_DIR=$(mktemp -d)
timeout 200 python3 $W --sections ladder-resnet50 --phase search > /tmp/a.jsonl 2>/tmp/a.err; show /tmp/a.jsonl A-search-fresh
export TORCHINDUCTOR_CACHE_DIR=$(mktemp -d)
TORCHINDUCTOR_COMPILE_THREADS=1 timeout 200 python3 $W --sections ladder-resnet50 --phase search > /tmp/c.jsonl 2>/tmp/c.err; show /tmp/c.jsonl C-search-1thread
export TORCHINDUCTOR_CACHE_DIR=$(mktemp -d)
timeout 200 python3 $W --sections ladder-resnet50 --phase both > /tmp/b.jsonl 2>/tmp/b.err; show /tmp/b.jsonl B-both-fresh
tail -3 /tmp/a.err
