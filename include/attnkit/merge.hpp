#pragma once
/// \file
/// Merging partial attention results over disjoint sets of keys (SEMANTICS.md, "Merging partial
/// results"): for ring attention and context parallelism across processes, or a KV cache kept in pieces.
/// Each piece is an ordinary attention call over its keys; these functions combine the pieces.
///
///     attn(q, k_part_a, v_part_a, o, lse);              // softmax over the first keys
///     attn(q, k_part_b, v_part_b, o_b, lse_b);          // softmax over the others
///     attnkit::merge_by_lse(o, lse, o_b, lse_b, o, lse); // softmax over all keys, in place
///
/// Masks and positions are the caller's business: each piece must be computed with the positions its
/// keys have in the whole sequence (for example with a document or block-sparse mask, or top-left
/// alignment of shifted queries).

#include "attnkit/policies/softmax_sinks.hpp"
#include "attnkit/tensor_view.hpp"
#include "attnkit/validate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace attnkit {

/// Softmax partials (O_a, L_a) and (O_b, L_b) over disjoint keys, o and lse [B, H, S, Dv] and [B, H, S]:
/// L = logaddexp(L_a, L_b), O = exp(L_a - L) O_a + exp(L_b - L) O_b. A row that saw no key in a piece
/// (L = -inf) takes the other piece as it is; with both -inf, O = 0 and L = -inf. NaN stays NaN. The
/// outputs may be the first or second inputs (same data and strides); otherwise they must not overlap them.
inline void merge_by_lse(tensor_view<float const> o_a, tensor_view<float const, 3> lse_a,
                         tensor_view<float const> o_b, tensor_view<float const, 3> lse_b,
                         tensor_view<float> o, tensor_view<float, 3> lse) {
  constexpr char const* where = "attnkit::merge_by_lse";
  detail::check_view(o_a, "o_a", where);
  detail::check_view(lse_a, "lse_a", where);
  detail::check_view(o_b, "o_b", where);
  detail::check_view(lse_b, "lse_b", where);
  detail::check_output(o, "o", where);
  detail::check_output(lse, "lse", where);
  detail::check_same_shape(o_b, "o_b", o_a, "o_a", where);
  detail::check_same_shape(o, "o", o_a, "o_a", where);
  for (std::size_t d = 0; d < 3; ++d)
    detail::check_equal(lse_a.extent(d), o_a.extent(d), {"lse_a", d, false}, {"o_a", d, false}, where);
  detail::check_same_shape(lse_b, "lse_b", lse_a, "lse_a", where);
  detail::check_same_shape(lse, "lse", lse_a, "lse_a", where);
  detail::check_output_vs_input(o, "o", o_a, "o_a", where);
  detail::check_output_vs_input(o, "o", o_b, "o_b", where);
  detail::check_output_vs_input(lse, "lse", lse_a, "lse_a", where);
  detail::check_output_vs_input(lse, "lse", lse_b, "lse_b", where);
  detail::check_disjoint(o, "o", lse_a, "lse_a", where);
  detail::check_disjoint(o, "o", lse_b, "lse_b", where);
  detail::check_disjoint(lse, "lse", o_a, "o_a", where);
  detail::check_disjoint(lse, "lse", o_b, "o_b", where);
  detail::check_disjoint(o, "o", tensor_view<float const, 3>(lse), "lse", where);

  constexpr float infinity = std::numeric_limits<float>::infinity();
  for (std::int64_t b = 0; b < o.extent(0); ++b)
    for (std::int64_t h = 0; h < o.extent(1); ++h)
      for (std::int64_t i = 0; i < o.extent(2); ++i) {
        float const la = lse_a(b, h, i), lb = lse_b(b, h, i);
        float const top = std::max(la, lb);
        float wa = 1.0f, wb = 1.0f, merged = -infinity;
        if (std::isnan(la) || std::isnan(lb)) {
          merged = std::numeric_limits<float>::quiet_NaN();
          wa = wb = merged;
        } else if (top == -infinity) {
          wa = wb = 0.0f; // neither piece saw a key
        } else {
          float const ea = std::exp(la - top), eb = std::exp(lb - top), sum = ea + eb;
          merged = top + std::log(sum);
          wa = ea / sum;
          wb = eb / sum;
        }
        for (std::int64_t d = 0; d < o.extent(3); ++d) {
          float const a = o_a(b, h, i, d), c = o_b(b, h, i, d);
          // A piece that saw no key contributes nothing; any other keeps its NaN even at weight 0.
          o(b, h, i, d) = (la == -infinity ? 0.0f : wa * a) + (lb == -infinity ? 0.0f : wb * c);
        }
        lse(b, h, i) = merged;
      }
}

/// Sigmoid partials over disjoint keys add: O = O_a + O_b. Compute each piece with a fixed bias
/// (`sigmoid(b)`): the default b = -ln(Sk) would take each piece's own key count. The output may be
/// either input (same data and strides); otherwise it must not overlap them.
inline void merge_by_sum(tensor_view<float const> o_a, tensor_view<float const> o_b, tensor_view<float> o) {
  constexpr char const* where = "attnkit::merge_by_sum";
  detail::check_view(o_a, "o_a", where);
  detail::check_view(o_b, "o_b", where);
  detail::check_output(o, "o", where);
  detail::check_same_shape(o_b, "o_b", o_a, "o_a", where);
  detail::check_same_shape(o, "o", o_a, "o_a", where);
  detail::check_output_vs_input(o, "o", o_a, "o_a", where);
  detail::check_output_vs_input(o, "o", o_b, "o_b", where);
  for (std::int64_t b = 0; b < o.extent(0); ++b)
    for (std::int64_t h = 0; h < o.extent(1); ++h)
      for (std::int64_t i = 0; i < o.extent(2); ++i)
        for (std::int64_t d = 0; d < o.extent(3); ++d)
          o(b, h, i, d) = o_a(b, h, i, d) + o_b(b, h, i, d);
}

/// Turns a softmax result over all keys (merged pieces) into softmax with learned sinks, in place: the
/// sink joins the denominator once, L' = logaddexp(L, sigma_h) and O' = exp(L - L') O. Compute the pieces
/// with plain `softmax`, merge them, then call this once. o [B, Hq, S, Dv], lse [B, Hq, S].
inline void apply_sinks(softmax_sinks const& sinks, tensor_view<float> o, tensor_view<float, 3> lse) {
  constexpr char const* where = "attnkit::apply_sinks";
  detail::check_output(o, "o", where);
  detail::check_output(lse, "lse", where);
  for (std::size_t d = 0; d < 3; ++d)
    detail::check_equal(lse.extent(d), o.extent(d), {"lse", d, false}, {"o", d, false}, where);
  detail::check_disjoint(o, "o", tensor_view<float const, 3>(lse), "lse", where);
  if (!sinks.is_uniform() && static_cast<std::int64_t>(sinks.logits().size()) != o.extent(1))
    detail::fail(std::to_string(sinks.logits().size()) + " sink logits given but o has " +
                     std::to_string(o.extent(1)) + " heads (one logit per query head)",
                 where);
  for (std::int64_t b = 0; b < o.extent(0); ++b)
    for (std::int64_t h = 0; h < o.extent(1); ++h) {
      float const sigma = sinks.logit(h);
      for (std::int64_t i = 0; i < o.extent(2); ++i) {
        float const l = lse(b, h, i);
        float const top = std::max(l, sigma);
        if (top == -std::numeric_limits<float>::infinity())
          continue; // no key and no sink: O = 0, L = -inf already
        float const kept = std::exp(l - top), denominator = kept + std::exp(sigma - top);
        float const scale = kept / denominator;
        for (std::int64_t d = 0; d < o.extent(3); ++d)
          o(b, h, i, d) *= scale;
        lse(b, h, i) = top + std::log(denominator);
      }
    }
}

} // namespace attnkit
