#pragma once
// Checks a mask's kernel hooks (next_keys, classify, visible, and hide_row through attnkit::hide_keys)
// against the reference's visibility rule.

#include <attnkit/policies/hide_keys.hpp>
#include <attnkit/policies/query_block.hpp>
#include <attnkit/reference/masks.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <random>
#include <sstream>
#include <vector>

namespace attnkit::test {

/// One (batch, head) of a problem, with the reference's visibility of every pair and prefix sums over it, so
/// that "how many pairs of rows [r0, r1) x keys [k0, k1) are visible" costs O(1).
class visibility_table {
public:
  template <class Mask>
  visibility_table(Mask const& mask, std::int64_t batch, std::int64_t head, std::int64_t q_heads,
                   std::int64_t q_len, std::int64_t key_len, std::int64_t offset)
      : key_len_(key_len), sums_(static_cast<std::size_t>((q_len + 1) * (key_len + 1)), 0) {
    for (std::int64_t i = 0; i < q_len; ++i)
      for (std::int64_t j = 0; j < key_len; ++j) {
        reference::pair_coords const c{batch, head, q_heads, i, i + offset, j, q_len, key_len};
        using reference::visible; // unqualified: a user mask's rule is found by argument-dependent lookup
        int const shown = visible(mask, c) ? 1 : 0;
        at(i + 1, j + 1) = shown + at(i, j + 1) + at(i + 1, j) - at(i, j);
      }
  }
  std::int64_t count(std::int64_t r0, std::int64_t r1, std::int64_t k0, std::int64_t k1) const {
    return at(r1, k1) - at(r0, k1) - at(r1, k0) + at(r0, k0);
  }
  bool shown(std::int64_t i, std::int64_t j) const { return count(i, i + 1, j, j + 1) == 1; }

private:
  std::int64_t& at(std::int64_t i, std::int64_t j) {
    return sums_[static_cast<std::size_t>(i * (key_len_ + 1) + j)];
  }
  std::int64_t at(std::int64_t i, std::int64_t j) const {
    return sums_[static_cast<std::size_t>(i * (key_len_ + 1) + j)];
  }
  std::int64_t key_len_;
  std::vector<std::int64_t> sums_;
};

struct hook_problem {
  std::int64_t batch = 0, head = 0, q_heads = 1, q_len = 1, key_len = 1, offset = 0;
};

/// Returns "" if the mask's hooks agree with the reference for every block of `block_rows` rows:
/// `visible` on every pair; runs from `next_keys` start at or after `from`, leave out no visible key;
/// `classify` is never empty for a range with a visible pair nor full for one with a hidden pair, over
/// every key range of up to `max_range` keys, every aligned tile of each width in `tile_widths`, and
/// `random_ranges` random ranges; `hide_keys` (the mask's `hide_row`, or the generic fallback) sets exactly
/// the hidden keys of each row to -inf and leaves the others untouched, over the same ranges (a tenth of the
/// random ones) and all the keys. Otherwise, a description of the first disagreement.
template <class Mask>
std::string mask_hook_errors(Mask const& mask, hook_problem const& pb, std::int64_t block_rows,
                             std::initializer_list<std::int64_t> tile_widths, std::int64_t max_range,
                             int random_ranges = 0) {
  visibility_table const truth(mask, pb.batch, pb.head, pb.q_heads, pb.q_len, pb.key_len, pb.offset);
  std::mt19937 gen(static_cast<std::uint32_t>(pb.q_len * 1000 + pb.key_len + block_rows));
  std::ostringstream err;
  for (std::int64_t r0 = 0; r0 < pb.q_len; r0 += block_rows) {
    query_block const b{.batch = pb.batch,
                        .head = pb.head,
                        .q_heads = pb.q_heads,
                        .row_begin = r0,
                        .row_end = std::min(pb.q_len, r0 + block_rows),
                        .q_len = pb.q_len,
                        .key_len = pb.key_len,
                        .position_offset = pb.offset};
    err << "rows [" << b.row_begin << ", " << b.row_end << "): ";
    for (std::int64_t i = b.row_begin; i < b.row_end; ++i)
      for (std::int64_t j = 0; j < pb.key_len; ++j)
        if (mask.visible(b, i, j) != truth.shown(i, j)) {
          err << "visible(" << i << ", " << j << ") = " << mask.visible(b, i, j) << ", reference says "
              << truth.shown(i, j);
          return err.str();
        }

    std::int64_t from = 0;
    for (std::int64_t steps = 0; from < pb.key_len; ++steps) {
      key_range const run = mask.next_keys(b, from);
      if (run.begin < from) {
        err << "next_keys(from " << from << ") starts before it, at " << run.begin;
        return err.str();
      }
      std::int64_t const end = std::min(run.end, pb.key_len);
      if (end <= run.begin)
        break;
      if (truth.count(b.row_begin, b.row_end, from, run.begin) > 0) {
        err << "next_keys(from " << from << ") = [" << run.begin << ", " << run.end
            << ") skips a visible key";
        return err.str();
      }
      if (steps > pb.key_len) {
        err << "next_keys does not advance";
        return err.str();
      }
      from = end;
    }
    if (truth.count(b.row_begin, b.row_end, from, pb.key_len) > 0) {
      err << "the runs of next_keys end at " << from << " before a visible key";
      return err.str();
    }

    auto check_range = [&](std::int64_t k0, std::int64_t k1) {
      tile_kind const kind = mask.classify(b, {k0, k1});
      std::int64_t const shown = truth.count(b.row_begin, b.row_end, k0, k1);
      std::int64_t const pairs = (b.row_end - b.row_begin) * (k1 - k0);
      if ((kind == tile_kind::empty && shown > 0) || (kind == tile_kind::full && shown < pairs)) {
        err << "classify([" << k0 << ", " << k1 << ")) = " << (kind == tile_kind::empty ? "empty" : "full")
            << " but " << shown << " of " << pairs << " pairs are visible";
        return false;
      }
      return true;
    };
    std::vector<float> row(static_cast<std::size_t>(pb.key_len));
    auto check_hidden = [&](std::int64_t k0, std::int64_t k1) {
      for (std::int64_t i = b.row_begin; i < b.row_end; ++i) {
        for (std::int64_t j = k0; j < k1; ++j)
          row[static_cast<std::size_t>(j - k0)] = static_cast<float>(j + 1);
        attnkit::hide_keys<xsimd::default_arch>(mask, b, i, k0, row.data(), k1 - k0);
        for (std::int64_t j = k0; j < k1; ++j) {
          float const got = row[static_cast<std::size_t>(j - k0)];
          float const want =
              truth.shown(i, j) ? static_cast<float>(j + 1) : -std::numeric_limits<float>::infinity();
          if (got != want) {
            err << "hide_keys(row " << i << ", keys [" << k0 << ", " << k1 << ")) gives " << got
                << " for key " << j << ", the reference says " << (truth.shown(i, j) ? "visible" : "hidden");
            return false;
          }
        }
      }
      return true;
    };
    auto check_both = [&](std::int64_t k0, std::int64_t k1) {
      return check_range(k0, k1) && check_hidden(k0, k1);
    };
    for (std::int64_t k0 = 0; k0 < pb.key_len; ++k0)
      for (std::int64_t k1 = k0 + 1; k1 <= std::min(pb.key_len, k0 + max_range); ++k1)
        if (!check_both(k0, k1))
          return err.str();
    for (std::int64_t const tile : tile_widths)
      for (std::int64_t k0 = 0; k0 < pb.key_len; k0 += tile)
        if (!check_both(k0, std::min(pb.key_len, k0 + tile)))
          return err.str();
    if (!check_hidden(0, pb.key_len))
      return err.str();
    std::uniform_int_distribution<std::int64_t> key(0, pb.key_len - 1);
    for (int t = 0; t < random_ranges; ++t) {
      std::int64_t a = key(gen), c = key(gen);
      if (a > c)
        std::swap(a, c);
      if (!check_range(a, c + 1) || (t % 10 == 0 && !check_hidden(a, c + 1)))
        return err.str();
    }
    err.str("");
  }
  return "";
}

/// Every small problem: Sq and Sk in {1, 2, 5, 13, 40}, both alignments, blocks of 1, 4 and 16 rows, every
/// key range of up to 40 keys. `make(Sq, Sk)` gives the mask (masks with per-key data depend on them).
template <class MakeMask> void check_mask_hooks_small(MakeMask const& make, std::int64_t batch = 0) {
  for (std::int64_t q_len : {1, 2, 5, 13, 40})
    for (std::int64_t key_len : {1, 2, 5, 13, 40})
      for (std::int64_t offset : {key_len - q_len, std::int64_t{0}})
        for (std::int64_t rows : {1, 4, 16}) {
          hook_problem const pb{.batch = batch, .q_len = q_len, .key_len = key_len, .offset = offset};
          std::string const e = mask_hook_errors(make(q_len, key_len), pb, rows, {16}, 40);
          if (!e.empty()) {
            FAIL_CHECK("Sq " << q_len << " Sk " << key_len << " offset " << offset << " block rows " << rows
                             << ": " << e);
            return;
          }
        }
  SUCCEED();
}

/// Larger problems, Sq and Sk up to 700, tiles of 32 to 256 keys, random key ranges.
template <class MakeMask> void check_mask_hooks_large(MakeMask const& make, std::int64_t batch = 0) {
  for (auto [q_len, key_len] : {std::pair<std::int64_t, std::int64_t>{300, 300}, {64, 700}, {700, 130}})
    for (std::int64_t offset : {key_len - q_len, std::int64_t{0}})
      for (std::int64_t rows : {8, 64}) {
        hook_problem const pb{.batch = batch, .q_len = q_len, .key_len = key_len, .offset = offset};
        std::string const e = mask_hook_errors(make(q_len, key_len), pb, rows, {32, 128, 256}, 3, 200);
        if (!e.empty()) {
          FAIL_CHECK("Sq " << q_len << " Sk " << key_len << " offset " << offset << " block rows " << rows
                           << ": " << e);
          return;
        }
      }
  SUCCEED();
}

} // namespace attnkit::test
