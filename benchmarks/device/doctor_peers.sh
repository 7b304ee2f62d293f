# Issue 14's last must-show: doctor against its floor, collect_env and the peer doctors, interleaved, on a GPU.
#
# Here first (the device has no network): fetch the peers and their dependencies into .device-wheels/
#   pip download -d .device-wheels cuda-doctor ai-infradr typer
# then on the device (`run` with carry [".device-wheels"]):
#   bash benchmarks/device/doctor_peers.sh
# The peers go into a venv that sees the image's torch (--system-site-packages), so all run the same torch.
set -u
. benchmarks/device/common.sh
venv=$(mktemp -d)/peers
$py -m venv --system-site-packages "$venv" >>"$log" 2>&1
"$venv/bin/python" -m pip install -q --no-index --find-links .device-wheels cuda-doctor ai-infradr >>"$log" 2>&1 \
  || echo "peer install failed (see log.txt)" | tee -a "$log"
export PATH="$venv/bin:$PATH"
for peer in cuda-doctor ai-infradr; do command -v "$peer" >>"$log" || echo "$peer not on PATH" | tee -a "$log"; done
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader >"$R/gpu.txt" 2>&1
timeout 480 $py benchmarks/doctor_speed.py --runs 5 --python "$(command -v python3)" --out "$R/doctor-speed.json" \
  >"$R/doctor-speed.txt" 2>>"$log"
echo "doctor_speed rc=$?" >>"$log"
tar -czf "$OUT/doctor-peers.tgz" -C "$R" .
tail -30 "$R/doctor-speed.txt"
