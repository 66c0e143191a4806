#pragma once
/// \file
/// A block-sparse layout given as data: for every (batch, head, query block), the sorted list of key blocks
/// its queries may see, each marked full or partial (FlexAttention's BlockMask, as a CSR matrix). Built
/// once, shared by every copy, reused across calls.

#include "attnkit/policies/call_shape.hpp"
#include "attnkit/policies/policy_error.hpp"
#include "attnkit/policies/query_block.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace attnkit {

/// The grid a layout is drawn on: Q cut into blocks of `q_block` rows and K into blocks of `key_block` keys
/// (the last block of each may be shorter). `batch` and `heads` are 1 when one layout serves every batch
/// entry or every query head.
struct block_grid {
  std::int64_t batch = 1;      ///< 1 or B
  std::int64_t heads = 1;      ///< 1 or Hq
  std::int64_t q_len = 0;      ///< Sq
  std::int64_t key_len = 0;    ///< Sk
  std::int64_t q_block = 64;   ///< Bq
  std::int64_t key_block = 64; ///< Bk

  std::int64_t q_blocks() const noexcept { return (q_len + q_block - 1) / q_block; }
  std::int64_t key_blocks() const noexcept { return (key_len + key_block - 1) / key_block; }
  /// Number of (batch, head, query block) lists.
  std::int64_t lists() const noexcept { return batch * heads * q_blocks(); }
};

namespace detail {

/// Throws std::invalid_argument unless every size of the grid is >= 1 and every length >= 0.
inline void check_block_grid(block_grid const& g) {
  for (auto const& [value, name] : {std::pair{g.batch, "batch"}, std::pair{g.heads, "heads"},
                                    std::pair{g.q_block, "q_block"}, std::pair{g.key_block, "key_block"}})
    if (value < 1)
      detail::policy_error("block_layout",
                           std::string("grid.") + name + " = " + std::to_string(value) + " must be >= 1");
  for (auto const& [value, name] : {std::pair{g.q_len, "q_len"}, std::pair{g.key_len, "key_len"}})
    if (value < 0)
      detail::policy_error("block_layout",
                           std::string("grid.") + name + " = " + std::to_string(value) + " must be >= 0");
}

} // namespace detail

/// The visible key blocks of each (batch, head, query block), stored as a CSR matrix: list r holds
/// `key_blocks[offsets[r] .. offsets[r + 1])`, strictly increasing, with one kind per entry (full: every
/// pair of the block is visible; partial: the block_sparse mask's inner mask decides). Lists are ordered
/// by batch, then head, then query block. Copies share the data.
class block_layout {
public:
  /// Throws std::invalid_argument (naming the argument and the values) when a size is < 1 (or a length
  /// < 0), when `offsets` does not have grid.lists() + 1 entries going from 0 up to key_blocks.size()
  /// without decreasing, when `kinds` and `key_blocks` differ in length, when a kind is `empty`, or when a
  /// list holds an index out of [0, grid.key_blocks()) or is not strictly increasing.
  block_layout(block_grid grid, std::vector<std::int64_t> offsets, std::vector<std::int32_t> key_blocks,
               std::vector<tile_kind> kinds)
      : data_(std::make_shared<data const>(data{grid, checked(grid, std::move(offsets), key_blocks, kinds),
                                                std::move(key_blocks), std::move(kinds)})) {}

  /// From a dense block matrix [batch][heads][q_blocks][key_blocks], row-major: `empty` hides a block.
  static block_layout from_block_matrix(block_grid const& grid, std::vector<tile_kind> const& matrix) {
    detail::check_block_grid(grid);
    std::int64_t const columns = grid.key_blocks();
    if (static_cast<std::int64_t>(matrix.size()) != grid.lists() * columns)
      detail::policy_error("block_layout", "the block matrix has " + std::to_string(matrix.size()) +
                                               " entries, not batch * heads * q_blocks * key_blocks = " +
                                               std::to_string(grid.lists() * columns));
    std::vector<std::int64_t> offsets{0};
    std::vector<std::int32_t> blocks;
    std::vector<tile_kind> kinds;
    for (std::int64_t r = 0; r < grid.lists(); ++r) {
      for (std::int64_t kb = 0; kb < columns; ++kb)
        if (tile_kind const kind = matrix[static_cast<std::size_t>(r * columns + kb)];
            kind != tile_kind::empty) {
          blocks.push_back(static_cast<std::int32_t>(kb));
          kinds.push_back(kind);
        }
      offsets.push_back(static_cast<std::int64_t>(blocks.size()));
    }
    return {grid, std::move(offsets), std::move(blocks), std::move(kinds)};
  }

  /// From a dense boolean block matrix (nonzero = visible), every visible block marked `listed_as`. The
  /// default, partial, lets the block_sparse mask's inner mask act inside every block.
  static block_layout from_block_matrix(block_grid const& grid, std::vector<std::uint8_t> const& visible,
                                        tile_kind listed_as = tile_kind::partial) {
    std::vector<tile_kind> matrix(visible.size(), tile_kind::empty);
    for (std::size_t t = 0; t < visible.size(); ++t)
      if (visible[t] != 0)
        matrix[t] = listed_as;
    return from_block_matrix(grid, matrix);
  }

  block_grid const& grid() const noexcept { return data_->grid; }

  /// The listed key blocks of query block `qb` of batch entry `b` and query head `h` (a shared dimension
  /// of the grid reads index 0), in increasing order.
  std::span<std::int32_t const> key_blocks(std::int64_t b, std::int64_t h, std::int64_t qb) const noexcept {
    auto const [first, last] = bounds(b, h, qb);
    return {data_->key_blocks.data() + first, static_cast<std::size_t>(last - first)};
  }
  /// The kind of each entry of key_blocks(b, h, qb).
  std::span<tile_kind const> kinds(std::int64_t b, std::int64_t h, std::int64_t qb) const noexcept {
    auto const [first, last] = bounds(b, h, qb);
    return {data_->kinds.data() + first, static_cast<std::size_t>(last - first)};
  }
  /// How key block `kb` is listed for query block `qb`: `empty` when it is not.
  tile_kind kind(std::int64_t b, std::int64_t h, std::int64_t qb, std::int64_t kb) const noexcept {
    auto const list = key_blocks(b, h, qb);
    auto const at = std::lower_bound(list.begin(), list.end(), kb);
    if (at == list.end() || *at != kb)
      return tile_kind::empty;
    return kinds(b, h, qb)[static_cast<std::size_t>(at - list.begin())];
  }
  /// Entries over all lists.
  std::int64_t listed_blocks() const noexcept { return static_cast<std::int64_t>(data_->key_blocks.size()); }

  /// The grid must match the call: Sq and Sk exactly, batch and heads 1 or the call's.
  void validate(call_shape const& s) const {
    block_grid const& g = grid();
    if (g.batch != 1 && g.batch != s.batch)
      detail::policy_error("block_layout", "grid.batch = " + std::to_string(g.batch) +
                                               " must be 1 or B = " + std::to_string(s.batch));
    if (g.heads != 1 && g.heads != s.q_heads)
      detail::policy_error("block_layout", "grid.heads = " + std::to_string(g.heads) +
                                               " must be 1 or Hq = " + std::to_string(s.q_heads));
    if (g.q_len != s.q_len || g.key_len != s.key_len)
      detail::policy_error("block_layout", "the grid is drawn for Sq = " + std::to_string(g.q_len) +
                                               ", Sk = " + std::to_string(g.key_len) +
                                               " but the call has Sq = " + std::to_string(s.q_len) +
                                               ", Sk = " + std::to_string(s.key_len));
  }

private:
  struct data {
    block_grid grid;
    std::vector<std::int64_t> offsets;
    std::vector<std::int32_t> key_blocks;
    std::vector<tile_kind> kinds;
  };

  std::pair<std::int64_t, std::int64_t> bounds(std::int64_t b, std::int64_t h,
                                               std::int64_t qb) const noexcept {
    block_grid const& g = data_->grid;
    std::int64_t const list = ((g.batch == 1 ? 0 : b) * g.heads + (g.heads == 1 ? 0 : h)) * g.q_blocks() + qb;
    auto const& offsets = data_->offsets;
    return {offsets[static_cast<std::size_t>(list)], offsets[static_cast<std::size_t>(list + 1)]};
  }

  /// Checks the CSR arrays against the grid and returns `offsets`.
  static std::vector<std::int64_t> checked(block_grid const& g, std::vector<std::int64_t> offsets,
                                           std::vector<std::int32_t> const& blocks,
                                           std::vector<tile_kind> const& kinds) {
    detail::check_block_grid(g);
    auto const lists = static_cast<std::size_t>(g.lists());
    if (offsets.size() != lists + 1)
      detail::policy_error("block_layout",
                           "offsets has " + std::to_string(offsets.size()) +
                               " entries, not batch * heads * q_blocks + 1 = " + std::to_string(lists + 1));
    if (kinds.size() != blocks.size())
      detail::policy_error("block_layout", "kinds has " + std::to_string(kinds.size()) +
                                               " entries but key_blocks has " +
                                               std::to_string(blocks.size()));
    if (offsets.front() != 0 || offsets.back() != static_cast<std::int64_t>(blocks.size()))
      detail::policy_error(
          "block_layout",
          "offsets must start at 0 and end at key_blocks.size() = " + std::to_string(blocks.size()) +
              ", got " + std::to_string(offsets.front()) + " .. " + std::to_string(offsets.back()));
    for (std::size_t r = 0; r < lists; ++r)
      if (offsets[r + 1] < offsets[r])
        detail::policy_error("block_layout", "offsets[" + std::to_string(r + 1) + "] = " +
                                                 std::to_string(offsets[r + 1]) + " is less than offsets[" +
                                                 std::to_string(r) + "] = " + std::to_string(offsets[r]));
    for (std::size_t r = 0; r < lists; ++r) {
      for (std::int64_t e = offsets[r]; e < offsets[r + 1]; ++e) {
        std::int32_t const kb = blocks[static_cast<std::size_t>(e)];
        std::string const where = "key_blocks[" + std::to_string(e) + "] = " + std::to_string(kb) +
                                  " (list " + std::to_string(r) + ")";
        if (kb < 0 || kb >= g.key_blocks())
          detail::policy_error(
              "block_layout", where + " is outside [0, key_blocks = " + std::to_string(g.key_blocks()) + ")");
        if (e > offsets[r] && kb <= blocks[static_cast<std::size_t>(e - 1)])
          detail::policy_error("block_layout", where + " does not follow the previous entry " +
                                                   std::to_string(blocks[static_cast<std::size_t>(e - 1)]) +
                                                   ": each list must be strictly increasing");
        if (kinds[static_cast<std::size_t>(e)] == tile_kind::empty)
          detail::policy_error("block_layout", "kinds[" + std::to_string(e) +
                                                   "] is empty: a listed block is full or partial");
      }
    }
    return offsets;
  }

  std::shared_ptr<data const> data_;
};

} // namespace attnkit
