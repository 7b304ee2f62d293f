# Issue 14's last must-show: doctor against its floor, collect_env and the peer doctors, interleaved, on a GPU.
#
# Here first (the device has no network): fetch the peers and their dependencies into .device-wheels/
#   pip download -d .device-wheels cuda-doctor ai-infradr typer
# then on the device (`run` with carry [".device-wheels"]):
#   bash benchmarks/device/doctor_peers.sh
# The peers go into a venv that sees the image's torch (a .pth file), so all run the same torch.
set -u
. benchmarks/device/common.sh
venv=$(mktemp -d)/peers
$py -m venv "$venv" >>"$log" 2>&1
# The image's python may itself be a venv, whose packages --system-site-packages does not reach: a .pth
# file puts the folder holding the image's torch after the peers' own packages.
torch_site=$($py -c "import os, torch; print(os.path.dirname(os.path.dirname(torch.__file__)))")
"$venv/bin/python" -c "import site, sys; open(site.getsitepackages()[0] + '/image-torch.pth', 'w').write(sys.argv[1] + '\n')" "$torch_site"
"$venv/bin/python" -c "import torch; print('peer venv torch', torch.__version__, torch.__file__)" >>"$log" 2>&1
"$venv/bin/python" -m pip install -q --no-index --find-links .device-wheels cuda-doctor ai-infradr >>"$log" 2>&1 \
  || echo "peer install failed (see log.txt)" | tee -a "$log"
export PATH="$venv/bin:$PATH"
for peer in cuda-doctor ai-infradr; do command -v "$peer" >>"$log" || echo "$peer not on PATH" | tee -a "$log"; done
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader >"$R/gpu.txt" 2>&1
# A before/after in the same run: `git archive <commit> src | tar -x -C .device-baseline`, carried too.
baseline=(); [ -d .device-baseline/src ] && baseline=(--baseline-src .device-baseline/src)
[ -n "${ONLY:-}" ] && baseline+=(--only "$ONLY")  # fewer commands, more rounds
timeout ${SPEED_TIMEOUT:-480} $py benchmarks/doctor_speed.py --runs ${RUNS:-5} --python "$(command -v python3)" \
  "${baseline[@]}" --out "$R/doctor-speed.json" >"$R/doctor-speed.txt" 2>>"$log"
echo "doctor_speed rc=$?" >>"$log"
# What each doctor printed on this machine, kept beside the timings.
$py -m torchenv doctor >"$R/torchenv-doctor.txt" 2>&1; echo "torchenv doctor rc=$?" >>"$log"
$py -m torchenv doctor --json >"$R/torchenv-doctor.json" 2>>"$log"
for peer in cuda-doctor ai-infradr; do timeout 60 "$peer" >"$R/$peer.txt" 2>&1; echo "$peer rc=$?" >>"$log"; done
tar -czf "$OUT/doctor-peers.tgz" -C "$R" .
tail -30 "$R/doctor-speed.txt"
