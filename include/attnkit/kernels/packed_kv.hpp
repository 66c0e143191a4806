#pragma once
/// \file
/// K and V copied once per call into the layouts the micro-kernel reads: K transposed in tiles
/// ([D][cols] per tile, so the score product loads keys as vectors) and V with Dv padded.
/// Packing once, before the parallel loop, lets every query block and every query head of a GQA group
/// reuse the same copy, and makes any caller strides cost one pass.

#include "attnkit/kernels/workspace.hpp"
#include "attnkit/kernels/attention_problem.hpp"
#include "attnkit/kernels/parallel_for.hpp"
#include "attnkit/kernels/tile_shape.hpp"

#include <cmath>
#include <cstdint>
#include <vector>

namespace attnkit::detail {

class packed_kv {
public:
  packed_kv(attention_problem const& p, tile_shape const& tiles)
      : tiles_(tiles), dim_(p.qk_dim()), tile_count_((p.key_len() + tiles.cols - 1) / tiles.cols),
        heads_(p.batch() * p.kv_heads()), k_(thread_workspace(heads_ * tile_count_ * (k_tile_size() + v_tile_size()))),
        v_(k_ + heads_ * tile_count_ * k_tile_size()), v_finite_(static_cast<std::size_t>(heads_ * tile_count_), 1) {
    parallel_for(heads_ * tile_count_, p.threads, [&](std::int64_t item, int) noexcept {
      std::int64_t const head = item / tile_count_;
      std::int64_t const tile = item % tile_count_;
      pack_tile(p, head / p.kv_heads(), head % p.kv_heads(), tile);
    });
  }

  /// K^T of one tile: [D][cols], keys beyond Sk are zero.
  float const* k_tile(std::int64_t batch, std::int64_t kv_heads, std::int64_t kv_head, std::int64_t tile) const noexcept {
    return k_ + ((batch * kv_heads + kv_head) * tile_count_ + tile) * k_tile_size();
  }
  /// V of one tile: [cols][v_cols], rows beyond Sk and columns beyond Dv are zero.
  float const* v_tile(std::int64_t batch, std::int64_t kv_heads, std::int64_t kv_head, std::int64_t tile) const noexcept {
    return v_ + ((batch * kv_heads + kv_head) * tile_count_ + tile) * v_tile_size();
  }

  /// False when the tile's values hold a NaN or Inf (then a hidden key must be skipped, not weighted 0).
  bool v_tile_finite(std::int64_t batch, std::int64_t kv_heads, std::int64_t kv_head, std::int64_t tile) const noexcept {
    return v_finite_[static_cast<std::size_t>((batch * kv_heads + kv_head) * tile_count_ + tile)] != 0;
  }

private:
  std::int64_t k_tile_size() const noexcept { return dim_ * tiles_.cols; }
  std::int64_t v_tile_size() const noexcept { return tiles_.cols * tiles_.v_cols; }

  void pack_tile(attention_problem const& p, std::int64_t b, std::int64_t h, std::int64_t tile) noexcept {
    std::int64_t const first = tile * tiles_.cols;
    std::int64_t const count = std::min(tiles_.cols, p.key_len() - first);
    float* kt = k_ + ((b * p.kv_heads() + h) * tile_count_ + tile) * k_tile_size();
    float* vt = v_ + ((b * p.kv_heads() + h) * tile_count_ + tile) * v_tile_size();
    // Every element is written: the buffer is reused between calls and starts undefined.
    bool finite = true;
    for (std::int64_t j = 0; j < tiles_.cols; ++j) {
      bool const real = j < count;
      float const* key = real ? p.k.pointer(b, h, first + j, 0) : nullptr;
      for (std::int64_t d = 0; d < dim_; ++d) kt[d * tiles_.cols + j] = real ? key[d * p.k.stride(3)] : 0.0f;
      float const* value = real ? p.v.pointer(b, h, first + j, 0) : nullptr;
      float* dst = vt + j * tiles_.v_cols;
      for (std::int64_t d = 0; d < tiles_.v_cols; ++d) {
        float const x = real && d < p.v_dim() ? value[d * p.v.stride(3)] : 0.0f;
        finite = finite && std::isfinite(x);
        dst[d] = x;
      }
    }
    v_finite_[static_cast<std::size_t>((b * p.kv_heads() + h) * tile_count_ + tile)] = finite ? 1 : 0;
  }

  tile_shape tiles_;
  std::int64_t dim_;
  std::int64_t tile_count_;
  std::int64_t heads_;
  float* k_; // [B * Hkv][tiles][D][cols]
  float* v_; // [B * Hkv][tiles][cols][v_cols]
  std::vector<unsigned char> v_finite_; // one flag per tile; written by one thread each
};

} // namespace attnkit::detail
