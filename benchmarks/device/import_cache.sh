# torch-import-uncached on the lent H200 image (PYTHONDONTWRITEBYTECODE=1, no __pycache__ under torch):
# the doctor's finding, `import torch` without and with a bytecode cache (PYTHONPYCACHEPREFIX, so the image
# is not changed), and the doctors against each other with the cache, as on a machine where pip wrote the
# .pyc files at install (its default).
set -u
. benchmarks/device/common.sh
cache=$(mktemp -d)/pycache
$py -m torchenv doctor --json >"$R/doctor-uncached.json" 2>>"$log"; echo "doctor uncached rc=$?" >>"$log"
PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$cache $py -c "import torch" 2>>"$log"  # writes the cache
{
  for i in 1 2 3 4 5; do
    t=$(now); $py -c "import torch" 2>/dev/null; echo "uncached import torch $(since $t) s"
    t=$(now); PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$cache $py -c "import torch" 2>/dev/null
    echo "cached   import torch $(since $t) s"
  done
} | tee "$R/import-cache.txt"
export PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$cache
$py -m torchenv doctor --json >"$R/doctor-cached.json" 2>>"$log"; echo "doctor cached rc=$?" >>"$log"
RUNS=${RUNS:-8} SPEED_TIMEOUT=${SPEED_TIMEOUT:-200} ONLY=ai-infradr,cuda-doctor,import_and_is_available \
  bash benchmarks/device/doctor_peers.sh
tar -czf "$OUT/import-cache.tgz" -C "$R" .
