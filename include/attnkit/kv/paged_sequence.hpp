#pragma once
/// \file
/// One sequence's block table in a page pool: appends tokens a page at a time, shares pages with forks.

#include "attnkit/kv/append_rows.hpp"
#include "attnkit/kv/page_pool.hpp"
#include "attnkit/tensor_view.hpp"

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace attnkit {

/// Owns references to the pages of its block table and releases them when destroyed. `fork` starts a
/// sequence that shares every page (a common prompt, beam search); appending into a shared page first
/// copies it (copy on write), so sharers never see each other's tokens.
class paged_sequence {
public:
  explicit paged_sequence(page_pool& pool) noexcept : pool_(&pool) {}
  paged_sequence(paged_sequence const&) = delete;
  paged_sequence& operator=(paged_sequence const&) = delete;
  paged_sequence(paged_sequence&& other) noexcept
      : pool_(other.pool_), table_(std::move(other.table_)), size_(std::exchange(other.size_, 0)) {
    other.table_.clear();
  }
  paged_sequence& operator=(paged_sequence&& other) noexcept {
    if (this != &other) {
      release_pages();
      pool_ = other.pool_;
      table_ = std::move(other.table_);
      other.table_.clear();
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  ~paged_sequence() { release_pages(); }

  page_pool const& pool() const noexcept { return *pool_; }
  std::int64_t size() const noexcept { return size_; }
  std::span<std::int32_t const> block_table() const noexcept { return table_; }

  /// A new sequence holding the same tokens in the same pages.
  paged_sequence fork() const {
    paged_sequence copy(*pool_);
    for (std::int32_t page : table_)
      pool_->retain(page);
    copy.table_ = table_;
    copy.size_ = size_;
    return copy;
  }

  /// Appends k [1, Hkv, n, D] and v [1, Hkv, n, Dv] (any strides). Throws std::invalid_argument on other
  /// sizes or when the pool runs out of pages; the tokens that fitted stay appended then.
  void append(tensor_view<float const> k, tensor_view<float const> v) {
    page_pool& pool = *pool_;
    detail::check_new_tokens(k, v, 1, pool.kv_heads(), pool.qk_dim(), pool.v_dim(), where);
    std::int64_t const page_size = pool.page_size();
    for (std::int64_t t = 0; t < k.extent(2); ++t) {
      std::int64_t const slot = size_ % page_size;
      if (slot == 0)
        table_.push_back(pool.allocate());
      else if (pool.references(table_.back()) > 1)
        copy_last_page(slot);
      std::int32_t const page = table_.back();
      for (std::int64_t h = 0; h < pool.kv_heads(); ++h) {
        detail::copy_row(k.pointer(0, h, t, 0), k.stride(3), pool.qk_dim(), pool.key_row(page, h, slot));
        detail::copy_row(v.pointer(0, h, t, 0), v.stride(3), pool.v_dim(), pool.value_row(page, h, slot));
      }
      ++size_;
    }
  }

private:
  static constexpr char const* where = "attnkit::paged_sequence";

  /// Replaces the shared last page by a private copy of its first `slots` tokens.
  void copy_last_page(std::int64_t slots) {
    page_pool& pool = *pool_;
    std::int32_t const shared = table_.back(), own = pool.allocate();
    for (std::int64_t h = 0; h < pool.kv_heads(); ++h)
      for (std::int64_t s = 0; s < slots; ++s) {
        detail::copy_row(pool.key_row(shared, h, s), 1, pool.qk_dim(), pool.key_row(own, h, s));
        detail::copy_row(pool.value_row(shared, h, s), 1, pool.v_dim(), pool.value_row(own, h, s));
      }
    pool.release(shared);
    table_.back() = own;
  }

  void release_pages() noexcept {
    for (std::int32_t page : table_)
      pool_->release(page); // pages of a live sequence are in use: never throws
    table_.clear();
    size_ = 0;
  }

  page_pool* pool_;
  std::vector<std::int32_t> table_;
  std::int64_t size_ = 0;
};

} // namespace attnkit
