# Why `import torch` varies by a second between processes on the lent machine (issue 14's peer timings):
# bytecode caching, the files' filesystem, and which modules the import spends its time in.
set -u
. benchmarks/device/common.sh
{
  echo "== python and bytecode"
  env | grep -E '^PYTHON' | grep -v PYTHONPATH
  $py -c "import sys, torch, os; d = os.path.dirname(torch.__file__); print('dont_write_bytecode', sys.flags.dont_write_bytecode); print('torch', d, 'writable', os.access(d, os.W_OK)); print('pycache', os.path.isdir(os.path.join(d, '__pycache__')))"
  df -hT /opt/torch 2>&1 | tail -1
  echo "== cpus"; nproc; cat /proc/loadavg; grep -m1 "model name" /proc/cpuinfo
  echo "== import torch, 8 processes back to back"
  for i in 1 2 3 4 5 6 7 8; do t=$(now); $py -c "import torch" 2>/dev/null; echo "import torch $(since $t) s"; done
  echo "== import torch + is_available, 4 processes"
  for i in 1 2 3 4; do t=$(now); $py -c "import torch; torch.cuda.is_available()" 2>/dev/null; echo "import+is_available $(since $t) s"; done
  echo "== -X importtime, the 20 slowest cumulative"
  $py -X importtime -c "import torch" 2>&1 | sort -t'|' -k2 -n | tail -20
} >"$R/import-noise.txt" 2>&1
cat "$R/import-noise.txt"
