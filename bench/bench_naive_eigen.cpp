/// \file
/// BM_NaiveEigen: the hand-written baseline every fused kernel must beat. Per head it materialises the
/// N x N score matrix with Eigen's own GEMM, applies a row softmax, then multiplies by V: what users
/// write first, and what Eigen 3.4's multi-threaded SGEMM makes of it.

#include "bench_common.hpp"

#include <Eigen/Core>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace attnkit_bench {
namespace {

using row_matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using const_map = Eigen::Map<row_matrix const>;
using mut_map = Eigen::Map<row_matrix>;

/// Softmax of every row of `scores` in place; with `causal`, row i first masks keys j > i to -inf.
void softmax_rows(row_matrix& scores, bool causal, int threads) {
  auto const n = scores.rows();
  auto const cols = scores.cols();
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads)
#else
  (void)threads;
#endif
  for (Eigen::Index i = 0; i < n; ++i) {
    auto row = scores.row(i);
    if (causal && i + 1 < cols)
      row.tail(cols - i - 1).setConstant(-std::numeric_limits<float>::infinity());
    float const row_max = row.maxCoeff();
    row = (row.array() - row_max).exp().matrix();
    row *= 1.0f / row.sum();
  }
}

/// O = softmax(scale Q K^T [+ causal mask]) V for every head; `scores` is an N x N scratch matrix.
void naive_attention(attention_inputs const& in, float* out, attention_case const& c, row_matrix& scores) {
  float const scale = 1.0f / std::sqrt(static_cast<float>(c.d));
  std::int64_t const head_size = c.n * c.d;
  for (std::int64_t h = 0; h < batch * heads; ++h) {
    const_map const q(in.q.data() + h * head_size, c.n, c.d); // [N, D]
    const_map const k(in.k.data() + h * head_size, c.n, c.d); // [N, D]
    const_map const v(in.v.data() + h * head_size, c.n, c.d); // [N, D]
    mut_map o(out + h * head_size, c.n, c.d);                 // [N, D]
    scores.noalias() = (scale * q) * k.transpose();           // [N, N]; the scale folds into the GEMM's alpha
    softmax_rows(scores, c.causal, c.threads);
    o.noalias() = scores * v;
  }
}

void BM_NaiveEigen(benchmark::State& state) {
  auto const c = attention_case::from(state);
  attention_inputs const& in = inputs_for(c);
  std::vector<float> out(static_cast<std::size_t>(c.elements()), 0.0f); // touched before timing
  row_matrix scores = row_matrix::Zero(c.n, c.n);                       // touched before timing
  int const eigen_threads = Eigen::nbThreads();
  Eigen::setNbThreads(c.threads);

  loop_timer const timer;
  for (auto _ : state) {
    naive_attention(in, out.data(), c, scores);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_flop_counters(state, c, timer.seconds());
  Eigen::setNbThreads(eigen_threads);
}

BENCHMARK(BM_NaiveEigen)->Apply(attention_args);

} // namespace
} // namespace attnkit_bench
