/// \file
/// BM_LinearCausal: causal linear attention (elu + 1, normalised, chunks of 64) over N, the chunked kernel of
/// kernels/linear_kernel.hpp. Its cost per token does not depend on N; BM_Softmax's causal cases at the same
/// N show where it overtakes softmax.

#include "time_attention.hpp"

#include <cstdint>
#include <vector>

namespace attnkit_bench {
namespace {

/// Keys per chunk of the timed kernel (linear_options' default).
inline constexpr std::int64_t linear_chunk = 64;

/// FLOPs of one call of the chunked algorithm, per (batch, head) and per chunk of C tokens (D = Dv = d):
///   intra-chunk scores phi(Q_c) phi(K_c)^T over the causal triangle:  C (C + 1) / 2 * 2 D
///   intra-chunk output (masked scores) V_c over the same triangle:     C (C + 1) / 2 * 2 Dv
///   inter-chunk output phi(Q_c) S:                                      C * 2 D Dv
///   state update S += phi(K_c)^T V_c:                                   C * 2 D Dv
/// so per token (C + 1) (D + Dv) + 4 D Dv, times N B H. The feature maps, denominators and the strip padding
/// of the triangle (the kernel computes whole 32-key panels) are not counted.
double linear_causal_flops(std::int64_t n, std::int64_t d) {
  double const per_token = static_cast<double>(linear_chunk + 1) * static_cast<double>(2 * d) +
                           4.0 * static_cast<double>(d) * static_cast<double>(d);
  return per_token * static_cast<double>(n) * static_cast<double>(heads * batch);
}

void BM_LinearCausal(benchmark::State& state) {
  attention_case const c{
      .n = state.range(0), .d = state.range(1), .causal = true, .threads = static_cast<int>(state.range(2))};
  attnkit::attention<attnkit::linear<attnkit::elu1>, attnkit::causal> const attn{};
  double const seconds = time_attention(state, c, attn, linear_causal_flops(c.n, c.d));
  // Wall time of one call per token (all B x H heads): flat in N is the point of the chunked form.
  state.counters["ns_per_token"] =
      benchmark::Counter(state.iterations() > 0 ? 1e9 * seconds / static_cast<double>(state.iterations()) /
                                                      static_cast<double>(c.n)
                                                : 0.0);
}

BENCHMARK(BM_LinearCausal)
    ->ArgNames({"N", "D", "threads"})
    ->ArgsProduct({{1024, 4096, 16384, 65536}, {64, 128}, {2}})
    ->Unit(benchmark::kMillisecond);

} // namespace
} // namespace attnkit_bench
