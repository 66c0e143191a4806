#pragma once
/// \file
/// Union of masks: a pair is visible if any mask shows it (window OR sinks, ...).

#include "attnkit/policies/call_shape.hpp"
#include "attnkit/policies/concepts.hpp"
#include "attnkit/policies/query_block.hpp"
#include "attnkit/policies/tile_kind_ops.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <tuple>
#include <utility>

namespace attnkit {

/// Key j is visible to query i iff at least one of `Masks` shows it. The runs of keys walked are the
/// masks' runs, earliest first, merged where they overlap.
template <class... Masks> class visible_if_any {
  static_assert(sizeof...(Masks) >= 1, "attnkit::visible_if_any needs at least one mask");
  static_assert((mask_policy<Masks> && ...), "attnkit::visible_if_any: every argument must be a mask policy");

public:
  visible_if_any() = default;
  // Not explicit: `{mask_a, mask_b}` builds one in place.
  visible_if_any(Masks... masks) : masks_(std::move(masks)...) {}

  std::tuple<Masks...> const& masks() const noexcept { return masks_; }

  void validate(call_shape const& shape) const {
    std::apply([&](auto const&... m) { (validate_policy(m, shape), ...); }, masks_);
  }

  key_range next_keys(query_block const& b, std::int64_t from) const noexcept {
    constexpr std::int64_t none = std::numeric_limits<std::int64_t>::max();
    key_range runs[sizeof...(Masks)];
    std::size_t n = 0;
    std::apply([&](auto const&... m) { ((runs[n++] = m.next_keys(b, from)), ...); }, masks_);
    // Nothing before the earliest run is visible to any mask; extend it by the runs it touches.
    key_range best{none, none};
    for (auto const& r : runs) {
      std::int64_t const begin = std::max(r.begin, from);
      if (r.end > begin && begin < best.begin)
        best = {begin, r.end};
    }
    if (best.begin == none)
      return {from, from};
    for (bool grew = true; grew;) {
      grew = false;
      for (auto const& r : runs)
        if (std::max(r.begin, from) <= best.end && r.end > best.end)
          best.end = r.end, grew = true;
    }
    return best;
  }

  tile_kind classify(query_block const& b, key_range t) const noexcept {
    return std::apply(
        [&](auto const&... m) {
          tile_kind kind = tile_kind::empty;
          ((kind = unite_kinds(kind, m.classify(b, t))), ...);
          return kind;
        },
        masks_);
  }

  bool visible(query_block const& b, std::int64_t row, std::int64_t key) const noexcept {
    return std::apply([&](auto const&... m) { return (m.visible(b, row, key) || ...); }, masks_);
  }

private:
  std::tuple<Masks...> masks_;
};

} // namespace attnkit
