// The extension point, exercised from outside the library: a user-defined mask and score modifier
// plug into the fused kernel and into the reference without touching either.

#include "support/arch_sweep.hpp"
#include "support/mask_checks.hpp"
#include "support/run_case.hpp"

#include <attnkit/attnkit.hpp>
#include <attnkit/reference/reference_attention.hpp>

#include <catch2/catch.hpp>

#include <algorithm>

namespace user {

/// Only keys whose index has the same parity as the query's position are visible.
struct same_parity {
  attnkit::key_range next_keys(attnkit::query_block const& b, std::int64_t from) const {
    return {from, b.key_len};
  }
  attnkit::tile_kind classify(attnkit::query_block const&, attnkit::key_range) const {
    return attnkit::tile_kind::partial;
  }
  bool visible(attnkit::query_block const& b, std::int64_t row, std::int64_t key) const {
    return (b.position(row) - key) % 2 == 0;
  }
};

/// The last `width` keys up to the query's position: exercises key ranges that start after 0 and tiles
/// that are empty, partial and full.
struct trailing_window {
  std::int64_t width = 1;
  attnkit::key_range next_keys(attnkit::query_block const& b, std::int64_t from) const {
    return {std::max(from, b.first_position() - width + 1),
            std::clamp<std::int64_t>(b.last_position() + 1, 0, b.key_len)};
  }
  attnkit::tile_kind classify(attnkit::query_block const& b, attnkit::key_range t) const {
    if (t.begin > b.last_position() || t.end - 1 < b.first_position() - width + 1)
      return attnkit::tile_kind::empty;
    if (t.end - 1 <= b.first_position() && t.begin >= b.last_position() - width + 1)
      return attnkit::tile_kind::full;
    return attnkit::tile_kind::partial;
  }
  bool visible(attnkit::query_block const& b, std::int64_t row, std::int64_t key) const {
    return key <= b.position(row) && key > b.position(row) - width;
  }
  // Optional: hides a row's keys at once (the other masks here go through the per-key fallback).
  template <class Arch>
  void hide_row(attnkit::query_block const& b, std::int64_t row, std::int64_t first_key, float* scores,
                std::int64_t n) const {
    attnkit::hide_keys_outside({b.position(row) - width + 1, b.position(row) + 1}, first_key, scores, n);
  }
};

/// Keys in stripes: visible iff (key / width) is even. Its runs are the stripes, several per packed tile,
/// starting anywhere inside a micro-kernel panel: exercises the kernel's run walk.
struct stripes {
  std::int64_t width = 1;
  attnkit::key_range next_keys(attnkit::query_block const&, std::int64_t from) const {
    std::int64_t stripe = from / width;
    if (stripe % 2 != 0)
      ++stripe;
    std::int64_t const begin = std::max(from, stripe * width);
    return {begin, (stripe + 1) * width};
  }
  attnkit::tile_kind classify(attnkit::query_block const&, attnkit::key_range t) const {
    bool any = false, all = true;
    for (std::int64_t j = t.begin; j < t.end; ++j) {
      bool const shown = (j / width) % 2 == 0;
      any = any || shown;
      all = all && shown;
    }
    return all ? attnkit::tile_kind::full : any ? attnkit::tile_kind::partial : attnkit::tile_kind::empty;
  }
  bool visible(attnkit::query_block const&, std::int64_t, std::int64_t key) const {
    return (key / width) % 2 == 0;
  }
};

/// Adds `bias` times the query head index to every score.
struct head_bias {
  float bias = 0.0f;
  template <class Arch>
  void modify_row(attnkit::query_block const& b, std::int64_t, std::int64_t, float* scores,
                  std::int64_t n) const {
    for (std::int64_t j = 0; j < n; ++j)
      scores[j] += bias * static_cast<float>(b.head);
  }
};

// The reference finds these by argument-dependent lookup.
bool visible(same_parity const&, attnkit::reference::pair_coords const& c) {
  return (c.position - c.key) % 2 == 0;
}
bool visible(trailing_window const& m, attnkit::reference::pair_coords const& c) {
  return c.key <= c.position && c.position - c.key < m.width;
}
bool visible(stripes const& m, attnkit::reference::pair_coords const& c) {
  return (c.key / m.width) % 2 == 0;
}
double modify(head_bias const& m, attnkit::reference::pair_coords const& c, double s) {
  return s + static_cast<double>(m.bias) * static_cast<double>(c.head);
}

} // namespace user

TEST_CASE("custom policies: the hooks of user masks agree with their reference rule", "[custom][hooks]") {
  static_assert(attnkit::hides_rows<user::trailing_window> && !attnkit::hides_rows<user::stripes>);
  auto const always = [](auto m) { return [m](std::int64_t, std::int64_t) { return m; }; };
  attnkit::test::check_mask_hooks_small(always(user::same_parity{}));
  attnkit::test::check_mask_hooks_small(always(user::trailing_window{.width = 5}));
  attnkit::test::check_mask_hooks_small(always(user::stripes{.width = 3}));
  attnkit::test::check_mask_hooks_large(always(user::trailing_window{.width = 100}));
}

TEST_CASE("custom policies: a user mask and modifier match the reference", "[custom]") {
  attnkit::attention<attnkit::softmax, user::same_parity, user::head_bias> const attn{
      {}, {}, {}, {.bias = 0.5f}};
  attnkit::test::case_shape const s{
      .batch = 2, .q_heads = 4, .kv_heads = 2, .q_len = 70, .key_len = 150, .dim = 32, .v_dim = 16};
  attnkit::test::check_random_case_every_arch(attn, s, 42);
}

TEST_CASE("custom policies: a mask whose key range starts after key 0", "[custom]") {
  std::int64_t const width = GENERATE(1, 5, 37, 100, 300);
  attnkit::attention<attnkit::softmax, user::trailing_window> const attn{{}, {}, {.width = width}};
  attnkit::test::case_shape const s{
      .batch = 1, .q_heads = 2, .kv_heads = 1, .q_len = 200, .key_len = 333, .dim = 16, .v_dim = 8};
  INFO("width " << width);
  attnkit::test::check_random_case_every_arch(attn, s, 43);
}

TEST_CASE("custom policies: a mask with many runs of keys per tile", "[custom]") {
  std::int64_t const width = GENERATE(1, 3, 5, 17, 40, 64, 129);
  attnkit::attention<attnkit::softmax, user::stripes> const attn{{}, {}, {.width = width}};
  attnkit::test::case_shape const s{
      .batch = 1, .q_heads = 2, .kv_heads = 1, .q_len = 70, .key_len = 300, .dim = 16, .v_dim = 8};
  INFO("width " << width);
  attnkit::test::check_random_case_every_arch(attn, s, 44);
}
