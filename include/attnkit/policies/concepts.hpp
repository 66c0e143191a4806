#pragma once
/// \file
/// What makes a type a mask, a score modifier or a normaliser. docs/design.md explains each hook.

#include "attnkit/arch/simd_compat.hpp"
#include "attnkit/policies/call_shape.hpp"
#include "attnkit/policies/query_block.hpp"
#include "attnkit/policies/row_result.hpp"

#include <concepts>
#include <cstdint>

namespace attnkit {

/// A mask decides which (query, key) pairs are visible. `next_keys(b, from)` gives the next run of keys at
/// or after `from` that rows of `b` may see (the kernel walks runs until one is empty), `classify` lets the
/// kernel skip or fast-path whole tiles, and `visible` is the exact per-pair test. The three must agree:
/// runs may include hidden keys but never leave out a visible one, and `classify` may say partial when
/// unsure, never empty or full wrongly.
template <class M>
concept mask_policy = std::copy_constructible<M> &&
    requires(M const& m, query_block const& b, std::int64_t i) {
  { m.next_keys(b, i) } -> std::same_as<key_range>;
  { m.classify(b, key_range{}) } -> std::same_as<tile_kind>;
  { m.visible(b, i, i) } -> std::same_as<bool>;
};

/// A score modifier rewrites the scores of one query row over keys [first_key, first_key + n) in place,
/// after scaling and before masking; it is a template on the SIMD architecture, like everything a kernel
/// reaches. Modifiers run in the order they are listed.
template <class S>
concept score_modifier = std::copy_constructible<S> &&
    requires(S const& s, query_block const& b, std::int64_t i, float* scores) {
  { s.template modify_row<xsimd::default_arch>(b, i, i, scores, i) } -> std::same_as<void>;
};

/// A normaliser turns a row of masked scores into weights, tile by tile, with a per-row state;
/// `kernel_family` says which kernel implements it (see kernels/kernel_for.hpp).
template <class N>
concept normaliser_policy = std::copy_constructible<N> && requires {
  typename N::kernel_family;
};

/// Optional normaliser hook: `merge_rows(into, from)` folds the state of a row over other keys into
/// `into` and says how to combine the two accumulated outputs. The decode kernel splits long key ranges
/// across threads only for normalisers that have it.
template <class N>
concept merges_rows = requires(N const& n, typename N::row_state& into, typename N::row_state const& from) {
  { n.merge_rows(into, from) } -> std::same_as<merge_factors>;
};

/// Optional hook of every policy kind: `validate(call_shape)` throws std::invalid_argument when the
/// policy's data does not fit the call (segment ids of the wrong length, one slope per head, ...).
template <class P>
concept validates_call = requires(P const& p, call_shape const& shape) {
  p.validate(shape);
};

/// Runs a policy's `validate` hook, if it has one.
template <class P> void validate_policy(P const& policy, call_shape const& shape) {
  if constexpr (validates_call<P>)
    policy.validate(shape);
}

} // namespace attnkit
