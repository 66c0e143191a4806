#pragma once
/// \file
/// Attention sinks plus a sliding window: the StreamingLLM pattern ("Efficient Streaming Language Models
/// with Attention Sinks"; "When Attention Sink Emerges").

#include "attnkit/policies/causal.hpp"
#include "attnkit/policies/hide_keys.hpp"
#include "attnkit/policies/policy_error.hpp"
#include "attnkit/policies/query_block.hpp"
#include "attnkit/policies/sliding_window.hpp"
#include "attnkit/policies/tile_kind_ops.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

namespace attnkit {

/// Key j is visible iff j < sinks or j is inside the window; when `is_causal`, additionally j <= p(i)
/// (SEMANTICS.md). The kernel walks two runs of keys, the sinks and the window, and nothing between them.
class sink_window {
public:
  /// Throws std::invalid_argument if sinks < 0.
  sink_window(std::int64_t sinks, sliding_window window, bool is_causal = true)
      : sinks_(sinks), window_(window), causal_(is_causal) {
    if (sinks < 0)
      detail::policy_error("sink_window", "sinks = " + std::to_string(sinks) + " must be >= 0");
  }

  /// StreamingLLM: the first `sinks` keys and the causal window of `window` keys, all causal.
  static sink_window causal(std::int64_t sinks, std::int64_t window) {
    return {sinks, sliding_window::causal(window), true};
  }

  std::int64_t sinks() const noexcept { return sinks_; }
  sliding_window const& window() const noexcept { return window_; }
  bool is_causal() const noexcept { return causal_; }

  key_range next_keys(query_block const& b, std::int64_t from) const noexcept {
    std::int64_t const limit = causal_ ? std::min(b.last_position() + 1, b.key_len) : b.key_len;
    std::int64_t const sink_end = std::min(sinks_, limit);
    key_range const in_window = window_.next_keys(b, from);
    key_range const window_run{in_window.begin, std::min(in_window.end, limit)};
    if (from >= sink_end)
      return window_run;
    // Still among the sinks: one run if the window starts inside or right after them, else the sinks alone.
    if (!window_run.empty() && window_run.begin <= sink_end)
      return {from, std::max(sink_end, window_run.end)};
    return {from, sink_end};
  }

  tile_kind classify(query_block const& b, key_range t) const noexcept {
    tile_kind const in_sinks = t.end <= sinks_     ? tile_kind::full
                               : t.begin >= sinks_ ? tile_kind::empty
                                                   : tile_kind::partial;
    tile_kind const shown = unite_kinds(in_sinks, window_.classify(b, t));
    return causal_ ? intersect_kinds(shown, attnkit::causal{}.classify(b, t)) : shown;
  }

  bool visible(query_block const& b, std::int64_t row, std::int64_t key) const noexcept {
    bool const shown = key < sinks_ || window_.visible(b, row, key);
    return shown && (!causal_ || key <= b.position(row));
  }

  template <class Arch>
  void hide_row(query_block const& b, std::int64_t row, std::int64_t first_key, float* scores,
                std::int64_t n) const noexcept {
    // Sinks are shown whatever the window says: only the keys from the first non-sink on go through it.
    std::int64_t const split = std::clamp<std::int64_t>(sinks_ - first_key, 0, n);
    window_.template hide_row<Arch>(b, row, first_key + split, scores + split, n - split);
    if (causal_)
      attnkit::causal{}.template hide_row<Arch>(b, row, first_key, scores, n);
  }

private:
  std::int64_t sinks_;
  sliding_window window_;
  bool causal_;
};

} // namespace attnkit
