#pragma once
/// \file
/// Runtime settings shared by every variant: scale, query/key alignment, threads.

#include <cstdint>
#include <optional>

namespace attnkit {

/// Where the Sq queries sit among the Sk keys when Sq != Sk (SEMANTICS.md, "Alignment").
enum class alignment {
  /// Queries are the last Sq positions: query i sits at position i + Sk - Sq (decode with a KV cache).
  bottom_right,
  /// Query i sits at position i.
  top_left,
};

/// Settings fixed when the attention functor is built.
struct attention_options {
  /// Multiplies q.k; unset means 1 / sqrt(Dqk).
  std::optional<float> scale{};
  alignment align = alignment::bottom_right;
};

/// Settings for one call.
struct run_options {
  /// Worker threads; 0 means OpenMP's default (all cores). Results do not depend on it.
  int threads = 0;
  /// Keys per split when the decode kernel (Sq <= 16) spreads a long KV cache over threads; 0 lets attnkit
  /// choose (a fixed 2048, rounded up to a multiple of 64). Results depend on it within rounding only, and
  /// never on `threads`.
  std::int64_t decode_split_keys = 0;
};

} // namespace attnkit
