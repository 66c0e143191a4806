#pragma once
/// \file
/// The linear attention normaliser ("Transformers are RNNs", Katharopoulos et al. 2020; the causal kernel
/// follows Lightning Attention-2's chunks): o_i = sum_j phi(q_i).phi(k_j) v_j / (sum_j phi(q_i).phi(k_j) +
/// eps).

#include "attnkit/policies/call_shape.hpp"
#include "attnkit/policies/feature_maps.hpp"
#include "attnkit/policies/kernel_family.hpp"
#include "attnkit/policies/policy_error.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace attnkit {

/// The numbers of linear attention; each is checked by linear's constructor.
struct linear_options {
  /// Divide by sum_j phi(q_i).phi(k_j) + eps; false gives the unnormalised sum (no denominator).
  bool normalise = true;
  /// Added to the denominator; must be finite and >= 0.
  float eps = 1e-6f;
  /// Per query head decay lambda_h in (0, 1]: the term of key j is weighted by lambda_h^(p(i) - j).
  /// Empty means no decay. Only with the causal mask; the call checks that it has Hq values.
  std::vector<float> decay{};
  /// Keys per chunk of the causal kernel (quadratic inside a chunk, a running state across chunks);
  /// 1 .. linear<>::max_chunk (4096).
  /// 64 keeps a chunk's phi(K)^T, V and score tile in L1/L2 at D = 128 and makes the quadratic part
  /// cost about as much as the state products (2 C (D + Dv) against 4 D Dv flops per token).
  std::int64_t chunk = 64;
};

/// Linear attention with feature map `FeatureMap` (elu1, relu, identity_map or your own, see
/// policies/feature_maps.hpp), applied to each row of q and k; no scale. Valid masks: no_mask (the
/// associative form phi(Q) (phi(K)^T V), O(N D Dv)) and causal (chunked). It has no log-sum-exp, and takes no
/// score modifiers. A query row with no visible key gives 0. linear_state.hpp continues a call token by
/// token.
template <class FeatureMap = elu1> class linear {
  static_assert(
      feature_map<FeatureMap>,
      "attnkit::linear: the template argument must be a feature map such as attnkit::elu1 (it "
      "needs a map_row<Arch>(float* row, std::int64_t n) template; see policies/feature_maps.hpp).");

public:
  using kernel_family = linear_family;
  using feature_map_type = FeatureMap;
  static constexpr bool has_lse = false;
  /// Largest chunk: each thread holds a chunk x chunk score tile (64 MiB at 4096).
  static constexpr std::int64_t max_chunk = 4096;

  /// Normalised, eps = 1e-6, no decay, chunks of 64 keys.
  linear() = default;
  /// Throws std::invalid_argument naming the first bad number: eps < 0 or not finite, a decay outside
  /// (0, 1], chunk outside [1, max_chunk].
  explicit linear(linear_options options, FeatureMap phi = {})
      : options_(std::move(options)), phi_(std::move(phi)) {
    if (!(options_.eps >= 0.0f) || !std::isfinite(options_.eps))
      detail::policy_error("linear", "eps = " + std::to_string(options_.eps) + " must be finite and >= 0");
    for (std::size_t h = 0; h < options_.decay.size(); ++h) {
      float const lambda = options_.decay[h];
      if (!(lambda > 0.0f && lambda <= 1.0f))
        detail::policy_error("linear", "decay[" + std::to_string(h) + "] = " + std::to_string(lambda) +
                                           " must be in (0, 1]");
    }
    if (options_.chunk < 1 || options_.chunk > max_chunk)
      detail::policy_error("linear", "chunk = " + std::to_string(options_.chunk) +
                                         " must be >= 1 and <= " + std::to_string(max_chunk));
  }

  bool normalised() const noexcept { return options_.normalise; }
  float eps() const noexcept { return options_.eps; }
  std::int64_t chunk() const noexcept { return options_.chunk; }
  /// The per-head decays; empty when there is none.
  std::span<float const> decay() const noexcept { return options_.decay; }
  bool has_decay() const noexcept { return !options_.decay.empty(); }
  /// lambda of query head `head` (1 without decay).
  float decay_for(std::int64_t head) const noexcept {
    return options_.decay.empty() ? 1.0f : options_.decay[static_cast<std::size_t>(head)];
  }
  FeatureMap const& feature_map() const noexcept { return phi_; }

  /// Throws std::invalid_argument unless the decay has one value per query head.
  void validate(call_shape const& shape) const {
    if (!options_.decay.empty() && static_cast<std::int64_t>(options_.decay.size()) != shape.q_heads)
      detail::policy_error("linear", "decay has " + std::to_string(options_.decay.size()) +
                                         " values but the call has Hq = " + std::to_string(shape.q_heads) +
                                         " query heads");
  }

private:
  linear_options options_{};
  FeatureMap phi_{};
};

} // namespace attnkit
