# Session 8: the smoke test's CPU references on a thread (this tree) against the tree before it
# (.device-baseline/src = `git archive 0efc11e src`), on the image as lent and with a bytecode cache for
# every tool (PYTHONPYCACHEPREFIX, as where pip wrote the .pyc files at install). Carry [".device-wheels",
# ".device-baseline"].
set -u
RUNS=${RUNS:-7} SPEED_TIMEOUT=${SPEED_TIMEOUT:-230} ONLY=baseline_doctor_json,ai-infradr \
  bash benchmarks/device/doctor_peers.sh
mv "$OUT/doctor-peers.tgz" "$OUT/as-lent.tgz"
cache=$(mktemp -d)/pycache
PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$cache python3 -c "import torch" 2>/dev/null  # fills the cache
PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$cache RUNS=${RUNS:-7} SPEED_TIMEOUT=${SPEED_TIMEOUT:-230} \
  ONLY=baseline_doctor_json,ai-infradr,cuda-doctor bash benchmarks/device/doctor_peers.sh
mv "$OUT/doctor-peers.tgz" "$OUT/cached.tgz"
