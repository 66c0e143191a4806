#pragma once
/// \file
/// K and V copied once per call into the layouts the micro-kernel reads: K transposed in tiles
/// ([D][cols] per tile, so the score product loads keys as vectors) and V with Dv padded.
/// Packing once per KV head lets every query block and every query head of a GQA group reuse the same
/// copy, and makes any caller strides cost one pass.

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

  /// K^T of one tile of a held head (`head` = batch * Hkv + KV head): [D][cols], keys beyond Sk zero.
  float const* k_tile(std::int64_t head, std::int64_t tile) const noexcept {
    return k_ + slot(head, tile) * k_tile_size();
  }
  /// V of one tile of a held head: [cols][v_cols], rows beyond Sk and columns beyond Dv zero.
  float const* v_tile(std::int64_t head, std::int64_t tile) const noexcept {
    return v_ + slot(head, tile) * v_tile_size();
  }
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

  /// kt[d][j] = k[first + j][d]; keys the source does not store are zero (the kernel never uses them).
  /// Sixteen keys at a time: each write is one 64-byte line of kt and the sixteen source rows stay in L1
  /// while d advances.
  void pack_keys_transposed(attention_problem const& p, std::int64_t b, std::int64_t h, std::int64_t first,
                            std::int64_t count, float* kt) const noexcept {
    constexpr std::int64_t group = 16;
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
      for (std::int64_t d = 0; d < dim_; ++d) {
        float* dst = kt + d * tiles_.cols + j0;
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

  /// vt[j][d] = v[first + j][d], zero-padded to v_cols columns and cols rows (and zero for keys the source
  /// does not store). Returns false if any value is NaN or Inf.
  bool pack_values(attention_problem const& p, std::int64_t b, std::int64_t h, std::int64_t first,
                   std::int64_t count, float* vt) const noexcept {
    std::int64_t const dv = p.v_dim();
    constexpr std::uint32_t exponent = 0x7f800000; // all ones in a NaN or an Inf, and only there
    std::uint32_t non_finite = 0;
    key_cursor values(p.kv, b, h);
    for (std::int64_t j = 0; j < tiles_.cols; ++j) {
      float* dst = vt + j * tiles_.v_cols;
      std::int64_t copied = 0;
      if (float const* src = j < count ? values.value(first + j) : nullptr; src != nullptr) {
        std::int64_t const vs = values.run_at(first + j).v_dim_stride;
        // An integer OR reduction vectorises; a float sum (x - x) would be one serial chain of adds.
        for (std::int64_t d = 0; d < dv; ++d) {
          float const x = src[d * vs];
          non_finite |= (std::bit_cast<std::uint32_t>(x) & exponent) == exponent ? 1u : 0u;
          dst[d] = x;
        }
        copied = dv;
      }
      for (std::int64_t d = copied; d < tiles_.v_cols; ++d)
        dst[d] = 0.0f;
    }
    return non_finite == 0;
  }

  tile_shape tiles_;
  std::int64_t dim_;
  std::int64_t tile_count_;
  std::int64_t first_ = 0;              // first KV head held
  float* k_;                            // [held heads][tiles][D][cols]
  float* v_;                            // [held heads][tiles][cols][v_cols]
  std::vector<unsigned char> v_finite_; // one flag per tile; written by one thread each
};

} // namespace attnkit::detail
