#pragma once
/// \file
/// StreamingLLM's KV cache ("Efficient Streaming Language Models with Attention Sinks"): the first tokens
/// (the attention sinks) and a ring of the most recent ones, in constant memory however long the
/// generation runs.

#include "attnkit/kv/append_rows.hpp"
#include "attnkit/kv/cache_storage.hpp"
#include "attnkit/kv/key_rows.hpp"
#include "attnkit/tensor_view.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

namespace attnkit {

/// B sequences that grow together. Keeps tokens [0, sinks) and the last `window` tokens; positions stay
/// absolute: key_len() counts every token ever appended, and a call sees only the tokens held, at their
/// true positions (so causal masks, windows and ALiBi use true distances). With one query per call and
/// a causal mask, attention over the cache equals `sink_window::causal(sinks, window)` over the whole
/// history (docs/semantics.md).
class streaming_kv_cache {
public:
  /// Throws std::invalid_argument when sinks < 0 or another size is < 1.
  streaming_kv_cache(std::int64_t batch, std::int64_t kv_heads, std::int64_t sinks, std::int64_t window,
                     std::int64_t qk_dim, std::int64_t v_dim)
      : batch_(batch), kv_heads_(kv_heads), sinks_(sinks), window_(window), qk_dim_(qk_dim), v_dim_(v_dim) {
    detail::check_size(batch, "batch", 1, where);
    detail::check_size(kv_heads, "kv_heads", 1, where);
    detail::check_size(sinks, "sinks", 0, where);
    detail::check_size(window, "window", 1, where);
    detail::check_size(qk_dim, "qk_dim", 1, where);
    detail::check_size(v_dim, "v_dim", 1, where);
    k_ = detail::cache_storage(static_cast<std::size_t>(batch * kv_heads * slots() * qk_dim));
    v_ = detail::cache_storage(static_cast<std::size_t>(batch * kv_heads * slots() * v_dim));
  }

  std::int64_t batch() const noexcept { return batch_; }
  std::int64_t kv_heads() const noexcept { return kv_heads_; }
  /// Tokens appended so far (positions are absolute).
  std::int64_t key_len() const noexcept { return length_; }
  std::int64_t qk_dim() const noexcept { return qk_dim_; }
  std::int64_t v_dim() const noexcept { return v_dim_; }
  std::int64_t sinks() const noexcept { return sinks_; }
  std::int64_t window() const noexcept { return window_; }
  /// Tokens held now: at most sinks + window.
  std::int64_t held() const noexcept { return std::min(length_, sinks_ + window_); }
  /// Bytes of K and V storage, fixed at construction.
  std::size_t storage_bytes() const noexcept { return (k_.size() + v_.size()) * sizeof(float); }

  /// Appends k [B, Hkv, n, D] and v [B, Hkv, n, Dv] (any strides, any n): tokens past the sinks that fall
  /// out of the window are dropped. Throws std::invalid_argument on other sizes.
  void append(tensor_view<float const> k, tensor_view<float const> v) {
    detail::check_new_tokens(k, v, batch_, kv_heads_, qk_dim_, v_dim_, where);
    std::int64_t const n = k.extent(2), end = length_ + n;
    for (std::int64_t t = 0; t < n; ++t) {
      std::int64_t const position = length_ + t;
      if (position >= sinks_ && position < end - window_)
        continue; // overwritten later in this same append
      for (std::int64_t b = 0; b < batch_; ++b)
        for (std::int64_t h = 0; h < kv_heads_; ++h) {
          std::int64_t const row = row_index(b, h, slot_of(position));
          detail::copy_row(k.pointer(b, h, t, 0), k.stride(3), qk_dim_, k_.data() + row * qk_dim_);
          detail::copy_row(v.pointer(b, h, t, 0), v.stride(3), v_dim_, v_.data() + row * v_dim_);
        }
    }
    length_ = end;
  }

  /// Forgets every token (the memory stays).
  void clear() noexcept { length_ = 0; }

  /// The sinks, then the window in at most two runs (the ring wraps once).
  key_rows rows(std::int64_t b, std::int64_t h, std::int64_t from) const noexcept {
    std::int64_t const sink_end = std::min(sinks_, length_);
    std::int64_t const window_begin = std::max(sinks_, length_ - window_);
    std::int64_t begin = from, end = sink_end;
    if (from >= sink_end) {
      begin = std::max(from, window_begin);
      if (begin >= length_)
        return {.begin = length_, .end = length_};
      end = std::min(length_, begin + window_ - (begin - sinks_) % window_); // up to the ring's wrap
    }
    std::int64_t const row = row_index(b, h, slot_of(begin));
    return {.begin = begin,
            .end = end,
            .k = k_.data() + row * qk_dim_,
            .k_stride = qk_dim_,
            .v = v_.data() + row * v_dim_,
            .v_stride = v_dim_};
  }

private:
  static constexpr char const* where = "attnkit::streaming_kv_cache";

  std::int64_t slots() const noexcept { return sinks_ + window_; }
  /// Sink i lives in slot i; later positions cycle through the ring after the sinks.
  std::int64_t slot_of(std::int64_t position) const noexcept {
    return position < sinks_ ? position : sinks_ + (position - sinks_) % window_;
  }
  std::int64_t row_index(std::int64_t b, std::int64_t h, std::int64_t slot) const noexcept {
    return (b * kv_heads_ + h) * slots() + slot;
  }

  std::int64_t batch_, kv_heads_, sinks_, window_, qk_dim_, v_dim_;
  std::int64_t length_ = 0;
  detail::cache_storage k_, v_;
};

} // namespace attnkit
