#pragma once
/// \file
/// The block-sparse mask: visibility given as a block_layout (FlexAttention's BlockMask; BigBird,
/// Longformer and Sparse Transformer patterns; routed layouts such as MoBA's), with an inner mask that
/// acts inside the blocks marked partial.

#include "attnkit/policies/block_layout.hpp"
#include "attnkit/policies/call_shape.hpp"
#include "attnkit/policies/concepts.hpp"
#include "attnkit/policies/hide_keys.hpp"
#include "attnkit/policies/no_mask.hpp"
#include "attnkit/policies/query_block.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>

namespace attnkit {

/// Key j is visible to query i iff j's key block is listed for i's query block (SEMANTICS.md) and either
/// the entry is full or `Inner` shows the pair. With the default inner mask (none), full and partial mean
/// the same. The kernel visits listed blocks only, so work is proportional to the layout's density.
template <class Inner = no_mask> class block_sparse {
  static_assert(mask_policy<Inner>, "attnkit::block_sparse: the inner mask must be a mask policy");

public:
  explicit block_sparse(block_layout layout, Inner inner = {})
      : layout_(std::move(layout)), inner_(std::move(inner)) {}

  block_layout const& layout() const noexcept { return layout_; }
  Inner const& inner() const noexcept { return inner_; }

  void validate(call_shape const& shape) const {
    layout_.validate(shape);
    validate_policy(inner_, shape);
  }

  /// The next run of consecutive key blocks listed for any query block the rows of `b` touch.
  key_range next_keys(query_block const& b, std::int64_t from) const noexcept {
    std::int64_t const size = layout_.grid().key_block;
    auto const [qb_first, qb_last] = query_blocks(b);
    std::int64_t first = std::numeric_limits<std::int64_t>::max();
    for (std::int64_t qb = qb_first; qb <= qb_last; ++qb) {
      auto const list = layout_.key_blocks(b.batch, b.head, qb);
      auto const at = std::lower_bound(list.begin(), list.end(), from / size);
      if (at != list.end())
        first = std::min<std::int64_t>(first, *at);
    }
    if (first == std::numeric_limits<std::int64_t>::max())
      return {from, from};
    std::int64_t end = first + 1; // one past the run's last block
    for (bool grew = true; grew;) {
      grew = false;
      for (std::int64_t qb = qb_first; qb <= qb_last; ++qb) {
        auto const list = layout_.key_blocks(b.batch, b.head, qb);
        for (auto at = std::lower_bound(list.begin(), list.end(), end); at != list.end() && *at == end; ++at)
          ++end, grew = true;
      }
    }
    return {std::max(from, first * size), std::min(end * size, b.key_len)};
  }

  tile_kind classify(query_block const& b, key_range t) const noexcept {
    if (t.empty())
      return tile_kind::empty;
    std::int64_t const size = layout_.grid().key_block;
    std::int64_t const kb_first = t.begin / size, kb_last = (t.end - 1) / size;
    auto const [qb_first, qb_last] = query_blocks(b);
    bool all_listed = true, any_full = false, any_partial = false;
    for (std::int64_t qb = qb_first; qb <= qb_last; ++qb) {
      auto const list = layout_.key_blocks(b.batch, b.head, qb);
      auto const kinds = layout_.kinds(b.batch, b.head, qb);
      std::int64_t listed = 0;
      for (auto at = std::lower_bound(list.begin(), list.end(), kb_first); at != list.end() && *at <= kb_last;
           ++at, ++listed)
        (kinds[static_cast<std::size_t>(at - list.begin())] == tile_kind::full ? any_full : any_partial) =
            true;
      all_listed = all_listed && listed == kb_last - kb_first + 1;
    }
    if (!any_full && !any_partial)
      return tile_kind::empty;
    // The inner mask speaks only for the pairs of partial entries.
    tile_kind const inner = any_partial ? inner_.classify(b, t) : tile_kind::full;
    if (inner == tile_kind::empty && !any_full)
      return tile_kind::empty;
    return all_listed && inner == tile_kind::full ? tile_kind::full : tile_kind::partial;
  }

  bool visible(query_block const& b, std::int64_t row, std::int64_t key) const noexcept {
    block_grid const& g = layout_.grid();
    tile_kind const kind = layout_.kind(b.batch, b.head, row / g.q_block, key / g.key_block);
    return kind == tile_kind::full || (kind == tile_kind::partial && inner_.visible(b, row, key));
  }

  /// Hides the keys of the row's unlisted blocks; inside partial entries the inner mask hides its own.
  template <class Arch>
  void hide_row(query_block const& b, std::int64_t row, std::int64_t first_key, float* scores,
                std::int64_t n) const noexcept {
    constexpr float hidden = -std::numeric_limits<float>::infinity();
    block_grid const& g = layout_.grid();
    auto const list = layout_.key_blocks(b.batch, b.head, row / g.q_block);
    auto const kinds = layout_.kinds(b.batch, b.head, row / g.q_block);
    std::int64_t const last = first_key + n;
    std::int64_t done = first_key; // keys before it are handled
    for (auto at = std::lower_bound(list.begin(), list.end(), first_key / g.key_block);
         at != list.end() && *at * g.key_block < last; ++at) {
      std::int64_t const begin = std::max<std::int64_t>(*at * g.key_block, first_key);
      std::int64_t const end = std::min<std::int64_t>((*at + 1) * g.key_block, last);
      std::fill(scores + (done - first_key), scores + (begin - first_key), hidden);
      if (kinds[static_cast<std::size_t>(at - list.begin())] == tile_kind::partial)
        hide_keys<Arch>(inner_, b, row, begin, scores + (begin - first_key), end - begin);
      done = end;
    }
    std::fill(scores + (done - first_key), scores + n, hidden);
  }

private:
  /// The layout's query blocks that rows [row_begin, row_end) of `b` fall in.
  std::pair<std::int64_t, std::int64_t> query_blocks(query_block const& b) const noexcept {
    std::int64_t const size = layout_.grid().q_block;
    return {b.row_begin / size, (b.row_end - 1) / size};
  }

  block_layout layout_;
  Inner inner_;
};

} // namespace attnkit
