#pragma once
/// \file
/// The K/V of a batch of sequences held in a page pool, as an attention call reads them.

#include "attnkit/kv/key_rows.hpp"
#include "attnkit/kv/page_pool.hpp"
#include "attnkit/kv/paged_sequence.hpp"
#include "attnkit/tensor_view.hpp"
#include "attnkit/validate.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

namespace attnkit {

/// B sequences of `key_len` tokens each; sequence b's token j is slot j % page_size of page
/// block_tables(b, j / page_size). The pool and the tables must outlive the calls that read them.
///
///     attnkit::paged_kv kv(pool, tables, key_len);   // tables [B, max_pages] of page ids
///     attn(q, kv, o);                                // reads the pages in place
class paged_kv {
public:
  /// Throws std::invalid_argument when key_len < 0, when a sequence needs more pages than its row of
  /// `block_tables` holds, or when a page it needs is outside the pool or free.
  paged_kv(page_pool const& pool, tensor_view<std::int32_t const, 2> block_tables, std::int64_t key_len)
      : pool_(&pool), tables_(block_tables), key_len_(key_len) {
    detail::check_view(block_tables, "block_tables", where);
    if (key_len < 0)
      detail::fail("key_len must be >= 0, got " + std::to_string(key_len), where);
    std::int64_t const needed = (key_len + pool.page_size() - 1) / pool.page_size();
    if (needed > block_tables.extent(1))
      detail::fail("key_len = " + std::to_string(key_len) + " tokens need " + std::to_string(needed) +
                       " pages of " + std::to_string(pool.page_size()) +
                       " but block_tables.extent(1) = " + std::to_string(block_tables.extent(1)),
                   where);
    for (std::int64_t b = 0; b < block_tables.extent(0); ++b)
      for (std::int64_t i = 0; i < needed; ++i) {
        std::int32_t const page = block_tables(b, i);
        std::string const entry = "block_tables(" + std::to_string(b) + ", " + std::to_string(i) + ")";
        if (page < 0 || page >= pool.pages())
          detail::fail(entry + " = " + std::to_string(page) + " is outside the pool of " +
                           std::to_string(pool.pages()) + " pages",
                       where);
        if (pool.references(page) == 0)
          detail::fail(entry + " = " + std::to_string(page) + " is a free page", where);
      }
  }

  /// One sequence (batch 1) of its current length.
  explicit paged_kv(paged_sequence const& sequence)
      : paged_kv(
            sequence.pool(),
            tensor_view<std::int32_t const, 2>(sequence.block_table().data(),
                                               {1, static_cast<std::int64_t>(sequence.block_table().size())}),
            sequence.size()) {}

  std::int64_t batch() const noexcept { return tables_.extent(0); }
  std::int64_t kv_heads() const noexcept { return pool_->kv_heads(); }
  std::int64_t key_len() const noexcept { return key_len_; }
  std::int64_t qk_dim() const noexcept { return pool_->qk_dim(); }
  std::int64_t v_dim() const noexcept { return pool_->v_dim(); }

  /// The rest of the page holding `from`.
  key_rows rows(std::int64_t b, std::int64_t h, std::int64_t from) const noexcept {
    std::int64_t const page_size = pool_->page_size();
    if (from >= key_len_)
      return {.begin = key_len_, .end = key_len_};
    std::int32_t const page = tables_(b, from / page_size);
    std::int64_t const slot = from % page_size;
    return {.begin = from,
            .end = std::min(key_len_, from - slot + page_size),
            .k = pool_->key_row(page, h, slot),
            .k_stride = pool_->qk_dim(),
            .v = pool_->value_row(page, h, slot),
            .v_stride = pool_->v_dim()};
  }

private:
  static constexpr char const* where = "attnkit::paged_kv";

  page_pool const* pool_;
  tensor_view<std::int32_t const, 2> tables_;
  std::int64_t key_len_;
};

} // namespace attnkit
