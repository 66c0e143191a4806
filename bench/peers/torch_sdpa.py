#!/usr/bin/env python3
"""Time PyTorch's CPU scaled_dot_product_attention on attnkit's benchmark grid.

Optional peer comparison; the library never needs it. See bench/peers/README.md.

Grid (the same as attnkit_bench's prefill cases): batch 1, 8 heads, Sq = Sk = N in
{512, 1024, 2048, 4096, 8192}, D in {64, 128}, causal 0/1, threads from --threads.
fp32, [B, H, N, D] contiguous, torch.randn with a fixed seed.
FLOP count: 4 * N * N * D * H, half of that for causal (as attnkit_bench counts).
Each case: warm-up calls, then the median of timed calls (enough for ~--min-time seconds,
at least --min-reps). Case names mirror attnkit's: torch_sdpa/N:4096/D:128/causal:1/threads:2.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
import warnings

BATCH = 1
HEADS = 8
NS = (512, 1024, 2048, 4096, 8192)
DS = (64, 128)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", metavar="FILE", help="write the results as JSON to FILE")
    p.add_argument("--filter", metavar="REGEX", default=None,
                   help="run only cases whose name matches REGEX (re.search), e.g. 'N:4096/D:128'")
    p.add_argument("--threads", metavar="LIST", default="1,2",
                   help="comma-separated thread counts for torch.set_num_threads (default 1,2)")
    p.add_argument("--min-time", type=float, default=0.5,
                   help="aim for about this many seconds of timed calls per case (default 0.5)")
    p.add_argument("--min-reps", type=int, default=3, help="at least this many timed calls per case (default 3)")
    p.add_argument("--max-reps", type=int, default=200, help="at most this many timed calls per case (default 200)")
    p.add_argument("--seed", type=int, default=0, help="torch.manual_seed for the inputs (default 0)")
    return p.parse_args(argv)


def flops(n: int, d: int, causal: bool) -> float:
    f = 4.0 * n * n * d * HEADS * BATCH
    return f / 2 if causal else f


def case_name(n: int, d: int, causal: bool, threads: int) -> str:
    return f"torch_sdpa/N:{n}/D:{d}/causal:{int(causal)}/threads:{threads}"


def backend_info(torch) -> dict:
    """What we can tell about the SDPA kernel used on CPU."""
    info: dict = {}
    try:
        info["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    except Exception as e:  # older torch
        info["cpu_capability"] = f"unknown ({e.__class__.__name__})"
    try:
        info["parallel_info"] = torch.__config__.parallel_info()
    except Exception:
        pass
    try:
        info["mkldnn"] = bool(torch.backends.mkldnn.is_available())
    except Exception:
        pass
    # On CPU, SDPA dispatches to the fused flash-attention CPU kernel
    # (aten _scaled_dot_product_flash_attention_for_cpu) for fp32 inputs without an
    # attn_mask / dropout; otherwise to the unfused math path. Ask the selector where possible.
    try:
        q = torch.randn(1, 1, 16, 64)
        fn = getattr(torch.ops.aten, "_fused_sdp_choice", None) or getattr(torch._C, "_fused_sdp_choice", None)
        if fn is not None:
            choice = int(fn(q, q, q, None, 0.0, True))
            names = {}
            try:
                names = {int(b.value): n for n, b in torch.nn.attention.SDPBackend.__members__.items()}
            except Exception:
                pass
            info["sdp_backend_choice"] = names.get(choice, str(choice))
    except Exception as e:
        info["sdp_backend_choice"] = f"unknown ({e.__class__.__name__})"
    # Confirm with the profiler which aten op runs.
    try:
        from torch.profiler import ProfilerActivity, profile

        q = torch.randn(1, 2, 64, 64)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            torch.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)
        ops = sorted({e.key for e in prof.key_averages()
                      if "attention" in e.key or "flash" in e.key or "bmm" in e.key or "softmax" in e.key})
        info["aten_ops"] = ops
    except Exception as e:
        info["aten_ops"] = f"unknown ({e.__class__.__name__})"
    return info


def time_case(torch, sdpa, n: int, d: int, causal: bool, args) -> tuple[float, int]:
    """Median seconds of one call, and the number of timed calls."""
    gen = torch.Generator().manual_seed(args.seed * 1_000_003 + n * 1009 + d * 7 + int(causal))
    shape = (BATCH, HEADS, n, d)
    q = torch.randn(shape, generator=gen, dtype=torch.float32).contiguous()
    k = torch.randn(shape, generator=gen, dtype=torch.float32).contiguous()
    v = torch.randn(shape, generator=gen, dtype=torch.float32).contiguous()

    with torch.inference_mode():
        # Warm-up: one call always; a second when the call is short.
        t0 = time.perf_counter()
        sdpa(q, k, v, is_causal=causal)
        first = time.perf_counter() - t0
        if first < 0.25:
            t0 = time.perf_counter()
            sdpa(q, k, v, is_causal=causal)
            first = time.perf_counter() - t0
        reps = max(args.min_reps, min(args.max_reps, int(args.min_time / max(first, 1e-9)) + 1))
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            sdpa(q, k, v, is_causal=causal)
            times.append(time.perf_counter() - t0)
    return statistics.median(times), reps


def write_json(path: str, doc: dict) -> None:
    """Writes a peer's results ({"context", "benchmarks"}, Google Benchmark's shape) to `path`, whole or not
    at all (a copy renamed over it), so that a run killed mid-write leaves the previous file."""
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, indent=2)
    os.replace(path + ".tmp", path)
    print(f"wrote {len(doc['benchmarks'])} cases to {path}")


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    warnings.filterwarnings("ignore", message=".*NumPy.*")
    os.environ.setdefault("KINETO_LOG_LEVEL", "5")  # quiet the profiler used by backend_info()
    try:
        import torch
    except ImportError:
        print("torch is not installed: python3 -m pip install torch (see bench/peers/README.md)", file=sys.stderr)
        return 2
    sdpa = torch.nn.functional.scaled_dot_product_attention
    threads_list = [int(t) for t in args.threads.split(",") if t.strip()]
    pattern = re.compile(args.filter) if args.filter else None

    info = backend_info(torch)
    print(f"torch {torch.__version__}, python {platform.python_version()}, {platform.machine()}")
    print(f"cpu capability: {info.get('cpu_capability')}; SDPA choice: {info.get('sdp_backend_choice')}; "
          f"aten ops: {info.get('aten_ops')}")
    print(f"{'name':<46} {'ms':>10} {'GFLOP/s':>9} {'reps':>5}")
    sys.stdout.flush()

    results = []
    for threads in threads_list:
        torch.set_num_threads(threads)
        for n in NS:
            for d in DS:
                for causal in (False, True):
                    name = case_name(n, d, causal, threads)
                    if pattern and not pattern.search(name):
                        continue
                    sec, reps = time_case(torch, sdpa, n, d, causal, args)
                    gf = flops(n, d, causal) / sec / 1e9
                    results.append({"name": name, "N": n, "D": d, "causal": int(causal), "threads": threads,
                                    "ms": round(sec * 1e3, 4), "gflops": round(gf, 2)})
                    print(f"{name:<46} {sec * 1e3:>10.3f} {gf:>9.1f} {reps:>5}")
                    sys.stdout.flush()

    if args.out:
        doc = {
            "context": {
                "torch_version": torch.__version__,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "processor": platform.processor(),
                "batch": BATCH, "heads": HEADS, "dtype": "float32", "layout": "BHSD contiguous",
                "flops": "4*N*N*D*H, half for causal",
                "timing": f"median of >= {args.min_reps} calls totalling ~{args.min_time} s after warm-up",
                "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                **{k: v for k, v in info.items() if k != "parallel_info"},
                "parallel_info": info.get("parallel_info", ""),
            },
            "benchmarks": results,
        }
        write_json(args.out, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
