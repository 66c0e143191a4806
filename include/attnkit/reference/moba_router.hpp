#pragma once
/// \file
/// SEMANTICS.md's MoBA routing rule in double precision, written out independently of the router: every
/// block score, then a full sort of the eligible blocks.

#include "attnkit/options.hpp"
#include "attnkit/routing/moba_router.hpp"
#include "attnkit/tensor_view.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace attnkit::reference {

/// Per query (b, h, i): the chosen blocks in increasing order, and the fp64 score of every block.
struct moba_routes {
  std::int64_t heads = 0, q_len = 0;
  std::vector<std::vector<std::int64_t>> chosen;
  std::vector<std::vector<double>> scores;
  /// Sum over d of |q_d| |mean_d| per block: the scale of a score's rounding error.
  std::vector<std::vector<double>> magnitudes;

  std::size_t index(std::int64_t b, std::int64_t h, std::int64_t i) const {
    return static_cast<std::size_t>((b * heads + h) * q_len + i);
  }
};

inline moba_routes moba_route(tensor_view<float const> q, tensor_view<float const> k, moba_options const& o) {
  std::int64_t const batch = q.extent(0), q_heads = q.extent(1), q_len = q.extent(2), dim = q.extent(3);
  std::int64_t const kv_heads = k.extent(1), key_len = k.extent(2);
  std::int64_t const blocks = (key_len + o.key_block - 1) / o.key_block;
  std::int64_t const offset = o.align == alignment::bottom_right ? key_len - q_len : 0;
  moba_routes r{q_heads, q_len, {}, {}, {}};
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t h = 0; h < q_heads; ++h) {
      std::int64_t const kv = h / (q_heads / kv_heads);
      std::vector<std::vector<double>> mean(static_cast<std::size_t>(blocks), std::vector<double>(dim, 0.0));
      for (std::int64_t j = 0; j < key_len; ++j)
        for (std::int64_t d = 0; d < dim; ++d)
          mean[static_cast<std::size_t>(j / o.key_block)][static_cast<std::size_t>(d)] += k(b, kv, j, d);
      for (std::int64_t c = 0; c < blocks; ++c)
        for (auto& m : mean[static_cast<std::size_t>(c)])
          m /= static_cast<double>(std::min(key_len, (c + 1) * o.key_block) - c * o.key_block);
      for (std::int64_t i = 0; i < q_len; ++i) {
        std::vector<double> score(static_cast<std::size_t>(blocks)), magnitude(score.size());
        for (std::int64_t c = 0; c < blocks; ++c)
          for (std::int64_t d = 0; d < dim; ++d) {
            double const x = q(b, h, i, d),
                         m = mean[static_cast<std::size_t>(c)][static_cast<std::size_t>(d)];
            score[static_cast<std::size_t>(c)] += x * m;
            magnitude[static_cast<std::size_t>(c)] += std::abs(x * m);
          }
        // Causal: the own block (when it exists) is chosen, later blocks are not, and k counts it.
        std::int64_t const position = i + offset;
        std::int64_t const own = position < 0 ? -1 : position / o.key_block;
        bool const has_own = o.causal && position >= 0 && own < blocks;
        std::vector<std::int64_t> competing;
        for (std::int64_t c = 0; c < blocks; ++c)
          if (!o.causal || (position >= 0 && (own >= blocks || c < own)))
            competing.push_back(c);
        std::stable_sort(competing.begin(), competing.end(), [&](std::int64_t a, std::int64_t c) {
          double const sa = score[static_cast<std::size_t>(a)], sc = score[static_cast<std::size_t>(c)];
          if (std::isnan(sa) || std::isnan(sc))
            return !std::isnan(sa) && std::isnan(sc);
          return sa > sc;
        });
        std::int64_t const take = std::min<std::int64_t>(o.top_k - (has_own ? 1 : 0), competing.size());
        std::vector<std::int64_t> chosen(competing.begin(), competing.begin() + take);
        if (has_own)
          chosen.push_back(own);
        std::sort(chosen.begin(), chosen.end());
        r.chosen.push_back(chosen);
        r.scores.push_back(score);
        r.magnitudes.push_back(magnitude);
      }
    }
  return r;
}

} // namespace attnkit::reference
