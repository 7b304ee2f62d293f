#!/usr/bin/env bash
# Issue 13 on a real GPU host (the `run` tool), from the repo root: the faults the CPU test machine cannot
# reproduce. Writes everything under $OUT (summary.txt first; commit it under benchmarks/results/).
#   1. doctor with CUDA_VISIBLE_DEVICES=GPU-<a UUID this host does not have>  -> cuda-visible-devices-unknown-device
#   2. doctor with LD_LIBRARY_PATH on a folder holding a bogus libcudart.so.12 (an empty file, then another
#      library renamed), and on the system cuDNN's folder when there is one    -> the finding names LD_LIBRARY_PATH
#   3. Ctrl-C (SIGINT to torchenv's process group after ~8 s) during `bench --quick` and `tune`, with
#      `nvidia-smi --query-compute-apps` before and after                     -> exit 130, prompt < 1 s, no
#      process left, none on the GPU
set -u
source benchmarks/device/common.sh
OUT=${OUT:-/tmp/torchenv-faults}; mkdir -p "$OUT"
summary="$OUT/summary.txt"
: > "$summary"
say() { echo "$*" | tee -a "$summary"; }
ids() { $py -c 'import json,sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as exc:
    print("no JSON:", exc); sys.exit()
print(r["verdict"], "cuda_usable=%s" % r["cuda_usable"], [(f["id"], f["severity"]) for f in r["findings"]])
for f in r["findings"]:
    if f["id"].startswith(("cuda-visible", "library-shadowed", "torch-import-failed", "cudnn-not-loadable", "cuda-unavailable")):
        print("  ", f["id"], "|", f["title"]); print("     evidence:", f["evidence"]); print("     fix:", f["fix"])
' "$1"; }

{ nvidia-smi -L; nvidia-smi --query-gpu=name,uuid,driver_version,mig.mode.current --format=csv; nproc; uptime
  $py -c "import torch; print('torch', torch.__version__, torch.version.cuda)"; git log --oneline -1; } > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt" >> "$log"

# --- 1. a GPU UUID that does not exist here ----------------------------------------------------------------
BOGUS=GPU-00000000-1111-2222-3333-444444444444
start=$(now)
CUDA_VISIBLE_DEVICES=$BOGUS timeout 120 $py -m torchenv doctor --json > "$OUT/doctor-bogus-uuid.json" 2> "$OUT/doctor-bogus-uuid.err"
say "doctor CUDA_VISIBLE_DEVICES=$BOGUS: exit $? wall $(since $start) s"
ids "$OUT/doctor-bogus-uuid.json" | tee -a "$summary"
# A real UUID's prefix must stay fine (CUDA accepts unique prefixes).
REAL=$(nvidia-smi --query-gpu=uuid --format=csv,noheader | head -1 | cut -c1-12)
CUDA_VISIBLE_DEVICES=$REAL timeout 120 $py -m torchenv doctor --json > "$OUT/doctor-real-uuid-prefix.json" 2>/dev/null
say "doctor CUDA_VISIBLE_DEVICES=$REAL (a real prefix): exit $?"
ids "$OUT/doctor-real-uuid-prefix.json" | tee -a "$summary"

# --- 2. LD_LIBRARY_PATH shadowing ------------------------------------------------------------------------------
LIBS=$(mktemp -d)
mkdir -p "$LIBS/empty" "$LIBS/wrong"
: > "$LIBS/empty/libcudart.so.12"
OTHER=$(ldconfig -p | awk '/libz\.so\.1 .*x86-64|libz\.so\.1 .*aarch64/ {print $NF; exit}')
[ -n "$OTHER" ] && cp "$OTHER" "$LIBS/wrong/libcudart.so.12"
for case in empty wrong; do
  start=$(now)
  LD_LIBRARY_PATH="$LIBS/$case" timeout 180 $py -m torchenv doctor --json > "$OUT/doctor-ld-$case.json" 2> "$OUT/doctor-ld-$case.err"
  say "doctor LD_LIBRARY_PATH=<folder with a $case libcudart.so.12>: exit $? wall $(since $start) s"
  ids "$OUT/doctor-ld-$case.json" | tee -a "$summary"
done
CUDNN=$(ldconfig -p | awk '/libcudnn\.so\.9 / {print $NF; exit}')
if [ -n "$CUDNN" ]; then
  start=$(now)
  LD_LIBRARY_PATH="$(dirname "$CUDNN")" timeout 180 $py -m torchenv doctor --json > "$OUT/doctor-ld-system-cudnn.json" 2>&1
  say "doctor LD_LIBRARY_PATH=$(dirname "$CUDNN") (system cuDNN first): exit $? wall $(since $start) s"
  ids "$OUT/doctor-ld-system-cudnn.json" | tee -a "$summary"
else
  say "no system libcudnn.so.9 in ldconfig: the system-cuDNN shadowing case is not run here"
fi

# --- 3. Ctrl-C during bench --quick and tune ------------------------------------------------------------------
cat > "$R/interrupt.py" <<'EOF'
"""Start torchenv in its own session (as a shell does), SIGINT its process group after N s, and report:
exit code, seconds from the signal to the exit, every descendant seen and which are still alive."""
import json, os, signal, subprocess, sys, time

def stat(pid):
    try:
        text = open("/proc/%d/stat" % pid).read()
    except OSError:
        return None
    f = text.rsplit(")", 1)[1].split()
    return int(f[1]), f[0], int(f[19])

def descendants(root):
    kids = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (s := stat(int(name))):
            kids.setdefault(s[0], []).append((int(name), s[2]))
    out, todo = set(), [root]
    while todo:
        for p in kids.get(todo.pop(), ()):
            if p not in out:
                out.add(p); todo.append(p[0])
    return out

after, argv = float(sys.argv[1]), sys.argv[2:]
proc = subprocess.Popen(argv, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
began, seen, sent = time.monotonic(), set(), None
while proc.poll() is None:
    seen |= descendants(proc.pid)
    if sent is None and time.monotonic() - began >= after:
        names = sorted({open("/proc/%d/comm" % p).read().strip() for p, _ in seen if stat(p)})
        os.killpg(proc.pid, signal.SIGINT); sent = time.monotonic()
    time.sleep(0.02)
ended = time.monotonic()
time.sleep(0.5)
left = [p for p, start in seen if (s := stat(p)) and s[2] == start and s[1] not in "ZX"]
print(json.dumps({"argv": argv, "exit": proc.returncode, "signal_after_s": after,
                  "prompt_s": round(ended - sent, 3) if sent else None, "running_at_signal": names if sent else [],
                  "descendants_seen": len(seen), "left_alive": left,
                  "stderr_tail": proc.stderr.read().decode(errors="replace")[-600:]}, indent=1))
for p in left:
    os.kill(p, signal.SIGKILL)
EOF
apps() { nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv; }
for name in bench tune; do
  if [ $name = bench ]; then cmd=($py -m torchenv bench --quick --json); else cmd=($py -m torchenv tune resnet50 --budget 120 --json); fi
  apps > "$OUT/gpu-apps-before-$name.csv" 2>&1
  $py "$R/interrupt.py" 8 "${cmd[@]}" > "$OUT/interrupt-$name.json" 2>&1
  sleep 1
  apps > "$OUT/gpu-apps-after-$name.csv" 2>&1
  ps -eo pid,pgid,stat,etime,cmd | grep -E "bench_worker|tune_worker|target_probe" | grep -v grep > "$OUT/workers-after-$name.txt"
  say "Ctrl-C after 8 s of: ${cmd[*]}"
  $py -c 'import json,sys; r=json.load(open(sys.argv[1])); print("  exit", r["exit"], "prompt", r["prompt_s"], "s;", "running:", r["running_at_signal"], "left alive:", r["left_alive"])' "$OUT/interrupt-$name.json" | tee -a "$summary"
  say "  GPU compute apps before: $(tail -n +2 "$OUT/gpu-apps-before-$name.csv" | wc -l), after: $(tail -n +2 "$OUT/gpu-apps-after-$name.csv" | wc -l); workers left: $(wc -l < "$OUT/workers-after-$name.txt")"
done

cp "$log" "$OUT/log.txt"
cat "$summary"
