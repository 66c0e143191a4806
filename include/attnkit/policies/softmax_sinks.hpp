#pragma once
/// \file
/// Softmax with learned attention sinks (gpt-oss; "Efficient Streaming Language Models with Attention
/// Sinks"; "When Attention Sink Emerges") and its zero-logit case, softmax1 ("off by one").

#include "attnkit/policies/call_shape.hpp"
#include "attnkit/policies/kernel_family.hpp"
#include "attnkit/policies/policy_error.hpp"
#include "attnkit/policies/query_block.hpp"
#include "attnkit/policies/row_result.hpp"
#include "attnkit/policies/softmax.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace attnkit {

/// w_ij = exp(s_ij) / (exp(sigma_h) + sum_j exp(s_ij)) over the visible keys (SEMANTICS.md): one sink
/// logit sigma_h per query head joins the denominator only. It is not multiplied by the scale and has no
/// value vector. LSE_i = log(exp(sigma_h) + sum_j exp(s_ij)), so a row that sees nothing gives output 0 and
/// LSE = sigma_h. The sink enters once per row, in `finish_row`, however the keys were split into tiles.
class softmax_sinks {
public:
  using kernel_family = tiled_scores_family;
  static constexpr bool has_lse = true;
  using row_state = softmax::row_state;

  /// One sink logit per query head. Each must be finite or -inf (no sink for that head); a call with a
  /// different number of query heads is rejected.
  explicit softmax_sinks(std::vector<float> logits) : logits_(std::move(logits)) {
    if (logits_.empty())
      detail::policy_error("softmax_sinks", "logits is empty: give one sink logit per query head");
    for (std::size_t h = 0; h < logits_.size(); ++h)
      check_logit(logits_[h], "logits[" + std::to_string(h) + "]");
  }

  /// The same sink logit for every query head, whatever Hq is.
  static softmax_sinks uniform(float logit) {
    check_logit(logit, "logit");
    return softmax_sinks(uniform_tag{}, logit);
  }

  /// The logits given to the per-head constructor, or the single uniform logit.
  std::vector<float> const& logits() const noexcept { return logits_; }
  bool is_uniform() const noexcept { return uniform_; }
  /// sigma_h of query head `head`.
  float logit(std::int64_t head) const noexcept {
    return uniform_ ? logits_.front() : logits_[static_cast<std::size_t>(head)];
  }

  void validate(call_shape const& s) const {
    if (!uniform_ && static_cast<std::int64_t>(logits_.size()) != s.q_heads)
      detail::policy_error("softmax_sinks",
                           std::to_string(logits_.size()) + " sink logits given but the call has Hq = " +
                               std::to_string(s.q_heads) + " query heads (one logit per query head)");
  }

  /// Exactly softmax's online update: the sink does not take part until the row is finished.
  template <class Arch>
  float weigh_row(query_block const& b, row_state& state, float* scores, std::int64_t n) const noexcept {
    return softmax{}.weigh_row<Arch>(b, state, scores, n);
  }

  /// Partial rows merge as softmax's do; the sink joins once, when the merged row is finished.
  merge_factors merge_rows(row_state& into, row_state const& from) const noexcept {
    return softmax{}.merge_rows(into, from);
  }

  /// With m the running max and l = sum exp(s - m): M = max(m, sigma), d = l exp(m - M) + exp(sigma - M);
  /// the output is scaled by exp(m - M) / d and LSE = M + log(d). Nothing overflows for any finite sigma.
  template <class Arch>
  row_result finish_row(query_block const& b, std::int64_t, row_state const& state) const noexcept {
    float const sigma = logit(b.head);
    if (state.sum == 0.0f) // no visible key: only the sink is in the denominator
      return {0.0f, sigma};
    float const top = std::max(state.max, sigma);
    float const kept = std::exp(state.max - top);
    float const denominator = state.sum * kept + std::exp(sigma - top);
    return {kept / denominator, top + std::log(denominator)};
  }

private:
  struct uniform_tag {}; // so that softmax_sinks({x}) is always the per-head list of one logit
  softmax_sinks(uniform_tag, float logit) : logits_{logit}, uniform_(true) {}

  static void check_logit(float logit, std::string const& name) {
    if (std::isnan(logit) || logit == std::numeric_limits<float>::infinity())
      detail::policy_error("softmax_sinks",
                           name + " = " + std::to_string(logit) + " must be finite or -inf (no sink)");
  }

  std::vector<float> logits_;
  bool uniform_ = false;
};

/// softmax1 ("Attention Is Off By One"): a zero sink logit for every head, w_ij = exp(s_ij) / (1 + sum_j
/// exp(s_ij)), so a row may give (almost) no weight to any key.
struct softmax1 : softmax_sinks {
  softmax1() : softmax_sinks(uniform(0.0f)) {}
};

} // namespace attnkit
