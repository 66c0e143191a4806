#pragma once
/// \file
/// K and V copied once per call into the layouts the micro-kernel reads, a tile of keys at a time and
/// within a tile a column panel (the register block's columns, nr) at a time: K transposed, each panel
/// [D][nr] (the score product loads keys as vectors), and V with Dv padded, each panel [cols][nr]. A
/// panel's rows are contiguous, so it fills whole cache lines and stays in L1 while the row blocks use it.
/// Packing once per KV head lets every query block and every query head of a GQA group reuse the same
/// copy, and makes any caller strides cost one pass.

#include "attnkit/arch/register_blocking.hpp"
#include "attnkit/arch/transpose.hpp"
#include "attnkit/kernels/attention_problem.hpp"
#include "attnkit/kernels/kv_reader.hpp"
#include "attnkit/kernels/parallel_for.hpp"
#include "attnkit/kernels/tile_shape.hpp"
#include "attnkit/kernels/workspace.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

namespace attnkit::detail {

/// Holds the packed K/V of a run of consecutive KV heads (flattened as batch * Hkv + head) at a time.
/// A template on the architecture, like everything a kernel reaches, so that copies compiled with
/// different flags never merge at link time.
template <class Arch> class packed_kv {
public:
  /// Columns of a panel: the micro-kernel's register block.
  static constexpr auto nr = static_cast<std::int64_t>(simd::register_blocking<Arch>::columns);

  /// Room for `capacity` KV heads.
  packed_kv(attention_problem const& p, tile_shape const& tiles, std::int64_t capacity)
      : tiles_(tiles), dim_(p.qk_dim()), tile_count_((p.key_len() + tiles.cols - 1) / tiles.cols),
        k_(thread_workspace<Arch>(capacity * floats_per_head(p, tiles))),
        v_(k_ + capacity * tile_count_ * k_tile_size()),
        v_finite_(static_cast<std::size_t>(capacity * tile_count_), 1) {}

  /// Floats one KV head takes once packed.
  static std::int64_t floats_per_head(attention_problem const& p, tile_shape const& tiles) noexcept {
    std::int64_t const tile_count = (p.key_len() + tiles.cols - 1) / tiles.cols;
    return tile_count * tiles.cols * (p.qk_dim() + tiles.v_cols);
  }

  /// Packs KV heads [first, first + count) in parallel, replacing what was held.
  void pack(attention_problem const& p, std::int64_t first, std::int64_t count) noexcept {
    first_ = first;
    parallel_for(count * tile_count_, p.threads, [&](std::int64_t item, int) noexcept {
      std::int64_t const head = first + item / tile_count_;
      pack_tile(p, head / p.kv_heads(), head % p.kv_heads(), item % tile_count_);
    });
  }

  /// K^T of one tile of a held head (`head` = batch * Hkv + KV head) from its column `column` (a multiple of
  /// nr) on: panels of [D][nr], k_panel_stride() apart; keys beyond Sk are zero.
  float const* k_panels(std::int64_t head, std::int64_t tile, std::int64_t column) const noexcept {
    return k_ + slot(head, tile) * k_tile_size() + column * dim_;
  }
  std::int64_t k_panel_stride() const noexcept { return dim_ * nr; }
  /// V of one tile of a held head from its row (key) `row` on: panels of [cols][nr], v_panel_stride() apart,
  /// row j of a panel at + j * nr; rows beyond Sk and columns beyond Dv are zero.
  float const* v_panels(std::int64_t head, std::int64_t tile, std::int64_t row) const noexcept {
    return v_ + slot(head, tile) * v_tile_size() + row * nr;
  }
  std::int64_t v_panel_stride() const noexcept { return tiles_.cols * nr; }
  /// False when the tile's values hold a NaN or Inf (then a hidden key must be skipped, not weighted 0).
  bool v_tile_finite(std::int64_t head, std::int64_t tile) const noexcept {
    return v_finite_[static_cast<std::size_t>(slot(head, tile))] != 0;
  }

private:
  std::int64_t slot(std::int64_t head, std::int64_t tile) const noexcept {
    return (head - first_) * tile_count_ + tile;
  }
  std::int64_t k_tile_size() const noexcept { return dim_ * tiles_.cols; }
  std::int64_t v_tile_size() const noexcept { return tiles_.cols * tiles_.v_cols; }

  void pack_tile(attention_problem const& p, std::int64_t b, std::int64_t h, std::int64_t tile) noexcept {
    std::int64_t const first = tile * tiles_.cols;
    std::int64_t const count = std::min(tiles_.cols, p.key_len() - first);
    std::int64_t const at = slot(b * p.kv_heads() + h, tile);
    float* kt = k_ + at * k_tile_size();
    float* vt = v_ + at * v_tile_size();
    // Every element is written, padding included: the buffer is reused between calls.
    pack_keys_transposed(p, b, h, first, count, kt);
    bool const finite = pack_values(p, b, h, first, count, vt);
    v_finite_[static_cast<std::size_t>(at)] = finite ? 1 : 0;
  }

  /// Key first + j's element d goes to kt's panel j / nr, row d, column j % nr; keys the source does not
  /// store are zero (the kernel never uses them). Sixteen keys at a time (nr when narrower): each write is
  /// one 64-byte line of kt and the source rows stay in L1 while d advances. Where the CPU has AVX, whole
  /// groups of unit-stride rows go through 8 x 8 transposes in registers.
  void pack_keys_transposed(attention_problem const& p, std::int64_t b, std::int64_t h, std::int64_t first,
                            std::int64_t count, float* kt) const noexcept {
    constexpr std::int64_t group = std::min<std::int64_t>(16, nr);
    static_assert(nr % group == 0, "a group of keys lies in one panel");
    key_cursor keys(p.kv, b, h);
    for (std::int64_t j0 = 0; j0 < tiles_.cols; j0 += group) {
      std::int64_t const n = std::clamp<std::int64_t>(count - j0, 0, group);
      float const* rows[group];
      std::int64_t dim_stride = 1;
      bool all_stored = true;
      for (std::int64_t jj = 0; jj < n; ++jj) {
        rows[jj] = keys.key(first + j0 + jj);
        all_stored = all_stored && rows[jj] != nullptr;
        if (rows[jj] != nullptr)
          dim_stride = keys.run_at(first + j0 + jj).k_dim_stride;
      }
      float* const panel = kt + j0 / nr * k_panel_stride() + j0 % nr; // row d at + d * nr
      std::int64_t d = 0;
      if constexpr (simd::has_transpose_8x8<Arch> && group % 8 == 0) {
        if (all_stored && n == group && dim_stride == 1)
          for (; d + 8 <= dim_; d += 8)
            for (std::int64_t half = 0; half < group; half += 8) {
              float const* eight[8];
              for (std::int64_t i = 0; i < 8; ++i)
                eight[i] = rows[half + i] + d;
              simd::transpose_8x8<Arch>(eight, panel + d * nr + half, nr);
            }
      }
      for (; d < dim_; ++d) {
        float* dst = panel + d * nr;
        if (all_stored)
          for (std::int64_t jj = 0; jj < n; ++jj)
            dst[jj] = rows[jj][d * dim_stride];
        else
          for (std::int64_t jj = 0; jj < n; ++jj)
            dst[jj] = rows[jj] != nullptr ? rows[jj][d * dim_stride] : 0.0f;
        for (std::int64_t jj = n; jj < group; ++jj)
          dst[jj] = 0.0f;
      }
    }
  }

  /// Value first + j's element d goes to vt's panel d / nr, row j, column d % nr, zero-padded to v_cols
  /// columns and cols rows (and zero for keys the source does not store). Returns false if any value is
  /// NaN or Inf.
  bool pack_values(attention_problem const& p, std::int64_t b, std::int64_t h, std::int64_t first,
                   std::int64_t count, float* vt) const noexcept {
    std::int64_t const dv = p.v_dim();
    constexpr std::uint32_t exponent = 0x7f800000; // all ones in a NaN or an Inf, and only there
    std::uint32_t non_finite = 0;
    using batch = simd::float_batch<Arch>;
    constexpr auto w = static_cast<std::int64_t>(simd::width<Arch>);
    xsimd::batch_bool<float, Arch> finite(true);
    key_cursor values(p.kv, b, h);
    for (std::int64_t j = 0; j < tiles_.cols; ++j) {
      float const* src = j < count ? values.value(first + j) : nullptr;
      std::int64_t const stored = src != nullptr ? dv : 0;
      std::int64_t const vs = src != nullptr ? values.run_at(first + j).v_dim_stride : 0;
      for (std::int64_t d0 = 0; d0 < tiles_.v_cols; d0 += nr) {
        float* dst = vt + d0 / nr * v_panel_stride() + j * nr;
        std::int64_t const copied = std::clamp<std::int64_t>(stored - d0, 0, nr);
        std::int64_t c = 0;
        if (vs == 1) // whole registers, written out: GCC 12 leaves the loop below scalar at -O2
          for (; c + w <= copied; c += w) {
            batch const x = batch::load_unaligned(src + d0 + c);
            finite = finite & xsimd::isfinite(x);
            x.store_unaligned(dst + c);
          }
        // Strided rows and the tail: an integer OR reduction (a float sum of x - x would be one serial
        // chain).
        for (; c < copied; ++c) {
          float const x = src[(d0 + c) * vs];
          non_finite |= (std::bit_cast<std::uint32_t>(x) & exponent) == exponent ? 1u : 0u;
          dst[c] = x;
        }
        std::fill(dst + copied, dst + nr, 0.0f);
      }
    }
    return non_finite == 0 && xsimd::all(finite);
  }

  tile_shape tiles_;
  std::int64_t dim_;
  std::int64_t tile_count_;
  std::int64_t first_ = 0;              // first KV head held
  float* k_;                            // [held heads][tiles][cols / nr][D][nr]
  float* v_;                            // [held heads][tiles][v_cols / nr][cols][nr]
  std::vector<unsigned char> v_finite_; // one flag per tile; written by one thread each
};

} // namespace attnkit::detail
