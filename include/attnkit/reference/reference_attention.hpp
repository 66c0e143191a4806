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
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace attnkit::reference {

/// Output [B, Hq, Sq, Dv] and LSE [B, Hq, Sq] in double, densely packed. When only some query rows were
/// computed, `rows` lists them (the same for every batch entry and head) and the others hold NaN.
struct result {
  std::int64_t batch = 0, heads = 0, q_len = 0, v_dim = 0;
  std::vector<double> out;
  std::vector<double> lse;
  std::vector<std::int64_t> rows; // empty: every row

  double o(std::int64_t b, std::int64_t h, std::int64_t i, std::int64_t d) const {
    return out[static_cast<std::size_t>(((b * heads + h) * q_len + i) * v_dim + d)];
  }
  double& o(std::int64_t b, std::int64_t h, std::int64_t i, std::int64_t d) {
    return out[static_cast<std::size_t>(((b * heads + h) * q_len + i) * v_dim + d)];
  }
  double l(std::int64_t b, std::int64_t h, std::int64_t i) const {
    return lse[static_cast<std::size_t>((b * heads + h) * q_len + i)];
  }
  /// Calls f(i) for each computed query row, in increasing order.
  template <class F> void for_each_row(F&& f) const {
    if (rows.empty())
      for (std::int64_t i = 0; i < q_len; ++i)
        f(i);
    else
      for (std::int64_t i : rows)
        f(i);
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

/// What `attn(q, k, v, o, lse)` computes, in double, for every query row or, when `query_rows` is not
/// empty, for those rows only (sorted, distinct, in [0, Sq)): the oracle costs O(Sq Sk D) per head, and
/// tests of long sequences sample it.
template <class Normaliser, class Mask, class... Modifiers>
result attention(attnkit::attention<Normaliser, Mask, Modifiers...> const& attn, tensor_view<float const> q,
                 tensor_view<float const> k, tensor_view<float const> v,
                 std::vector<std::int64_t> query_rows = {}) {
  std::int64_t const batch = q.extent(0), q_heads = q.extent(1), q_len = q.extent(2), dim = q.extent(3);
  std::int64_t const kv_heads = k.extent(1), key_len = k.extent(2), v_dim = v.extent(3);
  auto const& options = attn.options();
  double const scale =
      options.scale ? static_cast<double>(*options.scale) : 1.0 / std::sqrt(static_cast<double>(dim));
  std::int64_t const offset = options.align == alignment::bottom_right ? key_len - q_len : 0;
  double const not_computed = query_rows.empty() ? 0.0 : std::numeric_limits<double>::quiet_NaN();

  result r{batch,
           q_heads,
           q_len,
           v_dim,
           std::vector<double>(static_cast<std::size_t>(batch * q_heads * q_len * v_dim), not_computed),
           std::vector<double>(static_cast<std::size_t>(batch * q_heads * q_len), not_computed),
           std::move(query_rows)};
  for (std::size_t n = 0; n < r.rows.size(); ++n)
    if (r.rows[n] < 0 || r.rows[n] >= q_len || (n > 0 && r.rows[n] <= r.rows[n - 1]))
      throw std::invalid_argument(
          "reference::attention: query_rows must be sorted, distinct and in [0, Sq = " +
          std::to_string(q_len) + "); query_rows[" + std::to_string(n) + "] = " + std::to_string(r.rows[n]));
  std::vector<std::int64_t> rows = r.rows;
  if (rows.empty())
    for (std::int64_t i = 0; i < q_len; ++i)
      rows.push_back(i);
  auto const n_rows = static_cast<std::int64_t>(rows.size());

  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t h = 0; h < q_heads; ++h) {
      std::int64_t const kv_head = h / (q_heads / kv_heads);
      detail::matrix qm(n_rows, dim);
      for (std::int64_t r_i = 0; r_i < n_rows; ++r_i)
        for (std::int64_t d = 0; d < dim; ++d)
          qm(r_i, d) = static_cast<double>(q(b, h, rows[static_cast<std::size_t>(r_i)], d));
      detail::matrix const km = detail::head_matrix(k, b, kv_head);
      detail::matrix const vm = detail::head_matrix(v, b, kv_head);
      detail::matrix const scores = scale * (qm * km.transpose()); // [rows, Sk]

      detail::matrix weights = detail::matrix::Zero(n_rows, key_len);
      std::vector<std::vector<bool>> shown(static_cast<std::size_t>(n_rows));
      for (std::int64_t r_i = 0; r_i < n_rows; ++r_i) {
        std::int64_t const i = rows[static_cast<std::size_t>(r_i)];
        std::vector<double> row(static_cast<std::size_t>(key_len));
        auto& row_shown = shown[static_cast<std::size_t>(r_i)];
        row_shown.resize(static_cast<std::size_t>(key_len));
        for (std::int64_t j = 0; j < key_len; ++j) {
          pair_coords const c{b, h, q_heads, i, i + offset, j, q_len, key_len};
          double s = scores(r_i, j);
          std::apply([&](auto const&... m) { ((s = modify(m, c, s)), ...); }, attn.modifiers());
          row[static_cast<std::size_t>(j)] = s;
          row_shown[static_cast<std::size_t>(j)] = visible(attn.mask(), c);
        }
        pair_coords const row_coords{b, h, q_heads, i, i + offset, 0, q_len, key_len};
        row_weights const w = normalise(attn.normaliser(), row_coords, row, row_shown);
        for (std::int64_t j = 0; j < key_len; ++j)
          weights(r_i, j) = w.weights[static_cast<std::size_t>(j)];
        r.lse[static_cast<std::size_t>((b * q_heads + h) * q_len + i)] = w.lse;
      }

      // O = W V. A hidden key contributes nothing, even when its value is NaN or Inf (0 * NaN is NaN),
      // so non-finite values take the explicit sum over visible keys.
      detail::matrix out;
      if (vm.allFinite()) {
        out = weights * vm;
      } else {
        out = detail::matrix::Zero(n_rows, v_dim);
        for (std::int64_t r_i = 0; r_i < n_rows; ++r_i)
          for (std::int64_t j = 0; j < key_len; ++j)
            if (shown[static_cast<std::size_t>(r_i)][static_cast<std::size_t>(j)])
              out.row(r_i) += weights(r_i, j) * vm.row(j);
      }
      for (std::int64_t r_i = 0; r_i < n_rows; ++r_i)
        for (std::int64_t d = 0; d < v_dim; ++d)
          r.o(b, h, rows[static_cast<std::size_t>(r_i)], d) = out(r_i, d);
    }
  return r;
}

} // namespace attnkit::reference
