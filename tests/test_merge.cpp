// The public merge of partial results against the fp64 reference over all keys: softmax pieces merged by
// LSE (then learned sinks applied once), sigmoid pieces by addition, on splits of every shape, empty
// pieces and rows that see nothing; and bad arguments.

#include "support/run_case.hpp"

#include <attnkit/attnkit.hpp>
#include <attnkit/reference/reference_attention.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

using attnkit::test::tensor;
using Catch::Matchers::Contains;

namespace {

float const minus_inf = -std::numeric_limits<float>::infinity();

/// Keys [begin, end) of a [B, H, S, D] view.
attnkit::tensor_view<float const> keys(attnkit::tensor_view<float const> t, std::int64_t begin,
                                       std::int64_t end) {
  return {t.pointer(0, 0, begin, 0), {t.extent(0), t.extent(1), end - begin, t.extent(3)}, t.strides()};
}

struct piece_result {
  tensor o;
  std::vector<float> lse;
  piece_result(std::int64_t b, std::int64_t h, std::int64_t s, std::int64_t d)
      : o(b, h, s, d), lse(static_cast<std::size_t>(b * h * s)) {}
  attnkit::tensor_view<float, 3> lse_view() { return attnkit::bhs(lse.data(), o.b, o.h, o.s); }
};

/// Splits Sk keys at `cuts` (sorted, may repeat: empty pieces), runs softmax on each piece, merges them
/// in order into the first.
piece_result softmax_over_pieces(attnkit::test::random_case& c, std::vector<std::int64_t> const& cuts) {
  attnkit::attention<attnkit::softmax> const attn;
  auto const& s = c.s;
  piece_result total(s.batch, s.q_heads, s.q_len, s.v_dim), piece(s.batch, s.q_heads, s.q_len, s.v_dim);
  std::int64_t begin = 0;
  for (std::size_t p = 0; p <= cuts.size(); ++p) {
    std::int64_t const end = p < cuts.size() ? cuts[p] : s.key_len;
    piece_result& into = p == 0 ? total : piece;
    attn(c.q.cview(), keys(c.k.cview(), begin, end), keys(c.v.cview(), begin, end), into.o.view(),
         into.lse_view());
    if (p > 0)
      attnkit::merge_by_lse(total.o.cview(), total.lse_view(), piece.o.cview(), piece.lse_view(),
                            total.o.view(), total.lse_view());
    begin = end;
  }
  return total;
}

} // namespace

TEST_CASE("merge_by_lse: softmax pieces of every shape give softmax over all keys", "[merge]") {
  for (std::int64_t q_len : {3, 40}) { // the decode and the prefill kernel
    attnkit::test::random_case c(
        {.batch = 2, .q_heads = 4, .kv_heads = 2, .q_len = q_len, .key_len = 300, .dim = 32, .v_dim = 24},
        1300);
    auto const ref = attnkit::reference::attention(attnkit::attention<attnkit::softmax>{}, c.q.cview(),
                                                   c.k.cview(), c.v.cview());
    for (auto const& cuts : std::vector<std::vector<std::int64_t>>{
             {150}, {1}, {299}, {0}, {300}, {0, 0, 300}, {64, 128, 192, 256}, {7, 7, 100, 299}}) {
      INFO("Sq " << q_len << " cuts " << cuts.size() << " first " << cuts.front());
      auto merged = softmax_over_pieces(c, cuts);
      attnkit::test::check_against_reference(ref, c.v.cview(), merged.o.view(), merged.lse_view());
    }
  }
}

TEST_CASE("merge_by_lse: rows that see nothing in a piece, or in every piece", "[merge][edge]") {
  piece_result a(1, 1, 3, 2), b(1, 1, 3, 2), out(1, 1, 3, 2);
  // Row 0 saw keys only in a, row 1 only in b, row 2 in neither (as the kernels leave such rows).
  a.lse = {0.5f, minus_inf, minus_inf};
  b.lse = {minus_inf, -2.0f, minus_inf};
  a.o.data = {1.0f, 2.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  b.o.data = {0.0f, 0.0f, 3.0f, 4.0f, 0.0f, 0.0f};
  attnkit::merge_by_lse(a.o.cview(), a.lse_view(), b.o.cview(), b.lse_view(), out.o.view(), out.lse_view());
  CHECK(out.o.data == std::vector<float>{1.0f, 2.0f, 3.0f, 4.0f, 0.0f, 0.0f});
  CHECK(out.lse == std::vector<float>{0.5f, -2.0f, minus_inf});
  // A NaN in either piece reaches the merged row, even from a piece of negligible weight.
  a.lse[0] = -200.0f;
  b.lse[0] = 0.0f;
  a.o.data[0] = std::numeric_limits<float>::quiet_NaN();
  attnkit::merge_by_lse(a.o.cview(), a.lse_view(), b.o.cview(), b.lse_view(), out.o.view(), out.lse_view());
  CHECK(std::isnan(out.o.data[0]));
  CHECK(out.o.data[1] == 0.0f);
}

TEST_CASE("apply_sinks: merged softmax pieces plus the sink once equal softmax_sinks", "[merge][sinks]") {
  attnkit::softmax_sinks const sinks({-1.0f, 0.0f, 2.0f, 8.0f});
  for (std::int64_t q_len : {3, 40}) {
    attnkit::test::random_case c(
        {.q_heads = 4, .kv_heads = 1, .q_len = q_len, .key_len = 200, .dim = 16, .v_dim = 16}, 1301);
    auto merged = softmax_over_pieces(c, {50, 50, 170});
    attnkit::apply_sinks(sinks, merged.o.view(), merged.lse_view());
    auto const ref = attnkit::reference::attention(attnkit::attention<attnkit::softmax_sinks>({}, sinks),
                                                   c.q.cview(), c.k.cview(), c.v.cview());
    attnkit::test::check_against_reference(ref, c.v.cview(), merged.o.view(), merged.lse_view());
  }
  // A row that saw nothing: O stays 0 and LSE becomes sigma_h.
  piece_result empty(1, 4, 1, 2);
  std::fill(empty.lse.begin(), empty.lse.end(), minus_inf);
  attnkit::apply_sinks(sinks, empty.o.view(), empty.lse_view());
  CHECK(empty.lse == std::vector<float>{-1.0f, 0.0f, 2.0f, 8.0f});
  CHECK(empty.o.data == std::vector<float>(8, 0.0f));
}

TEST_CASE("merge_by_sum: sigmoid pieces with a fixed bias add up to sigmoid over all keys",
          "[merge][sigmoid]") {
  attnkit::attention<attnkit::sigmoid> const attn({}, attnkit::sigmoid(-std::log(250.0f)));
  for (std::int64_t q_len : {2, 33}) {
    attnkit::test::random_case c({.q_heads = 2, .kv_heads = 2, .q_len = q_len, .key_len = 250}, 1302);
    tensor total(1, 2, q_len, 16), piece(1, 2, q_len, 16);
    attn(c.q.cview(), keys(c.k.cview(), 0, 100), keys(c.v.cview(), 0, 100), total.view());
    attn(c.q.cview(), keys(c.k.cview(), 100, 100), keys(c.v.cview(), 100, 100), piece.view()); // empty
    attnkit::merge_by_sum(total.cview(), piece.cview(), total.view());
    attn(c.q.cview(), keys(c.k.cview(), 100, 250), keys(c.v.cview(), 100, 250), piece.view());
    attnkit::merge_by_sum(total.cview(), piece.cview(), total.view());
    auto const ref = attnkit::reference::attention(attn, c.q.cview(), c.k.cview(), c.v.cview());
    attnkit::test::check_against_reference(ref, c.v.cview(), total.view());
  }
}

TEST_CASE("merge: bad arguments are rejected with their names", "[merge][validation]") {
  piece_result a(1, 2, 3, 4), b(1, 2, 3, 4), out(1, 2, 3, 4);
  tensor wrong(1, 2, 3, 5);
  CHECK_THROWS_WITH(attnkit::merge_by_lse(a.o.cview(), a.lse_view(), wrong.cview(), b.lse_view(),
                                          out.o.view(), out.lse_view()),
                    Contains("attnkit::merge_by_lse") && Contains("o_b.extent(3) = 5") &&
                        Contains("o_a.extent(3) = 4"));
  std::vector<float> short_lse(5);
  CHECK_THROWS_WITH(attnkit::merge_by_lse(a.o.cview(), attnkit::bhs(short_lse.data(), 1, 1, 5), b.o.cview(),
                                          b.lse_view(), out.o.view(), out.lse_view()),
                    Contains("lse_a.extent(1) = 1"));
  // An output shifted by one element against an input overlaps it without being it.
  attnkit::tensor_view<float> const shifted(a.o.data.data() + 1, {1, 2, 3, 3}, a.o.view().strides());
  attnkit::tensor_view<float const> const a3(a.o.data.data(), {1, 2, 3, 3}, a.o.view().strides());
  CHECK_THROWS_WITH(attnkit::merge_by_sum(a3, a3, shifted), Contains("o overlaps o_a"));
  CHECK_THROWS_WITH(
      attnkit::merge_by_sum(attnkit::tensor_view<float const>(nullptr, {1, 1, 1, 1}), a3, shifted),
      Contains("o_a has 1 elements but a null data pointer"));
  CHECK_THROWS_WITH(attnkit::apply_sinks(attnkit::softmax_sinks({1.0f}), out.o.view(), out.lse_view()),
                    Contains("attnkit::apply_sinks") && Contains("1 sink logits") && Contains("2 heads"));
}
