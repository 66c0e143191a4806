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

/// A scale, or none (then 1 / sqrt(Dqk)): std::optional<float>'s interface for this one use. Not
/// std::optional itself, whose empty state leaves the float uninitialised, which GCC 12 (-O2 and -O3)
/// reports as "may be used uninitialized" in code that reads it only when set: a user's -Werror build
/// would fail on our header. This one always holds an initialised float.
class scale_option {
public:
  constexpr scale_option() noexcept = default;
  constexpr scale_option(std::nullopt_t) noexcept {}
  constexpr scale_option(float value) noexcept : value_(value), set_(true) {}
  /// From a std::optional<float>, so code that held the scale in one keeps compiling.
  constexpr scale_option(std::optional<float> const& value) noexcept
      : value_(value.has_value() ? *value : 0.0f), set_(value.has_value()) {}

  constexpr bool has_value() const noexcept { return set_; }
  constexpr explicit operator bool() const noexcept { return set_; }
  /// The scale; only meaningful when set (0 otherwise).
  constexpr float operator*() const noexcept { return value_; }
  /// The scale; throws std::bad_optional_access when none was set.
  constexpr float value() const {
    if (!set_)
      throw std::bad_optional_access();
    return value_;
  }
  constexpr float value_or(float fallback) const noexcept { return set_ ? value_ : fallback; }

private:
  float value_ = 0.0f;
  bool set_ = false;
};

/// Settings fixed when the attention functor is built.
struct attention_options {
  /// Multiplies q.k; unset means 1 / sqrt(Dqk).
  scale_option scale{};
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
