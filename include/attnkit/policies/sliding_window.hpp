#pragma once
/// \file
/// The sliding-window mask (Mistral's causal window, Longformer's local attention), with optional dilation.

#include "attnkit/policies/hide_keys.hpp"
#include "attnkit/policies/policy_error.hpp"
#include "attnkit/policies/query_block.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

namespace attnkit {

/// Key j is visible to query i iff p(i) - left <= j <= p(i) + right and, with dilation d, (p(i) - j) is a
/// multiple of d (SEMANTICS.md). `sliding_window::causal(W)` is the causal window of W keys: the query's
/// own key and the W - 1 before it. Work is proportional to the window, not to Sk; with dilation d the
/// kernel computes the whole span (about d x the visible keys) and masks the rest.
class sliding_window {
public:
  /// Extents larger than this behave as unbounded (and keep position arithmetic far from overflow).
  static constexpr std::int64_t unbounded = std::int64_t{1} << 62;

  /// Keys from p(i) - left to p(i) + right. Throws std::invalid_argument if left or right is negative
  /// or dilation < 1.
  sliding_window(std::int64_t left, std::int64_t right, std::int64_t dilation = 1)
      : left_(std::min(left, unbounded)), right_(std::min(right, unbounded)), dilation_(dilation) {
    if (left < 0)
      detail::policy_error("sliding_window", "left = " + std::to_string(left) + " must be >= 0");
    if (right < 0)
      detail::policy_error("sliding_window", "right = " + std::to_string(right) + " must be >= 0");
    if (dilation < 1)
      detail::policy_error("sliding_window", "dilation = " + std::to_string(dilation) + " must be >= 1");
  }

  /// The causal window of `window` keys (left = window - 1, right = 0). Throws if window < 1.
  static sliding_window causal(std::int64_t window, std::int64_t dilation = 1) {
    if (window < 1)
      detail::policy_error("sliding_window", "window = " + std::to_string(window) + " must be >= 1");
    return {window - 1, 0, dilation};
  }

  std::int64_t left() const noexcept { return left_; }
  std::int64_t right() const noexcept { return right_; }
  std::int64_t dilation() const noexcept { return dilation_; }

  key_range next_keys(query_block const& b, std::int64_t from) const noexcept {
    return {std::max(from, b.first_position() - left_), std::min(b.last_position() + right_ + 1, b.key_len)};
  }

  tile_kind classify(query_block const& b, key_range t) const noexcept {
    if (t.end - 1 < b.first_position() - left_ || t.begin > b.last_position() + right_)
      return tile_kind::empty;
    // With dilation, neighbouring rows see different keys: only a partial tile can be right.
    if (dilation_ == 1 && t.begin >= b.last_position() - left_ && t.end - 1 <= b.first_position() + right_)
      return tile_kind::full;
    return tile_kind::partial;
  }

  bool visible(query_block const& b, std::int64_t row, std::int64_t key) const noexcept {
    std::int64_t const back = b.position(row) - key; // > 0: the key is behind the query
    return back <= left_ && -back <= right_ && (dilation_ == 1 || back % dilation_ == 0);
  }

  template <class Arch>
  void hide_row(query_block const& b, std::int64_t row, std::int64_t first_key, float* scores,
                std::int64_t n) const noexcept {
    std::int64_t const p = b.position(row);
    key_range const shown{std::max(p - left_, first_key), std::min(p + right_ + 1, first_key + n)};
    hide_keys_outside(shown, first_key, scores, n);
    if (dilation_ == 1 || shown.empty())
      return;
    // Inside the window, keep every dilation-th key: a phase counter instead of a division per key.
    std::int64_t phase = ((p - shown.begin) % dilation_ + dilation_) % dilation_; // (p - key) mod d
    for (std::int64_t j = shown.begin - first_key; j < shown.end - first_key; ++j) {
      if (phase != 0)
        scores[j] = -std::numeric_limits<float>::infinity();
      phase = phase == 0 ? dilation_ - 1 : phase - 1;
    }
  }

private:
  std::int64_t left_;
  std::int64_t right_;
  std::int64_t dilation_;
};

} // namespace attnkit
