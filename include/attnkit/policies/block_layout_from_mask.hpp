#pragma once
/// \file
/// Builds a block layout from any mask policy: FlexAttention's create_block_mask, run once on the CPU.

#include "attnkit/options.hpp"
#include "attnkit/policies/block_layout.hpp"
#include "attnkit/policies/call_shape.hpp"
#include "attnkit/policies/concepts.hpp"
#include "attnkit/policies/query_block.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace attnkit {

namespace detail {

/// Exact kind of rows x keys: every pair visible, none, or some.
template <class Mask> tile_kind exact_kind(Mask const& mask, query_block const& rows, key_range keys) {
  bool seen = false, hidden = false;
  for (std::int64_t i = rows.row_begin; i < rows.row_end && !(seen && hidden); ++i)
    for (std::int64_t j = keys.begin; j < keys.end && !(seen && hidden); ++j)
      (mask.visible(rows, i, j) ? seen : hidden) = true;
  return !seen ? tile_kind::empty : hidden ? tile_kind::partial : tile_kind::full;
}

} // namespace detail

/// The layout of `mask` on `grid`: every block with a visible pair is listed, full when every pair of it is
/// visible and partial otherwise, so `block_sparse<Mask>(layout, mask)` computes exactly what `mask` does.
/// Blocks are found through the mask's own runs and classification; only blocks it calls partial are
/// checked pair by pair. `align` must be the alignment of the calls the layout will serve. The mask is
/// validated against the grid (batch and heads as the grid gives them). Throws std::invalid_argument.
template <class Mask>
block_layout block_layout_from_mask(Mask const& mask, block_grid const& grid,
                                    alignment align = alignment::bottom_right) {
  static_assert(mask_policy<Mask>, "attnkit::block_layout_from_mask: the argument must be a mask policy");
  detail::check_block_grid(grid); // before the mask is asked anything
  validate_policy(mask, call_shape{.batch = grid.batch,
                                   .q_heads = grid.heads,
                                   .kv_heads = grid.heads,
                                   .q_len = grid.q_len,
                                   .key_len = grid.key_len,
                                   .qk_dim = 1,
                                   .v_dim = 1});
  std::int64_t const offset = align == alignment::bottom_right ? grid.key_len - grid.q_len : 0;
  std::vector<std::int64_t> offsets{0};
  std::vector<std::int32_t> blocks;
  std::vector<tile_kind> kinds;
  for (std::int64_t b = 0; b < grid.batch; ++b)
    for (std::int64_t h = 0; h < grid.heads; ++h)
      for (std::int64_t qb = 0; qb < grid.q_blocks(); ++qb) {
        query_block const rows{.batch = b,
                               .head = h,
                               .q_heads = grid.heads,
                               .row_begin = qb * grid.q_block,
                               .row_end = std::min(grid.q_len, (qb + 1) * grid.q_block),
                               .q_len = grid.q_len,
                               .key_len = grid.key_len,
                               .position_offset = offset};
        std::int64_t next_block = 0; // blocks before it are done
        for (std::int64_t from = 0; from < grid.key_len;) {
          key_range const run = mask.next_keys(rows, from);
          std::int64_t const run_begin = std::max(run.begin, from), run_end = std::min(run.end, grid.key_len);
          if (run_end <= run_begin)
            break;
          for (std::int64_t kb = std::max(next_block, run_begin / grid.key_block);
               kb * grid.key_block < run_end; ++kb) {
            key_range const keys{kb * grid.key_block, std::min(grid.key_len, (kb + 1) * grid.key_block)};
            tile_kind kind = mask.classify(rows, keys);
            if (kind == tile_kind::partial)
              kind = detail::exact_kind(mask, rows, keys);
            if (kind != tile_kind::empty) {
              blocks.push_back(static_cast<std::int32_t>(kb));
              kinds.push_back(kind);
            }
            next_block = kb + 1;
          }
          from = run_end;
        }
        offsets.push_back(static_cast<std::int64_t>(blocks.size()));
      }
  return {grid, std::move(offsets), std::move(blocks), std::move(kinds)};
}

} // namespace attnkit
