#!/usr/bin/env python3
"""Turns attnkit_bench JSON (and optionally bench/peers JSON) into the markdown tables of docs/benchmarks.md.

Usage: bench/bench_table.py bench-results.json [--peers torch.json]
Tooling only: nothing in the build or the tests needs it.
"""
import argparse
import json
import re
from collections import defaultdict


def parse(name):
    m = re.match(r"(\w+)/N:(\d+)/D:(\d+)/causal:(\d)/threads:(\d+)", name)
    if not m:
        return None
    kernel, n, d, causal, threads = m.groups()
    return kernel, int(n), int(d), int(causal), int(threads)


def load_bench(path):
    data = json.load(open(path))
    rows = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        key = parse(b["run_name"] if "run_name" in b else b["name"])
        if key:
            rows[key] = (b["FLOP/s"] / 1e9, b.get("peak_pct", 0.0))
    return data.get("context", {}), rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--peers", help="bench/peers/torch_sdpa.py JSON output")
    args = ap.parse_args()
    context, rows = load_bench(args.results)
    peers = {}
    if args.peers:
        data = json.load(open(args.peers))
        for p in data["benchmarks"] if isinstance(data, dict) else data:
            peers[(p["N"], p["D"], p["causal"], p["threads"])] = p["gflops"]

    keys = sorted({k[1:] for k in rows})
    print("Machine: %s, FP32 FMA peak %s / %s GFLOP/s (1 / 2 threads), DRAM %s / %s GB/s, SIMD %s\n" % (
        context.get("host_name", "?"), context.get("fp32_fma_peak_gflops_1t", "?"),
        context.get("fp32_fma_peak_gflops_2t", "?"), context.get("dram_read_gbps_1t", "?"),
        context.get("dram_read_gbps_2t", "?"), context.get("simd_arch", "?")))
    compiled, best = context.get("compiled_isa"), context.get("cpu_best_isa")
    if compiled and best and compiled != best:
        print("**Warning: this binary was compiled for %s but the CPU has %s: the figures are not the "
              "CPU's best.**\n" % (compiled, best))
    header = "| N | D | causal | threads | attnkit GFLOP/s | % peak | naive Eigen GFLOP/s | attnkit / Eigen |"
    sep = "|---|---|---|---|---|---|---|---|"
    if peers:
        header += " torch SDPA GFLOP/s | attnkit / torch |"
        sep += "---|---|"
    print(header)
    print(sep)
    for n, d, causal, threads in keys:
        ours = rows.get(("BM_Softmax", n, d, causal, threads))
        eig = rows.get(("BM_NaiveEigen", n, d, causal, threads))
        if not ours:
            continue
        line = "| %d | %d | %d | %d | %.0f | %.0f%% | %s | %s |" % (
            n, d, causal, threads, ours[0], ours[1], "%.0f" % eig[0] if eig else "-",
            "%.2fx" % (ours[0] / eig[0]) if eig else "-")
        if peers:
            t = peers.get((n, d, causal, threads))
            line += " %s | %s |" % ("%.0f" % t if t else "-", "%.2fx" % (ours[0] / t) if t else "-")
        print(line)
    causal_speedups = []
    for n, d, causal, threads in keys:
        if causal == 0 and ("BM_Softmax", n, d, 1, threads) in rows and ("BM_Softmax", n, d, 0, threads) in rows:
            # Same FLOP count convention (causal counts half), so time ratio = 2 * rate ratio.
            r = 2 * rows[("BM_Softmax", n, d, 1, threads)][0] / rows[("BM_Softmax", n, d, 0, threads)][0]
            causal_speedups.append("N=%d D=%d t=%d: %.2fx" % (n, d, threads, r))
    print("\nCausal speed-up over non-causal (time ratio): " + "; ".join(causal_speedups))


if __name__ == "__main__":
    main()
