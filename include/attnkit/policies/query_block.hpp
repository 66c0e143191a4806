#pragma once
/// \file
/// The coordinates a policy is asked about: a block of query rows of one (batch, head), and key ranges.

#include <cstdint>

namespace attnkit {

/// A block of consecutive query rows of one batch entry and query head. Row i sits at position
/// `position(i)` among the keys (SEMANTICS.md, "Alignment"); masks and modifiers use that position.
struct query_block {
  std::int64_t batch = 0;
  std::int64_t head = 0;            ///< query head
  std::int64_t q_heads = 1;         ///< Hq, for policies with per-head parameters
  std::int64_t row_begin = 0;       ///< first query row (inclusive)
  std::int64_t row_end = 0;         ///< last query row (exclusive)
  std::int64_t q_len = 0;           ///< Sq
  std::int64_t key_len = 0;         ///< Sk
  std::int64_t position_offset = 0; ///< Sk - Sq when bottom-right aligned, 0 when top-left

  constexpr std::int64_t position(std::int64_t row) const noexcept { return row + position_offset; }
  constexpr std::int64_t first_position() const noexcept { return position(row_begin); }
  constexpr std::int64_t last_position() const noexcept { return position(row_end - 1); }
};

/// A half-open range of key indices [begin, end).
struct key_range {
  std::int64_t begin = 0;
  std::int64_t end = 0;
  constexpr bool empty() const noexcept { return end <= begin; }
};

/// What a mask says about a (query block, key tile) pair.
enum class tile_kind {
  empty,   ///< no pair is visible: the kernel skips the tile
  partial, ///< some pairs are visible: the kernel asks `visible` for each
  full,    ///< every pair is visible: the kernel applies no mask
};

} // namespace attnkit
