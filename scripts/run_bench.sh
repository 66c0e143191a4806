#!/usr/bin/env bash
# The attnkit benchmark suite: builds attnkit_bench (the native preset: Release, -march=native), runs every
# case of bench/suite/cases.py with Google Benchmark (one run and one JSON per case, the machine probed at the
# start of each), then writes a Markdown report beside the JSON.
#
# Usage: scripts/run_bench.sh [--quick | --full] [--out DIR] [--only KEY[,KEY...]] [attnkit_bench flags...]
#   --quick   each case's small grid, a few minutes in all (the default)
#   --full    each case's whole grid, about 27 minutes on a 2-core Zen 3 (34 with --peers)
#   --out     where the JSON files and report.md go (default: bench-results/)
#   --only    run only these cases (keys: python3 bench/suite/cases.py quick | cut -f1)
#   --peers   also time the peers of bench/peers/ (PyTorch SDPA and flex_attention, llama.cpp's
#             ggml_flash_attn_ext) on the same shapes and threads, installing torch into a virtual environment
#             (build/peers-venv) if it is not there and building ggml from its PyPI source under build/;
#             ATTNKIT_PEERS_PYTHON=/path/to/python uses an interpreter that already has torch instead
#   Other flags go to every attnkit_bench run after the defaults (3 repetitions in random order, medians
#   reported), so they override them: e.g. --benchmark_repetitions=8.
# Needs python3 (3.8 or later, standard library only) for the case list and the report; the plots use Debian's
# /usr/bin/python3 with python3-matplotlib, which the script installs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

mode=quick
out=bench-results
only=""
peers=0
# The machines this runs on are shared and noisy: medians of interleaved repetitions.
bench_flags=(--benchmark_repetitions=3 --benchmark_enable_random_interleaving=true
  --benchmark_report_aggregates_only=true)
while (($# > 0)); do
  case "$1" in
    --quick) mode=quick ;;
    --full) mode=full ;;
    --out) out=$2; shift ;;
    --out=*) out=${1#--out=} ;;
    --only) only=$2; shift ;;
    --only=*) only=${1#--only=} ;;
    --peers) peers=1 ;;
    -h | --help)
      # The header comment, up to the first line that is not one.
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *) bench_flags+=("$1") ;;
  esac
  shift
done

scripts/install_deps.sh python3-matplotlib
cmake --preset native >/dev/null
cmake --build --preset native --target attnkit_bench attnkit_fidelity

mkdir -p "$out"
mapfile -t cases < <(python3 bench/suite/cases.py "$mode")
if [[ -n $only ]]; then
  selected=()
  for line in "${cases[@]}"; do
    [[ ",$only," == *",${line%%$'\t'*},"* ]] && selected+=("$line")
  done
  cases=("${selected[@]}")
fi
((${#cases[@]} > 0)) || { echo "run_bench.sh: no case matches --only $only" >&2; exit 2; }

start=$SECONDS
for i in "${!cases[@]}"; do
  IFS=$'\t' read -r key filter title <<<"${cases[$i]}"
  elapsed=$((SECONDS - start))
  printf '\n[%d/%d] %s (%s, %d:%02d elapsed)\n' $((i + 1)) ${#cases[@]} "$title" "$key" \
    $((elapsed / 60)) $((elapsed % 60))
  build/native/bench/attnkit_bench --benchmark_filter="$filter" --benchmark_out="$out/$key.json" \
    --benchmark_out_format=json "${bench_flags[@]}"
done

# Debian's interpreter for the plots: it sees python3-matplotlib where a pyenv python3 may not.
printf '\n[fidelity] associative recall by needle distance, every variant (attnkit_fidelity, a few seconds)\n'
build/native/bench/attnkit_fidelity --out "$out/fidelity.json"

if ((peers)); then
  peers_python=${ATTNKIT_PEERS_PYTHON:-}
  if [[ -z $peers_python ]]; then
    # Never the system Python: a virtual environment under build/, made once.
    venv=build/peers-venv
    if [[ ! -x $venv/bin/python ]]; then
      python3 -m venv "$venv" 2>/dev/null || { scripts/install_deps.sh python3-venv && /usr/bin/python3 -m venv "$venv"; }
    fi
    if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
      echo "run_bench.sh: installing torch into $venv (CPU wheel where download.pytorch.org is reachable)"
      "$venv/bin/pip" install --quiet torch --index-url https://download.pytorch.org/whl/cpu ||
        "$venv/bin/pip" install --quiet torch
    fi
    peers_python=$venv/bin/python
  fi
  mkdir -p "$out/peers"
  sdpa_filter='N:(1024|4096)/D:(64|128)/' flex_filter='flex_causal/N:(1024|4096)/|flex_(alibi|softcap)/N:4096/D:64/|flex_window'
  # --full: every shape, on 1 and 2 threads (the quick run: 2 threads, the shapes the quick cases have).
  peer_threads=2
  [[ $mode == full ]] && sdpa_filter='.' flex_filter='.' peer_threads=1,2
  printf '\n[peers] PyTorch SDPA and flex_attention, %s thread(s) (flex compiles each case first)\n' "$peer_threads"
  "$peers_python" bench/peers/torch_sdpa.py --threads "$peer_threads" --filter "$sdpa_filter" \
    --out "$out/peers/torch_sdpa.json" || echo "run_bench.sh: torch_sdpa.py failed; the report goes on without it"
  "$peers_python" bench/peers/torch_flex.py --threads "$peer_threads" --filter "$flex_filter" \
    --out "$out/peers/torch_flex.json" || echo "run_bench.sh: torch_flex.py failed; the report goes on without it"
  ggml_filter='^ggml_fa(_f16kv)?/N:(1024|4096)/D:(64|128)/|^ggml_decode(_f16kv)?/Sk:(16384|65536)/'
  [[ $mode == full ]] && ggml_filter='.'
  printf '\n[peers] llama.cpp ggml_flash_attn_ext, fp32 and f16 K/V, %s thread(s) (ggml built once from PyPI source)\n' \
    "$peer_threads"
  if ggml_peer=$(bench/peers/build_ggml.sh "$peers_python" | tail -n 1); then
    "$ggml_peer" --threads "$peer_threads" --filter "$ggml_filter" --out "$out/peers/ggml.json" ||
      echo "run_bench.sh: the ggml peer failed; the report goes on without it"
  else
    echo "run_bench.sh: the ggml peer did not build (logs in build/peers-ggml/); the report goes on without it"
  fi
fi

/usr/bin/python3 bench/suite/plots.py "$out" || echo "run_bench.sh: no plots (see above); the report follows"
python3 bench/suite/report.py "$out" --command "scripts/run_bench.sh --$mode"
elapsed=$((SECONDS - start))
printf 'run_bench.sh: %d cases in %d:%02d; report: %s/report.md\n' ${#cases[@]} $((elapsed / 60)) \
  $((elapsed % 60)) "$out"
