#!/usr/bin/env bash
# Issue 16 on the single lent H200 (python3 = 3.12, torch 2.11 cu130), from the repo root through the device
# tool: bash benchmarks/device/preflight.sh ; at most 6 files land in $OUT (round2.sh runs it as a part).
#   preflight.json    torchenv preflight --gpus 1 --json: world size 1 with NCCL, full sweep, GEMM health
#   preflight.txt     the same report as the terminal shows it, then the other runs' verdicts and timings
#   torchrun.json     a hand-written `torchrun --standalone --nproc-per-node 1 -m torchenv.preflight` (NCCL_DEBUG=INFO)
#   torchrun-log.txt  that torchrun's output (NCCL's INIT lines), then 2 ranks on the one GPU (must be not ready)
#   topology.txt      the topology/binding facts as nvidia-smi, /sys and lscpu give them, beside preflight's own read
#   summary.txt       one page: verdicts, exit codes, GEMM vs the datasheet and vs a bare 10-line GEMM script,
#                     topology as read vs nvidia-smi, NCCL and its library, the sweep, phase timings
set -u
source benchmarks/device/common.sh
export NCCL_NVLS_ENABLE=0
out=${OUT:-/tmp/preflight}; mkdir -p "$out"
bound() { timeout "$@"; }  # every step bounded: the whole script stays well inside round2.sh's 240 s part

# 1. torchenv preflight --gpus 1 (the CLI starts torchrun --standalone itself), full run, JSON; then its terminal view.
t0=$(now)
bound 150 $py -m torchenv preflight --gpus 1 --json > "$out/preflight.json" 2> "$R/preflight.stderr"
echo "preflight --gpus 1 --json: exit $? in $(since $t0) s" >> "$R/runs.txt"
$py - "$out/preflight.json" > "$out/preflight.txt" 2>&1 <<'EOF'
import json, sys
from torchenv.render.json_preflight import preflight_from_dict
from torchenv.render.terminal import make_console
from torchenv.render.terminal_preflight import render_preflight_terminal
render_preflight_terminal(preflight_from_dict(json.load(open(sys.argv[1]))), make_console(sys.stdout), verbose=True)
EOF
echo "--- stderr of preflight --gpus 1 (tail)" >> "$out/preflight.txt"; tail -n 15 "$R/preflight.stderr" >> "$out/preflight.txt"

# 2. The same by hand, as a user runs it under torchrun (quick sweep), with NCCL's init log.
t0=$(now)
NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=INIT bound 120 $py -m torch.distributed.run --standalone --nproc-per-node 1 \
  -m torchenv.preflight --quick --join-timeout 30 --output "$out/torchrun.json" --quiet > "$R/torchrun.stdout" 2> "$R/torchrun.stderr"
echo "torchrun --nproc-per-node 1 -m torchenv.preflight --quick: exit $? in $(since $t0) s" >> "$R/runs.txt"
{ echo "=== torchrun --standalone --nproc-per-node 1 -m torchenv.preflight --quick (NCCL_DEBUG=INFO, SUBSYS=INIT)";
  head -n 60 "$R/torchrun.stdout"; echo "--- stderr"; grep -i "nccl\|error\|warn\|exitcode" "$R/torchrun.stderr" | head -n 40; } > "$out/torchrun-log.txt"

# 3. Two ranks on the one GPU: both must be told (more ranks than GPUs, one GPU shared), and NCCL's refusal bounded.
t0=$(now)
bound 150 $py -m torch.distributed.run --standalone --nproc-per-node 2 -m torchenv.preflight --quick --no-gemm \
  --join-timeout 30 --collective-timeout 30 --timeout 60 --output "$R/shared.json" --quiet > "$R/shared.out" 2>&1
echo "torchrun --nproc-per-node 2 on one GPU: exit $? in $(since $t0) s" >> "$R/runs.txt"
{ echo; echo "=== 2 ranks on one GPU (torchrun --nproc-per-node 2 -m torchenv.preflight --quick --no-gemm)";
  tail -n 40 "$R/shared.out"; } >> "$out/torchrun-log.txt"

# 4. A bare GEMM in the same run, against which preflight's GEMM health is read (10 lines, nothing of torchenv).
cat > "$R/bare_gemm.py" <<'EOF'
import torch
torch.backends.cuda.matmul.allow_tf32 = False
for name, dtype, calls in (("bf16", torch.bfloat16, 200), ("fp32", torch.float32, 40)):
    a = torch.randn(8192, 8192, device="cuda", dtype=dtype); b = torch.randn_like(a)
    for _ in range(5): a @ b
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize(); start.record()
    for _ in range(calls): a @ b
    end.record(); torch.cuda.synchronize()
    print(f"bare {name} {2 * 8192**3 * calls / (start.elapsed_time(end) / 1e3) / 1e12:.1f} TFLOP/s")
EOF
t0=$(now)
bound 60 $py "$R/bare_gemm.py" > "$R/bare.txt" 2>&1
echo "bare GEMM script: exit $? in $(since $t0) s" >> "$R/runs.txt"

# 5. Topology and binding as the machine's own tools give them (preflight's read is in preflight.json).
{ echo "=== nvidia-smi -L"; nvidia-smi -L
  echo "=== nvidia-smi --query-gpu"; nvidia-smi --query-gpu=index,name,uuid,pci.bus_id,pcie.link.gen.current,pcie.link.gen.max,pcie.link.width.current,pcie.link.width.max,clocks.max.sm,power.limit,power.default_limit,ecc.errors.uncorrected.volatile.total --format=csv
  echo "=== nvidia-smi topo -m"; nvidia-smi topo -m
  echo "=== nvidia-smi nvlink -s"; nvidia-smi nvlink -s 2>&1 | head -n 40
  echo "=== nvidia-smi -q -d ROW_REMAPPER,PAGE_RETIREMENT"; nvidia-smi -q -d ROW_REMAPPER,PAGE_RETIREMENT 2>&1 | grep -v '^$' | head -n 40
  echo "=== lscpu (NUMA)"; lscpu | grep -i "numa\|^cpu(s)\|model name"
  echo "=== /sys NUMA of the GPU"; for d in /sys/bus/pci/devices/*; do
    [ "$(cat $d/vendor 2>/dev/null)" = "0x10de" ] && echo "$(basename $d) class $(cat $d/class) numa_node $(cat $d/numa_node 2>/dev/null)"; done
  ls -d /sys/devices/system/node/node* 2>/dev/null; cat /sys/devices/system/node/node*/cpulist 2>/dev/null
  echo "=== this shell's CPU affinity"; taskset -pc $$ 2>&1
  echo "=== /dev/shm"; df -B1 /dev/shm
  echo "=== network"; for n in /sys/class/net/*; do echo "$(basename $n) $(cat $n/operstate 2>/dev/null) speed=$(cat $n/speed 2>/dev/null)"; done
  ls /sys/class/infiniband 2>&1 | head -n 5
} > "$out/topology.txt" 2>&1

# 6. One page: what preflight read and judged, against the datasheet, the bare script and nvidia-smi.
$py - "$out/preflight.json" "$out/torchrun.json" "$R/shared.json" "$R/bare.txt" "$R/runs.txt" > "$out/summary.txt" 2>&1 <<'EOF'
import json, re, subprocess, sys
from torchenv.knowledge import load_knowledge

def load(path):
    try:
        return json.load(open(path))
    except Exception as exc:
        print(f"{path}: unreadable ({exc})")
        return None

main, hand, shared = (load(p) for p in sys.argv[1:4])
bare = {m[1]: float(m[2]) for m in re.finditer(r"bare (\w+) ([\d.]+) TFLOP/s", open(sys.argv[4]).read())}
print(open(sys.argv[5]).read())
for label, report in (("preflight --gpus 1", main), ("hand-written torchrun", hand), ("2 ranks on 1 GPU", shared)):
    if report:
        print(f"{label}: {report['verdict']} (exit {report['exit_code']}), backend {report['backend']}, world {report['world_size']}")
        for f in report["findings"]:
            print(f"   {f['severity']:7} {f['id']}: {f['title']}")
if not main or not main["ranks"]:
    sys.exit(0)
rank = main["ranks"][0]
snap = rank["snapshot"]
torch = snap.get("torch", {})
print(f"\ntorch {torch.get('version')}, NCCL {torch.get('nccl_version')} from {rank.get('nccl_library')}")
print(f"binding: {rank['binding']}")
name = rank["binding"]["gpu_name"]
models = load_knowledge().resolve_gpu(name or "").models
print(f"\nGEMM on {name} (datasheet: {models[0].name if models else 'none'})")
for g in rank["gemm"]:
    peak = models[0].peak_tflops.get(g["dtype"]) if models else None
    mine = g.get("tflops")
    line = f"   {g['dtype']}: preflight {mine} TFLOP/s (median of {g['samples']} samples, {g['seconds']} s)"
    if peak and mine:
        line += f", {mine / peak:.0%} of the datasheet {peak}"
    if g["dtype"] in bare and mine:
        line += f"; bare script {bare[g['dtype']]} ({mine / bare[g['dtype']]:.2f}× of it)"
    line += f"; rel err {g.get('rel_error')} (tol {g.get('tolerance')}), repeat equal {g.get('repeat_equal')}"
    print(line)
    print(f"      under load: {g.get('observed')}")
topo = rank.get("topology") or {}
print(f"\ntopology as preflight read it (error: {topo.get('error')}), NUMA nodes {topo.get('numa_nodes')}")
for gpu in topo.get("gpus", []):
    print("   " + ", ".join(f"{k}={v}" for k, v in gpu.items()))
print(f"   p2p {topo.get('p2p')}, link {topo.get('link')}")
try:
    smi = subprocess.run(["nvidia-smi", "--query-gpu=uuid,pci.bus_id,pcie.link.gen.max,pcie.link.width.max", "--format=csv,noheader"], capture_output=True, text=True, timeout=20).stdout.split("\n")[0].split(", ")
except (OSError, subprocess.TimeoutExpired) as exc:
    smi = []
    print(f"   nvidia-smi: {exc}")
if topo.get("gpus") and len(smi) == 4:
    g = topo["gpus"][0]
    checks = {"uuid": (g["uuid"], smi[0]), "binding uuid": (rank["binding"]["gpu_uuid"], smi[0]), "bus id": ((g["pci_bus_id"] or "").lower(), smi[1][-12:].lower()), "pcie gen max": (str(g["pcie_gen_max"]), smi[2]), "pcie width max": (str(g["pcie_width_max"]), smi[3])}
    for key, (ours, theirs) in checks.items():
        print(f"   {key}: preflight {ours} / nvidia-smi {theirs}: {'same' if ours == theirs else 'DIFFERENT'}")
print(f"\n/dev/shm {rank['shm_bytes']} bytes; interfaces {[(i['name'], i['state'], i['speed_mbps']) for i in rank['interfaces']] if isinstance(rank['interfaces'], list) else rank['interfaces']}")
print(f"fabric: {main['fabric']}")
print("\nsweep (world size 1: busbw is 0 by nccl-tests' formula, algbw is the local copy):")
for p in main["sweep"]:
    print(f"   {p['collective']:15} {p['size_bytes']:>11} B  {p['seconds'] * 1e6:9.1f} µs  algbw {p['algbw_gbs']:8.2f}  busbw {p['busbw_gbs']:.2f}")
print(f"\nphases on rank 0: {main['phases']}; snapshot/topology seconds {rank.get('seconds')}")
EOF
ls -l "$out"
