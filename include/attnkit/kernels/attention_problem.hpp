#pragma once
/// \file
/// One validated call, as the kernels see it.

#include "attnkit/kernels/kv_reader.hpp"
#include "attnkit/tensor_view.hpp"

#include <cstdint>

namespace attnkit::detail {

/// Shapes: q [B, Hq, Sq, D], K/V of B sequences, Hkv heads, Sk key positions, dims D and Dv,
/// o [B, Hq, Sq, Dv], lse [B, Hq, Sq] (lse.data() is null when no LSE was asked for).
struct attention_problem {
  tensor_view<float const> q;
  kv_reader kv;
  tensor_view<float> o;
  tensor_view<float, 3> lse;
  float scale = 1.0f;
  std::int64_t position_offset = 0; ///< p(i) = i + position_offset
  int threads = 1;
  std::int64_t decode_split_keys = 0; ///< keys per split of the decode kernel; 0 chooses

  std::int64_t batch() const noexcept { return q.extent(0); }
  std::int64_t q_heads() const noexcept { return q.extent(1); }
  std::int64_t kv_heads() const noexcept { return kv.kv_heads(); }
  std::int64_t q_len() const noexcept { return q.extent(2); }
  std::int64_t key_len() const noexcept { return kv.key_len(); }
  std::int64_t qk_dim() const noexcept { return q.extent(3); }
  std::int64_t v_dim() const noexcept { return kv.v_dim(); }
};

} // namespace attnkit::detail
