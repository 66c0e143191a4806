#pragma once
/// \file
/// Linear attention as a recurrence ("Transformers are RNNs", Katharopoulos et al. 2020): the state of each
/// (batch, query head) is S = sum_j lambda^(t - 1 - j) phi(k_j)^T v_j [D, Dv] and z = the same sum of
/// phi(k_j) [D] over the t tokens seen. `prefill` runs the chunked kernel over a prompt and returns the state
/// (or continues one); `step` adds one token per call in O(D Dv). A prompt cut into pieces and continued
/// token by token gives the outputs of one causal call over the whole sequence (up to fp32 rounding).

#include "attnkit/attention.hpp"
#include "attnkit/kernels/linear_kernel.hpp"
#include "attnkit/kernels/parallel_for.hpp"
#include "attnkit/kv/strided_kv.hpp"
#include "attnkit/options.hpp"
#include "attnkit/policies/causal.hpp"
#include "attnkit/policies/linear.hpp"
#include "attnkit/tensor_view.hpp"
#include "attnkit/validate.hpp"

#include "attnkit/arch/simd_compat.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace attnkit {

/// The recurrent state of causal linear attention for B x Hq heads: S [B, Hq, D, Dv] and z [B, Hq, D] in
/// fp32, densely packed, and the number of tokens absorbed. States over disjoint keys measured at the
/// same position add (SEMANTICS.md, "Merging partial results"): `kv()` and `key_sum()` are plain arrays.
class linear_state {
public:
  linear_state() = default;
  /// An empty state (no token yet) for `batch` x `q_heads` heads of dims D = `qk_dim`, Dv = `v_dim`.
  linear_state(std::int64_t batch, std::int64_t q_heads, std::int64_t qk_dim, std::int64_t v_dim)
      : batch_(check(batch, "batch", 0)), q_heads_(check(q_heads, "q_heads", 1)),
        qk_dim_(check(qk_dim, "qk_dim", 1)), v_dim_(check(v_dim, "v_dim", 1)),
        kv_(static_cast<std::size_t>(batch * q_heads * qk_dim * v_dim), 0.0f),
        key_sum_(static_cast<std::size_t>(batch * q_heads * qk_dim), 0.0f) {}

  std::int64_t batch() const noexcept { return batch_; }
  std::int64_t q_heads() const noexcept { return q_heads_; }
  std::int64_t qk_dim() const noexcept { return qk_dim_; }
  std::int64_t v_dim() const noexcept { return v_dim_; }
  /// Tokens absorbed so far; the next token sits at this position.
  std::int64_t position() const noexcept { return position_; }

  /// S as a [B, Hq, D, Dv] view.
  tensor_view<float> kv() noexcept { return bhsd(kv_.data(), batch_, q_heads_, qk_dim_, v_dim_); }
  tensor_view<float const> kv() const noexcept { return bhsd(kv_.data(), batch_, q_heads_, qk_dim_, v_dim_); }
  /// z as a [B, Hq, D] view.
  tensor_view<float, 3> key_sum() noexcept { return bhs(key_sum_.data(), batch_, q_heads_, qk_dim_); }
  tensor_view<float const, 3> key_sum() const noexcept {
    return bhs(key_sum_.data(), batch_, q_heads_, qk_dim_);
  }

  /// Internal: the kernel's view of this state, and the position update after a call.
  detail::linear_state_ref ref() noexcept { return {kv_.data(), key_sum_.data(), position_ == 0}; }
  void advance(std::int64_t tokens) noexcept { position_ += tokens; }

private:
  static std::int64_t check(std::int64_t value, char const* name, std::int64_t least) {
    if (value < least)
      detail::policy_error("linear_state", std::string(name) + " = " + std::to_string(value) +
                                               " must be >= " + std::to_string(least));
    return value;
  }

  std::int64_t batch_ = 0, q_heads_ = 0, qk_dim_ = 0, v_dim_ = 0, position_ = 0;
  std::vector<float> kv_;
  std::vector<float> key_sum_;
};

namespace detail {

/// The checks every recurrent entry point shares: the views, Sq = Sk (new tokens attend to themselves and
/// to the state), the state's sizes, the normaliser's own data.
template <class FeatureMap>
void validate_recurrent_call(linear<FeatureMap> const& normaliser, linear_state const& state,
                             tensor_view<float const> const& q, tensor_view<float const> const& k,
                             tensor_view<float const> const& v, tensor_view<float> const& o) {
  validate_attention_args(q, k, v, o, {});
  check_equal(k.extent(2), q.extent(2), dim_label("k", 2),
              {"q", 2, true, " (a linear_state call appends Sq = Sk tokens)"});
  check_equal(state.batch(), q.extent(0), "state.batch()", dim_label("q", 0));
  check_equal(state.q_heads(), q.extent(1), "state.q_heads()", dim_label("q", 1));
  check_equal(state.qk_dim(), q.extent(3), "state.qk_dim()", dim_label("q", 3));
  check_equal(state.v_dim(), v.extent(3), "state.v_dim()", dim_label("v", 3));
  normaliser.validate(call_shape{.batch = q.extent(0),
                                 .q_heads = q.extent(1),
                                 .kv_heads = k.extent(1),
                                 .q_len = q.extent(2),
                                 .key_len = k.extent(2),
                                 .qk_dim = q.extent(3),
                                 .v_dim = v.extent(3)});
}

} // namespace detail

/// Appends the Sq = Sk tokens of q [B, Hq, n, D], k [B, Hkv, n, D], v [B, Hkv, n, Dv] to `state` with the
/// chunked causal kernel, writing their outputs to o [B, Hq, n, Dv]. Token i attends to every earlier token
/// and to itself. Throws std::invalid_argument on bad views or a state of other sizes.
template <class Arch = xsimd::default_arch, class FeatureMap>
void prefill(attention<linear<FeatureMap>, causal> const& attn, linear_state& state,
             tensor_view<float const> q, tensor_view<float const> k, tensor_view<float const> v,
             tensor_view<float> o, run_options run = {}) {
  detail::validate_recurrent_call(attn.normaliser(), state, q, k, v, o);
  if (run.threads < 0)
    detail::fail("run_options.threads must be >= 0, got " + std::to_string(run.threads));
  strided_kv const kv{k, v};
  detail::attention_problem const problem{.q = q,
                                          .kv = detail::kv_reader(kv),
                                          .o = o,
                                          .lse = {},
                                          .scale = 1.0f,
                                          .position_offset = 0,
                                          .threads = detail::resolve_thread_count(run.threads)};
  detail::linear_kernel<Arch, linear<FeatureMap>, causal>::run_with_state(problem, attn.normaliser(),
                                                                          state.ref());
  state.advance(q.extent(2));
}

/// The state after the prompt q, k, v (outputs in o): a fresh state, then prefill.
template <class Arch = xsimd::default_arch, class FeatureMap>
linear_state prefill(attention<linear<FeatureMap>, causal> const& attn, tensor_view<float const> q,
                     tensor_view<float const> k, tensor_view<float const> v, tensor_view<float> o,
                     run_options run = {}) {
  linear_state state(q.extent(0), q.extent(1), q.extent(3), v.extent(3));
  prefill<Arch>(attn, state, q, k, v, o, run);
  return state;
}

/// One token: q [B, Hq, 1, D], k [B, Hkv, 1, D], v [B, Hkv, 1, Dv], o [B, Hq, 1, Dv]. The recurrence itself,
/// O(D Dv) per head: S = lambda S + phi(k)^T v, z = lambda z + phi(k), o = phi(q) S / (phi(q).z + eps).
template <class Arch = xsimd::default_arch, class FeatureMap>
void step(attention<linear<FeatureMap>, causal> const& attn, linear_state& state, tensor_view<float const> q,
          tensor_view<float const> k, tensor_view<float const> v, tensor_view<float> o,
          run_options run = {}) {
  detail::validate_recurrent_call(attn.normaliser(), state, q, k, v, o);
  if (q.extent(2) != 1)
    detail::fail("step takes one token: q.extent(2) (seq) = " + std::to_string(q.extent(2)) +
                 " must be 1; use prefill for several");
  if (run.threads < 0)
    detail::fail("run_options.threads must be >= 0, got " + std::to_string(run.threads));
  auto const& normaliser = attn.normaliser();
  std::int64_t const batch = q.extent(0), heads = q.extent(1), dim = q.extent(3), v_dim = v.extent(3);
  std::int64_t const group = heads / k.extent(1);
  float* const kv = state.kv().data();
  float* const key_sum = state.key_sum().data();
  // One token costs D Dv per head: below about a MiB of state, starting threads costs more than it saves.
  std::int64_t const heads_total = batch * heads;
  bool const worth_threads = heads_total * dim * v_dim >= (std::int64_t{1} << 18);
  int const threads =
      worth_threads
          ? static_cast<int>(std::min<std::int64_t>(detail::resolve_thread_count(run.threads), heads_total))
          : 1;
  std::vector<std::vector<float>> rows(static_cast<std::size_t>(threads),
                                       std::vector<float>(static_cast<std::size_t>(2 * dim)));
  detail::parallel_for(heads_total, threads, [&](std::int64_t item, int thread) noexcept {
    std::int64_t const b = item / heads, h = item % heads, kv_head = h / group;
    float* phi_q = rows[static_cast<std::size_t>(thread)].data();
    float* phi_k = phi_q + dim;
    for (std::int64_t d = 0; d < dim; ++d) {
      phi_q[d] = q(b, h, 0, d);
      phi_k[d] = k(b, kv_head, 0, d);
    }
    normaliser.feature_map().template map_row<Arch>(phi_q, dim);
    normaliser.feature_map().template map_row<Arch>(phi_k, dim);
    float const lambda = normaliser.decay_for(h);
    float* s = kv + item * dim * v_dim;
    float* z = key_sum + item * dim;
    // ---- S = lambda S + phi(k)^T v, z = lambda z + phi(k) ----
    for (std::int64_t d = 0; d < dim; ++d) {
      float* s_row = s + d * v_dim;
      if (lambda != 1.0f) {
        z[d] *= lambda;
        for (std::int64_t e = 0; e < v_dim; ++e)
          s_row[e] *= lambda;
      }
      z[d] += phi_k[d];
      for (std::int64_t e = 0; e < v_dim; ++e)
        s_row[e] += phi_k[d] * v(b, kv_head, 0, e);
    }
    // ---- o = phi(q) S / (phi(q).z + eps) ----
    float den = 0.0f;
    for (std::int64_t d = 0; d < dim; ++d)
      den += phi_q[d] * z[d];
    float const inv = normaliser.normalised() ? 1.0f / (den + normaliser.eps()) : 1.0f;
    for (std::int64_t e = 0; e < v_dim; ++e) {
      float num = 0.0f;
      for (std::int64_t d = 0; d < dim; ++d)
        num += phi_q[d] * s[d * v_dim + e];
      o(b, h, 0, e) = num * inv;
    }
  });
  state.advance(1);
}

} // namespace attnkit
