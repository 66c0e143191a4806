#pragma once
/// \file
/// The sizes of one attention call, as policies with per-call data see them.

#include <cstdint>

namespace attnkit {

/// Sizes of one validated call: q [B, Hq, Sq, D], k [B, Hkv, Sk, D], v [B, Hkv, Sk, Dv]. A policy whose
/// data must agree with them (segment ids, slopes, bias tensors) checks them in its `validate` hook.
struct call_shape {
  std::int64_t batch = 0;
  std::int64_t q_heads = 0;  ///< Hq
  std::int64_t kv_heads = 0; ///< Hkv
  std::int64_t q_len = 0;    ///< Sq
  std::int64_t key_len = 0;  ///< Sk
  std::int64_t qk_dim = 0;   ///< D
  std::int64_t v_dim = 0;    ///< Dv
};

} // namespace attnkit
