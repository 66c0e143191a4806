#!/usr/bin/python3
"""Draws the suite's PNG plots from the JSON files of one `scripts/run_bench.sh` run.

Usage: /usr/bin/python3 bench/suite/plots.py RESULTS_DIR
Needs matplotlib: Debian's python3-matplotlib (run_bench.sh installs it), hence Debian's interpreter,
/usr/bin/python3, which sees Debian's packages where a pyenv python3 on PATH may not. Writes
RESULTS_DIR/time_vs_n.png, peak_pct.png and decode_gbps.png, each from the cases that ran, and fidelity.png
from attnkit_fidelity's fidelity.json.
"""
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import best_limits, limit_share, median_rows, natural_key, seconds  # noqa: E402

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    sys.exit("plots.py: matplotlib is not installed for this interpreter (Debian: apt-get install python3-matplotlib)")


def load_rows(results):
    """Rows of every case JSON, and the run's limits (report.best_limits over every case's probes)."""
    rows, contexts = {}, []
    for path in sorted(results.glob("*.json")):
        data = json.loads(path.read_text())
        if "benchmarks" not in data:  # fidelity.json
            continue
        rows.update(median_rows(data))
        contexts.append(data.get("context", {}))
    return rows, best_limits(contexts)


def series(rows, pattern):
    """{label: [(x, row)]} for rows matching `pattern`, whose group 'x' is the x value and the other named
    groups make the label."""
    out = {}
    for name, row in rows.items():
        m = re.match(pattern, name)
        if m:
            groups = m.groupdict()
            x = int(groups.pop("x"))
            label = " ".join(f"{k} {v}" for k, v in groups.items())
            out.setdefault(label, []).append((x, row))
    return {label: sorted(points, key=lambda p: p[0]) for label, points in out.items()}


def time_vs_n(rows, limits, path):
    """Time of one call against N on log-log axes: quadratic, windowed and linear variants apart."""
    lines = {
        "softmax causal": r"BM_Softmax/N:(?P<x>\d+)/D:(?P<D>\d+)/causal:1/threads:2$",
        "sliding window": r"BM_SlidingWindow/N:(?P<x>\d+)/D:(?P<D>\d+)/W:\d+/threads:2$",
        "linear causal": r"BM_LinearCausal/N:(?P<x>\d+)/D:(?P<D>\d+)/threads:2$",
    }
    fig, ax = plt.subplots(figsize=(7, 5))
    for variant, pattern in lines.items():
        for label, points in series(rows, pattern).items():
            if len(points) > 1:
                ax.plot([x for x, _ in points], [seconds(r) for _, r in points], "o-", label=f"{variant}, {label}")
    ax.set(xscale="log", yscale="log", xlabel="N (tokens)", ylabel="time of one call (s)",
           title="Time against sequence length (2 threads)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def peak_pct(rows, limits, path):
    """Share of the run's FMA peak per kernel, one bar per 2-thread row that counts FLOP/s."""
    shares = [(name, limit_share(name, row, limits)) for name, row in sorted(rows.items(), key=lambda i: natural_key(i[0]))
              if "FLOP/s" in row and name.endswith("threads:2")]
    bars = [(name, pct) for name, pct in shares if pct is not None]
    fig, ax = plt.subplots(figsize=(8, max(3, 0.22 * len(bars))))
    ax.barh([n for n, _ in bars], [p for _, p in bars])
    ax.invert_yaxis()
    ax.set(xlabel="% of the FP32 FMA peak probed in the same run", xlim=(0, 100), title="Arithmetic kernels")
    ax.tick_params(axis="y", labelsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def decode_gbps(rows, limits, path):
    """K/V bytes read per second against the cache length."""
    fig, ax = plt.subplots(figsize=(7, 5))
    for family in ("BM_Decode", "BM_DecodePaged"):
        pattern = family + r"/Sk:(?P<x>\d+)/Hq:\d+/Hkv:(?P<Hkv>\d+)/D:\d+/threads:(?P<threads>\d+)$"
        for label, points in series(rows, pattern).items():
            ax.plot([x for x, _ in points], [r["bytes_per_second"] / 1e9 for _, r in points], "o-",
                    label=f"{family}, {label}")
    dram = limits.get("dram_read_gbps_2t", 0.0)
    if dram > 0:
        ax.axhline(dram, color="grey", linestyle="--", label=f"DRAM read, 2 threads: the run's best probe ({dram:.1f} GB/s)")
    ax.set_ylim(bottom=0)
    ax.set(xscale="log", xlabel="keys in the cache", ylabel="K/V read (GB/s)", title="Decode, one query per head")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def fidelity(results, path):
    """Recall of each variant against the needle's distance (attnkit_fidelity)."""
    data = json.loads((results / "fidelity.json").read_text())
    fig, ax = plt.subplots(figsize=(7, 5))
    styles = ["o-", "s--", "^-.", "v:", "D-", "x--", "*-."]  # variants often overlap (recall 1 or 0)
    for i, variant in enumerate(dict.fromkeys(r["variant"] for r in data["results"])):
        points = sorted((r["distance"], r["recall"]) for r in data["results"] if r["variant"] == variant)
        ax.plot([d for d, _ in points], [r for _, r in points], styles[i % len(styles)], label=variant,
                markersize=9 - i, linewidth=2.5 - 0.25 * i, alpha=0.85)
    ctx = data["context"]
    ax.set(xscale="log", ylim=(-0.05, 1.05), xlabel="needle distance (tokens back)", ylabel="recall",
           title=f"Associative recall, N = {ctx['seq']}, D = {ctx['dim']}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    results = Path(sys.argv[1])
    rows, limits = load_rows(results)
    for draw, name in ((time_vs_n, "time_vs_n.png"), (peak_pct, "peak_pct.png"), (decode_gbps, "decode_gbps.png")):
        draw(rows, limits, results / name)
        print(f"plots.py: wrote {results / name}")
    if (results / "fidelity.json").exists():
        fidelity(results, results / "fidelity.png")
        print(f"plots.py: wrote {results / 'fidelity.png'}")


if __name__ == "__main__":
    main()
