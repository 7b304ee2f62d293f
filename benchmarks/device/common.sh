# Sourced by the device scripts (the `run` tool), from the repo root: the source tree on the path,
# a results folder $R (bundled into $OUT by the caller), $py, and timing helpers.
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
R=$(mktemp -d)
log="$R/log.txt"
now() { date +%s.%N; }
since() { $py -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))" "$1" "$(now)"; }
