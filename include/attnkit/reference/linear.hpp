#pragma once
/// \file
/// SEMANTICS.md's linear attention in double precision, as a direct sum over every visible (query, key)
/// pair: O(Sq Sk (D + Dv)) per head, no state, no chunks. It shares nothing with the kernel but the policy's
/// parameters. A user-defined feature map gives its meaning here with an `apply_feature_map(map,
/// std::vector<double>& row)` overload found by argument-dependent lookup.

#include "attnkit/attention.hpp"
#include "attnkit/policies/causal.hpp"
#include "attnkit/policies/feature_maps.hpp"
#include "attnkit/policies/linear.hpp"
#include "attnkit/policies/no_mask.hpp"
#include "attnkit/reference/masks.hpp"
#include "attnkit/reference/pair_coords.hpp"
#include "attnkit/reference/reference_attention.hpp"
#include "attnkit/tensor_view.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace attnkit::reference {

/// elu(x) + 1: x + 1 for x > 0, exp(x) otherwise (NaN stays NaN).
inline void apply_feature_map(elu1 const&, std::vector<double>& row) {
  for (double& x : row)
    x = x > 0.0 ? x + 1.0 : (std::isnan(x) ? x : std::exp(x));
}

/// max(x, 0) (NaN stays NaN).
inline void apply_feature_map(relu const&, std::vector<double>& row) {
  for (double& x : row)
    x = x > 0.0 || std::isnan(x) ? x : 0.0;
}

/// x.
inline void apply_feature_map(identity_map const&, std::vector<double>&) {}

/// The outputs, and per query row what the rounding of a fp32 kernel scales with.
struct linear_result {
  result values; ///< o [B, Hq, Sq, Dv]; `lse` is empty
  /// sum_j |phi(q_i)|.|phi(k_j)| lambda^(p(i) - j) over visible j, where |x|.|y| = sum_d |x_d| |y_d|
  std::vector<double> abs_weight;
  /// the same sum with each term times max_d |v_jd|
  std::vector<double> abs_weighted_value;
  /// sum_j phi(q_i).phi(k_j) lambda^(p(i) - j) + eps (normalised) or 1 (unnormalised)
  std::vector<double> denominator;

  std::size_t row(std::int64_t b, std::int64_t h, std::int64_t i) const {
    return static_cast<std::size_t>((b * values.heads + h) * values.q_len + i);
  }
};

/// What `attn(q, k, v, o)` computes, in double.
template <class FeatureMap, class Mask>
linear_result linear_attention(attnkit::attention<linear<FeatureMap>, Mask> const& attn,
                               tensor_view<float const> q, tensor_view<float const> k,
                               tensor_view<float const> v) {
  std::int64_t const batch = q.extent(0), q_heads = q.extent(1), q_len = q.extent(2), dim = q.extent(3);
  std::int64_t const kv_heads = k.extent(1), key_len = k.extent(2), v_dim = v.extent(3);
  std::int64_t const offset = attn.options().align == alignment::bottom_right ? key_len - q_len : 0;
  auto const& n = attn.normaliser();
  std::size_t const rows = static_cast<std::size_t>(batch * q_heads * q_len);

  linear_result r{
      {batch, q_heads, q_len, v_dim, std::vector<double>(rows * static_cast<std::size_t>(v_dim)), {}, {}},
      std::vector<double>(rows),
      std::vector<double>(rows),
      std::vector<double>(rows)};
  auto phi = [&](tensor_view<float const> const& t, std::int64_t b, std::int64_t h, std::int64_t s) {
    std::vector<double> row(static_cast<std::size_t>(dim));
    for (std::int64_t d = 0; d < dim; ++d)
      row[static_cast<std::size_t>(d)] = static_cast<double>(t(b, h, s, d));
    apply_feature_map(n.feature_map(), row); // unqualified: a user map's overload is found by ADL
    return row;
  };

  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t h = 0; h < q_heads; ++h) {
      std::int64_t const kv_head = h / (q_heads / kv_heads);
      double const lambda = static_cast<double>(n.decay_for(h));
      std::vector<std::vector<double>> phi_k;
      std::vector<double> v_max;
      for (std::int64_t j = 0; j < key_len; ++j) {
        phi_k.push_back(phi(k, b, kv_head, j));
        double m = 0.0;
        for (std::int64_t e = 0; e < v_dim; ++e)
          m = std::max(m, std::fabs(static_cast<double>(v(b, kv_head, j, e))));
        v_max.push_back(m);
      }
      for (std::int64_t i = 0; i < q_len; ++i) {
        std::vector<double> const phi_q = phi(q, b, h, i);
        std::vector<double> num(static_cast<std::size_t>(v_dim), 0.0);
        double den = 0.0, abs_w = 0.0, abs_wv = 0.0;
        bool any = false;
        for (std::int64_t j = 0; j < key_len; ++j) {
          pair_coords const c{b, h, q_heads, i, i + offset, j, q_len, key_len};
          if (!visible(attn.mask(), c))
            continue;
          any = true;
          auto const& pk = phi_k[static_cast<std::size_t>(j)];
          double w = 0.0, a = 0.0;
          for (std::size_t d = 0; d < pk.size(); ++d) {
            w += phi_q[d] * pk[d];
            a += std::fabs(phi_q[d]) * std::fabs(pk[d]);
          }
          double const decay = std::pow(lambda, static_cast<double>(c.position - j)); // 1 without decay
          w *= decay;
          a *= decay;
          for (std::int64_t e = 0; e < v_dim; ++e)
            num[static_cast<std::size_t>(e)] += w * static_cast<double>(v(b, kv_head, j, e));
          den += w;
          abs_w += a;
          abs_wv += a * v_max[static_cast<std::size_t>(j)];
        }
        std::size_t const at = r.row(b, h, i);
        double const divisor = n.normalised() ? den + static_cast<double>(n.eps()) : 1.0;
        r.abs_weight[at] = abs_w;
        r.abs_weighted_value[at] = abs_wv;
        r.denominator[at] = divisor;
        for (std::int64_t e = 0; e < v_dim; ++e) // a row that sees no key gives 0 (SEMANTICS.md)
          r.values.out[at * static_cast<std::size_t>(v_dim) + static_cast<std::size_t>(e)] =
              any ? num[static_cast<std::size_t>(e)] / divisor : 0.0;
      }
    }
  return r;
}

} // namespace attnkit::reference
