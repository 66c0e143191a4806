#pragma once
/// \file
/// A run of consecutive keys stored with one stride: what a K/V source hands the kernels.

#include <cstdint>

namespace attnkit {

/// Keys [begin, end) of one (batch, KV head): key j's K row starts at k + (j - begin) * k_stride and its
/// V row at v + (j - begin) * v_stride; inside a row, element d sits at d * k_dim_stride (v_dim_stride).
/// An empty run (begin == end) means no key is stored at or after the position asked for.
struct key_rows {
  std::int64_t begin = 0;
  std::int64_t end = 0;
  float const* k = nullptr;
  std::int64_t k_stride = 0;
  float const* v = nullptr;
  std::int64_t v_stride = 0;
  std::int64_t k_dim_stride = 1;
  std::int64_t v_dim_stride = 1;

  constexpr std::int64_t size() const noexcept { return end - begin; }
  constexpr bool empty() const noexcept { return end <= begin; }
  /// K row of key j, begin <= j < end.
  constexpr float const* key(std::int64_t j) const noexcept { return k + (j - begin) * k_stride; }
  /// V row of key j, begin <= j < end.
  constexpr float const* value(std::int64_t j) const noexcept { return v + (j - begin) * v_stride; }
};

} // namespace attnkit
