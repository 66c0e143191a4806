#!/usr/bin/env python3
"""Writes the suite's Markdown report from the JSON files of one `scripts/run_bench.sh` run.

Usage: bench/suite/report.py RESULTS_DIR [--out report.md]
RESULTS_DIR holds one attnkit_bench JSON per case of bench/suite/cases.py (<key>.json), fidelity.json from
attnkit_fidelity (the recall table) and, after --peers, peers/*.json from bench/peers/. Standard library only,
any Python >= 3.8. Every percentage is of a limit the same binary probed in that run (the best reading over its
cases), and every ratio compares two rows of the same run.
"""
import argparse
import json
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import CASES  # noqa: E402


def median_rows(data):
    """run_name -> the row to report: the median aggregate when there are repetitions, else the single run."""
    rows = {}
    for b in data.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                rows[name] = b
        elif name not in rows:
            rows[name] = b
    return rows


def seconds(row):
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[row.get("time_unit", "ns")]
    return row["real_time"] * scale


def fmt_time(s):
    if s >= 1.0:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} us"


# A row's throughput counter -> the probe (context key without its _<threads>t) that limits it.
LIMIT_PROBES = {"FLOP/s": "fp32_fma_peak_gflops", "bytes_per_second": "dram_read_gbps"}


def best_limits(contexts):
    """{probe_<threads>t: value}: the highest reading of each probe over every case run of the suite run. Each
    probe is already the best of many short runs, but a tenant that keeps a core busy through a whole probe
    makes it read low (a 1-thread FMA probe once read 73 against 103 GFLOP/s on a Zen 3), which would
    overstate every share taken of it; the machine's limits do not change within a run."""
    best = {}
    for context in contexts:
        for key, value in context.items():
            if re.fullmatch("(" + "|".join(LIMIT_PROBES.values()) + r")_\d+t", key) and value:
                best[key] = max(best.get(key, 0.0), float(value))
    return best


def limit_share(name, row, limits):
    """The row's throughput as a percentage of the run's limit for its counter and thread count (its name's
    threads:N), or None when it has no such counter or limit."""
    threads = re.search(r"threads:(\d+)", name)
    for counter, probe in LIMIT_PROBES.items():
        limit = limits.get(f"{probe}_{threads.group(1)}t") if threads else None
        if counter in row and limit:
            return row[counter] / 1e9 / limit * 100.0
    return None


def speed(name, row, limits):
    """The row's throughput and its share of the run's limit, as text."""
    pct = limit_share(name, row, limits)
    if "FLOP/s" in row:
        return f"{row['FLOP/s'] / 1e9:.1f} GFLOP/s", f"{pct:.1f} % of FMA peak" if pct is not None else ""
    if "bytes_per_second" in row:
        return f"{row['bytes_per_second'] / 1e9:.1f} GB/s", f"{pct:.1f} % of DRAM read" if pct is not None else ""
    return "", ""


def extra(name, row, per_token):
    """Time per token: the row's own counter, or (for cases that ask) the time divided by its N."""
    if "ns_per_token" in row:
        return f"{row['ns_per_token'] / 1e3:.2f} us/token"
    if "us_per_token" in row:
        return f"{row['us_per_token']:.0f} us/token"
    n = re.search(r"/N:(\d+)/", name)
    if per_token and n:
        return f"{seconds(row) / int(n.group(1)) * 1e6:.2f} us/token"
    return ""


def natural_key(name):
    """BM_X/N:512/... before BM_X/N:4096/...: numbers compare as numbers."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def machine_lines(context, limits):
    cpu = context.get("cpu_model", "unknown CPU")
    lines = [
        f"- CPU: {cpu}, {context.get('num_cpus', '?')} logical CPUs; date {context.get('date', '?')}",
        f"- attnkit compiled for **{context.get('compiled_isa', '?')}**; "
        f"this CPU's best: {context.get('cpu_best_isa', '?')}",
    ]
    for t in ("1t", "2t"):
        peak, dram = limits.get(f"fp32_fma_peak_gflops_{t}"), limits.get(f"dram_read_gbps_{t}")
        l2 = context.get(f"l2_read_gbps_{t}")
        bf16 = context.get(f"bf16_dot_peak_gflops_{t}")
        if peak:
            lines.append(f"- limits, {t[0]} thread(s): FP32 FMA peak {peak:.1f} GFLOP/s" +
                         (f", DRAM read {dram:.1f} GB/s" if dram else "") +
                         ", each the best reading of its probe over the run's cases (every percentage below "
                         "uses them: a probe that another tenant disturbed reads low)" +
                         (f"; the first case also probed BF16 dot products at {bf16} GFLOP/s" if bf16 else "") +
                         (f"; L2 read {l2} GB/s in the first case" if l2 else ""))
    if "bf16_dot_peak" in context and not context.get("bf16_dot_peak_gflops_1t"):
        lines.append(f"- BF16 dot-product peak: {context['bf16_dot_peak']} (no AVX512_BF16 on this CPU or in "
                     "this build)")
    return lines


def isa_warning(context):
    compiled, best = context.get("compiled_isa"), context.get("cpu_best_isa")
    if compiled and best and compiled != best:
        return (f"> **WARNING: this binary was compiled for {compiled} but the CPU has {best}.** Its figures "
                f"understate attnkit on this machine; rebuild with -march=native (the native preset).\n")
    return ""


def comparator_pairs(case):
    """A case's (pattern, replacement) pairs: its comparator is one pair or a tuple of them."""
    if not case.comparator:
        return ()
    return (case.comparator,) if isinstance(case.comparator[0], str) else case.comparator


def comparator_label(name, other):
    """The comparator's family, or, within one family, the parts of its name that differ (e.g. Hkv:32)."""
    family, other_family = name.split("/")[0], other.split("/")[0]
    if family != other_family:
        return other_family
    mine = set(name.split("/"))
    return other_family + " " + "/".join(part for part in other.split("/")[1:] if part not in mine)


def case_section(case, data, limits):
    rows = median_rows(data)
    out = [f"## {case.title}", "", f"Beside: {case.paper}: {case.paper_figure}.", ""]
    out += [f"{note}" for note in case.notes] + ([""] if case.notes else [])
    header = "| benchmark | time | throughput | % of limit | per token | time / comparator |"
    out += [header, "|---|---|---|---|---|---|"]
    for name, row in sorted(rows.items(), key=lambda item: natural_key(item[0])):
        rate, share = speed(name, row, limits)
        ratio = ""
        for pattern, replacement in comparator_pairs(case):
            other = re.sub(pattern, replacement, name)
            if other != name and other in rows:
                ratio = f"{seconds(row) / seconds(rows[other]):.2f} ({comparator_label(name, other)})"
                break
        out.append(f"| `{name}` | {fmt_time(seconds(row))} | {rate} | {share} | {extra(name, row, case.per_token)} | {ratio} |")
    out.append("")
    return out


def fidelity_section(data):
    """Recall and relative error per variant (rows) and needle distance (columns), from attnkit_fidelity."""
    ctx, results = data["context"], data["results"]
    distances = sorted({r["distance"] for r in results})
    variants = list(dict.fromkeys(r["variant"] for r in results))
    cell = {(r["variant"], r["distance"]): r for r in results}
    out = ["## Fidelity: associative recall by needle distance", "",
           "Beside: Zoology (Arora et al., 2023), whose multi-query associative recall (MQAR) task separates "
           "attention from its efficient approximations. Here with no model: random keys and values, each of the "
           f"last {ctx['probes']} of {ctx['seq']} queries is a copy of one earlier key (logit {ctx['needle_logit']} "
           f"after scaling, D = {ctx['dim']}). Recall: the share of those queries whose output is nearest the "
           "needle's value; in brackets, the mean relative error against dense causal softmax.", "",
           "| variant | " + " | ".join(f"distance {d}" for d in distances) + " |",
           "|---|" + "---|" * len(distances)]
    for v in variants:
        cells = [f"{cell[(v, d)]['recall']:.2f} ({cell[(v, d)]['rel_error']:.2f})" if (v, d) in cell else ""
                 for d in distances]
        out.append(f"| {v} | " + " | ".join(cells) + " |")
    out.append("")
    return out


# Peer case family -> the attnkit_bench family it is timed against (the rest of the names is the same).
PEER_COUNTERPARTS = {
    "torch_sdpa": "BM_Softmax",
    "flex_causal": "BM_Softmax",
    "flex_window": "BM_SlidingWindow",
    "flex_alibi": "BM_Alibi",
    "flex_softcap": "BM_Softcap",
    "ggml_fa": "BM_Softmax",
    "ggml_fa_f16kv": "BM_Softmax",
    "ggml_decode": "BM_Decode",
    "ggml_decode_f16kv": "BM_Decode",
}


def peer_label(context):
    """Which peer and version wrote a peers/*.json: torch's scripts record torch_version, ggml's `peer`."""
    if "peer" in context:
        return context["peer"]
    return f"torch {context.get('torch_version', '?')}"


def peer_rate(peer):
    if "gbps" in peer:
        return f"{peer['gbps']:.1f} GB/s"
    if "gflops" in peer:
        return f"{peer['gflops']:.1f} GFLOP/s"
    return ""


def peers_section(results, rows):
    """attnkit against the peers of bench/peers/ timed in the same run (RESULTS_DIR/peers/*.json)."""
    files = sorted((results / "peers").glob("*.json"))
    if not files:
        return ["## Peers", "", "Not run: `scripts/run_bench.sh --peers` times PyTorch's SDPA and flex_attention "
                "and llama.cpp's ggml_flash_attn_ext on the same shapes (see bench/peers/README.md).", ""]
    out = ["## Peers, same run", "",
           "Each peer row beside the attnkit row of the same shape and thread count; ratio below 1: attnkit faster. "
           "attnkit's K/V are fp32 throughout: the `_f16kv` rows (llama.cpp's default cache type) read half "
           "the bytes attnkit reads.",
           "", "| peer case | peer | peer time | peer rate | attnkit time | attnkit / peer |", "|---|---|---|---|---|---|"]
    for path in files:
        data = json.loads(path.read_text())
        label = peer_label(data.get("context", {}))
        for peer in data.get("benchmarks", []):
            family, _, rest = peer["name"].partition("/")
            mine = rows.get(f"{PEER_COUNTERPARTS.get(family, '?')}/{rest}")
            ratio = f"{seconds(mine) / (peer['ms'] * 1e-3):.2f}" if mine else "(attnkit case not run)"
            mine_time = fmt_time(seconds(mine)) if mine else ""
            out.append(f"| `{peer['name']}` | {label} | {fmt_time(peer['ms'] * 1e-3)} | {peer_rate(peer)} | "
                       f"{mine_time} | {ratio} |")
    out.append("")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path)
    ap.add_argument("--out", type=Path, help="default: RESULTS_DIR/report.md (plots are linked relative to it)")
    ap.add_argument("--command", default="scripts/run_bench.sh", help="the command that produced the results")
    args = ap.parse_args()

    ran = [(case, json.loads((args.results / f"{case.key}.json").read_text())) for case in CASES
           if (args.results / f"{case.key}.json").exists()]
    limits = best_limits(data.get("context", {}) for _, data in ran)
    sections, context, all_rows = [], None, {}
    for case, data in ran:
        context = context or data.get("context", {})
        sections += case_section(case, data, limits)
        for name, row in median_rows(data).items():  # a comparator rerun by a later case: the first is shown
            all_rows.setdefault(name, row)
    sections += peers_section(args.results, all_rows)
    fidelity = args.results / "fidelity.json"
    if fidelity.exists():
        sections += fidelity_section(json.loads(fidelity.read_text()))
    if context is None:
        sys.exit(f"report.py: no case JSON in {args.results}")

    out = args.out or args.results / "report.md"
    head = ["# attnkit benchmark report", "", f"Produced by `{args.command}`.", ""]
    head += machine_lines(context, limits)
    if out.resolve().parent != args.results.resolve():  # a copy elsewhere: say where the raw results are
        where = Path(os.path.relpath(args.results, out.parent)).as_posix()
        head.append(f"- the JSON of every case, the peers' and the plots: [{where}/]({where}/)")
    head.append("")
    warning = isa_warning(context)
    # Linked from wherever the report goes (docs/benchmarks.md is a copy beside docs/data/<run>/).
    plots = [f"![{png.stem}]({Path(os.path.relpath(png, out.parent)).as_posix()})"
             for png in sorted(args.results.glob("*.png"))]
    text = "\n".join(head + ([warning] if warning else []) + plots + [""] + sections)
    out.write_text(text)
    print(f"report.py: wrote {out}")


if __name__ == "__main__":
    main()
