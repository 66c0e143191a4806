#pragma once
/// \file
/// Fixed-size pages of K and V shared by many sequences, as in vLLM's PagedAttention ("Efficient Memory
/// Management for Large Language Model Serving with PagedAttention"): a sequence is a block table of page
/// ids, and a page may belong to several sequences (a shared prompt) until the last one releases it.

#include "attnkit/kv/append_rows.hpp"
#include "attnkit/kv/cache_storage.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace attnkit {

/// `pages` pages of `page_size` tokens for `kv_heads` heads. Page p holds K as [Hkv][page_size][D] and V
/// as [Hkv][page_size][Dv], so a head's tokens in a page are one strided run. Pages carry reference counts:
/// `allocate` gives a page with count 1, `retain` adds a sharer, `release` drops one and frees the page at 0.
/// Not thread-safe: allocate and release from one thread (attention calls may read concurrently).
class page_pool {
public:
  /// Throws std::invalid_argument when a size is < 1 or the pool would not fit in memory.
  page_pool(std::int64_t pages, std::int64_t page_size, std::int64_t kv_heads, std::int64_t qk_dim,
            std::int64_t v_dim)
      : pages_(pages), page_size_(page_size), kv_heads_(kv_heads), qk_dim_(qk_dim), v_dim_(v_dim) {
    detail::check_size(pages, "pages", 1, where);
    detail::check_size(page_size, "page_size", 1, where);
    detail::check_size(kv_heads, "kv_heads", 1, where);
    detail::check_size(qk_dim, "qk_dim", 1, where);
    detail::check_size(v_dim, "v_dim", 1, where);
    if (pages > std::int64_t{1} << 31)
      detail::fail("pages = " + std::to_string(pages) + " does not fit a 32-bit page id", where);
    k_ = detail::cache_storage(static_cast<std::size_t>(pages * page_size * kv_heads * qk_dim));
    v_ = detail::cache_storage(static_cast<std::size_t>(pages * page_size * kv_heads * v_dim));
    references_.assign(static_cast<std::size_t>(pages), 0);
    for (std::int64_t p = pages; p-- > 0;) // handed out lowest id first
      free_.push_back(static_cast<std::int32_t>(p));
  }

  std::int64_t pages() const noexcept { return pages_; }
  std::int64_t page_size() const noexcept { return page_size_; }
  std::int64_t kv_heads() const noexcept { return kv_heads_; }
  std::int64_t qk_dim() const noexcept { return qk_dim_; }
  std::int64_t v_dim() const noexcept { return v_dim_; }
  std::int64_t free_pages() const noexcept { return static_cast<std::int64_t>(free_.size()); }

  /// A free page with reference count 1. Throws std::invalid_argument when every page is in use.
  std::int32_t allocate() {
    if (free_.empty())
      detail::fail("all " + std::to_string(pages_) + " pages are in use", where);
    std::int32_t const page = free_.back();
    free_.pop_back();
    references_[static_cast<std::size_t>(page)] = 1;
    return page;
  }

  /// One more sequence shares `page`, which must be in use.
  void retain(std::int32_t page) {
    check_in_use(page, "retain");
    ++references_[static_cast<std::size_t>(page)];
  }

  /// One fewer sequence holds `page`; at zero it is free again. Releasing a free page throws.
  void release(std::int32_t page) {
    check_in_use(page, "release");
    if (--references_[static_cast<std::size_t>(page)] == 0)
      free_.push_back(page);
  }

  /// Sequences holding `page` (0 when free).
  std::int64_t references(std::int32_t page) const {
    check_id(page, "references");
    return references_[static_cast<std::size_t>(page)];
  }

  /// K row of token `slot` of head `head` in `page` (no checks: the caller owns the page).
  float* key_row(std::int32_t page, std::int64_t head, std::int64_t slot) noexcept {
    return k_.data() + row_index(page, head, slot) * qk_dim_;
  }
  float const* key_row(std::int32_t page, std::int64_t head, std::int64_t slot) const noexcept {
    return k_.data() + row_index(page, head, slot) * qk_dim_;
  }
  float* value_row(std::int32_t page, std::int64_t head, std::int64_t slot) noexcept {
    return v_.data() + row_index(page, head, slot) * v_dim_;
  }
  float const* value_row(std::int32_t page, std::int64_t head, std::int64_t slot) const noexcept {
    return v_.data() + row_index(page, head, slot) * v_dim_;
  }

  /// Throws std::invalid_argument naming `what` unless `page` is a page of the pool.
  void check_id(std::int64_t page, char const* what) const {
    if (page < 0 || page >= pages_)
      detail::fail(std::string(what) + ": page " + std::to_string(page) + " is outside the pool of " +
                       std::to_string(pages_) + " pages",
                   where);
  }
  /// Throws std::invalid_argument naming `what` unless `page` is in use.
  void check_in_use(std::int64_t page, char const* what) const {
    check_id(page, what);
    if (references_[static_cast<std::size_t>(page)] == 0)
      detail::fail(std::string(what) + ": page " + std::to_string(page) + " is free", where);
  }

private:
  static constexpr char const* where = "attnkit::page_pool";

  std::int64_t row_index(std::int32_t page, std::int64_t head, std::int64_t slot) const noexcept {
    return (static_cast<std::int64_t>(page) * kv_heads_ + head) * page_size_ + slot;
  }

  std::int64_t pages_, page_size_, kv_heads_, qk_dim_, v_dim_;
  detail::cache_storage k_, v_;
  std::vector<std::int32_t> references_;
  std::vector<std::int32_t> free_;
};

} // namespace attnkit
