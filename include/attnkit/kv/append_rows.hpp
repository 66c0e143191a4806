#pragma once
/// \file
/// Checks and copies shared by the caches' `append`: new tokens arrive as views [B, Hkv, n, D] (or
/// [Hkv, n, D] for one sequence) in any memory order.

#include "attnkit/tensor_view.hpp"
#include "attnkit/validate.hpp"

#include <cstdint>
#include <string>

namespace attnkit::detail {

/// k [B, Hkv, n, D] and v [B, Hkv, n, Dv] of new tokens agree with a cache of these sizes.
inline void check_new_tokens(tensor_view<float const> const& k, tensor_view<float const> const& v,
                             std::int64_t batch, std::int64_t kv_heads, std::int64_t qk_dim,
                             std::int64_t v_dim, char const* where) {
  check_view(k, "k", where);
  check_view(v, "v", where);
  check_equal(k.extent(0), batch, dim_label("k", 0), "the cache's batch", where);
  check_equal(k.extent(1), kv_heads, dim_label("k", 1), "the cache's kv_heads", where);
  check_equal(k.extent(3), qk_dim, dim_label("k", 3), "the cache's qk_dim", where);
  check_equal(v.extent(0), batch, dim_label("v", 0), "the cache's batch", where);
  check_equal(v.extent(1), kv_heads, dim_label("v", 1), "the cache's kv_heads", where);
  check_equal(v.extent(2), k.extent(2), dim_label("v", 2), dim_label("k", 2), where);
  check_equal(v.extent(3), v_dim, dim_label("v", 3), "the cache's v_dim", where);
}

/// dst[0, n) = the n elements of a row with element stride `stride`.
inline void copy_row(float const* src, std::int64_t stride, std::int64_t n, float* dst) noexcept {
  for (std::int64_t d = 0; d < n; ++d)
    dst[d] = src[d * stride];
}

/// Sizes a cache is built with must be positive (sinks may be 0: `minimum` says).
inline void check_size(std::int64_t value, char const* name, std::int64_t minimum, char const* where) {
  if (value < minimum)
    fail(std::string(name) + " must be >= " + std::to_string(minimum) + ", got " + std::to_string(value),
         where);
}

} // namespace attnkit::detail
