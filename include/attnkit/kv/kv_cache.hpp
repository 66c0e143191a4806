#pragma once
/// \file
/// An owning, contiguous KV cache: B sequences that grow together, each head's keys one strided run.

#include "attnkit/kv/append_rows.hpp"
#include "attnkit/kv/cache_storage.hpp"
#include "attnkit/kv/key_rows.hpp"
#include "attnkit/kv/strided_kv.hpp"
#include "attnkit/tensor_view.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace attnkit {

/// Holds K [B, Hkv, capacity, D] and V [B, Hkv, capacity, Dv]; `append` adds tokens after the last ones.
///
///     attnkit::kv_cache cache(1, 8, 4096, 128, 128);
///     cache.append(k_prompt, v_prompt);   // [1, 8, n, 128] views
///     attn(q, cache, o);                  // q [1, 32, Sq, 128]: reads the cache in place
class kv_cache {
public:
  /// Throws std::invalid_argument when a size is < 1.
  kv_cache(std::int64_t batch, std::int64_t kv_heads, std::int64_t capacity, std::int64_t qk_dim,
           std::int64_t v_dim)
      : batch_(batch), kv_heads_(kv_heads), capacity_(capacity), qk_dim_(qk_dim), v_dim_(v_dim) {
    detail::check_size(batch, "batch", 1, where);
    detail::check_size(kv_heads, "kv_heads", 1, where);
    detail::check_size(capacity, "capacity", 1, where);
    detail::check_size(qk_dim, "qk_dim", 1, where);
    detail::check_size(v_dim, "v_dim", 1, where);
    k_ = detail::cache_storage(static_cast<std::size_t>(batch * kv_heads * capacity * qk_dim));
    v_ = detail::cache_storage(static_cast<std::size_t>(batch * kv_heads * capacity * v_dim));
  }

  std::int64_t batch() const noexcept { return batch_; }
  std::int64_t kv_heads() const noexcept { return kv_heads_; }
  std::int64_t key_len() const noexcept { return size_; }
  std::int64_t capacity() const noexcept { return capacity_; }
  std::int64_t qk_dim() const noexcept { return qk_dim_; }
  std::int64_t v_dim() const noexcept { return v_dim_; }

  /// Appends k [B, Hkv, n, D] and v [B, Hkv, n, Dv] (any strides). Throws std::invalid_argument on
  /// other sizes or when the tokens do not fit; the cache is unchanged then.
  void append(tensor_view<float const> k, tensor_view<float const> v) {
    detail::check_new_tokens(k, v, batch_, kv_heads_, qk_dim_, v_dim_, where);
    std::int64_t const n = k.extent(2);
    if (n > capacity_ - size_)
      detail::fail("appending " + std::to_string(n) + " tokens to " + std::to_string(size_) +
                       " exceeds the capacity of " + std::to_string(capacity_),
                   where);
    for (std::int64_t b = 0; b < batch_; ++b)
      for (std::int64_t h = 0; h < kv_heads_; ++h)
        for (std::int64_t t = 0; t < n; ++t) {
          detail::copy_row(k.pointer(b, h, t, 0), k.stride(3), qk_dim_, key_row(b, h, size_ + t));
          detail::copy_row(v.pointer(b, h, t, 0), v.stride(3), v_dim_, value_row(b, h, size_ + t));
        }
    size_ += n;
  }

  /// Forgets every token (the memory stays).
  void clear() noexcept { size_ = 0; }

  /// The tokens held, as views [B, Hkv, key_len, D] and [B, Hkv, key_len, Dv].
  tensor_view<float const> keys() const noexcept {
    return {k_.data(), {batch_, kv_heads_, size_, qk_dim_}, strides(qk_dim_)};
  }
  tensor_view<float const> values() const noexcept {
    return {v_.data(), {batch_, kv_heads_, size_, v_dim_}, strides(v_dim_)};
  }

  key_rows rows(std::int64_t b, std::int64_t h, std::int64_t from) const noexcept {
    return strided_kv{keys(), values()}.rows(b, h, from);
  }

private:
  static constexpr char const* where = "attnkit::kv_cache";

  tensor_view<float const>::extents_type strides(std::int64_t dim) const noexcept {
    return {kv_heads_ * capacity_ * dim, capacity_ * dim, dim, 1};
  }
  float* key_row(std::int64_t b, std::int64_t h, std::int64_t t) noexcept {
    return k_.data() + ((b * kv_heads_ + h) * capacity_ + t) * qk_dim_;
  }
  float* value_row(std::int64_t b, std::int64_t h, std::int64_t t) noexcept {
    return v_.data() + ((b * kv_heads_ + h) * capacity_ + t) * v_dim_;
  }

  std::int64_t batch_, kv_heads_, capacity_, qk_dim_, v_dim_;
  std::int64_t size_ = 0;
  detail::cache_storage k_, v_;
};

} // namespace attnkit
