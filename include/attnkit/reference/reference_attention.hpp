#pragma once
/// \file
/// The oracle: attention in double precision, straight from SEMANTICS.md. It materialises every score,
/// so it is for tests and small problems only. It shares no code with the kernels beyond the policy
/// types themselves (their parameters, not their hooks).

#include "attnkit/attention.hpp"
#include "attnkit/reference/masks.hpp"
#include "attnkit/reference/modifiers.hpp"
#include "attnkit/reference/normalisers.hpp"
#include "attnkit/reference/pair_coords.hpp"
#include "attnkit/tensor_view.hpp"

#include <Eigen/Core>

#include <cmath>
#include <cstdint>
#include <limits>
#include <tuple>
#include <vector>

namespace attnkit::reference {

/// Output [B, Hq, Sq, Dv] and LSE [B, Hq, Sq] in double, densely packed.
struct result {
  std::int64_t batch = 0, heads = 0, q_len = 0, v_dim = 0;
  std::vector<double> out;
  std::vector<double> lse;

  double o(std::int64_t b, std::int64_t h, std::int64_t i, std::int64_t d) const {
    return out[static_cast<std::size_t>(((b * heads + h) * q_len + i) * v_dim + d)];
  }
  double l(std::int64_t b, std::int64_t h, std::int64_t i) const {
    return lse[static_cast<std::size_t>((b * heads + h) * q_len + i)];
  }
};

namespace detail {

using matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Rows [b, h, :, :] of a view, widened to double.
inline matrix head_matrix(tensor_view<float const> const& t, std::int64_t b, std::int64_t h) {
  matrix m(t.extent(2), t.extent(3));
  for (std::int64_t s = 0; s < t.extent(2); ++s)
    for (std::int64_t d = 0; d < t.extent(3); ++d)
      m(s, d) = static_cast<double>(t(b, h, s, d));
  return m;
}

} // namespace detail

/// What `attn(q, k, v, o, lse)` computes, in double.
template <class Normaliser, class Mask, class... Modifiers>
result attention(attnkit::attention<Normaliser, Mask, Modifiers...> const& attn, tensor_view<float const> q,
                 tensor_view<float const> k, tensor_view<float const> v) {
  std::int64_t const batch = q.extent(0), q_heads = q.extent(1), q_len = q.extent(2), dim = q.extent(3);
  std::int64_t const kv_heads = k.extent(1), key_len = k.extent(2), v_dim = v.extent(3);
  auto const& options = attn.options();
  double const scale =
      options.scale ? static_cast<double>(*options.scale) : 1.0 / std::sqrt(static_cast<double>(dim));
  std::int64_t const offset = options.align == alignment::bottom_right ? key_len - q_len : 0;

  result r{batch,
           q_heads,
           q_len,
           v_dim,
           std::vector<double>(static_cast<std::size_t>(batch * q_heads * q_len * v_dim)),
           std::vector<double>(static_cast<std::size_t>(batch * q_heads * q_len))};
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t h = 0; h < q_heads; ++h) {
      std::int64_t const kv_head = h / (q_heads / kv_heads);
      detail::matrix const qm = detail::head_matrix(q, b, h);
      detail::matrix const km = detail::head_matrix(k, b, kv_head);
      detail::matrix const vm = detail::head_matrix(v, b, kv_head);
      detail::matrix const scores = scale * (qm * km.transpose()); // [Sq, Sk]

      detail::matrix weights = detail::matrix::Zero(q_len, key_len);
      std::vector<std::vector<bool>> shown(static_cast<std::size_t>(q_len));
      for (std::int64_t i = 0; i < q_len; ++i) {
        std::vector<double> row(static_cast<std::size_t>(key_len));
        auto& row_shown = shown[static_cast<std::size_t>(i)];
        row_shown.resize(static_cast<std::size_t>(key_len));
        for (std::int64_t j = 0; j < key_len; ++j) {
          pair_coords const c{b, h, q_heads, i, i + offset, j, q_len, key_len};
          double s = scores(i, j);
          std::apply([&](auto const&... m) { ((s = modify(m, c, s)), ...); }, attn.modifiers());
          row[static_cast<std::size_t>(j)] = s;
          row_shown[static_cast<std::size_t>(j)] = visible(attn.mask(), c);
        }
        pair_coords const row_coords{b, h, q_heads, i, i + offset, 0, q_len, key_len};
        row_weights const w = normalise(attn.normaliser(), row_coords, row, row_shown);
        for (std::int64_t j = 0; j < key_len; ++j)
          weights(i, j) = w.weights[static_cast<std::size_t>(j)];
        r.lse[static_cast<std::size_t>((b * q_heads + h) * q_len + i)] = w.lse;
      }

      // O = W V. A hidden key contributes nothing, even when its value is NaN or Inf (0 * NaN is NaN),
      // so non-finite values take the explicit sum over visible keys.
      detail::matrix out;
      if (vm.allFinite()) {
        out = weights * vm;
      } else {
        out = detail::matrix::Zero(q_len, v_dim);
        for (std::int64_t i = 0; i < q_len; ++i)
          for (std::int64_t j = 0; j < key_len; ++j)
            if (shown[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)])
              out.row(i) += weights(i, j) * vm.row(j);
      }
      for (std::int64_t i = 0; i < q_len; ++i)
        for (std::int64_t d = 0; d < v_dim; ++d)
          r.out[static_cast<std::size_t>(((b * q_heads + h) * q_len + i) * v_dim + d)] = out(i, d);
    }
  return r;
}

} // namespace attnkit::reference
