#pragma once
/// \file
/// K and V as two strided views, [batch, KV heads, keys, dim] in any memory order: the K/V of
/// attn(q, k, v, o), and the view every contiguous cache gives.

#include "attnkit/kv/key_rows.hpp"
#include "attnkit/tensor_view.hpp"

#include <cstdint>

namespace attnkit {

/// Every key is stored: one run per (batch, head), from the position asked for to the end.
struct strided_kv {
  tensor_view<float const> k; ///< [B, Hkv, Sk, D]
  tensor_view<float const> v; ///< [B, Hkv, Sk, Dv]

  std::int64_t batch() const noexcept { return k.extent(0); }
  std::int64_t kv_heads() const noexcept { return k.extent(1); }
  std::int64_t key_len() const noexcept { return k.extent(2); }
  std::int64_t qk_dim() const noexcept { return k.extent(3); }
  std::int64_t v_dim() const noexcept { return v.extent(3); }

  key_rows rows(std::int64_t b, std::int64_t h, std::int64_t from) const noexcept {
    if (from >= key_len())
      return {.begin = key_len(), .end = key_len()};
    return {.begin = from,
            .end = key_len(),
            .k = k.pointer(b, h, from, 0),
            .k_stride = k.stride(2),
            .v = v.pointer(b, h, from, 0),
            .v_stride = v.stride(2),
            .k_dim_stride = k.stride(3),
            .v_dim_stride = v.stride(3)};
  }
};

} // namespace attnkit
