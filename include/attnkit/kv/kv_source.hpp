#pragma once
/// \file
/// The K/V operand of an attention call as a concept: strided views, an owning cache, a paged cache and a
/// streaming cache are all types the kernels read in place, a run of stored keys at a time.

#include "attnkit/kv/key_rows.hpp"

#include <concepts>
#include <cstdint>

namespace attnkit {

/// A K/V source holds, for `batch()` sequences and `kv_heads()` heads, the keys at positions
/// [0, key_len()) that it stores (a streaming cache stores only some of them; key positions are absolute,
/// so masks and score modifiers see true positions). `rows(b, h, from)`, for 0 <= from < key_len(), returns
/// the stored run that holds `from`, or else the first stored run after it, starting no earlier than
/// `from`; an empty run when nothing is stored at or after `from`. The dim strides of a source's runs are
/// the same for every run. Keys that are not stored are not attended to, as if masked.
///
/// A source must outlive the call and must not change during it. See docs/design.md, "K/V sources".
template <class Source>
concept kv_source = requires(Source const& s, std::int64_t i) {
  { s.batch() } -> std::convertible_to<std::int64_t>;
  { s.kv_heads() } -> std::convertible_to<std::int64_t>;
  { s.key_len() } -> std::convertible_to<std::int64_t>;
  { s.qk_dim() } -> std::convertible_to<std::int64_t>;
  { s.v_dim() } -> std::convertible_to<std::int64_t>;
  { s.rows(i, i, i) } -> std::same_as<key_rows>;
};

} // namespace attnkit
