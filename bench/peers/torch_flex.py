#!/usr/bin/env python3
"""Time PyTorch's flex_attention, compiled for the CPU, on the shapes of attnkit's mask and modifier cases.

Optional peer comparison; the library never needs it. See bench/peers/README.md.

flex_attention is the composable peer researchers use: masks as a `mask_mod` turned into a block mask by
`create_block_mask`, score modifiers as a `score_mod`, the whole compiled by torch.compile (inductor's CPU
template; it needs the C++ compiler that is already there). Cases, each named after the attnkit_bench case it
is compared with (join on everything after the first '/'):
  flex_causal/N:{n}/D:{d}/causal:1/threads:{t}     vs BM_Softmax     (causal block mask)
  flex_window/N:{n}/D:128/W:512/threads:{t}        vs BM_SlidingWindow (causal window of 512 keys)
  flex_alibi/N:{n}/D:{d}/causal:1/threads:{t}      vs BM_Alibi       (ALiBi slopes 2^(-8 (h + 1) / H) as score_mod)
  flex_softcap/N:{n}/D:{d}/causal:1/threads:{t}    vs BM_Softcap     (50 tanh(s / 50) as score_mod)
fp32, batch 1, 8 heads, [B, H, N, D] contiguous, torch.randn with a fixed seed; FLOPs counted as attnkit_bench
counts them (4 N^2 D H, half for causal; the window counts only the pairs it shows). Timing as torch_sdpa.py:
warm-up calls (the first one compiles), then the median of calls totalling about --min-time seconds.
"""

from __future__ import annotations

import argparse
import platform
import re
import statistics
import sys
import time
import warnings

from torch_sdpa import BATCH, HEADS, write_json  # same directory: the script's own folder is on sys.path

WINDOW = 512
SOFTCAP = 50.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", metavar="FILE", help="write the results as JSON to FILE")
    p.add_argument("--filter", metavar="REGEX", help="run only cases whose name matches REGEX (re.search)")
    p.add_argument("--threads", metavar="LIST", default="2", help="comma-separated thread counts (default 2)")
    p.add_argument("--min-time", type=float, default=0.5, help="seconds of timed calls per case (default 0.5)")
    p.add_argument("--min-reps", type=int, default=3, help="at least this many timed calls (default 3)")
    return p.parse_args(argv)


def cases(threads_list):
    """(name, N, D, kind, flops) for every case, shortest N first: the longest may outgrow the memory."""
    return sorted(all_cases(threads_list), key=lambda case: case[1])


def all_cases(threads_list):
    for t in threads_list:
        for n in (1024, 4096):
            for d in (64, 128):
                causal_flops = 2.0 * n * n * d * HEADS * BATCH
                yield f"flex_causal/N:{n}/D:{d}/causal:1/threads:{t}", n, d, "causal", causal_flops
                yield f"flex_alibi/N:{n}/D:{d}/causal:1/threads:{t}", n, d, "alibi", causal_flops
                yield f"flex_softcap/N:{n}/D:{d}/causal:1/threads:{t}", n, d, "softcap", causal_flops
        for n in (4096, 16384):
            shown = sum(min(i + 1, WINDOW) for i in range(n))  # visible (query, key) pairs
            yield f"flex_window/N:{n}/D:128/W:{WINDOW}/threads:{t}", n, 128, "window", 4.0 * shown * 128 * HEADS


def build(torch, kind: str, n: int):
    """The compiled call for one kind of case: (q, k, v) -> o."""
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention

    def causal(b, h, q_idx, kv_idx):
        return q_idx >= kv_idx

    def window(b, h, q_idx, kv_idx):
        return (q_idx >= kv_idx) & (q_idx - kv_idx < WINDOW)

    slopes = torch.tensor([2.0 ** (-8.0 * (h + 1) / HEADS) for h in range(HEADS)])

    def alibi(score, b, h, q_idx, kv_idx):
        return score - slopes[h] * (q_idx - kv_idx)

    def softcap(score, b, h, q_idx, kv_idx):
        return SOFTCAP * torch.tanh(score / SOFTCAP)

    mask = window if kind == "window" else causal
    block_mask = create_block_mask(mask, B=None, H=None, Q_LEN=n, KV_LEN=n, device="cpu")
    score_mod = {"alibi": alibi, "softcap": softcap}.get(kind)
    compiled = torch.compile(flex_attention, dynamic=False)
    return lambda q, k, v: compiled(q, k, v, score_mod=score_mod, block_mask=block_mask)


def time_call(call, q, k, v, args) -> tuple[float, int]:
    call(q, k, v)  # compiles
    t0 = time.perf_counter()
    call(q, k, v)
    first = time.perf_counter() - t0
    reps = max(args.min_reps, int(args.min_time / max(first, 1e-9)) + 1)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        call(q, k, v)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), reps


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    warnings.filterwarnings("ignore", message=".*NumPy.*")
    try:
        import torch
        from torch.nn.attention import flex_attention  # noqa: F401
    except ImportError as e:
        print(f"torch with flex_attention is not installed ({e}); see bench/peers/README.md", file=sys.stderr)
        return 2
    pattern = re.compile(args.filter) if args.filter else None
    threads_list = [int(t) for t in args.threads.split(",") if t.strip()]
    print(f"torch {torch.__version__}, python {platform.python_version()}, {platform.machine()}")
    print(f"{'name':<46} {'ms':>10} {'GFLOP/s':>9} {'reps':>5}")
    results = []
    gen = torch.Generator().manual_seed(0)
    for name, n, d, kind, flops in cases(threads_list):
        if pattern and not pattern.search(name):
            continue
        torch.set_num_threads(int(name.rsplit(":", 1)[1]))
        # A fresh compile per case: torch.compile counts every case's recompile of flex_attention against one
        # limit (8) and past it runs flex_attention eagerly, unfused: 10-30x slower, and at N = 16384 it
        # outgrew 24 GiB.
        torch._dynamo.reset()
        q, k, v = (torch.randn(BATCH, HEADS, n, d, generator=gen) for _ in range(3))
        with torch.inference_mode():
            sec, reps = time_call(build(torch, kind, n), q, k, v, args)
        results.append({"name": name, "ms": round(sec * 1e3, 4), "gflops": round(flops / sec / 1e9, 2)})
        print(f"{name:<46} {sec * 1e3:>10.3f} {flops / sec / 1e9:>9.1f} {reps:>5}")
        sys.stdout.flush()
        if args.out:  # after every case, so that a case killed for its memory leaves the earlier ones
            doc = {"context": {"torch_version": torch.__version__, "python": platform.python_version(),
                               "batch": BATCH, "heads": HEADS, "dtype": "float32",
                               "timing": f"median of >= {args.min_reps} calls totalling ~{args.min_time} s "
                                         "after a compiling call and a warm-up call",
                               "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
                   "benchmarks": results}
            write_json(args.out, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
