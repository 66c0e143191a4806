#pragma once
/// \file
/// Runs a vector function over one row of scores in place, a register at a time, tail included: the
/// helper score modifiers build their `modify_row` from.

#include "attnkit/arch/simd_compat.hpp"

#include <array>
#include <cstdint>

namespace attnkit::simd {

/// The lane indices 0, 1, ..., width - 1 as floats (key offsets within one register).
template <class Arch> inline float_batch<Arch> lane_offsets() noexcept {
  alignas(64) std::array<float, width<Arch>> lanes{};
  for (std::size_t i = 0; i < lanes.size(); ++i)
    lanes[i] = static_cast<float>(i);
  return float_batch<Arch>::load_aligned(lanes.data());
}

/// values[j .. j + width) = f(values[j .. j + width), j) for j = 0, width, ... < n. The last, partial
/// register goes through a zero-padded copy, so `f` always sees whole registers and nothing past values[n -
/// 1] is read or written. `f` is taken by value: through a reference, its captures could alias `values`
/// and were reloaded after every store (the softcap's pass ran ~25 % slower, Zen 3).
template <class Arch, class F> inline void map_row(float* values, std::int64_t n, F f) {
  using batch = float_batch<Arch>;
  constexpr auto w = static_cast<std::int64_t>(width<Arch>);
  std::int64_t j = 0;
  for (; j + w <= n; j += w)
    f(batch::load_unaligned(values + j), j).store_unaligned(values + j);
  if (j == n)
    return;
  alignas(64) std::array<float, width<Arch>> tail{};
  for (std::int64_t t = 0; t < n - j; ++t)
    tail[static_cast<std::size_t>(t)] = values[j + t];
  f(batch::load_aligned(tail.data()), j).store_aligned(tail.data());
  for (std::int64_t t = 0; t < n - j; ++t)
    values[j + t] = tail[static_cast<std::size_t>(t)];
}

/// values[0, n) += addends[0, n), a register at a time, then the tail one by one.
template <class Arch> inline void add_row(float* values, float const* addends, std::int64_t n) noexcept {
  using batch = float_batch<Arch>;
  constexpr auto w = static_cast<std::int64_t>(width<Arch>);
  std::int64_t j = 0;
  for (; j + w <= n; j += w)
    (batch::load_unaligned(values + j) + batch::load_unaligned(addends + j)).store_unaligned(values + j);
  for (; j < n; ++j)
    values[j] += addends[j];
}

} // namespace attnkit::simd
