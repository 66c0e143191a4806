#pragma once
/// \file
/// Single-head overloads taking Eigen row-major matrices. Include this header explicitly; the
/// umbrella header does not pull in Eigen.

#include "attnkit/attention.hpp"
#include "attnkit/tensor_view.hpp"

#include <Eigen/Core>

namespace attnkit {

/// The matrix type the Eigen overloads take: float, row-major (each row is one token).
using row_matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace detail {

/// A [1, 1, rows, cols] view of a row-major matrix with any outer stride.
template <class Matrix> auto single_head_view(Matrix& m) {
  using element = std::remove_pointer_t<decltype(m.data())>;
  std::int64_t const rows = m.rows(), cols = m.cols(), outer = m.outerStride();
  return tensor_view<element>(m.data(), {1, 1, rows, cols}, {rows * outer, rows * outer, outer, 1});
}

} // namespace detail

/// o = attention(q, k, v) for one head: q [Sq, D], k [Sk, D], v [Sk, Dv], o [Sq, Dv].
template <class Normaliser, class Mask, class... Modifiers>
void attend(attention<Normaliser, Mask, Modifiers...> const& attn, Eigen::Ref<row_matrix const> const& q,
            Eigen::Ref<row_matrix const> const& k, Eigen::Ref<row_matrix const> const& v,
            Eigen::Ref<row_matrix> o, run_options run = {}) {
  attn(detail::single_head_view(q), detail::single_head_view(k), detail::single_head_view(v),
       detail::single_head_view(o), run);
}

/// As above, also writing each query row's log-sum-exp into `lse` [Sq].
template <class Normaliser, class Mask, class... Modifiers>
void attend(attention<Normaliser, Mask, Modifiers...> const& attn, Eigen::Ref<row_matrix const> const& q,
            Eigen::Ref<row_matrix const> const& k, Eigen::Ref<row_matrix const> const& v,
            Eigen::Ref<row_matrix> o, Eigen::Ref<Eigen::VectorXf> lse, run_options run = {}) {
  std::int64_t const rows = lse.size();
  attn(detail::single_head_view(q), detail::single_head_view(k), detail::single_head_view(v),
       detail::single_head_view(o),
       tensor_view<float, 3>(lse.data(), {1, 1, rows}, {rows, rows, lse.innerStride()}), run);
}

} // namespace attnkit
