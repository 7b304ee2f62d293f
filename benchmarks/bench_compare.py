# ruff: noqa: SIM115
"""Compares `torchenv bench --json` against the bare-script baseline of the same run and against the
H100 capture (../shared/fixtures/h100-cu130/perf-baseline.json, copied to tests/fixtures/). Prints a
table and writes a JSON verdict. Pure stdlib.

Usage: python benchmarks/bench_compare.py --bench full.json --quick quick.json --bare bare1.json [bare2.json]
           --capture tests/fixtures/h100-cu130/perf-baseline.json --out compare.json
"""

import argparse
import json
import statistics

# torchenv measurement id -> capture key. torchenv's ladder adds cudnn.benchmark after
# channels_last (one algorithm search instead of three); the capture added it second, and measured
# that it changes nothing (fp32 833.8 vs 833.6; AMP 2141.8 without vs 2140.9 with), so each rung
# compares with the capture's rung of the same precision and layout.
LADDER = {
    "ladder-resnet50.fp32": "rn50_bs128_default_fp32_img_s",
    "ladder-resnet50.tf32": "rn50_bs128_+tf32_img_s",
    "ladder-resnet50.amp-bf16": "rn50_bs128_+amp_bf16_img_s",
    "ladder-resnet50.channels_last": "rn50_bs128_+channels_last_img_s",
    "ladder-resnet50.cudnn-benchmark": "rn50_bs128_+channels_last_img_s",
    "ladder-resnet50.torch-compile": "rn50_bs128_+torch_compile_img_s",
}


def value(report, id):
    for m in report["measurements"]:
        if m["id"] == id and m["status"] == "ok":
            return m["value"]
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bench", required=True)
    parser.add_argument("--quick")
    parser.add_argument("--bare", nargs="+", required=True)
    parser.add_argument("--capture", required=True)
    parser.add_argument("--quick-wall")
    parser.add_argument("--out")
    args = parser.parse_args()
    full = json.load(open(args.bench))
    bares = [json.loads(open(p).read().strip().splitlines()[-1]) for p in args.bare]
    capture = json.load(open(args.capture))
    rows = []

    def row(name, got, ref, tolerance, ref_name):
        diff = (got - ref) / ref if got is not None and ref else None
        ok = diff is not None and abs(diff) <= tolerance
        rows.append(
            {
                "check": name,
                "torchenv": got,
                "reference": ref,
                "reference_is": ref_name,
                "difference": None if diff is None else round(diff, 4),
                "tolerance": tolerance,
                "ok": ok,
            }
        )

    bare_mm = statistics.median(b["matmul_bf16_tflops"] for b in bares)
    bare_copy = statistics.median(b["d2d_copy_GBps"] for b in bares)
    row("bf16 matmul 8192³ TFLOP/s", value(full, "matmul.bf16"), bare_mm, 0.05, "bare script, same run")
    row("device copy GB/s", value(full, "memory.copy"), bare_copy, 0.05, "bare script, same run")
    for id, key in LADDER.items():
        rung = next((m for m in full["measurements"] if m["id"] == id), None)
        if id.endswith("cudnn-benchmark") and rung and "channels_last" not in rung["params"].get("settings", ""):
            key = "rn50_bs128_+cudnn_benchmark_img_s"  # a report from the earlier order (benchmark second)
        row(f"{id} images/s", value(full, id), capture.get(key), 0.10, "H100 capture")
    rows.append(
        {
            "check": "full suite s (excl. torch.compile first compile)",
            "torchenv": full["suite_s"],
            "reference": 60,
            "ok": full["suite_s"] < 60,
            "note": f"wall {full['wall_s']} s, compile {full['compile_s']} s, cudnn.benchmark search {full['autotune_s']} s",
        }
    )
    rows.append(
        {
            "check": "full suite s excl. compile and cudnn.benchmark search",
            "torchenv": round(full["suite_s"] - full["autotune_s"], 3),
            "reference": 60,
            "ok": full["suite_s"] - full["autotune_s"] < 60,
        }
    )
    if args.quick:
        quick = json.load(open(args.quick))
        wall = float(open(args.quick_wall).read().strip()) if args.quick_wall else quick["wall_s"]
        rows.append({"check": "--quick s (whole command)", "torchenv": wall, "reference": 15, "ok": wall < 15})
    for r in rows:
        mark = "ok  " if r["ok"] else "MISS"
        print(
            f"{mark} {r['check']:<58} {r['torchenv']!s:>10} vs {r['reference']!s:>8} {r.get('difference', '')!s:>8} {r.get('note', '')}"
        )
    if args.out:
        json.dump({"bare": bares, "checks": rows}, open(args.out, "w"), indent=2)


if __name__ == "__main__":
    main()
