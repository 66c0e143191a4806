"""The benchmark suite's cases: the one place that says what `scripts/run_bench.sh` runs and what each result
is set beside. Each case is one run of attnkit_bench (one JSON file), so every ratio in the report compares
two rows timed in the same run.

A case's comparator turns the name of one of its rows into the name of the row it is compared with (a regular
expression substitution); the report divides the row's time by the comparator's. Rows whose comparator is not
in the run get no ratio.
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Case:
    key: str  # file name of the case's JSON
    title: str
    paper: str  # the paper (or model card) the case comes from
    paper_figure: str  # what the paper reports, to set beside our figures
    quick: str  # Google Benchmark filter of the default run (a few minutes in all)
    full: str  # filter of --full (about 27 minutes in all on a 2-core Zen 3, 34 with the peers)
    # (pattern, replacement) from a row's name to its comparator's, or several such pairs: the first that
    # names a row of the run is used.
    comparator: tuple = ()
    per_token: bool = False  # report time per token (time / N) for rows without such a counter
    notes: list = field(default_factory=list)


SOFTMAX_SAME_ARGS = (r"^BM_\w+/(N:\d+/D:\d+/causal:\d/threads:\d+)$", r"BM_Softmax/\1")

CASES = [
    Case(
        key="softmax",
        title="Softmax prefill against a naive Eigen attention",
        paper="FlashAttention-2 (Dao, 2023)",
        paper_figure="forward pass at 50-73 % of an A100's peak FLOP/s",
        quick=r"BM_(Softmax|NaiveEigen)/N:(1024|4096)/D:(64|128)/causal:./threads:2",
        full=r"BM_(Softmax|NaiveEigen)/",
        comparator=(r"^BM_Softmax/(.*)$", r"BM_NaiveEigen/\1"),
    ),
    Case(
        key="sigmoid",
        title="Sigmoid attention against softmax",
        paper="Theory, Analysis, and Best Practices for Sigmoid Self-Attention (FlashSigmoid; Ramapuram et al., 2024)",
        paper_figure="a 17 % kernel speed-up over FlashAttention-2 on an H100",
        quick=r"BM_(Softmax|Sigmoid|ProductsOnly)/N:4096/D:(64|128)/causal:./threads:2",
        full=r"BM_(Softmax|Sigmoid|ProductsOnly)/N:(1024|4096|8192)/",
        comparator=(r"^BM_(Sigmoid|ProductsOnly)/(.*)$", r"BM_Softmax/\2"),
        notes=["BM_ProductsOnly is the same kernel without the element-wise work: softmax time minus its "
               "time is the element-wise share."],
    ),
    Case(
        key="sinks",
        title="Learned sinks (and softmax1) against softmax",
        paper="gpt-oss-120b & gpt-oss-20b Model Card (OpenAI, 2025); Attention Is Off By One (Miller, 2023)",
        paper_figure="one extra logit per head in the denominator: no measurable cost expected",
        quick=r"BM_(Softmax|SoftmaxSinks)/N:4096/D:(64|128)/causal:1/threads:2",
        full=r"BM_(Softmax|SoftmaxSinks)/N:(1024|4096|8192)/",
        comparator=(r"^BM_SoftmaxSinks/(.*)$", r"BM_Softmax/\1"),
    ),
    Case(
        key="linear",
        title="Causal linear attention: time per token over N, and causal softmax at short N",
        paper="Lightning Attention-2 (Qin et al., 2024)",
        paper_figure="constant speed per token whatever the sequence length",
        quick=r"BM_LinearCausal/N:(1024|16384)/|BM_Softmax/N:(512|1024)/D:(64|128)/causal:1/threads:2",
        full=r"BM_LinearCausal/|BM_Softmax/N:(512|1024|2048)/D:(64|128)/causal:1/threads:2",
        per_token=True,
    ),
    Case(
        key="window",
        title="Causal sliding window of W keys against full causal softmax",
        paper="Mistral 7B (Jiang et al., 2023)",
        paper_figure="a window of W keys makes the cost O(N W) instead of O(N^2)",
        quick=r"BM_SlidingWindow/N:(4096|16384)/|BM_Softmax/N:(4096|16384)/D:128/causal:1/threads:2",
        full=r"BM_SlidingWindow/|BM_Softmax/N:(2048|4096|8192|16384)/D:128/causal:1/threads:2",
        comparator=(r"^BM_SlidingWindow/N:(\d+)/D:(\d+)/W:\d+/threads:(\d+)$", r"BM_Softmax/N:\1/D:\2/causal:1/threads:\3"),
    ),
    Case(
        key="block_sparse",
        title="Block-sparse layouts against dense softmax (non-causal, N = 8192, D = 128)",
        paper="FlexAttention (Dong et al., 2024), BlockMask",
        paper_figure="time proportional to the density of listed blocks (ideal speed-up 1 / density)",
        quick=r"BM_BlockSparse/.*density_pct:(50|10)/|BM_Softmax/N:8192/D:128/causal:0/threads:2",
        full=r"BM_BlockSparse/|BM_Softmax/N:8192/D:128/causal:0/threads:2",
        comparator=(r"^BM_BlockSparse/N:(\d+)/D:(\d+)/density_pct:\d+/threads:(\d+)$",
                    r"BM_Softmax/N:\1/D:\2/causal:0/threads:\3"),
    ),
    Case(
        key="moba",
        title="MoBA routing (top-3 of blocks of 512, router included) against causal softmax",
        paper="MoBA: Mixture of Block Attention for Long-Context LLMs (Lu et al., 2025)",
        paper_figure="6.5x faster than full attention at 1M tokens (prefill, GPU)",
        quick=r"BM_Moba/N:8192/|BM_Softmax/N:8192/D:128/causal:1/threads:2",
        full=r"BM_Moba/|BM_Softmax/N:8192/D:128/causal:1/threads:2",
        comparator=(r"^BM_Moba/N:(\d+)/D:(\d+)/block:\d+/topk:\d+/threads:(\d+)$",
                    r"BM_Softmax/N:\1/D:\2/causal:1/threads:\3"),
    ),
    Case(
        key="modifiers",
        title="Score modifiers against plain softmax",
        paper="ALiBi (Press et al., 2022); Gemma 2 (Gemma Team, 2024), logit softcap; T5 relative bias",
        paper_figure="no kernel-cost figure in these papers: the modifiers are a few vector operations per score",
        quick=r"BM_(Softmax|Alibi|Softcap|Bias)/N:4096/D:64/causal:./threads:2",
        full=r"BM_(Softmax|Alibi|Softcap|Bias)/",
        comparator=SOFTMAX_SAME_ARGS,
    ),
    Case(
        key="decode",
        title="Decode: K/V bytes read per second, MHA / GQA / MQA, paged and streaming caches",
        paper="Fast Transformer Decoding: One Write-Head is All You Need (Shazeer, 2019); "
              "PagedAttention (Kwon et al., 2023); StreamingLLM (Xiao et al., 2024)",
        paper_figure="sharing K/V over h heads divides the bytes per step by h; vLLM's paged kernel is "
                     "20-26 % slower than a contiguous one (GPU); StreamingLLM's time per token stays flat",
        quick=r"BM_Decode/Sk:(16384|65536)/.*threads:2|BM_DecodePaged/Sk:(16384|65536)/.*threads:2|"
              r"BM_DecodeStreaming/generated:(4096|65536)/.*threads:2",
        full=r"BM_Decode",
        comparator=((r"^BM_DecodePaged/(.*)$", r"BM_Decode/\1"),
                    # GQA and MQA against MHA (Hkv = Hq) at the same length.
                    (r"^BM_Decode/Sk:(\d+)/Hq:(\d+)/Hkv:\d+/(.*)$", r"BM_Decode/Sk:\1/Hq:\2/Hkv:\2/\3")),
    ),
]


def main():
    """`cases.py quick|full`: one line per case, "key<TAB>filter<TAB>title", for scripts/run_bench.sh."""
    import sys

    mode = sys.argv[1] if len(sys.argv) > 1 else "quick"
    if mode not in ("quick", "full"):
        sys.exit(f"cases.py: mode must be quick or full, got {mode!r}")
    for case in CASES:
        print(f"{case.key}\t{getattr(case, mode)}\t{case.title}")


if __name__ == "__main__":
    main()
