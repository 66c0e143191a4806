// The single-head Eigen overloads agree with the fp64 reference.

#include "support/compare.hpp"

#include <attnkit/attnkit.hpp>
#include <attnkit/interop/eigen.hpp>
#include <attnkit/reference/reference_attention.hpp>

#include <catch2/catch.hpp>

TEST_CASE("eigen: single-head overload with LSE, including a block of a larger matrix", "[eigen]") {
  Eigen::Index const sq = 37, sk = 70, d = 24, dv = 16;
  attnkit::row_matrix big = attnkit::row_matrix::Random(sq + 3, d + 5);
  attnkit::row_matrix const k = attnkit::row_matrix::Random(sk, d);
  attnkit::row_matrix const v = attnkit::row_matrix::Random(sk, dv);
  attnkit::row_matrix o(sq, dv);
  Eigen::VectorXf lse(sq);
  auto q = big.block(2, 3, sq, d); // outer stride d + 5

  attnkit::attention<attnkit::softmax, attnkit::causal> const attn{};
  attnkit::attend(attn, q, k, v, o, lse);

  attnkit::row_matrix const q_copy = q;
  auto const view = [](auto const& m) { return attnkit::bhsd(m.data(), 1, 1, m.rows(), m.cols()); };
  auto const ref = attnkit::reference::attention(attn, view(q_copy), view(k), view(v));
  attnkit::test::check_against_reference(ref, view(v), attnkit::bhsd(o.data(), 1, 1, sq, dv),
                                         attnkit::bhs(lse.data(), 1, 1, sq));
}

TEST_CASE("eigen: shape errors still name the argument", "[eigen]") {
  attnkit::row_matrix const q = attnkit::row_matrix::Random(4, 8), k = attnkit::row_matrix::Random(5, 8);
  attnkit::row_matrix const v = attnkit::row_matrix::Random(6, 8);
  attnkit::row_matrix o(4, 8);
  CHECK_THROWS_WITH(attnkit::attend(attnkit::attention<>{}, q, k, v, o),
                    Catch::Matchers::Contains("v.extent(2) (seq) = 6"));
}
