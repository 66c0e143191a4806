#pragma once
/// \file
/// SEMANTICS.md's visibility rule for each mask, written out independently of the kernels' policies: these
/// read a policy's parameters, never its hooks. A new mask adds one `visible` overload here.

#include "attnkit/policies/block_sparse.hpp"
#include "attnkit/policies/causal.hpp"
#include "attnkit/policies/document.hpp"
#include "attnkit/policies/neighbourhood.hpp"
#include "attnkit/policies/no_mask.hpp"
#include "attnkit/policies/sink_window.hpp"
#include "attnkit/policies/sliding_window.hpp"
#include "attnkit/policies/visible_if_all.hpp"
#include "attnkit/policies/visible_if_any.hpp"
#include "attnkit/reference/pair_coords.hpp"

#include <cstddef>
#include <cstdint>
#include <tuple>

namespace attnkit::reference {

// Declared first so that combinators nest in either order.
template <class... Masks> bool visible(visible_if_all<Masks...> const& m, pair_coords const& c);
template <class... Masks> bool visible(visible_if_any<Masks...> const& m, pair_coords const& c);
template <class Inner> bool visible(block_sparse<Inner> const& m, pair_coords const& c);

/// none: every key.
inline bool visible(no_mask const&, pair_coords const&) {
  return true;
}

/// causal: j <= p(i).
inline bool visible(causal const&, pair_coords const& c) {
  return c.key <= c.position;
}

/// sliding window: p(i) - L <= j <= p(i) + R, and (p(i) - j) mod d == 0.
inline bool visible(sliding_window const& m, pair_coords const& c) {
  bool const in_window = c.position - m.left() <= c.key && c.key <= c.position + m.right();
  std::int64_t const distance = c.position >= c.key ? c.position - c.key : c.key - c.position;
  return in_window && distance % m.dilation() == 0;
}

/// neighbourhood: the W keys centred on p(i), moved inward so that min(W, Sk) keys are always seen.
inline bool visible(neighbourhood const& m, pair_coords const& c) {
  if (c.key_len <= m.window())
    return true;
  std::int64_t start = c.position - (m.window() - 1) / 2;
  if (start < 0)
    start = 0;
  if (start + m.window() > c.key_len)
    start = c.key_len - m.window();
  return start <= c.key && c.key < start + m.window();
}

/// sinks + window: j < n_sink or inside the window; and j <= p(i) when causal.
inline bool visible(sink_window const& m, pair_coords const& c) {
  bool const shown = c.key < m.sinks() || visible(m.window(), c);
  return m.is_causal() ? shown && c.key <= c.position : shown;
}

/// document: the query's and the key's segment ids are equal.
inline bool visible(document const& m, pair_coords const& c) {
  return m.query_segment(c.batch, c.row) == m.key_segment(c.batch, c.key);
}

/// block-sparse: the key's block is listed for the query's block, and the entry is full or the inner mask
/// shows the pair. A linear scan of the list, not the policy's lookup.
template <class Inner> bool visible(block_sparse<Inner> const& m, pair_coords const& c) {
  block_grid const& grid = m.layout().grid();
  std::int64_t const q_block = c.row / grid.q_block, key_block = c.key / grid.key_block;
  auto const blocks = m.layout().key_blocks(c.batch, c.head, q_block);
  auto const kinds = m.layout().kinds(c.batch, c.head, q_block);
  for (std::size_t e = 0; e < blocks.size(); ++e)
    if (blocks[e] == key_block)
      return kinds[e] == tile_kind::full || visible(m.inner(), c);
  return false;
}

/// intersection: every mask shows the pair.
template <class... Masks> bool visible(visible_if_all<Masks...> const& m, pair_coords const& c) {
  return std::apply([&](auto const&... each) { return (visible(each, c) && ...); }, m.masks());
}

/// union: at least one mask shows the pair.
template <class... Masks> bool visible(visible_if_any<Masks...> const& m, pair_coords const& c) {
  return std::apply([&](auto const&... each) { return (visible(each, c) || ...); }, m.masks());
}

} // namespace attnkit::reference
