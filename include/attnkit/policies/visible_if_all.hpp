#pragma once
/// \file
/// Intersection of masks: a pair is visible only if every mask shows it (document AND causal, ...).

#include "attnkit/policies/call_shape.hpp"
#include "attnkit/policies/concepts.hpp"
#include "attnkit/policies/hide_keys.hpp"
#include "attnkit/policies/query_block.hpp"
#include "attnkit/policies/tile_kind_ops.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <tuple>
#include <utility>

namespace attnkit {

/// Key j is visible to query i iff every one of `Masks` shows it. The runs of keys walked are the
/// intersections of the masks' runs, so the combined mask costs what its visible area costs.
///
///     attnkit::attention<attnkit::softmax, attnkit::visible_if_all<attnkit::document, attnkit::causal>>
///         attn{{}, {}, {attnkit::document(ids), attnkit::causal{}}};
template <class... Masks> class visible_if_all {
  static_assert(sizeof...(Masks) >= 1, "attnkit::visible_if_all needs at least one mask");
  static_assert((mask_policy<Masks> && ...), "attnkit::visible_if_all: every argument must be a mask policy");

public:
  visible_if_all() = default;
  // Not explicit: `{document(ids), causal{}}` builds one in place.
  visible_if_all(Masks... masks) : masks_(std::move(masks)...) {}

  std::tuple<Masks...> const& masks() const noexcept { return masks_; }

  void validate(call_shape const& shape) const {
    std::apply([&](auto const&... m) { (validate_policy(m, shape), ...); }, masks_);
  }

  key_range next_keys(query_block const& b, std::int64_t from) const noexcept {
    // Narrow a candidate run mask by mask; when a mask's next run starts past the candidate, nothing
    // before that start is visible to all masks: start again from there.
    while (from < b.key_len) {
      key_range run{from, std::numeric_limits<std::int64_t>::max()};
      bool restart = false, none = false;
      std::apply(
          [&](auto const&... m) {
            (
                [&] {
                  if (restart || none)
                    return;
                  key_range const r = m.next_keys(b, run.begin);
                  std::int64_t const begin = std::max(r.begin, run.begin);
                  if (r.end <= begin)
                    none = true;
                  else if (begin >= run.end)
                    from = begin, restart = true;
                  else
                    run = {begin, std::min(run.end, r.end)};
                }(),
                ...);
          },
          masks_);
      if (none)
        break;
      if (!restart)
        return run;
    }
    return {from, from};
  }

  tile_kind classify(query_block const& b, key_range t) const noexcept {
    return std::apply(
        [&](auto const&... m) {
          tile_kind kind = tile_kind::full;
          ((kind = intersect_kinds(kind, m.classify(b, t))), ...);
          return kind;
        },
        masks_);
  }

  bool visible(query_block const& b, std::int64_t row, std::int64_t key) const noexcept {
    return std::apply([&](auto const&... m) { return (m.visible(b, row, key) && ...); }, masks_);
  }

  /// Each mask hides its keys in turn (through its own hook or the generic fallback).
  template <class Arch>
  void hide_row(query_block const& b, std::int64_t row, std::int64_t first_key, float* scores,
                std::int64_t n) const noexcept {
    std::apply([&](auto const&... m) { (hide_keys<Arch>(m, b, row, first_key, scores, n), ...); }, masks_);
  }

private:
  std::tuple<Masks...> masks_;
};

} // namespace attnkit
