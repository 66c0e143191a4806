#pragma once
/// \file
/// An additive bias tensor on the scores (relative-position tables, padding masks as -inf, T5-style
/// biases), broadcast over any dimension of extent 1.

#include "attnkit/arch/prefetch.hpp"
#include "attnkit/arch/row_map.hpp"
#include "attnkit/arch/simd_compat.hpp"
#include "attnkit/policies/call_shape.hpp"
#include "attnkit/policies/policy_error.hpp"
#include "attnkit/policies/query_block.hpp"
#include "attnkit/tensor_view.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace attnkit {

/// s = s + bias(b, h, i, j) for a [B, Hq, Sq, Sk] view; a dimension of extent 1 is broadcast (a full
/// [Sq, Sk] table is extents {1, 1, Sq, Sk}, a per-head one {1, Hq, Sq, Sk}, a per-key padding bias
/// {B, 1, 1, Sk}). The view does not own its memory: it must outlive every call. A large table ([Sq, Sk] of
/// tens of MiB) is read a row piece at a time, each piece on its own 4 KiB page: put it in huge pages (on
/// Linux, a 2 MiB-aligned allocation advised with madvise(MADV_HUGEPAGE)) to spare a TLB walk per piece
/// (N = 4096, D = 64 on Zen 3 under KVM: 1.07-1.11 -> 1.04-1.05 of the time without a bias).
class additive_bias {
public:
  explicit additive_bias(tensor_view<float const> bias) : bias_(bias) {}

  tensor_view<float const> const& bias() const noexcept { return bias_; }

  /// Every extent must be 1 or the call's; strides must be >= 0 and the data non-null.
  void validate(call_shape const& s) const {
    std::array<std::int64_t, 4> const want{s.batch, s.q_heads, s.q_len, s.key_len};
    std::array<char const*, 4> const names{"B", "Hq", "Sq", "Sk"};
    for (std::size_t d = 0; d < 4; ++d) {
      if (bias_.extent(d) != 1 && bias_.extent(d) != want[d])
        detail::policy_error("additive_bias",
                             "bias.extent(" + std::to_string(d) + ") = " + std::to_string(bias_.extent(d)) +
                                 " must be 1 or " + names[d] + " = " + std::to_string(want[d]));
      if (bias_.stride(d) < 0)
        detail::policy_error("additive_bias", "bias.stride(" + std::to_string(d) +
                                                  ") = " + std::to_string(bias_.stride(d)) + " must be >= 0");
    }
    if (bias_.data() == nullptr)
      detail::policy_error("additive_bias", "bias has a null data pointer");
  }

  template <class Arch>
  void modify_row(query_block const& b, std::int64_t row, std::int64_t first_key, float* scores,
                  std::int64_t n) const noexcept {
    float const* src = pointer(b.batch, b.head, row, first_key);
    std::int64_t const step = bias_.extent(3) == 1 ? 0 : bias_.stride(3);
    if (step == 1) {
      // A block reads a piece of each of its rows per key tile, rows 4 * Sk bytes apart: too short a stream
      // for the hardware prefetcher, so each piece waited on memory. The same keys of the row after next
      // are asked for now, two rows of products ahead (the next row gained no more; this row's piece two
      // key tiles ahead, into L2, gained less where the table fits the L3).
      if (bias_.extent(2) != 1 && row + 2 < b.q_len) {
        float const* later = pointer(b.batch, b.head, row + 2, first_key);
        for (std::int64_t j = 0; j < n; j += cache_line_floats)
          simd::prefetch_to_l1(later + j);
      }
      simd::add_row<Arch>(scores, src, n);
    } else {
      for (std::int64_t j = 0; j < n; ++j)
        scores[j] += src[j * step];
    }
  }

private:
  static constexpr std::int64_t cache_line_floats = 16; // 64-byte lines

  /// Address of bias(b, h, i, j), broadcast dimensions read at index 0.
  float const* pointer(std::int64_t b, std::int64_t h, std::int64_t i, std::int64_t j) const noexcept {
    auto index = [&](std::size_t d, std::int64_t x) { return bias_.extent(d) == 1 ? 0 : x; };
    return bias_.pointer(index(0, b), index(1, h), index(2, i), index(3, j));
  }

  tensor_view<float const> bias_;
};

} // namespace attnkit
