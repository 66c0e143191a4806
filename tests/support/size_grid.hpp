#pragma once
// The core's odd sizes for Sq and Sk, both alignments, GQA and two batch entries: the grid every policy's
// kernel-vs-reference test runs on.

#include "run_case.hpp"

#include <attnkit/options.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace attnkit::test {

constexpr std::array<std::int64_t, 6> odd_sizes{1, 7, 63, 64, 65, 257};
constexpr std::array<std::int64_t, 4> grid_dims{16, 64, 80, 128};

#ifdef ATTNKIT_TEST_EMULATED
inline constexpr bool emulated = true;
#else
inline constexpr bool emulated = false;
#endif

/// Whether the grid runs (odd_sizes[i], odd_sizes[j]). Under an emulator (the aarch64 stage's qemu, 20-50x
/// slower than the host) a third of the pairs, chosen so that every size still comes twice as Sq and twice
/// as Sk, and (1, 1) and (64, 64) stay: what differs between ISAs is the code for register tails, which
/// every size still reaches. The x86-64 stages run every pair.
constexpr bool grid_pair_runs(std::size_t i, std::size_t j) {
  return !emulated || (i + j) % 3 == 0;
}

/// Calls check(Sq, Sk, options, shape) for every (Sq, Sk) of odd_sizes (see grid_pair_runs) and both
/// alignments, with GQA, two batch entries and head dims cycling through grid_dims.
template <class Check> void for_each_grid_case(Check const& check) {
  for (std::size_t i = 0; i < odd_sizes.size(); ++i)
    for (std::size_t j = 0; j < odd_sizes.size(); ++j) {
      if (!grid_pair_runs(i, j))
        continue;
      std::int64_t const q_len = odd_sizes[i], key_len = odd_sizes[j];
      for (alignment align : {alignment::bottom_right, alignment::top_left}) {
        auto const pick = static_cast<std::size_t>(q_len * 7 + key_len);
        case_shape const s{.batch = 2,
                           .q_heads = 4,
                           .kv_heads = 2,
                           .q_len = q_len,
                           .key_len = key_len,
                           .dim = grid_dims[pick % grid_dims.size()],
                           .v_dim = grid_dims[(pick + 1) % grid_dims.size()]};
        INFO("Sq " << q_len << " Sk " << key_len << " D " << s.dim << " Dv " << s.v_dim
                   << (align == alignment::top_left ? " top-left" : " bottom-right"));
        check(q_len, key_len, attnkit::attention_options{.align = align}, s);
      }
    }
}

/// Runs `make(Sq, Sk, options)`'s attention on every (Sq, Sk) of odd_sizes, both alignments, every arch.
template <class MakeAttention> void check_every_size(MakeAttention const& make, std::uint32_t seed) {
  for_each_grid_case(
      [&](std::int64_t q_len, std::int64_t key_len, attnkit::attention_options o, case_shape const& s) {
        attnkit::test::check_random_case_every_arch(make(q_len, key_len, o), s, seed);
      });
}

} // namespace attnkit::test
