#pragma once
/// \file
/// What makes a type a mask, a score modifier or a normaliser. docs/design.md explains each hook.

#include "attnkit/policies/query_block.hpp"

#include <concepts>
#include <cstdint>

namespace attnkit {

/// A mask decides which (query, key) pairs are visible. `keys` bounds the keys a block may see,
/// `classify` lets the kernel skip or fast-path whole tiles, and `visible` is the exact per-pair test.
/// The three must agree: `classify` may say partial when unsure, never empty or full wrongly.
template <class M>
concept mask_policy = std::copy_constructible<M> &&
    requires(M const& m, query_block const& b, std::int64_t i) {
  { m.keys(b) } -> std::same_as<key_range>;
  { m.classify(b, key_range{}) } -> std::same_as<tile_kind>;
  { m.visible(b, i, i) } -> std::same_as<bool>;
};

/// A score modifier rewrites the scores of one query row over keys [first_key, first_key + n) in place,
/// after scaling and before masking. Modifiers run in the order they are listed.
template <class S>
concept score_modifier = std::copy_constructible<S> &&
    requires(S const& s, query_block const& b, std::int64_t i, float* scores) {
  { s.modify_row(b, i, i, scores, i) } -> std::same_as<void>;
};

/// A normaliser turns a row of masked scores into weights, tile by tile, with a per-row state;
/// `kernel_family` says which kernel implements it (see kernels/kernel_for.hpp).
template <class N>
concept normaliser_policy = std::copy_constructible<N> && requires {
  typename N::kernel_family;
};

} // namespace attnkit
