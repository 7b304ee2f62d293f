#!/usr/bin/env bash
# Run on the H100 machine from the repo root: captures a real snapshot of its PyTorch environment
# (commit $OUT/h100-snapshot.json as tests/fixtures/snapshots/h100-snapshot.json), plus the TOML
# form, the exports and a timing, so the diff against a CPU machine's snapshot can be tested.
set -u
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/torchenv-snapshot}; mkdir -p "$OUT"
py=${PYTHON:-python3}
nvidia-smi -L | tee "$OUT/env.txt"
/usr/bin/time -f "snapshot took %e s" $py -m torchenv snapshot -o "$OUT/h100-snapshot.json" 2>&1 | tee "$OUT/snapshot-timing.txt"
echo "snapshot exit ${PIPESTATUS[0]}"
$py -m torchenv snapshot --format toml -o "$OUT/h100-snapshot.toml"; echo "toml exit $?"
# The snapshot read back: a self-diff must show nothing relevant; verify must pass on the same host.
$py -m torchenv diff "$OUT/h100-snapshot.json" "$OUT/h100-snapshot.toml" | tee "$OUT/self-diff.txt"
$py -m torchenv verify "$OUT/h100-snapshot.json" | tee "$OUT/verify.txt"; echo "verify exit ${PIPESTATUS[0]}" | tee -a "$OUT/verify.txt"
# What changes when a setting changes on a real GPU (CUDA_VISIBLE_DEVICES hides the GPU).
CUDA_VISIBLE_DEVICES= $py -m torchenv diff "$OUT/h100-snapshot.json" --here --fail-on cuda | tee "$OUT/diff-no-visible-devices.txt"
echo "diff exit ${PIPESTATUS[0]}" | tee -a "$OUT/diff-no-visible-devices.txt"
for format in requirements environment.yml pixi.toml dockerfile; do
  $py -m torchenv export "$OUT/h100-snapshot.json" --format "$format" > "$OUT/export.$format.txt"; echo "export $format exit $?"
done
$py -m torchenv export "$OUT/h100-snapshot.json" --format requirements --minimal > "$OUT/export.requirements-minimal.txt"
ls -l "$OUT"
